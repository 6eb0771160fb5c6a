"""Robots, triggers, the copy of items, the run log, the directory copy and the durable timers.

Revision ID: 0002_automation
"""

from conveyor_access.directory import DIRECTORY_DDL_V1
from conveyor_kit.migrations import execute_script
from conveyor_timers import TIMERS_DDL_V1

revision = "0002_automation"
down_revision = "0001"
branch_labels = None
depends_on = None

AUTOMATION_DDL = """
CREATE TABLE robots (
    tenant_id         text NOT NULL,
    robot_id          text NOT NULL,
    pipeline_id       text NOT NULL,
    stage_id          text NOT NULL,
    name              text NOT NULL,
    position          integer NOT NULL,
    timing            jsonb NOT NULL,
    condition         jsonb,
    action            jsonb NOT NULL,
    wait_for_previous boolean NOT NULL,
    enabled           boolean NOT NULL,
    version           integer NOT NULL,
    PRIMARY KEY (tenant_id, robot_id)
);
CREATE INDEX robots_by_stage ON robots (tenant_id, stage_id, position, robot_id);

CREATE TABLE triggers (
    tenant_id   text NOT NULL,
    trigger_id  text NOT NULL,
    pipeline_id text NOT NULL,
    stage_id    text NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL,
    config      jsonb NOT NULL,
    secret_hash text NOT NULL,
    enabled     boolean NOT NULL,
    version     integer NOT NULL,
    PRIMARY KEY (tenant_id, trigger_id)
);
CREATE INDEX triggers_by_pipeline ON triggers (tenant_id, pipeline_id) WHERE enabled;

-- What robots read of an item: kept from the entities' and pipelines' events.
CREATE TABLE automation_items (
    tenant_id      text NOT NULL,
    item_id        text NOT NULL,
    entity_type_id text,
    title          text,
    assignee_id    text,
    observer_ids   text[] NOT NULL DEFAULT '{}',
    standard       jsonb NOT NULL DEFAULT '{}'::jsonb,
    fields         jsonb NOT NULL DEFAULT '{}'::jsonb,
    deleted        boolean NOT NULL DEFAULT false,
    pipeline_id    text,
    stage_id       text,
    visit_id       text,
    entered_at     timestamptz,
    last_change_at timestamptz,
    PRIMARY KEY (tenant_id, item_id)
);

-- The run log: one row per robot run or trigger firing on an item.
CREATE TABLE automation_runs (
    tenant_id   text NOT NULL,
    run_id      text NOT NULL,
    item_id     text NOT NULL,
    source_kind text NOT NULL,
    source_id   text NOT NULL,
    source_name text NOT NULL,
    visit_id    text,
    status      text NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    due_at      timestamptz,
    last_error  text,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL,
    finished_at timestamptz,
    PRIMARY KEY (tenant_id, run_id)
);
CREATE INDEX automation_runs_by_item ON automation_runs (tenant_id, item_id, created_at);
"""


def upgrade() -> None:
    execute_script(DIRECTORY_DDL_V1)
    execute_script(TIMERS_DDL_V1)
    execute_script(AUTOMATION_DDL)


def downgrade() -> None:
    raise NotImplementedError("robots and the run log are history; they are never dropped by hand")
