"""Consumer groups rebalanced in the middle of batches: while the load runs, extra replicas of a
service start (joining its consumer groups: partitions move to them, possibly while the first
process is applying a fetch of those partitions), stop gracefully (leaving the groups) or are killed
(the group notices after the session timeout). Afterwards nothing is lost or applied twice.

The short profile rebalances the reporting service, whose projections consumer applies whole fetches
of up to 2,000 events in one transaction; the long one also automation and notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time

import pytest
from conveyor_testing.services import ServiceProcess
from faults_cluster import Cluster
from faults_profile import PROFILE, Profile, keep_figures
from faults_scenario import Scenario

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(PROFILE.longest_test_seconds)]

STEP_SECONDS = 7.0  # between two changes of a group's members


async def come_and_go(cluster: Cluster, service: str, seconds: float) -> list[str]:
    """One change every ``STEP_SECONDS``: start a replica, start another, stop the first gracefully,
    kill the second, and again, until ``seconds`` have passed (one round at least); returns what was
    done."""
    done: list[str] = []
    ends = time.monotonic() + seconds
    async with contextlib.AsyncExitStack() as replicas:
        running: list[ServiceProcess] = []
        for change in itertools.cycle(("start", "start", "stop", "kill")):
            if time.monotonic() >= ends and len(done) >= 4:
                break
            if change == "start":
                running.append(await replicas.enter_async_context(cluster.replica(service)))
            elif change == "stop":
                await running.pop(0).stop()
            else:
                await running.pop(0).kill()
            done.append(change)
            await asyncio.sleep(STEP_SECONDS)
    return done


class TestRebalance:
    @pytest.mark.parametrize("service", PROFILE.rebalanced_services)
    async def test_replicas_joining_and_leaving_mid_batch_lose_and_duplicate_nothing(
        self, cluster: Cluster, profile: Profile, service: str
    ) -> None:
        run = await Scenario.begin(cluster, profile)

        async with run.load.running():
            await asyncio.sleep(3)
            changes = await come_and_go(cluster, service, profile.rebalance_seconds)
        audit = await run.audit()

        figures = {"service": service, "changes": changes, **audit.figures}
        keep_figures("rebalance", figures)
        assert {"start", "stop", "kill"} <= set(changes), changes
        assert not audit.problems, audit.report() + "\n" + cluster.logs()
