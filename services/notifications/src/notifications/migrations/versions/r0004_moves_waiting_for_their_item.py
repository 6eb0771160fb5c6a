"""Stage changes of items whose creation has not been applied yet wait for it.

Revision ID: 0004_moves_waiting
"""

from conveyor_kit.migrations import execute_script

revision = "0004_moves_waiting"
down_revision = "0003_notifications_timers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE moves_waiting_for_item (
            tenant_id   text        NOT NULL,
            item_id     text        NOT NULL,
            event_id    text        NOT NULL,
            moved       jsonb       NOT NULL,
            actor       text        NOT NULL,
            occurred_at timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, event_id)
        );
        CREATE INDEX moves_waiting_by_item ON moves_waiting_for_item (tenant_id, item_id);
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE moves_waiting_for_item")
