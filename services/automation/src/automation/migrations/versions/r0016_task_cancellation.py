"""Tasks can be cancelled (by a person, or because their stage or process moved on) and say who opened them.

`created_by` is the user a task was opened for (who started its process by hand), so that person may
cancel it; `cancelled_*` record the cancellation shown by the API. The admin list pages through a
tenant's tasks newest first, hence the index.

Revision ID: 0016_task_cancellation
"""

from conveyor_kit.migrations import execute_script

revision = "0016_task_cancellation"
down_revision = "0015_process_failures"
branch_labels = None
depends_on = None

TASK_CANCELLATION_DDL = """
ALTER TABLE tasks
    ADD COLUMN created_by    text,
    ADD COLUMN cancelled_at  timestamptz,
    ADD COLUMN cancelled_by  text,
    ADD COLUMN cancel_cause  text,
    ADD COLUMN cancel_reason text;
UPDATE tasks SET cancel_cause = 'process_moved_on' WHERE status = 'cancelled';
CREATE INDEX tasks_newest_first ON tasks (tenant_id, created_at DESC, task_id DESC);
"""


def upgrade() -> None:
    execute_script(TASK_CANCELLATION_DDL)


def downgrade() -> None:
    execute_script(
        "DROP INDEX tasks_newest_first; ALTER TABLE tasks DROP COLUMN created_by, DROP COLUMN cancelled_at,"
        " DROP COLUMN cancelled_by, DROP COLUMN cancel_cause, DROP COLUMN cancel_reason;"
    )
