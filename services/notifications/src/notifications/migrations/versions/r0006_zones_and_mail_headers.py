"""Each calendar entry's time zone and each user's; which user and kind a queued e-mail notifies of.

Entries made before kept only UTC instants, so they keep UTC as their zone. A user's zone is null
until they choose one. An e-mail's ``recipient_id`` and ``kind`` are null when it is not a notification
(a template sent to addresses), and then it carries no List-Unsubscribe header.

Revision ID: 0006_zones_and_mail_headers
"""

from conveyor_kit.migrations import execute_script

revision = "0006_zones_and_mail_headers"
down_revision = "0005_backbone_lanes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        ALTER TABLE calendar_entries ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';
        ALTER TABLE preferences ADD COLUMN time_zone text;
        ALTER TABLE emails ADD COLUMN recipient_id text, ADD COLUMN kind text;
        """
    )


def downgrade() -> None:
    execute_script(
        """
        ALTER TABLE emails DROP COLUMN recipient_id, DROP COLUMN kind;
        ALTER TABLE preferences DROP COLUMN time_zone;
        ALTER TABLE calendar_entries DROP COLUMN time_zone;
        """
    )
