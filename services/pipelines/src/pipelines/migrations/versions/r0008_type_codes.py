"""The copy of an entity type keeps its code, so `GET /v1/pipelines?entity_type_id=deal` finds a type by its
code as by its id (docs/api-conventions.md). Types copied before this revision learn theirs from no
event (the code never changes), so they are found by id only.

Revision ID: 0008_type_codes
"""

from alembic import op

revision = "0008_type_codes"
down_revision = "0007_backbone_lanes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE entity_types ADD COLUMN code text")
    op.execute("CREATE INDEX entity_types_by_code ON entity_types (tenant_id, code)")


def downgrade() -> None:
    op.execute("ALTER TABLE entity_types DROP COLUMN code")
