"""Pipelines, stages, tunnels, the board's copy of items and their stage visits.

Revision ID: 0002_pipelines
"""

from conveyor_kit.migrations import execute_script

revision = "0002_pipelines"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE entity_types (
    tenant_id          text NOT NULL,
    entity_type_id     text NOT NULL,
    name               text NOT NULL,
    pipelines_enabled  boolean NOT NULL DEFAULT true,
    PRIMARY KEY (tenant_id, entity_type_id)
);

CREATE TABLE pipelines (
    tenant_id          text NOT NULL,
    pipeline_id        text NOT NULL,
    entity_type_id     text NOT NULL,
    name               text NOT NULL,
    sort               integer NOT NULL,
    is_default         boolean NOT NULL DEFAULT false,
    card_fields        jsonb NOT NULL DEFAULT '[]',
    transition_rules   jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (tenant_id, pipeline_id)
);
CREATE UNIQUE INDEX pipelines_one_default ON pipelines (tenant_id, entity_type_id) WHERE is_default;
CREATE INDEX pipelines_by_type ON pipelines (tenant_id, entity_type_id, sort);

CREATE TABLE stages (
    tenant_id    text NOT NULL,
    stage_id     text NOT NULL,
    pipeline_id  text NOT NULL,
    name         text NOT NULL,
    color        text NOT NULL,
    sort         integer NOT NULL,
    semantic     text NOT NULL CHECK (semantic IN ('in_progress', 'success', 'failure')),
    hidden       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, stage_id),
    FOREIGN KEY (tenant_id, pipeline_id) REFERENCES pipelines (tenant_id, pipeline_id)
);
CREATE INDEX stages_by_pipeline ON stages (tenant_id, pipeline_id, sort);

CREATE TABLE tunnels (
    tenant_id         text NOT NULL,
    tunnel_id         text NOT NULL,
    entity_type_id    text NOT NULL,
    from_pipeline_id  text NOT NULL,
    from_stage_id     text NOT NULL,
    to_pipeline_id    text NOT NULL,
    to_stage_id       text NOT NULL,
    action            text NOT NULL CHECK (action IN ('move', 'copy')),
    PRIMARY KEY (tenant_id, tunnel_id),
    UNIQUE (tenant_id, from_stage_id, to_stage_id)
);

-- The board's own copy of items, kept from the entities service's events. pipeline_id and
-- stage_id are NULL while the item waits for its type's default pipeline (events of two topics
-- may arrive in either order).
CREATE TABLE items (
    tenant_id       text NOT NULL,
    item_id         text NOT NULL,
    entity_type_id  text NOT NULL,
    pipeline_id     text,
    stage_id        text,
    requested_pipeline_id text,
    requested_stage_id    text,
    title           text NOT NULL,
    assignee_id     text,
    amount          numeric,
    currency        text,
    fields          jsonb NOT NULL DEFAULT '{}',
    deleted         boolean NOT NULL DEFAULT false,
    version         integer NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, item_id)
);
-- One column of a board, newest first: the first page, the per-column cursor, count and sum.
CREATE INDEX items_board ON items (tenant_id, pipeline_id, stage_id, updated_at DESC, item_id DESC)
    INCLUDE (assignee_id, amount) WHERE NOT deleted;
CREATE INDEX items_waiting ON items (tenant_id, entity_type_id) WHERE pipeline_id IS NULL;

CREATE TABLE stage_visits (
    tenant_id    text NOT NULL,
    item_id      text NOT NULL,
    visit        integer NOT NULL,
    pipeline_id  text NOT NULL,
    stage_id     text NOT NULL,
    entered_at   timestamptz NOT NULL,
    entered_by   text NOT NULL,
    left_at      timestamptz,
    left_by      text,
    tunnel_id    text,
    PRIMARY KEY (tenant_id, item_id, visit)
);

-- Idempotency keys of MoveItem commands already carried out.
CREATE TABLE handled_commands (
    tenant_id        text NOT NULL,
    idempotency_key  text NOT NULL,
    handled_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, idempotency_key)
);
"""


def upgrade() -> None:
    execute_script(SCHEMA)


def downgrade() -> None:
    execute_script("DROP TABLE handled_commands, stage_visits, items, tunnels, stages, pipelines, entity_types;")
