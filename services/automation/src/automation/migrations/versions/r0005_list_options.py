"""List fields' options (own or from a dictionary), so conditions and templates see labels, not ids.

Revision ID: 0005_list_options
"""

from conveyor_kit.migrations import execute_script

revision = "0005_list_options"
down_revision = "0004_processes"
branch_labels = None
depends_on = None

LIST_OPTIONS_DDL = """
CREATE TABLE automation_list_fields (
    tenant_id      text NOT NULL,
    entity_type_id text NOT NULL,
    code           text NOT NULL,
    dictionary_id  text,
    options        jsonb NOT NULL DEFAULT '[]'::jsonb,
    PRIMARY KEY (tenant_id, entity_type_id, code)
);
CREATE TABLE automation_dictionaries (
    tenant_id     text NOT NULL,
    dictionary_id text NOT NULL,
    options       jsonb NOT NULL,
    PRIMARY KEY (tenant_id, dictionary_id)
);
"""


def upgrade() -> None:
    execute_script(LIST_OPTIONS_DDL)


def downgrade() -> None:
    raise NotImplementedError("a copy of the entities' definitions, rebuilt from events")
