"""What the pipelines service refuses, as domain errors: raised by handlers behind the API and behind
Kafka reactions alike, mapped to problem+json at the HTTP edge (`conveyor_kit.problems`)."""

from __future__ import annotations

from conveyor_kit.domain_errors import Conflict, Forbidden, Invalid, NotFound

__all__ = ["Forbidden", "NotFound"]  # the generic kinds, raised as they are


class NotPlaced(Conflict):
    title, slug = "Not placed", "not-placed"


class UnknownStage(Invalid):
    title, slug = "Unknown stage", "unknown-stage"


class UnknownEntityType(Invalid):
    title, slug = "Unknown entity type", "unknown-entity-type"


class NoSuchEntityType(NotFound):
    """A filter names a type this service has not heard of (its copy of types comes from Kafka)."""

    title, slug = "Unknown entity type", "unknown-entity-type"


class PipelinesDisabled(Invalid):
    title, slug = "Pipelines disabled", "pipelines-disabled"


class DefaultPipelineRequired(Invalid):
    title, slug = "A default is needed", "default-pipeline-required"


class IncompleteStageOrder(Invalid):
    title, slug = "Incomplete order", "stage-order-invalid"


class LastStage(Invalid):
    title, slug = "Last stage", "last-stage"


class StageNotEmpty(Invalid):
    title, slug = "Stage holds items", "stage-not-empty"


class TunnelAcrossTypes(Invalid):
    title, slug = "Other entity type", "tunnel-across-types"


class TunnelCycle(Invalid):
    title, slug = "Tunnel cycle", "tunnel-cycle"


class TunnelExists(Conflict):
    title, slug = "Tunnel exists", "tunnel-exists"
