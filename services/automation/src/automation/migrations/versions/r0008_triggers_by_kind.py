"""Triggers of a pipeline by kind, enabled or not.

The partial index of 0002 (``WHERE enabled``) could not serve ``triggers_of_pipeline``: that query
lists disabled triggers too (the admin API shows them, and the handlers skip them in Python), so the
planner never used it. Every reaction to an item event looks up one kind of trigger in one pipeline.

Revision ID: 0008_triggers_by_kind
"""

from conveyor_kit.migrations import execute_script

revision = "0008_triggers_by_kind"
down_revision = "0007_items_by_stage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        "DROP INDEX triggers_by_pipeline;"
        "CREATE INDEX triggers_by_pipeline_kind ON triggers (tenant_id, pipeline_id, kind);"
    )


def downgrade() -> None:
    execute_script(
        "DROP INDEX triggers_by_pipeline_kind;"
        "CREATE INDEX triggers_by_pipeline ON triggers (tenant_id, pipeline_id) WHERE enabled;"
    )
