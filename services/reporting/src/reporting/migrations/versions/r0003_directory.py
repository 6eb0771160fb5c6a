"""The service's copy of the directory (users, departments, role grants) for access rights.

Revision ID: 0003_reporting_directory
"""

from conveyor_access.directory import DIRECTORY_DDL_V1
from conveyor_kit.migrations import execute_script

revision = "0003_reporting_directory"
down_revision = "0002_reporting_projections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(DIRECTORY_DDL_V1)


def downgrade() -> None:
    raise NotImplementedError("the directory copy is rebuilt from events, never dropped by hand")
