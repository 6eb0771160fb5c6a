"""PostgreSQL stopped under load, then started again.

The local stack runs one PostgreSQL server for the five databases, so every service loses its
database at once. While it is away each service answers promptly with 503 problem+json (not 500,
not a hang) and its /health/ready says the database is down; when it is back every service
recovers by itself (no restart): ready again, the live notification stream delivers again, and
the audit finds nothing lost or duplicated.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from faults_board import ASSIGNEE, Board
from faults_cluster import SERVICES, Cluster
from faults_profile import PROFILE, Profile, keep_figures
from faults_scenario import Scenario

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(PROFILE.longest_test_seconds)]

PROBE_TIMEOUT = 10.0  # an answer later than this is a hang
RECOVER_WITHIN = 60.0


def probes(board: Board, item_id: str) -> list[tuple[str, str, str, Any]]:
    """A read of every service and a write, as (service, method, path, body)."""
    return [
        ("entities", "GET", f"/v1/items/{item_id}", None),
        ("entities", "POST", "/v1/items", {"entity_type_id": board.type_id, "title": "During the outage"}),
        ("pipelines", "GET", f"/v1/placements/{item_id}", None),
        ("automation", "GET", f"/v1/robots?pipeline_id={board.pipeline_id}", None),
        ("notifications", "GET", "/v1/notifications", None),
        ("reporting", "GET", f"/v1/reports/funnel?pipeline_id={board.pipeline_id}", None),
    ]


async def answer(board: Board, service: str, method: str, path: str, body: Any) -> str:
    """How one request was answered: ``503 problem`` when as it should be (503 problem+json with a
    Retry-After), else what happened."""
    cluster = board.api.cluster
    headers = {"Authorization": f"Bearer {cluster.token(board.tenant, 'admin-1', 'admin')}"}
    try:
        response = await cluster.http.request(
            method, cluster.url(service) + path, json=body, headers=headers, timeout=PROBE_TIMEOUT
        )
    except httpx.TimeoutException:
        return "no answer (hang)"
    problem = response.headers.get("content-type") == "application/problem+json"
    retry = response.headers.get("retry-after", "").isdigit()
    if response.status_code == 503 and problem and retry and response.json()["status"] == 503:
        return "503 problem"
    return f"{response.status_code} {response.headers.get('content-type')} {response.text[:120]}"


async def database_reported_down(cluster: Cluster, service: str) -> str:
    response = await cluster.http.get(cluster.url(service) + "/health/ready", timeout=PROBE_TIMEOUT)
    database = response.json().get("checks", {}).get("database", {})
    return "reported" if response.status_code == 503 and database.get("status") == "down" else response.text[:200]


async def ready_again(cluster: Cluster) -> float:
    started = time.monotonic()
    await cluster.until_ready(SERVICES, within=RECOVER_WITHIN)
    return time.monotonic() - started


async def a_live_notification(cluster: Cluster, tenant: str, within: float = 30.0) -> bool:
    """The assignee's live stream delivers a notification (the load keeps making them)."""
    headers = {"Authorization": f"Bearer {cluster.token(tenant, ASSIGNEE)}"}
    url = cluster.url("notifications") + "/v1/notifications/stream"
    try:
        async with asyncio.timeout(within), cluster.http.stream("GET", url, headers=headers, timeout=None) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("event: notification"):
                    return True
    except TimeoutError:
        return False
    return False


class TestPostgresOutage:
    async def test_while_postgres_is_away_services_answer_503_and_recover_by_themselves(
        self, cluster: Cluster, infra: Any, profile: Profile
    ) -> None:
        run = await Scenario.begin(cluster, profile)
        board = run.board

        async with run.load.running():
            await asyncio.sleep(5)
            item_id = run.load.ledger.created[0]
            assert await a_live_notification(cluster, board.tenant), "the live stream works before the outage"
            await infra.stop_postgres()
            answers: Counter[str] = Counter()
            health: Counter[str] = Counter()
            try:
                ends = time.monotonic() + profile.postgres_outage_seconds
                while time.monotonic() < ends:
                    for service, method, path, body in probes(board, item_id):
                        answers[f"{service} {method}: {await answer(board, service, method, path, body)}"] += 1
                    for service in SERVICES:
                        health[f"{service}: {await database_reported_down(cluster, service)}"] += 1
                    await asyncio.sleep(1.0)
            finally:
                await infra.start_postgres()
            recovered_in = await ready_again(cluster)
            await asyncio.sleep(5)  # the load goes on after the outage
            streams_again = await a_live_notification(cluster, board.tenant)
        audit = await run.audit()

        figures = {
            "answers_while_down": dict(answers),
            "health_while_down": dict(health),
            "ready_again_s": round(recovered_in, 1),
            **audit.figures,
        }
        keep_figures("postgres-outage", figures)
        assert all(text.endswith(": 503 problem") for text in answers), figures
        assert all(text.endswith(": reported") for text in health), figures
        assert streams_again, "the live notification stream never delivered again after the outage"
        assert not audit.problems, audit.report() + "\n" + cluster.logs()
