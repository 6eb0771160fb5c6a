"""The directory: users, departments, absences and role grants (the read model every service keeps).

The entities service is the directory's source of truth, but needs no tables beyond that model:
its events are the history, and the model, updated in the same transaction, is the current state.

Revision ID: 0002_directory
"""

from conveyor_access.directory import DIRECTORY_DDL_V1
from conveyor_kit.migrations import execute_script

revision = "0002_directory"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(DIRECTORY_DDL_V1)


def downgrade() -> None:
    execute_script(
        "DROP TABLE IF EXISTS directory_role_grants, directory_absences, directory_departments, directory_users"
    )
