"""What recipients read from an item: its creator, and the kinds of its type's fields (a `field:<code>`
recipient must be a user field, an address `field:<code>` an e-mail field), with each pipeline's type (a
robot is saved on a pipeline's stage and its fields are checked against that type).

Items copied before this revision have no creator (`creator` reaches nobody on them, and the run is
skipped as "nobody to notify"). Fields and pipelines fill from their events from now on; list fields and
the pipelines of copied items are taken from what the service already holds.

Revision ID: 0017_recipients
"""

from conveyor_kit.migrations import execute_script

revision = "0017_recipients"
down_revision = "0016_task_cancellation"
branch_labels = None
depends_on = None

RECIPIENTS_DDL = """
ALTER TABLE automation_items ADD COLUMN creator_id text;
CREATE TABLE automation_fields (
    tenant_id      text NOT NULL,
    entity_type_id text NOT NULL,
    code           text NOT NULL,
    kind           text NOT NULL,
    PRIMARY KEY (tenant_id, entity_type_id, code)
);
INSERT INTO automation_fields (tenant_id, entity_type_id, code, kind)
SELECT tenant_id, entity_type_id, code, 'list' FROM automation_list_fields;
CREATE TABLE automation_pipelines (
    tenant_id      text NOT NULL,
    pipeline_id    text NOT NULL,
    entity_type_id text NOT NULL,
    PRIMARY KEY (tenant_id, pipeline_id)
);
INSERT INTO automation_pipelines (tenant_id, pipeline_id, entity_type_id)
SELECT DISTINCT ON (tenant_id, pipeline_id) tenant_id, pipeline_id, entity_type_id
  FROM automation_items WHERE pipeline_id IS NOT NULL AND entity_type_id IS NOT NULL;
"""


def upgrade() -> None:
    execute_script(RECIPIENTS_DDL)


def downgrade() -> None:
    raise NotImplementedError("a copy of the entities' and pipelines' definitions, rebuilt from events")
