"""A test's run: a tenant of its own under load on the cluster, then, once nothing is on its way
any more (no event after a relay's checkpoint, no consumer group behind, no due timer, twice in a
row a second apart), the audit."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from faults_audit import PRODUCERS, Audit
from faults_board import Board
from faults_cluster import SERVICES, Cluster
from faults_db import connection
from faults_kafka import Offsets, end_offsets, group_lag
from faults_load import Load
from faults_profile import Profile
from faults_relays import unpublished


async def due_timers(dsn: str) -> int:
    async with connection(dsn) as conn:
        return int(await conn.fetchval("SELECT count(*) FROM timers WHERE state = 'pending' AND due_at <= now()"))


async def backlog(cluster: Cluster) -> dict[str, Any]:
    """Everything still on its way: unpublished events, uncommitted records, due timers."""
    groups: dict[str, list[str]] = {}
    for service in SERVICES:
        groups.update(cluster.groups(service))
    waiting: dict[str, Any] = {f"relay {s}": await unpublished(cluster.dsn(s)) for s in PRODUCERS}
    waiting.update(await group_lag(cluster.kafka_bootstrap, groups))
    waiting.update({f"timers {s}": await due_timers(cluster.dsn(s)) for s in ("automation", "notifications")})
    return {what: n for what, n in waiting.items() if n}


async def settle(cluster: Cluster, within: float = 180.0) -> float:
    """Wait until nothing is on its way twice in a row a second apart; returns the seconds it took."""
    started = time.monotonic()
    quiet = 0
    left: dict[str, Any] = {}
    while quiet < 2:
        if time.monotonic() - started > within:
            raise AssertionError(f"the system did not settle within {within:g}s; still on its way: {left}")
        await asyncio.sleep(1.0)
        left = await backlog(cluster)
        quiet = quiet + 1 if not left else 0
    return time.monotonic() - started


@dataclass
class Scenario:
    """A tenant of its own under load on the cluster, and its audit once the system has settled."""

    cluster: Cluster
    since: Offsets  # where the topics ended before the tenant existed
    board: Board
    load: Load

    @classmethod
    async def begin(cls, cluster: Cluster, profile: Profile) -> Scenario:
        since = await end_offsets(cluster.kafka_bootstrap)
        board = await Board.set_up(cluster)
        return cls(cluster, since, board, Load(board, workers=profile.workers, pause=profile.pause_seconds))

    async def audit(self) -> Audit:
        """Settle, then audit; the seconds settling took are among the figures."""
        settled_in = await settle(self.cluster)
        audit = await (await Audit.take(self.cluster, self.board, self.load.ledger, self.since)).run()
        audit.figures["settled_s"] = round(settled_in, 1)
        return audit
