"""The task inbox: tasks for a user or a role, with a form and outcomes.

Revision ID: 0003_tasks
"""

from conveyor_kit.migrations import execute_script

revision = "0003_tasks"
down_revision = "0002_automation"
branch_labels = None
depends_on = None

TASKS_DDL = """
CREATE TABLE tasks (
    tenant_id          text NOT NULL,
    task_id            text NOT NULL,
    item_id            text,
    title              text NOT NULL,
    description        text,
    assignee_user_id   text,
    assignee_role      text,
    candidate_user_ids text[] NOT NULL DEFAULT '{}',
    form               jsonb NOT NULL DEFAULT '[]'::jsonb,
    outcomes           jsonb NOT NULL,
    due_at             timestamptz,
    status             text NOT NULL DEFAULT 'open',
    outcome            text,
    form_values        jsonb,
    completed_by       text,
    completed_at       timestamptz,
    source             text NOT NULL,
    created_at         timestamptz NOT NULL,
    version            integer NOT NULL,
    PRIMARY KEY (tenant_id, task_id)
);
CREATE INDEX tasks_open_by_user ON tasks (tenant_id, assignee_user_id) WHERE status = 'open';
CREATE INDEX tasks_open_by_candidate ON tasks USING gin (candidate_user_ids) WHERE status = 'open';
CREATE INDEX tasks_by_item ON tasks (tenant_id, item_id);
"""


def upgrade() -> None:
    execute_script(TASKS_DDL)


def downgrade() -> None:
    raise NotImplementedError("tasks are history; they are never dropped by hand")
