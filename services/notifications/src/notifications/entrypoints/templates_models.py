"""Response bodies of /v1/templates: message templates and their previews."""

from __future__ import annotations

from conveyor_kit.api_models import ApiModel, Timestamp
from pydantic import ConfigDict, Field


class MessageTemplateVariant(ApiModel):
    """A template's parts in one language (Jinja2 sources)."""

    subject: str
    text: str
    html: str | None = Field(default=None, description="the HTML part, if the template has one")


class MessageTemplate(ApiModel):
    """A message template of the tenant."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "forgotten-client",
                    "name": "Forgotten client",
                    "variables": ["manager", "client"],
                    "variants": {
                        "en": {
                            "subject": "Remind {{ client }} of yourself",
                            "text": "{{ manager }}, ask {{ client }} about the terms.",
                            "html": "<p>{{ manager }}, ask <b>{{ client }}</b> about the terms.</p>",
                        },
                        "ru": {
                            "subject": "Напомните о себе: {{ client }}",
                            "text": "{{ manager }}, спросите {{ client }}, подходят ли условия.",
                            "html": None,
                        },
                    },
                    "updated_at": "2026-12-07T08:41:50Z",
                }
            ]
        },
    )

    id: str
    name: str
    variables: list[str] = Field(description="the only names its parts may read")
    variants: dict[str, MessageTemplateVariant] = Field(description="per language (`en`, `ru`)")
    updated_at: Timestamp


class RenderedTemplate(ApiModel):
    """A template rendered with sample variables."""

    subject: str
    text: str
    html: str | None = Field(description="null when the chosen variant has no HTML part")
