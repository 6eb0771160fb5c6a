"""A steady load through the public HTTP APIs, and the ledger of every command a service accepted.

`Load` runs workers that each keep a few items of their own going on the test's `Board`: create
(with an Idempotency-Key), field updates, moves back and forth between New and In progress, and at
last a move to Won or Lost. Whatever fails (a killed service, a stopped database) is retried with
fresh versions; only 2xx answers go into the ledger, which the audit then holds the stores, topics
and projections to.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from faults_board import ASSIGNEE, Api, Board, Unanswered

STEP_GIVE_UP = 90.0  # seconds one step is retried before the worker moves on
OPEN_ITEMS = 4  # items each worker keeps moving
MOVED, NOT_PLACED = "moved", "not placed"


@dataclass
class Ledger:
    """Every command a service answered with 2xx, in the order the answers came."""

    created: list[str] = field(default_factory=list)  # item ids
    updated: list[tuple[str, int]] = field(default_factory=list)  # (item id, entities version)
    moved: list[tuple[str, int, str]] = field(default_factory=list)  # (item id, pipelines version, stage id)
    gave_up: Counter[str] = field(default_factory=Counter)
    accepted_at: list[float] = field(default_factory=list)  # monotonic instants, for rates

    @property
    def accepted(self) -> int:
        return len(self.created) + len(self.updated) + len(self.moved)

    def note(self) -> None:
        self.accepted_at.append(time.monotonic())

    def accepted_between(self, start: float, end: float) -> int:
        return sum(1 for at in self.accepted_at if start <= at < end)


@dataclass
class Load:
    """Workers keeping items of their own going until stopped; ``pause`` paces each worker."""

    board: Board
    workers: int = 6
    pause: float = 0.3
    ledger: Ledger = field(default_factory=Ledger)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def api(self) -> Api:
        return self.board.api

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._worker(n), name=f"load-{n}") for n in range(self.workers)]

    async def stop(self) -> None:
        """Let every worker finish the step it is in, then return."""
        self._stopping.set()
        await asyncio.gather(*self._tasks)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Load]:
        self.start()
        try:
            yield self
        finally:
            await self.stop()

    async def _worker(self, number: int) -> None:
        """Items of this worker only (two workers never race for one item): new ones are created while
        fewer than ``OPEN_ITEMS`` are open; an open one gets a field update, a move between New and In
        progress, or, after a few moves, its last move to Won or Lost. Nothing waits for Kafka: an item
        the board does not show yet (its creation still on its way) is simply not moved yet."""
        rng = random.Random(number)
        open_items: dict[str, int] = {}  # item id → moves so far
        while not self._stopping.is_set():
            if len(open_items) < OPEN_ITEMS or rng.random() < 0.1:
                key = f"create-{uuid.uuid4()}"  # the same key after a lost answer: created at most once
                if (item := await self._step("create", self._create, key)) is not None:
                    open_items[item] = 0
                continue
            item = rng.choice(list(open_items))
            if rng.random() < 0.35:
                await self._step("update", self._update, item, rng)
            elif open_items[item] < 3 or rng.random() < 0.6:
                if await self._step("move", self._move_within, item) == MOVED:
                    open_items[item] += 1
            else:
                final = self.board.stages["Won" if rng.random() < 0.5 else "Lost"]
                if await self._step("close", self._move, item, final) == MOVED:
                    del open_items[item]

    async def _step(self, name: str, action: Any, *args: Any) -> Any:
        """Run one step until it is answered; transport errors and 5xx wait and go again."""
        deadline = time.monotonic() + STEP_GIVE_UP
        while time.monotonic() < deadline:
            try:
                result = await action(*args)
            except Unanswered:
                await asyncio.sleep(0.5)
                continue
            await asyncio.sleep(self.pause)
            return result if result is not None else True
        self.ledger.gave_up[name] += 1
        return None

    async def _create(self, key: str) -> str:
        body = {"entity_type_id": self.board.type_id, "title": f"Deal {key[7:15]}", "assignee_id": ASSIGNEE,
                "fields": {"step": 0}}  # fmt: skip
        response = await self.api.call("entities", "POST", "/v1/items", body, headers={"Idempotency-Key": key})
        assert response.status_code in (200, 201), response.text
        item_id: str = response.json()["id"]
        self.ledger.created.append(item_id)  # 200: a replay of an earlier attempt whose answer was lost
        self.ledger.note()
        return item_id

    async def _update(self, item_id: str, rng: random.Random) -> None:
        current = await self.api.call("entities", "GET", f"/v1/items/{item_id}")
        assert current.status_code == 200, current.text
        version = current.json()["version"]
        response = await self.api.call(
            "entities", "PATCH", f"/v1/items/{item_id}", {"fields": {"step": rng.randint(1, 1_000_000)}},
            headers={"If-Match": f'"{version}"'},
        )  # fmt: skip
        if response.status_code == 412:
            raise Unanswered("somebody changed the item meanwhile")
        assert response.status_code == 200, response.text
        self.ledger.updated.append((item_id, response.json()["version"]))
        self.ledger.note()

    async def _move_within(self, item_id: str) -> str:
        place = await self._place(item_id)
        if place is None:
            return NOT_PLACED
        target = "New" if place["stage_id"] == self.board.stages["In progress"] else "In progress"
        return await self._move(item_id, self.board.stages[target], place)

    async def _place(self, item_id: str) -> dict[str, Any] | None:
        response = await self.api.call("pipelines", "GET", f"/v1/placements/{item_id}")
        if response.status_code == 404:
            return None  # its creation has not reached the pipelines service yet
        assert response.status_code == 200, response.text
        place: dict[str, Any] = response.json()
        return place

    async def _move(self, item_id: str, stage_id: str, place: dict[str, Any] | None = None) -> str:
        place = place or await self._place(item_id)
        if place is None:
            return NOT_PLACED
        if place["stage_id"] == stage_id:
            return MOVED  # an earlier attempt whose answer was lost did it
        response = await self.api.call(
            "pipelines", "POST", f"/v1/placements/{item_id}/move", {"to_stage_id": stage_id},
            headers={"If-Match": f'"{place["version"]}"'},
        )  # fmt: skip
        if response.status_code == 412:
            raise Unanswered("the item moved meanwhile")
        assert response.status_code == 200, response.text
        self.ledger.moved.append((item_id, response.json()["version"], stage_id))
        self.ledger.note()
        return MOVED
