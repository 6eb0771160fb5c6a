"""Board columns in a manager's order: items by pipeline, stage and assignee, newest first.

A manager whose role reads only their own items asks each column for its newest cards with
`assignee_id = <them>`. `items_board` orders a column by time alone, so that scan walked the
column's items newest first and skipped everyone else's: with 20 managers, twenty items read for
each card shown (2.2 ms a board at 30,000 items under the system benchmark, its costliest
statement). This index gives a manager's cards of a column in order. Department scopes (several
assignees) still use `items_board`.

Creating it locks the table against writes while it is built (seconds per million items).

Revision ID: 0005_pipelines_board_by_assignee
"""

from conveyor_kit.migrations import execute_script

revision = "0005_pipelines_board_by_assignee"
down_revision = "0004_pipelines_board_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        "CREATE INDEX items_board_by_assignee"
        " ON items (tenant_id, pipeline_id, stage_id, assignee_id, updated_at DESC, item_id DESC)"
    )


def downgrade() -> None:
    execute_script("DROP INDEX items_board_by_assignee")
