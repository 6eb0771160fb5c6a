"""A copy of the item's calendar entries (from the notifications service's events), for the
"calendar entry held" trigger: an entry counts as held when its end passes and it was not cancelled.

Revision ID: 0006_calendar_held
"""

from conveyor_kit.migrations import execute_script

revision = "0006_calendar_held"
down_revision = "0005_list_options"
branch_labels = None
depends_on = None

CALENDAR_DDL = """
CREATE TABLE automation_calendar_entries (
    tenant_id  text NOT NULL,
    entry_id   text NOT NULL,
    item_id    text NOT NULL,
    kind       text NOT NULL,
    end_at     timestamptz NOT NULL,
    cancelled  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, entry_id)
);
"""


def upgrade() -> None:
    execute_script(CALENDAR_DDL)


def downgrade() -> None:
    execute_script("DROP TABLE automation_calendar_entries;")
