"""Each tenant's work calendar (working days and hours, time zone, days off), one row per tenant. A
change gives the tenant a new configuration generation, as a robot's does (revision 0010), so the
calendar read for an item's robots and tasks is kept with the rest of its configuration.

Revision ID: 0013_work_calendars
"""

from conveyor_kit.migrations import execute_script

revision = "0013_work_calendars"
down_revision = "0012_tasks_open_by_source"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE work_calendars (
            tenant_id  text PRIMARY KEY,
            calendar   jsonb NOT NULL,
            version    integer NOT NULL,
            updated_at timestamptz NOT NULL
        );
        CREATE TRIGGER work_calendars_config_changed AFTER INSERT OR UPDATE OR DELETE ON work_calendars
            FOR EACH ROW EXECUTE FUNCTION automation_config_changed();
        CREATE TRIGGER work_calendars_config_truncated AFTER TRUNCATE ON work_calendars
            FOR EACH STATEMENT EXECUTE FUNCTION automation_config_truncated();
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE work_calendars;")
