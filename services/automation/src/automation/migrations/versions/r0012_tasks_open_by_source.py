"""Open tasks by their source, for closing a process's tasks it no longer waits for.

Every run of a process's steps (each start, each completed task, each timer) closes the instance's
open tasks that it no longer waits for (``cancel_open_of_source``). Without this index that statement
read every open task of the tenant, so a start or a completion grew slower as tasks piled up in
inboxes (bench/README.md, peers: starts fell from 161/s to 88/s within a minute); with it, it reads
the instance's own few.

Revision ID: 0012_tasks_open_by_source
"""

from conveyor_kit.migrations import execute_script

revision = "0012_tasks_open_by_source"
down_revision = "0011_backbone_lanes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("CREATE INDEX tasks_open_by_source ON tasks (tenant_id, source) WHERE status = 'open';")


def downgrade() -> None:
    execute_script("DROP INDEX tasks_open_by_source;")
