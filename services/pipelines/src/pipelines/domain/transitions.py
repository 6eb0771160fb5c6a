"""Allowed-transition rules of a pipeline, e.g. "only admins reopen a closed item".

A rule matches a move by the semantics (or stage ids) it leaves and enters; every matching rule
must be satisfied by one of the mover's roles. Moves no rule matches are free.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from pipelines.domain.model import Semantic, Stage


class TransitionRule(BaseModel):
    """Moves from `from_*` to `to_*` are allowed only to the listed roles (empty lists match any)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    from_semantics: list[Semantic] = Field(default_factory=list)
    from_stage_ids: list[str] = Field(default_factory=list)
    to_semantics: list[Semantic] = Field(default_factory=list)
    to_stage_ids: list[str] = Field(default_factory=list)
    roles: list[str] = Field(min_length=1)

    def matches(self, source: Stage, target: Stage) -> bool:
        return (
            _within(source.semantic, self.from_semantics)
            and _within(source.stage_id, self.from_stage_ids)
            and _within(target.semantic, self.to_semantics)
            and _within(target.stage_id, self.to_stage_ids)
        )


def _within(value: str, allowed: Sequence[str]) -> bool:
    return not allowed or value in allowed


def refusing_rule(
    rules: Iterable[TransitionRule], source: Stage, target: Stage, roles: frozenset[str]
) -> TransitionRule | None:
    """The first rule that forbids this move to someone with `roles`, or None when it is allowed."""
    for rule in rules:
        if rule.matches(source, target) and not roles.intersection(rule.roles):
            return rule
    return None


REOPEN_ONLY_BY_ADMINS = TransitionRule(
    from_semantics=["success", "failure"], to_semantics=["in_progress"], roles=["admin"]
)
"""The common rule: a won or lost item goes back into work only by an admin's hand."""
