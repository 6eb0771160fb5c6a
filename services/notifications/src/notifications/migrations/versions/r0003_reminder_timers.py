"""Reminders become durable timers of the shared timers library; the service's own reminder table goes.

Revision ID: 0003_notifications_timers
"""

from conveyor_kit.migrations import execute_script
from conveyor_timers import TIMERS_DDL_V1

revision = "0003_notifications_timers"
down_revision = "0002_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(TIMERS_DDL_V1)
    execute_script("DROP TABLE reminders")


def downgrade() -> None:
    raise NotImplementedError("pending reminders live in the timers table now")
