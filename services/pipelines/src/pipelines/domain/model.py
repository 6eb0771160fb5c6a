"""Pipelines and stages as the rules see them: plain values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Semantic = Literal["in_progress", "success", "failure"]
SEMANTICS: tuple[Semantic, ...] = ("in_progress", "success", "failure")


@dataclass(frozen=True, slots=True)
class Stage:
    stage_id: str
    pipeline_id: str
    name: str
    color: str
    sort: int
    semantic: Semantic
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class Pipeline:
    pipeline_id: str
    entity_type_id: str
    name: str
    sort: int
    is_default: bool
    stages: tuple[Stage, ...] = field(default_factory=tuple)

    @property
    def first_stage(self) -> Stage | None:
        """The leftmost visible stage, where new items land unless they ask for another."""
        visible = [s for s in self.stages if not s.hidden]
        return min(visible, key=lambda s: s.sort) if visible else None


@dataclass(frozen=True, slots=True)
class StageTemplate:
    name: str
    color: str
    semantic: Semantic


DEFAULT_PIPELINE_NAME = "General"
DEFAULT_STAGES: tuple[StageTemplate, ...] = (
    StageTemplate("New", "#39a8ef", "in_progress"),
    StageTemplate("In progress", "#ffa900", "in_progress"),
    StageTemplate("Won", "#7bd500", "success"),
    StageTemplate("Lost", "#ff5752", "failure"),
)
"""The stages a new pipeline opens with unless its creator names others."""
