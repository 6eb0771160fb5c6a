"""Response bodies of a pipeline's kanban board (`/v1/pipelines/{pipeline_id}/board`)."""

from __future__ import annotations

from typing import Any

from conveyor_kit.api_models import ApiModel, Timestamp
from pydantic import ConfigDict, Field, JsonValue

from pipelines.entrypoints.pipelines_models import PIPELINE_ID, STAGE_IDS, PipelineStage

_CARD_EXAMPLE: dict[str, JsonValue] = {
    "item_id": "3f6c1d2a-9b8e-4a7f-8c6d-5e4b3a2f1c0d",
    "title": "Teplo LLC",
    "assignee_id": "manager-1",
    "amount": "15300.00",
    "currency": "EUR",
    "updated_at": "2026-12-07T08:41:50.123456Z",
    "version": 2,
    "fields": {"region": "north", "status": "c41f0a9b2e11"},
    "labels": {"status": "In progress"},
}
_NEXT_CURSOR = "WyIyMDI2LTEyLTA3VDA4OjQxOjUwLjEyMzQ1NiswMDowMCIsIjNmNmMxZDJhLTliOGUtNGE3Zi04YzZkLTVlNGIzYTJmMWMwZCJd"


class BoardCard(ApiModel):
    """An item as a card on the board."""

    item_id: str
    title: str
    assignee_id: str | None
    amount: str | None = Field(description="A decimal number as text, e.g. `15300.00`.")
    currency: str | None
    updated_at: Timestamp = Field(description="The item's last change; cards are newest first.")
    version: int = Field(description="The placement's version, for `If-Match` when moving the card.")
    fields: dict[str, Any] = Field(
        description="The pipeline's `card_fields`: field code to value (null when the item has none); "
        "list values as option ids."
    )
    labels: dict[str, str | list[str]] = Field(
        description="The label of each list value in `fields`, by field code (a list of labels for a multiple "
        "field), as in the entities service's items; other kinds of fields are not in it."
    )


class BoardColumn(ApiModel):
    """A stage's column: totals over every card the caller may read, and the first page of cards."""

    stage: PipelineStage
    count: int = Field(description="Cards in the column the caller may read (with the filters applied).")
    amount_sum: str = Field(description="Their amounts summed, a decimal number as text.")
    cards: list[BoardCard]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to `/board/columns/{stage_id}` for the next cards (null: no more)."
    )


class PipelineBoard(ApiModel):
    """A pipeline's kanban board: one column per stage, in the stages' order."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pipeline_id": PIPELINE_ID,
                    "name": "General",
                    "columns": [
                        {
                            "stage": {
                                "id": STAGE_IDS[1],
                                "pipeline_id": PIPELINE_ID,
                                "name": "In progress",
                                "color": "#ffa900",
                                "sort": 20,
                                "semantic": "in_progress",
                                "hidden": False,
                            },
                            "count": 120,
                            "amount_sum": "1836000.00",
                            "cards": [_CARD_EXAMPLE],
                            "next_cursor": _NEXT_CURSOR,
                        }
                    ],
                }
            ]
        },
    )

    pipeline_id: str
    name: str
    columns: list[BoardColumn]


class BoardColumnPage(ApiModel):
    """The next cards of one column, after the cursor given."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"stage_id": STAGE_IDS[1], "cards": [_CARD_EXAMPLE], "next_cursor": None}]},
    )

    stage_id: str
    cards: list[BoardCard]
    next_cursor: str | None = Field(description="Pass back as `cursor` for the next cards (null: the last page).")
