"""A copy of the labels of list fields' options (a field's own, or its dictionary's), so the board's cards
show labels beside option ids. Written from the entities service's events by the `field-labels`
consumer, which, being new, reads those topics from their start (they are kept forever): types and
dictionaries defined before this revision are copied too.

Revision ID: 0009_list_labels
"""

from alembic import op

revision = "0009_list_labels"
down_revision = "0008_type_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE list_fields (
            tenant_id      text NOT NULL,
            entity_type_id text NOT NULL,
            code           text NOT NULL,
            labels         jsonb NOT NULL DEFAULT '{}',  -- its own options: {option id: label}
            dictionary_id  text,                         -- or the dictionary it takes them from
            PRIMARY KEY (tenant_id, entity_type_id, code)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE dictionary_labels (
            tenant_id     text NOT NULL,
            dictionary_id text NOT NULL,
            labels        jsonb NOT NULL,  -- {option id: label}
            PRIMARY KEY (tenant_id, dictionary_id)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE dictionary_labels")
    op.execute("DROP TABLE list_fields")
