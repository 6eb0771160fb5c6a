"""A process instance's failure: the step (BPMN element) that failed and why, until a retry gets past it.

A modelling or business error at a step (an unset timer variable, a gateway without a true branch, a
script on an unset variable, a service task's action refused) makes the instance `failed` instead of
failing the request or the Kafka reaction that moved it (which dead-lettered an item's creation).

Revision ID: 0015_process_failures
"""

from conveyor_kit.migrations import execute_script

revision = "0015_process_failures"
down_revision = "0014_entity_types"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("ALTER TABLE process_instances ADD COLUMN failure jsonb;")


def downgrade() -> None:
    execute_script("ALTER TABLE process_instances DROP COLUMN failure;")
