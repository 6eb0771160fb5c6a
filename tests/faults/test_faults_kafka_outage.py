"""Kafka stopped under load, then started again.

While the broker is away, every service keeps accepting commands (their events wait in the outbox).
When it is back, each relay publishes its backlog at least five times faster than the steady rate
of the load (it sends whole batches, not one event at a time), and afterwards nothing is lost or
duplicated anywhere (the same audit as the chaos test).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from faults_audit import PRODUCERS
from faults_cluster import Cluster
from faults_profile import PROFILE, Profile, keep_figures
from faults_relays import Drain, backlog, drain, port_open, stored
from faults_scenario import Scenario

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(PROFILE.longest_test_seconds)]

STEADY_SECONDS = 15.0  # the load before the outage, to measure its steady event rate
SLICE_SECONDS = 10.0  # during the outage, commands must be accepted in every slice this long
MIN_BACKLOG = 50  # relays with fewer waiting events are reported but not held to the ratio
DRAIN_FACTOR = 5.0


async def stored_per_service(cluster: Cluster) -> dict[str, int]:
    return {service: await stored(cluster.dsn(service)) for service in PRODUCERS}


class TestKafkaOutage:
    async def test_kafka_stopped_under_load_loses_nothing_and_the_backlog_drains_fast(
        self, cluster: Cluster, infra: Any, profile: Profile
    ) -> None:
        if not infra.can_control_kafka:
            pytest.skip("this Kafka is not ours to stop")
        run = await Scenario.begin(cluster, profile)
        ledger = run.load.ledger

        async with run.load.running():
            await asyncio.sleep(3)  # the workers have items on the board
            before, steady_from = await stored_per_service(cluster), time.monotonic()
            await asyncio.sleep(STEADY_SECONDS)
            after, steady_for = await stored_per_service(cluster), time.monotonic() - steady_from
            steady = {service: (after[service] - before[service]) / steady_for for service in PRODUCERS}

            await infra.stop_kafka()
            stopped = time.monotonic()
            await asyncio.sleep(profile.kafka_outage_seconds)
            waiting = {service: await backlog(cluster.dsn(service)) for service in PRODUCERS}
            starting = asyncio.create_task(infra.start_kafka())
            back = await port_open(cluster.kafka_bootstrap)  # the relays may reconnect from here on
            drained = await asyncio.gather(*(drain(cluster.dsn(s), waiting[s], since=back) for s in PRODUCERS))
            drains: dict[str, Drain] = dict(zip(PRODUCERS, drained, strict=True))
            await starting
            await asyncio.sleep(3)  # the load goes on a little after the drain
        audit = await run.audit()

        slices = int((back - stopped) // SLICE_SECONDS)
        accepted_per_slice = [
            ledger.accepted_between(stopped + n * SLICE_SECONDS, stopped + (n + 1) * SLICE_SECONDS)
            for n in range(slices)
        ]
        figures = {
            "outage_s": round(back - stopped, 1),
            "steady_events_per_s": {s: round(r, 1) for s, r in steady.items()},
            "drain": {s: d.figures() for s, d in drains.items()},
            "accepted_per_10s_while_down": accepted_per_slice,
            **audit.figures,
        }
        keep_figures("kafka-outage", figures)
        assert all(n > 0 for n in accepted_per_slice), f"commands were refused while Kafka was down: {figures}"
        held = {s: d for s, d in drains.items() if d.backlog >= MIN_BACKLOG}
        assert held, f"no relay had a backlog to drain: {figures}"
        for service, measured in held.items():
            assert measured.rate >= DRAIN_FACTOR * steady[service], (
                f"{service} drained {measured.backlog} events at {measured.rate:.0f}/s, less than"
                f" {DRAIN_FACTOR:g} x its steady {steady[service]:.1f}/s: {figures}"
            )
        assert not audit.problems, audit.report() + "\n" + cluster.logs()
