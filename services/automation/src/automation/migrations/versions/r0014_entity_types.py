"""A copy of the entity types (id and code), so `GET /v1/process-templates?entity_type_id=` finds a type by its
code as by its id and answers 404 for a type the service never heard of (docs/api-conventions.md).

The copy fills from `entity_type.created` events from now on. Types created before this revision are
taken from what the service already holds of them (items, list fields, templates): found by id only,
since no event will tell their code again (it never changes).

Revision ID: 0014_entity_types
"""

from conveyor_kit.migrations import execute_script

revision = "0014_entity_types"
down_revision = "0013_work_calendars"
branch_labels = None
depends_on = None

ENTITY_TYPES_DDL = """
CREATE TABLE automation_entity_types (
    tenant_id      text NOT NULL,
    entity_type_id text NOT NULL,
    code           text,
    PRIMARY KEY (tenant_id, entity_type_id)
);
CREATE INDEX automation_entity_types_by_code ON automation_entity_types (tenant_id, code);
INSERT INTO automation_entity_types (tenant_id, entity_type_id)
SELECT tenant_id, entity_type_id FROM automation_items WHERE entity_type_id IS NOT NULL
UNION SELECT tenant_id, entity_type_id FROM automation_list_fields
UNION SELECT tenant_id, entity_type_id FROM process_templates;
"""


def upgrade() -> None:
    execute_script(ENTITY_TYPES_DDL)


def downgrade() -> None:
    raise NotImplementedError("a copy of the entities' types, rebuilt from events")
