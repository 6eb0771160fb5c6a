"""The request mix: commands (creates, field updates, moves that fire robots) and reads (board,
items, reports, inbox), drawn at random by weight; each request is timed from its scheduled start."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from api import ADMIN, NO_ANSWER, Api, Response
from items import Item
from openloop import Phase
from seed import Tenant, deal_body, manager
from watch import Watcher

# Share of each command and each read among its kind; `read_ratio` reads are sent per command.
COMMANDS = {"create": 25, "update": 40, "move": 35}
READS = {"board": 30, "get_item": 20, "list_items": 15, "funnel": 10, "stage_time": 10, "inbox": 15}
COMMAND_ENDPOINTS = {
    "entities POST /v1/items",
    "entities PATCH /v1/items/{id}",
    "pipelines POST /v1/placements/{id}/move",
}


@dataclass
class Mix:
    api: Api
    tenant: Tenant
    watcher: Watcher
    read_ratio: float
    fallbacks: int = 0  # a move or update found no free item and became a create
    recent_creates: list[tuple[str, float]] = field(default_factory=list)
    recent_moves: list[tuple[str, str, float]] = field(default_factory=list)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1_000_000))

    @property
    def requests_per_command(self) -> float:
        return 1 + self.read_ratio

    def choose(self) -> Callable[[Phase, float], Awaitable[None]]:
        if random.random() < 1 / self.requests_per_command:
            kind = random.choices(list(COMMANDS), weights=list(COMMANDS.values()))[0]
        else:
            kind = random.choices(list(READS), weights=list(READS.values()))[0]
        operation: Callable[[Phase, float], Awaitable[None]] = getattr(self, kind)
        return operation

    async def fire(self, phase: Phase, intended: float) -> None:
        await self.choose()(phase, intended)

    async def _timed(
        self, phase: Phase, endpoint: str, intended: float, request: Awaitable[Response]
    ) -> Response | None:
        try:
            response = await request
            status = response.status_code
        except NO_ANSWER:
            response, status = None, 599  # no answer at all (timeout, refused)
        latency_ms = (asyncio.get_running_loop().time() - intended) * 1000
        phase.record(endpoint, latency_ms, status, command=endpoint in COMMAND_ENDPOINTS)
        return response

    async def create(self, phase: Phase, intended: float) -> None:
        n = next(self._numbers)
        body = deal_body(self.tenant, n)
        request = self.api.call("entities", "POST", "/v1/items", body, user=manager(n))
        response = await self._timed(phase, "entities POST /v1/items", intended, request)
        if response is not None and response.status_code == 201:
            item_id = response.json()["id"]
            self.watcher.item_created(Item(item_id))
            self.recent_creates.append((item_id, time.monotonic()))

    async def update(self, phase: Phase, intended: float) -> None:
        item = self.watcher.items.pick(movable=False)
        if item is None:
            self.fallbacks += 1
            return await self.create(phase, intended)
        item.busy = True
        body = {"fields": {"note": f"called at {time.time():.3f}"}, "amount": str(random.randint(100, 100_000))}
        headers = {"If-Match": f'"{item.entity_version}"'}
        request = self.api.call("entities", "PATCH", f"/v1/items/{item.item_id}", body, headers=headers)
        response = await self._timed(phase, "entities PATCH /v1/items/{id}", intended, request)
        if response is not None and response.status_code == 200:
            item.entity_version = max(item.entity_version, int(response.headers["ETag"].strip('"')))
        item.busy = False

    async def move(self, phase: Phase, intended: float) -> None:
        item = self.watcher.items.pick(movable=True)
        if item is None:
            self.fallbacks += 1
            return await self.create(phase, intended)
        item.busy = True
        target = item.next_stage()
        body = {"to_stage_id": self.tenant.stages[target]}
        headers = {"If-Match": f'"{item.pipeline_version}"'}
        request = self.api.call("pipelines", "POST", f"/v1/placements/{item.item_id}/move", body, headers=headers)
        response = await self._timed(phase, "pipelines POST /v1/placements/{id}/move", intended, request)
        if response is not None and response.status_code == 200:
            item.pipeline_version = int(response.headers["ETag"].strip('"'))
            item.stage = target
            self.watcher.item_moved(item, target)
            self.recent_moves.append((item.item_id, self.tenant.stages[target], time.monotonic()))
        item.busy = False

    async def board(self, phase: Phase, intended: float) -> None:
        user = ADMIN if random.random() < 0.5 else manager(random.randrange(1000))
        path = f"/v1/pipelines/{self.tenant.pipeline_id}/board"
        await self._timed(phase, "pipelines GET board", intended, self.api.call("pipelines", "GET", path, user=user))

    async def get_item(self, phase: Phase, intended: float) -> None:
        item = random.choice(self.watcher.items.order)
        request = self.api.call("entities", "GET", f"/v1/items/{item.item_id}")
        await self._timed(phase, "entities GET /v1/items/{id}", intended, request)

    async def list_items(self, phase: Phase, intended: float) -> None:
        params = {"entity_type_id": self.tenant.type_id, "limit": 50}
        request = self.api.call("entities", "GET", "/v1/items", params=params, user=manager(random.randrange(1000)))
        await self._timed(phase, "entities GET /v1/items", intended, request)

    async def funnel(self, phase: Phase, intended: float) -> None:
        request = self.api.call(
            "reporting", "GET", "/v1/reports/funnel", params={"pipeline_id": self.tenant.pipeline_id}
        )
        await self._timed(phase, "reporting GET funnel", intended, request)

    async def stage_time(self, phase: Phase, intended: float) -> None:
        params = {"pipeline_id": self.tenant.pipeline_id}
        request = self.api.call("reporting", "GET", "/v1/reports/stage-time", params=params)
        await self._timed(phase, "reporting GET stage-time", intended, request)

    async def inbox(self, phase: Phase, intended: float) -> None:
        request = self.api.call("notifications", "GET", "/v1/notifications", user=manager(random.randrange(1000)))
        await self._timed(phase, "notifications GET inbox", intended, request)
