"""Every placement the pipelines service reported, with its time, so an item read as of a time or a
version shows where it stood then.

Items placed before this revision get their current placement as their history: since their
creation when they were placed once and never moved (placement version 1), else since the upgrade
(their earlier moves were not kept).

Revision ID: 0007_placement_history
"""

from conveyor_kit.migrations import execute_script

revision = "0007_placement_history"
down_revision = "0006_big_imports"
branch_labels = None
depends_on = ("0002_entities",)  # the items it copies the placements of


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE item_placements (
            tenant_id         text NOT NULL,
            item_id           text NOT NULL,
            placement_version bigint NOT NULL,
            pipeline_id       text NOT NULL,
            stage_id          text NOT NULL,
            stage_semantic    text NOT NULL,
            placed_at         timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, item_id, placement_version)
        );

        INSERT INTO item_placements
        SELECT tenant_id, item_id, placement_version, pipeline_id, stage_id, stage_semantic,
               CASE WHEN placement_version = 1 THEN created_at ELSE now() END
          FROM items
         WHERE placement_version > 0 AND pipeline_id IS NOT NULL;
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE item_placements;")
