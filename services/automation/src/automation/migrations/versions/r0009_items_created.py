"""Whether the copy of an item has seen the item's creation.

The copy is written by two topics that do not order each other: a placement may arrive first (a
restart, a backlog, partitions split between replicas), and robots must not act on a copy that has
no assignee, fields or title yet. Copies made before this revision had both.

Revision ID: 0009_items_created
"""

from conveyor_kit.migrations import execute_script

revision = "0009_items_created"
down_revision = "0008_triggers_by_kind"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("ALTER TABLE automation_items ADD COLUMN created boolean NOT NULL DEFAULT true")


def downgrade() -> None:
    execute_script("ALTER TABLE automation_items DROP COLUMN created")
