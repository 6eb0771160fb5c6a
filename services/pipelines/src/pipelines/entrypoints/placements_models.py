"""Response bodies of an item's placement routes (`/v1/placements/{item_id}`)."""

from __future__ import annotations

from conveyor_kit.api_models import ApiModel, Timestamp
from pydantic import ConfigDict, Field

from pipelines.domain.model import Semantic
from pipelines.entrypoints.pipelines_models import PIPELINE_ID, STAGE_IDS

ITEM_ID = "3f6c1d2a-9b8e-4a7f-8c6d-5e4b3a2f1c0d"


class ItemPlacement(ApiModel):
    """Where an item is: its pipeline and stage, with what its card shows. `ETag` carries `version`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "item_id": ITEM_ID,
                    "entity_type_id": "8a0c6d2e-4f1b-4c3a-9e5d-7b2f1a0c9d84",
                    "pipeline_id": PIPELINE_ID,
                    "stage_id": STAGE_IDS[1],
                    "title": "Teplo LLC",
                    "assignee_id": "manager-1",
                    "amount": "15300.00",
                    "currency": "EUR",
                    "version": 2,
                    "updated_at": "2026-12-07T08:41:50.123456Z",
                }
            ]
        },
    )

    item_id: str
    entity_type_id: str
    pipeline_id: str
    stage_id: str
    title: str
    assignee_id: str | None
    amount: str | None = Field(description="A decimal number as text, e.g. `15300.00`.")
    currency: str | None
    version: int = Field(description="Counts the item's moves; send it back as `If-Match` to move it.")
    updated_at: Timestamp = Field(description="The last change of the placement or of what the card shows.")


class ItemStageVisit(ApiModel):
    """One stay of an item on a stage."""

    visit: int = Field(description="1 for the stage it was placed on, then one more per move.")
    pipeline_id: str
    stage_id: str
    stage_name: str | None = Field(description="Null when the stage has been deleted since.")
    semantic: Semantic | None = Field(description="Null when the stage has been deleted since.")
    entered_at: Timestamp
    entered_by: str = Field(description="Who moved it there: `user:<id>`, `system:tunnels`, ...")
    left_at: Timestamp | None = Field(description="Null while the item is still on the stage.")
    left_by: str | None
    tunnel_id: str | None = Field(description="The tunnel that brought it there, if one did.")


class ItemStageHistory(ApiModel):
    """Every stage an item has been on, first to last."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "item_id": ITEM_ID,
                    "visits": [
                        {
                            "visit": 1,
                            "pipeline_id": PIPELINE_ID,
                            "stage_id": STAGE_IDS[0],
                            "stage_name": "New",
                            "semantic": "in_progress",
                            "entered_at": "2026-12-01T09:15:00Z",
                            "entered_by": "user:manager-1",
                            "left_at": "2026-12-07T08:41:50.123456Z",
                            "left_by": "user:alice",
                            "tunnel_id": None,
                        },
                        {
                            "visit": 2,
                            "pipeline_id": PIPELINE_ID,
                            "stage_id": STAGE_IDS[1],
                            "stage_name": "In progress",
                            "semantic": "in_progress",
                            "entered_at": "2026-12-07T08:41:50.123456Z",
                            "entered_by": "user:alice",
                            "left_at": None,
                            "left_by": None,
                            "tunnel_id": None,
                        },
                    ],
                }
            ]
        },
    )

    item_id: str
    visits: list[ItemStageVisit]
