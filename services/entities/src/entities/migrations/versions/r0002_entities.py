"""Entity types, their fields, dictionaries, the items' current state and command receipts.

Revision ID: 0002_entities
"""

from conveyor_access.directory import DIRECTORY_DDL_V1
from conveyor_kit.migrations import execute_script

revision = "0002_entities"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE entity_types (
    tenant_id      text NOT NULL,
    entity_type_id text NOT NULL,
    code           text NOT NULL,
    name           text NOT NULL,
    settings       jsonb NOT NULL,
    version        integer NOT NULL,
    archived_at    timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, entity_type_id),
    UNIQUE (tenant_id, code)
);

-- A field's definition is kept whole as the contract's JSON; code and position are columns for
-- uniqueness and order. Fields are never deleted: a removed field is hidden (definition.hidden).
CREATE TABLE entity_fields (
    tenant_id      text NOT NULL,
    entity_type_id text NOT NULL,
    field_id       text NOT NULL,
    code           text NOT NULL,
    position       integer NOT NULL,
    definition     jsonb NOT NULL,
    PRIMARY KEY (tenant_id, field_id),
    UNIQUE (tenant_id, entity_type_id, code),
    FOREIGN KEY (tenant_id, entity_type_id) REFERENCES entity_types (tenant_id, entity_type_id)
);

CREATE TABLE dictionaries (
    tenant_id     text NOT NULL,
    dictionary_id text NOT NULL,
    code          text NOT NULL,
    name          text NOT NULL,
    options       jsonb NOT NULL,
    version       integer NOT NULL,
    PRIMARY KEY (tenant_id, dictionary_id),
    UNIQUE (tenant_id, code)
);

-- The items' current state, written in the transaction that appends their events; lists,
-- filters and GET read it. Custom values live in `fields` (JSONB, keyed by field code).
CREATE TABLE items (
    item_id               text PRIMARY KEY,
    tenant_id             text NOT NULL,
    entity_type_id        text NOT NULL,
    version               integer NOT NULL,
    title                 text NOT NULL,
    assignee_id           text,
    observer_ids          text[] NOT NULL DEFAULT '{}',
    amount                numeric,
    currency              text,
    begin_date            date,
    close_date            date,
    source                text,
    client_id             text,
    fields                jsonb NOT NULL DEFAULT '{}',
    requested_pipeline_id text,
    requested_stage_id    text,
    pipeline_id           text,
    stage_id              text,
    stage_semantic        text,
    placement_version     bigint NOT NULL DEFAULT 0,
    created_by            text NOT NULL,
    created_at            timestamptz NOT NULL,
    updated_by            text NOT NULL,
    updated_at            timestamptz NOT NULL,
    deleted_at            timestamptz,
    deleted_by            text
);

-- Every list is one tenant's one type, live items, in some order: each order has its index,
-- with item_id last for the keyset cursor. Filters on custom values use the GIN index
-- (containment), the title search the trigram index.
CREATE INDEX items_by_created ON items (tenant_id, entity_type_id, created_at DESC, item_id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX items_by_updated ON items (tenant_id, entity_type_id, updated_at DESC, item_id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX items_by_title ON items (tenant_id, entity_type_id, title, item_id) WHERE deleted_at IS NULL;
CREATE INDEX items_by_assignee ON items (tenant_id, entity_type_id, assignee_id, created_at DESC, item_id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX items_by_stage ON items (tenant_id, entity_type_id, stage_id, created_at DESC, item_id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX items_by_pipeline ON items (tenant_id, entity_type_id, pipeline_id, created_at DESC, item_id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX items_fields ON items USING gin (fields jsonb_path_ops) WHERE deleted_at IS NULL;
CREATE INDEX items_title_trgm ON items USING gin (title gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX items_in_bin ON items (tenant_id, entity_type_id, deleted_at DESC, item_id DESC)
    WHERE deleted_at IS NOT NULL;

-- One row per idempotency key, HTTP or Kafka: a repeated key finds its row and does nothing.
CREATE TABLE command_receipts (
    tenant_id       text NOT NULL,
    idempotency_key text NOT NULL,
    command_type    text NOT NULL,
    item_id         text,
    outcome         text NOT NULL,
    recorded_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, idempotency_key)
);
"""


def upgrade() -> None:
    execute_script(SCHEMA)
    # Item access checks read the directory copy; its DDL is idempotent (IF NOT EXISTS), so this
    # branch works whether or not the directory's own revision has run yet.
    execute_script(DIRECTORY_DDL_V1)


def downgrade() -> None:
    execute_script(
        "DROP TABLE command_receipts; DROP TABLE items; DROP TABLE dictionaries;"
        " DROP TABLE entity_fields; DROP TABLE entity_types;"
    )
