"""Fixtures of the fault tests: the five services as OS processes, shared by the session's tests
(each test works in a tenant of its own), and the profile that says how long each test runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from faults_cluster import Cluster, new_run_id
from faults_profile import PROFILE, Profile


@pytest.fixture(scope="session")
def profile() -> Profile:
    return PROFILE


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def cluster(infra: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    running = Cluster(
        run_id=new_run_id(),
        admin_dsn=infra.postgres_dsn,
        kafka_bootstrap=infra.kafka_bootstrap,
        log_dir=tmp_path_factory.mktemp("faults-logs"),
        dsn_for=infra.dsn_for,
    )
    try:
        await running.create()
        yield running
    finally:
        await running.close()
