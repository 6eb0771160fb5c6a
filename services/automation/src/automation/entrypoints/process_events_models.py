"""Response models of the routes that send BPMN messages and signals to processes."""

from __future__ import annotations

from conveyor_kit.api_models import ApiModel
from pydantic import ConfigDict, Field


class EventDelivery(ApiModel):
    """What a message or signal reached."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "documents_received", "delivered_to": 1}]}
    )

    name: str
    delivered_to: int = Field(
        description="How many process events took it (0: none waited for it; it is not kept for later)."
    )
