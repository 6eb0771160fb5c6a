"""Events the pipelines service publishes (`conveyor.pipelines.<aggregate>.<event>.v<N>`).

Each event is an `EventContract` subclass with `type_name=...`; its first docstring line is the
summary shown in docs/asyncapi.yaml.
"""

from __future__ import annotations

from typing import Literal

from conveyor_messaging.contracts import EventContract

StageSemantic = Literal["in_progress", "success", "failure"]


class ItemPlaced(EventContract, type_name="conveyor.pipelines.item.placed.v1"):
    """A newly created item landed on its first stage."""

    item_id: str
    entity_type_id: str
    pipeline_id: str
    stage_id: str
    stage_semantic: StageSemantic


class ItemMovedToStage(EventContract, type_name="conveyor.pipelines.item.moved_to_stage.v1"):
    """An item entered a stage: the event robots, reminders, calendars and analytics react to."""

    item_id: str
    entity_type_id: str
    from_pipeline_id: str | None
    from_stage_id: str | None
    from_semantic: StageSemantic | None
    to_pipeline_id: str
    to_stage_id: str
    to_semantic: StageSemantic
