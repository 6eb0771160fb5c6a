"""Chaos: a random service process is killed with SIGKILL every 30 s (its HTTP API, outbox relay,
consumers and timers with it) and started again, while a steady load creates items, changes their
fields and moves them between stages, firing a notify robot and a set-fields robot.

Afterwards, once nothing is on its way any more: every accepted command's events are stored and on
Kafka, every consumer group marked every event of its topics processed, each robot ran once per stage
entry and its effect happened once, each notification arrived once, and the reports equal a recount
from the event stores.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from faults_cluster import SERVICES, Cluster
from faults_profile import PROFILE, Profile, keep_figures
from faults_scenario import Scenario

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(PROFILE.longest_test_seconds)]


async def kill_a_service_now_and_then(cluster: Cluster, profile: Profile, rng: random.Random) -> list[str]:
    """Every ``kill_every_seconds`` until the run ends: SIGKILL one service and start it again (the
    restart goes on in the background, so the next kill comes on time)."""
    killed: list[str] = []
    restarting: dict[str, asyncio.Task[None]] = {}
    started = time.monotonic()
    kill_at = started + profile.kill_every_seconds
    while kill_at < started + profile.chaos_seconds:
        await asyncio.sleep(kill_at - time.monotonic())
        victim = rng.choice(SERVICES)
        if victim in restarting:
            await restarting[victim]  # still starting after the last kill: kill the new one, not mid-start
        await cluster.processes[victim].kill()
        killed.append(victim)
        restarting[victim] = asyncio.create_task(cluster.restart(victim))
        kill_at += profile.kill_every_seconds
    await asyncio.sleep(max(started + profile.chaos_seconds - time.monotonic(), 0))
    await asyncio.gather(*restarting.values())
    return killed


class TestChaos:
    async def test_killing_services_under_load_loses_and_duplicates_nothing(
        self, cluster: Cluster, profile: Profile
    ) -> None:
        run = await Scenario.begin(cluster, profile)

        async with run.load.running():
            killed = await kill_a_service_now_and_then(cluster, profile, random.Random())
        audit = await run.audit()

        figures = {"killed": killed, **audit.figures,
                   "gave_up": dict(run.load.ledger.gave_up), "answers": dict(run.board.api.outcomes)}  # fmt: skip
        keep_figures("chaos", figures)
        assert len(killed) == -(-profile.chaos_seconds // profile.kill_every_seconds) - 1
        assert run.load.ledger.moved and run.load.ledger.updated, "the load must have got through"
        assert not audit.problems, audit.report() + "\n" + cluster.logs()
