"""Board column counts kept as rows: items and amount per (pipeline, stage, assignee).

Counting a pipeline's items per stage on every board read cost 9-12 ms at 25,000 items under the
system benchmark's churn (updates clear the visibility map, so the index-only scan visits the
heap) and grows with the pipeline. Now a trigger on ``items`` appends each change of an item's
column contribution to ``board_count_changes`` (insert-only: concurrent moves never wait for each
other on a counter row), and the service folds those rows into ``board_counts`` every second
(``adapters.board_counts.fold``). A board reads both: the folded counts and the few changes since.

Revision ID: 0004_pipelines_board_counts
"""

from conveyor_kit.migrations import execute_script

revision = "0004_pipelines_board_counts"
down_revision = "0003_pipelines_directory"
branch_labels = None
depends_on = None

SCHEMA = """
-- assignee_id '' stands for "nobody": it matches no viewer's rights, as NULL does on items.
CREATE TABLE board_counts (
    tenant_id    text NOT NULL,
    pipeline_id  text NOT NULL,
    stage_id     text NOT NULL,
    assignee_id  text NOT NULL,
    items        bigint NOT NULL,
    amount       numeric NOT NULL,
    PRIMARY KEY (tenant_id, pipeline_id, stage_id, assignee_id)
);

CREATE TABLE board_count_changes (
    change_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    text NOT NULL,
    pipeline_id  text NOT NULL,
    stage_id     text NOT NULL,
    assignee_id  text NOT NULL,
    items        integer NOT NULL,
    amount       numeric NOT NULL
);
CREATE INDEX board_count_changes_by_pipeline ON board_count_changes (tenant_id, pipeline_id);

-- An item counts on its board while it is placed on a stage and not in the recycle bin.
CREATE FUNCTION board_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE')
       AND OLD.pipeline_id IS NOT NULL AND OLD.stage_id IS NOT NULL AND NOT OLD.deleted THEN
        INSERT INTO board_count_changes (tenant_id, pipeline_id, stage_id, assignee_id, items, amount)
        VALUES (OLD.tenant_id, OLD.pipeline_id, OLD.stage_id, coalesce(OLD.assignee_id, ''), -1,
                -coalesce(OLD.amount, 0));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE')
       AND NEW.pipeline_id IS NOT NULL AND NEW.stage_id IS NOT NULL AND NOT NEW.deleted THEN
        INSERT INTO board_count_changes (tenant_id, pipeline_id, stage_id, assignee_id, items, amount)
        VALUES (NEW.tenant_id, NEW.pipeline_id, NEW.stage_id, coalesce(NEW.assignee_id, ''), 1,
                coalesce(NEW.amount, 0));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER items_board_count_insert AFTER INSERT ON items
    FOR EACH ROW EXECUTE FUNCTION board_count_change();
CREATE TRIGGER items_board_count_delete AFTER DELETE ON items
    FOR EACH ROW EXECUTE FUNCTION board_count_change();
-- Most updates (a title, a custom field) leave the item where it counts: no change row for them.
CREATE TRIGGER items_board_count_update AFTER UPDATE ON items
    FOR EACH ROW WHEN (
        OLD.pipeline_id IS DISTINCT FROM NEW.pipeline_id OR OLD.stage_id IS DISTINCT FROM NEW.stage_id
        OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id OR OLD.amount IS DISTINCT FROM NEW.amount
        OR OLD.deleted IS DISTINCT FROM NEW.deleted
    ) EXECUTE FUNCTION board_count_change();

-- The items already there. Creating the triggers locked items against writes until this migration
-- commits, so no change slips in between the triggers and this count.
INSERT INTO board_counts (tenant_id, pipeline_id, stage_id, assignee_id, items, amount)
SELECT tenant_id, pipeline_id, stage_id, coalesce(assignee_id, ''), count(*), coalesce(sum(amount), 0)
  FROM items
 WHERE pipeline_id IS NOT NULL AND stage_id IS NOT NULL AND NOT deleted
 GROUP BY 1, 2, 3, 4;
"""


def upgrade() -> None:
    execute_script(SCHEMA)


def downgrade() -> None:
    execute_script(
        "DROP TRIGGER items_board_count_insert ON items; DROP TRIGGER items_board_count_delete ON items;"
        " DROP TRIGGER items_board_count_update ON items; DROP FUNCTION board_count_change();"
        " DROP TABLE board_count_changes; DROP TABLE board_counts;"
    )
