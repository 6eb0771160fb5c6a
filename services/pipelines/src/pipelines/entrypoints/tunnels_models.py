"""Response bodies of the tunnels routes (`/v1/tunnels`)."""

from __future__ import annotations

from conveyor_contracts.pipelines import TunnelAction
from conveyor_kit.api_models import ApiModel
from pydantic import ConfigDict, Field

from pipelines.entrypoints.pipelines_models import PIPELINE_ID, STAGE_IDS


class Tunnel(ApiModel):
    """An edge between two stages: an item entering `from_stage_id` is moved (or copied) to `to_stage_id`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "6e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b",
                    "entity_type_id": "8a0c6d2e-4f1b-4c3a-9e5d-7b2f1a0c9d84",
                    "from_pipeline_id": PIPELINE_ID,
                    "from_stage_id": STAGE_IDS[2],
                    "to_pipeline_id": "7f2a3b4c-5d6e-4f7a-8b9c-0d1e2f3a4b5c",
                    "to_stage_id": "8a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d",
                    "action": "move",
                }
            ]
        },
    )

    id: str
    entity_type_id: str
    from_pipeline_id: str
    from_stage_id: str
    to_pipeline_id: str
    to_stage_id: str
    action: TunnelAction = Field(
        description="`move`: the item moves on; `copy`: a linked copy is created on `to_stage_id`."
    )
