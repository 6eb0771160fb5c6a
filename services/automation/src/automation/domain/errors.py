"""What the automation service refuses, as domain errors: raised by handlers behind the API and behind
Kafka reactions and timers alike, mapped to problem+json at the HTTP edge (`conveyor_kit.problems`)."""

from __future__ import annotations

from conveyor_kit.domain_errors import Conflict, Forbidden, Invalid, NotFound, StaleVersion

__all__ = ["Forbidden", "NotFound"]  # the generic kinds, raised as they are


class InvalidProcess(Invalid):
    title, slug = "Invalid process", "invalid-process"


class RunNotRetryable(Conflict):
    title, slug = "Not retryable", "run-not-retryable"


class InvalidRobot(Invalid):
    title, slug = "Invalid robot", "validation-error"


class ProcessNotFailed(Conflict):
    title, slug = "Process not failed", "process-not-failed"


class InvalidCompletion(Invalid):
    title, slug = "Invalid completion", "validation-error"


class UnknownUser(Invalid):
    title, slug = "Unknown user", "unknown-user"


class TaskClosed(Conflict):
    title, slug = "Task closed", "task-closed"


class TriggerDisabled(Conflict):
    title, slug = "Trigger disabled", "trigger-disabled"


class TemplateNotStartable(Conflict):
    title, slug = "Template not startable", "template-not-startable"


class InvalidAddress(Invalid):
    title, slug = "Invalid address", "invalid-address"


class InvalidFieldReference(Invalid):
    title, slug = "Invalid field reference", "invalid-field-reference"


class UnknownEntityType(NotFound):
    title, slug = "Unknown entity type", "unknown-entity-type"


def check_version(what: str, current: int, expected: int | None) -> None:
    """Refuse a change made from a version ``what`` has left behind (If-Match; 412 at the edge); None: any."""
    if expected is not None and expected != current:
        raise StaleVersion(f"{what} is at version {current}", expected=expected, current=current)
