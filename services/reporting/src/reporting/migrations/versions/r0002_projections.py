"""The projections, the journal of consumed events, the stage → department mapping, the analysts'
views in schema ``reporting`` and the read-only role ``reporting_reader`` (NOLOGIN).

Revision ID: 0002_reporting_projections
"""

from conveyor_kit.migrations import execute_script

from reporting.adapters.schema import LIVE, ROLE_AND_SETTINGS, VIEWS_V1, projection_ddl

revision = "0002_reporting_projections"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(ROLE_AND_SETTINGS + projection_ddl("0002", LIVE) + VIEWS_V1)


def downgrade() -> None:
    raise NotImplementedError("projections are rebuilt from the journal, never dropped by a downgrade")
