"""A copy of the entity types' fields (code and kind) and of which type each pipeline carries, so that a
robot whose e-mail addresses read a field the type does not have, or not an e-mail or text field, is
refused when it is saved instead of failing every run.

The copies fill from `entity_type.field_added` / `field_changed` and `pipeline.created` / `changed`
events from now on. Pipelines already known from items are taken from the items' copy; fields defined
before this revision are known only once changed (until then a robot's address of them is not checked).

Revision ID: 0016_type_fields
"""

from conveyor_kit.migrations import execute_script

revision = "0016_type_fields"
down_revision = "0015_process_failures"
branch_labels = None
depends_on = None

TYPE_FIELDS_DDL = """
CREATE TABLE automation_type_fields (
    tenant_id      text NOT NULL,
    entity_type_id text NOT NULL,
    code           text NOT NULL,
    kind           text NOT NULL,
    PRIMARY KEY (tenant_id, entity_type_id, code)
);
CREATE TABLE automation_pipelines (
    tenant_id      text NOT NULL,
    pipeline_id    text NOT NULL,
    entity_type_id text NOT NULL,
    PRIMARY KEY (tenant_id, pipeline_id)
);
INSERT INTO automation_pipelines (tenant_id, pipeline_id, entity_type_id)
SELECT DISTINCT ON (tenant_id, pipeline_id) tenant_id, pipeline_id, entity_type_id FROM automation_items
 WHERE pipeline_id IS NOT NULL AND entity_type_id IS NOT NULL;
"""


def upgrade() -> None:
    execute_script(TYPE_FIELDS_DDL)


def downgrade() -> None:
    execute_script("DROP TABLE automation_type_fields; DROP TABLE automation_pipelines;")
