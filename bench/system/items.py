"""What the load generator knows about each item: versions for If-Match, stage, robot effect due.

Versions come from the answers to our own requests and from the events the watcher reads
(`watch.py`): a robot's field change moves the entities version, a placement makes the item
movable. An item is left alone while a request on it is in flight or its robot has not acted yet,
so the mix produces no 412/409 of its own making (those would be the generator's fault, not the
system's).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# The two stages with a robot each: a move alternates between them, so every move changes the
# field the robot sets and yields exactly one `item.updated` to time.
ROBOT_STAGES = ("qualified", "proposal")


@dataclass
class Item:
    item_id: str
    entity_version: int = 1
    pipeline_version: int = 0  # 0 until the pipelines service has placed it
    stage: str = "new"
    busy: bool = False
    robot_due: str | None = None  # the mark the robot of the stage it entered will set
    moved_at: float = 0.0  # monotonic instant of that move's 2xx

    @property
    def movable(self) -> bool:
        return self.pipeline_version > 0 and not self.busy and self.robot_due is None

    @property
    def patchable(self) -> bool:
        return not self.busy and self.robot_due is None

    def next_stage(self) -> str:
        return ROBOT_STAGES[1] if self.stage == ROBOT_STAGES[0] else ROBOT_STAGES[0]


@dataclass
class Items:
    """Every item of the run by id, with a list to draw from at random."""

    by_id: dict[str, Item] = field(default_factory=dict)
    order: list[Item] = field(default_factory=list)
    robot_latencies_ms: list[float] = field(default_factory=list)
    robot_effects_unmatched: int = 0

    def add(self, item: Item) -> None:
        self.by_id[item.item_id] = item
        self.order.append(item)

    def pick(self, movable: bool, tries: int = 20) -> Item | None:
        for _ in range(tries):
            item = random.choice(self.order)
            if item.movable if movable else item.patchable:
                return item
        return None

    def awaiting_robot(self) -> int:
        return sum(1 for item in self.order if item.robot_due is not None)
