"""Events the pipelines service publishes (`conveyor.pipelines.<aggregate>.<event>.v<N>`).

Each event is an `EventContract` subclass with `type_name=...`; its first docstring line is the
summary shown in docs/asyncapi.yaml. Commands other services send to the pipelines service
(aggregate `item_command`) are contracts too: the sender appends them to its own outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from conveyor_messaging.contracts import EventContract
from pydantic import BaseModel, ConfigDict

StageSemantic = Literal["in_progress", "success", "failure"]
TunnelAction = Literal["move", "copy"]


class StageInfo(BaseModel):
    """A stage as other services see it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage_id: str
    name: str
    color: str
    sort: int
    semantic: StageSemantic
    hidden: bool = False


# ---------------------------------------------------------------- pipelines and stages


class PipelineCreated(EventContract, type_name="conveyor.pipelines.pipeline.created.v1"):
    """A pipeline was opened for an entity type, with its first stages."""

    pipeline_id: str
    entity_type_id: str
    name: str
    sort: int
    is_default: bool
    stages: list[StageInfo]


class PipelineChanged(EventContract, type_name="conveyor.pipelines.pipeline.changed.v1"):
    """A pipeline's name, order, default flag, card fields or transition rules changed; only what changed."""

    pipeline_id: str
    entity_type_id: str
    changes: dict[str, Any]


class StageAdded(EventContract, type_name="conveyor.pipelines.pipeline.stage_added.v1"):
    """A stage was added to a pipeline."""

    pipeline_id: str
    entity_type_id: str
    stage: StageInfo


class StageChanged(EventContract, type_name="conveyor.pipelines.pipeline.stage_changed.v1"):
    """A stage's name, colour, semantic or visibility changed; the stage as it is now."""

    pipeline_id: str
    entity_type_id: str
    stage: StageInfo


class StagesReordered(EventContract, type_name="conveyor.pipelines.pipeline.stages_reordered.v1"):
    """A pipeline's stages got a new order (the ids from first to last)."""

    pipeline_id: str
    entity_type_id: str
    stage_ids: list[str]


class StageDeleted(EventContract, type_name="conveyor.pipelines.pipeline.stage_deleted.v1"):
    """A stage was deleted; the items it held were moved to `items_moved_to` first."""

    pipeline_id: str
    entity_type_id: str
    stage_id: str
    items_moved_to: str | None


# ---------------------------------------------------------------- tunnels


class TunnelSaved(EventContract, type_name="conveyor.pipelines.tunnel.saved.v1"):
    """A tunnel: an item entering `from_stage_id` is moved to, or copied into, `to_stage_id`."""

    tunnel_id: str
    entity_type_id: str
    from_pipeline_id: str
    from_stage_id: str
    to_pipeline_id: str
    to_stage_id: str
    action: TunnelAction


class TunnelRemoved(EventContract, type_name="conveyor.pipelines.tunnel.removed.v1"):
    """A tunnel was removed."""

    tunnel_id: str


# ---------------------------------------------------------------- items


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
    moved_by: str | None = None  # the actor, `kind:id`, as in the ce_actor header
    moved_at: datetime | None = None
    tunnel_id: str | None = None  # set when a tunnel made the move


# ---------------------------------------------------------------- commands to the pipelines service


class MoveItem(EventContract, type_name="conveyor.pipelines.item_command.move.v1"):
    """Command: move an item to a stage (of its pipeline or another); a repeated key moves nothing twice."""

    idempotency_key: str
    item_id: str
    to_stage_id: str
    expected_version: int | None = None
