"""Response bodies of the pipelines and stages routes (`/v1/pipelines`)."""

from __future__ import annotations

from conveyor_kit.api_models import ApiModel
from pydantic import ConfigDict, Field

from pipelines.domain.model import Semantic

PIPELINE_ID = "5b0f3c1e-8d2a-4f6b-9c71-2e4d8a6b1f03"
STAGE_IDS = (
    "0a7c2e94-3b1d-4c5e-8f60-71a2b3c4d5e6",
    "1b8d3fa5-4c2e-4d6f-9a71-82b3c4d5e6f7",
    "2c9e4ab6-5d3f-4e7a-8b82-93c4d5e6f7a8",
    "3dafb5c7-6e4a-4f8b-9c93-a4d5e6f7a8b9",
)


class PipelineStage(ApiModel):
    """A stage (a board column) of a pipeline."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": STAGE_IDS[0],
                    "pipeline_id": PIPELINE_ID,
                    "name": "New",
                    "color": "#39a8ef",
                    "sort": 10,
                    "semantic": "in_progress",
                    "hidden": False,
                }
            ]
        },
    )

    id: str
    pipeline_id: str
    name: str
    color: str = Field(description="`#rrggbb`")
    sort: int = Field(description="Position in the pipeline, ascending (left to right on the board).")
    semantic: Semantic = Field(description="What being on the stage means: still in work, won (success) or lost.")
    hidden: bool = Field(description="Left out of the board unless asked for, and never a landing stage.")


class PipelineTransitionRule(ApiModel):
    """Moves from `from_*` to `to_*` are allowed only to the listed roles (an empty list matches any)."""

    from_semantics: list[Semantic]
    from_stage_ids: list[str]
    to_semantics: list[Semantic]
    to_stage_ids: list[str]
    roles: list[str] = Field(description="Roles allowed to make the moves the rule matches.")


class Pipeline(ApiModel):
    """A pipeline of an entity type with its stages in order."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": PIPELINE_ID,
                    "entity_type_id": "8a0c6d2e-4f1b-4c3a-9e5d-7b2f1a0c9d84",
                    "name": "General",
                    "sort": 10,
                    "is_default": True,
                    "card_fields": ["region"],
                    "transition_rules": [
                        {
                            "from_semantics": ["success", "failure"],
                            "from_stage_ids": [],
                            "to_semantics": ["in_progress"],
                            "to_stage_ids": [],
                            "roles": ["admin"],
                        }
                    ],
                    "stages": [
                        {
                            "id": stage_id,
                            "pipeline_id": PIPELINE_ID,
                            "name": name,
                            "color": color,
                            "sort": (n + 1) * 10,
                            "semantic": semantic,
                            "hidden": False,
                        }
                        for n, (stage_id, name, color, semantic) in enumerate(
                            zip(
                                STAGE_IDS,
                                ("New", "In progress", "Won", "Lost"),
                                ("#39a8ef", "#ffa900", "#7bd500", "#ff5752"),
                                ("in_progress", "in_progress", "success", "failure"),
                                strict=True,
                            )
                        )
                    ],
                }
            ]
        },
    )

    id: str
    entity_type_id: str
    name: str
    sort: int = Field(description="Position among the type's pipelines, ascending.")
    is_default: bool = Field(description="The type's default pipeline, where new items land (one per type).")
    card_fields: list[str] = Field(description="Codes of the custom fields the board's cards show.")
    transition_rules: list[PipelineTransitionRule]
    stages: list[PipelineStage] = Field(description="Every stage, hidden ones too, in order.")
