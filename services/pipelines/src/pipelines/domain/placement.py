"""Where a newly created item lands: the requested stage, else the first stage of the requested
pipeline, else the first stage of the type's default pipeline."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.domain.model import Pipeline, Stage


def place(
    pipelines: Sequence[Pipeline], *, requested_pipeline_id: str | None, requested_stage_id: str | None
) -> Stage | None:
    """The stage for a new item among its type's pipelines; None while the type has none.

    A request naming a stage or pipeline the type does not have falls back to the next rule
    rather than losing the item: the item was created, so it must be somewhere on the board.
    """
    if requested_stage_id is not None:
        for pipeline in pipelines:
            for stage in pipeline.stages:
                if stage.stage_id == requested_stage_id:
                    return stage
    if requested_pipeline_id is not None:
        for pipeline in pipelines:
            if pipeline.pipeline_id == requested_pipeline_id and pipeline.first_stage is not None:
                return pipeline.first_stage
    defaults = [p for p in pipelines if p.is_default] or sorted(pipelines, key=lambda p: p.sort)[:1]
    return defaults[0].first_stage if defaults else None
