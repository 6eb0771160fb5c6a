"""What a process instance waits for: BPMN message, signal and condition keys, so that a delivery finds the
instances to wake (the item's, or a signal's whole tenant) without loading every instance's state.

Revision ID: 0019_process_waits
"""

from conveyor_kit.migrations import execute_script

revision = "0019_process_waits"
down_revision = "0018_template_states"
branch_labels = None
depends_on = None

PROCESS_WAITS_DDL = """
ALTER TABLE process_instances ADD COLUMN waiting_for text[] NOT NULL DEFAULT '{}';
CREATE INDEX process_instances_waiting ON process_instances USING gin (waiting_for)
    WHERE status IN ('running', 'failed') AND waiting_for <> '{}';
"""


def upgrade() -> None:
    execute_script(PROCESS_WAITS_DDL)


def downgrade() -> None:
    execute_script("DROP INDEX process_instances_waiting; ALTER TABLE process_instances DROP COLUMN waiting_for;")
