"""Relations and links between items, roll-up rules, the product catalogue and CSV import jobs.

Revision ID: 0003_relations
"""

from conveyor_kit.migrations import execute_script

revision = "0003_relations"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE TABLE relations (
    tenant_id             text NOT NULL,
    relation_id           text NOT NULL,
    code                  text NOT NULL,
    name                  text NOT NULL,
    parent_entity_type_id text NOT NULL,
    child_entity_type_id  text NOT NULL,
    cardinality           text NOT NULL CHECK (cardinality IN ('one_to_many', 'many_to_many')),
    created_at            timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, relation_id),
    UNIQUE (tenant_id, code)
);

-- One row per live link; an unlink deletes it (the history is in the item_link events).
-- In a one-to-many relation a child has one parent: the partial unique index says so.
CREATE TABLE item_links (
    tenant_id      text NOT NULL,
    relation_id    text NOT NULL,
    parent_item_id text NOT NULL,
    child_item_id  text NOT NULL,
    one_parent     boolean NOT NULL,
    linked_by      text NOT NULL,
    linked_at      timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, relation_id, parent_item_id, child_item_id),
    FOREIGN KEY (tenant_id, relation_id) REFERENCES relations (tenant_id, relation_id)
);
CREATE UNIQUE INDEX item_links_one_parent ON item_links (tenant_id, relation_id, child_item_id) WHERE one_parent;
CREATE INDEX item_links_by_child ON item_links (tenant_id, child_item_id, relation_id);

CREATE TABLE rollup_rules (
    tenant_id    text NOT NULL,
    rule_id      text NOT NULL,
    relation_id  text NOT NULL,
    parent_field text NOT NULL,
    aggregate    text NOT NULL,
    child_fields text[] NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, rule_id),
    UNIQUE (tenant_id, relation_id, parent_field),
    FOREIGN KEY (tenant_id, relation_id) REFERENCES relations (tenant_id, relation_id)
);

CREATE TABLE products (
    tenant_id  text NOT NULL,
    product_id text NOT NULL,
    name       text NOT NULL,
    sku        text NOT NULL,
    base_price numeric NOT NULL,
    currency   text NOT NULL,
    version    integer NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, product_id),
    UNIQUE (tenant_id, sku)
);

CREATE TABLE item_products (
    tenant_id  text NOT NULL,
    item_id    text NOT NULL,
    product_id text NOT NULL,
    PRIMARY KEY (tenant_id, item_id),
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, product_id)
);
CREATE INDEX item_products_by_product ON item_products (tenant_id, product_id);

-- An uploaded file waits here (decoded to text) for its dry runs and its import.
CREATE TABLE import_files (
    tenant_id  text NOT NULL,
    file_id    text NOT NULL,
    file_name  text NOT NULL,
    encoding   text NOT NULL,
    delimiter  text NOT NULL,
    columns    text[] NOT NULL,
    rows       integer NOT NULL,
    content    text NOT NULL,
    uploaded_by text NOT NULL,
    uploaded_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, file_id)
);

-- A job's counters move with each chunk of rows, in the chunk's transaction: a resumed job
-- starts after `processed`, so no row is imported twice.
CREATE TABLE import_jobs (
    tenant_id       text NOT NULL,
    job_id          text NOT NULL,
    idempotency_key text NOT NULL,
    file_id         text NOT NULL,
    entity_type_id  text NOT NULL,
    mapping         jsonb NOT NULL,
    defaults        jsonb NOT NULL,
    status          text NOT NULL,
    total           integer NOT NULL,
    processed       integer NOT NULL DEFAULT 0,
    imported        integer NOT NULL DEFAULT 0,
    errors          jsonb NOT NULL DEFAULT '[]',
    error           text,
    started_by      text NOT NULL,
    roles           text[] NOT NULL,
    created_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    PRIMARY KEY (tenant_id, job_id),
    UNIQUE (tenant_id, idempotency_key),
    FOREIGN KEY (tenant_id, file_id) REFERENCES import_files (tenant_id, file_id)
);
"""


def upgrade() -> None:
    execute_script(SCHEMA)


def downgrade() -> None:
    execute_script(
        "DROP TABLE import_jobs; DROP TABLE import_files; DROP TABLE item_products; DROP TABLE products;"
        " DROP TABLE rollup_rules; DROP TABLE item_links; DROP TABLE relations;"
    )
