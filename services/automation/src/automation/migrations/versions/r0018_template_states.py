"""A process template's state: enabled, disabled (starts nothing new) or deleted (gone from the API).

Kept on every version row of the template, so each read of a version knows it and a change of state
changes the tenant's configuration generation (the row trigger of revision 0010).

Revision ID: 0018_template_states
"""

from conveyor_kit.migrations import execute_script

revision = "0018_template_states"
down_revision = "0017_recipients"
branch_labels = None
depends_on = None

TEMPLATE_STATES_DDL = """
ALTER TABLE process_templates ADD COLUMN status text NOT NULL DEFAULT 'enabled'
    CHECK (status IN ('enabled', 'disabled', 'deleted'));
"""


def upgrade() -> None:
    execute_script(TEMPLATE_STATES_DDL)


def downgrade() -> None:
    execute_script("ALTER TABLE process_templates DROP COLUMN status;")
