"""Business processes: BPMN templates (every version kept) and running instances.

Revision ID: 0004_processes
"""

from conveyor_kit.migrations import execute_script

revision = "0004_processes"
down_revision = "0003_tasks"
branch_labels = None
depends_on = None

PROCESSES_DDL = """
CREATE TABLE process_templates (
    tenant_id       text NOT NULL,
    template_id     text NOT NULL,
    version         integer NOT NULL,
    name            text NOT NULL,
    process_id      text NOT NULL,
    entity_type_id  text NOT NULL,
    start           jsonb NOT NULL,
    bpmn            text NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, template_id, version)
);
CREATE INDEX process_templates_by_type ON process_templates (tenant_id, entity_type_id);

CREATE TABLE process_instances (
    tenant_id        text NOT NULL,
    instance_id      text NOT NULL,
    template_id      text NOT NULL,
    template_version integer NOT NULL,
    item_id          text NOT NULL,
    status           text NOT NULL,
    state            text NOT NULL,
    started_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, instance_id)
);
CREATE INDEX process_instances_by_item ON process_instances (tenant_id, item_id, started_at);

-- Runs recorded at one instant (a process's steps in one request) keep the order they were written in.
ALTER TABLE automation_runs ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
"""


def upgrade() -> None:
    execute_script(PROCESSES_DDL)


def downgrade() -> None:
    raise NotImplementedError("processes are history; they are never dropped by hand")
