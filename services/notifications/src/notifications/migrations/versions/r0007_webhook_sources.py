"""Which command asked for a webhook call: the ``source`` of a delivery is the command's idempotency key.

Its outcome events carry it, so the sender (a robot's or a process's run) can record how the call ended.
Deliveries to subscriptions, and calls queued before, have none.

Revision ID: 0007_webhook_sources
"""

from conveyor_kit.migrations import execute_script

revision = "0007_webhook_sources"
down_revision = "0006_zones_and_mail_headers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("ALTER TABLE webhook_deliveries ADD COLUMN source text;")


def downgrade() -> None:
    execute_script("ALTER TABLE webhook_deliveries DROP COLUMN source;")
