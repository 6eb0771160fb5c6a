"""The copy of an entity type keeps its code, so the reports' `entity_type_id` takes the type's id or its code
(docs/api-conventions.md); the types already projected learn theirs from the journal of their creation.

Revision ID: 0015_reporting_type_codes
"""

from conveyor_kit.migrations import execute_script

from reporting.adapters.schema import LIVE, TYPE_CODES_BACKFILL, projection_ddl

revision = "0015_reporting_type_codes"
down_revision = "0014_reporting_completed_word"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(projection_ddl("0015", LIVE) + TYPE_CODES_BACKFILL)


def downgrade() -> None:
    raise NotImplementedError("projections are rebuilt from the journal, never dropped by a downgrade")
