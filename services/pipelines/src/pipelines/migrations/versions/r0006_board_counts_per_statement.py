"""Items inserted by the thousand count on their boards with one change row per column, not per item.

A batch of created items is now inserted already placed, in one statement (``adapters/placements``).
The row trigger of revision 0004 appended one ``board_count_changes`` row per item: 500 rows for a
fetch of an import, each a trigger call and an index entry. A statement trigger with a transition
table adds up the statement's new items per (pipeline, stage, assignee) instead. Updates and deletes
keep their row triggers: they come one item at a time (a move, an edit), and the row trigger's
``WHEN`` skips the updates that leave the count alone.

Revision ID: 0006_pipelines_counts_per_stmt
"""

from conveyor_kit.migrations import execute_script

revision = "0006_pipelines_counts_per_stmt"
down_revision = "0005_pipelines_board_by_assignee"
branch_labels = None
depends_on = None

SCHEMA = """
CREATE FUNCTION board_count_items_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO board_count_changes (tenant_id, pipeline_id, stage_id, assignee_id, items, amount)
    SELECT tenant_id, pipeline_id, stage_id, coalesce(assignee_id, ''), count(*), coalesce(sum(amount), 0)
      FROM inserted_items
     WHERE pipeline_id IS NOT NULL AND stage_id IS NOT NULL AND NOT deleted
     GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END $$;

DROP TRIGGER items_board_count_insert ON items;
CREATE TRIGGER items_board_count_insert AFTER INSERT ON items
    REFERENCING NEW TABLE AS inserted_items
    FOR EACH STATEMENT EXECUTE FUNCTION board_count_items_inserted();
"""


def upgrade() -> None:
    execute_script(SCHEMA)


def downgrade() -> None:
    execute_script(
        "DROP TRIGGER items_board_count_insert ON items; DROP FUNCTION board_count_items_inserted();"
        " CREATE TRIGGER items_board_count_insert AFTER INSERT ON items"
        " FOR EACH ROW EXECUTE FUNCTION board_count_change();"
    )
