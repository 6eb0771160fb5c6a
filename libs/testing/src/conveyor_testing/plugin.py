"""pytest plugin: real PostgreSQL and Kafka for every test tier.

Loaded by the repository's root ``conftest.py`` (``pytest_plugins = ["conveyor_testing.plugin"]``).

Where the infrastructure comes from, decided once per session and only when a test
asks for it (unit tests never trigger any of this):

1. ``env``: ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` are both set. ``DATABASE_URL``
   is an *admin* DSN: its role must be allowed to ``CREATE DATABASE``.
2. ``testcontainers``: a Docker engine answers a ping within about 2 seconds.
3. ``local``: this checkout's ``deploy/local`` stack, described by ``.local/infra.json``.
   When the file is missing or the servers don't answer, ``deploy/local/infra.sh up``
   is run once (idempotent; seconds when already up).

``CONVEYOR_TEST_INFRA=env|testcontainers|local`` forces one source (and fails loudly if
it is not available) instead of this order.

Fixtures:

``infra`` (session)
    ``.postgres_dsn`` (admin DSN), ``.kafka_bootstrap``, ``.source``,
    ``.can_control_kafka`` and ``await .restart_kafka() / .stop_kafka() / .start_kafka()``
    (skip the test when the source is ``env``). ``start_kafka`` and ``restart_kafka``
    return once the broker answers metadata requests again. ``await .stop_postgres() /
    .start_postgres()`` likewise for the local source only (a container's port would change).
``fresh_database`` (function, async)
    DSN of a brand-new empty database ``t_<uuid hex>``; dropped at session end.
``make_topic`` (function, async factory)
    ``await make_topic("orders", partitions=3)`` creates ``orders-<hex>`` and returns the
    name once every partition has a leader; deleted at session end.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

import pytest
import pytest_asyncio

from conveyor_testing.services import free_port

Source = Literal["env", "testcontainers", "local"]

ENV_KAFKA = "KAFKA_BOOTSTRAP_SERVERS"
ENV_DATABASE = "DATABASE_URL"
ENV_FORCE = "CONVEYOR_TEST_INFRA"
# Images for the testcontainers source; override to follow production versions.
TC_POSTGRES_IMAGE = os.environ.get("CONVEYOR_TC_POSTGRES_IMAGE", "postgres:15-alpine")
TC_KAFKA_IMAGE = os.environ.get("CONVEYOR_TC_KAFKA_IMAGE", "confluentinc/cp-kafka:7.9.0")

KAFKA_READY_TIMEOUT = 120.0
INFRA_SH_TIMEOUT = 600.0

MakeTopic = Callable[..., Awaitable[str]]


# --------------------------------------------------------------------------- the Infra object


class _KafkaControl(Protocol):
    async def stop(self) -> None: ...
    async def start(self) -> None: ...
    async def restart(self) -> None: ...


class _PostgresControl(Protocol):
    async def stop_postgres(self) -> None: ...
    async def start_postgres(self) -> None: ...


@dataclass
class Infra:
    """Where this test session's PostgreSQL and Kafka are, and (maybe) how to bounce Kafka."""

    postgres_dsn: str
    kafka_bootstrap: str
    source: Source
    _control: _KafkaControl | None = field(default=None, repr=False)
    _postgres_control: _PostgresControl | None = field(default=None, repr=False)
    # True while a test has stopped Kafka (PostgreSQL); the per-test guard starts it again.
    _kafka_stopped: bool = field(default=False, repr=False)
    _postgres_stopped: bool = field(default=False, repr=False)

    @property
    def can_control_kafka(self) -> bool:
        return self._control is not None

    def dsn_for(self, database: str) -> str:
        """The admin DSN pointed at another database on the same server."""
        return _with_database(self.postgres_dsn, database)

    def _require_control(self) -> _KafkaControl:
        if self._control is None:
            pytest.skip(
                f"Kafka comes from the environment ({ENV_KAFKA}={self.kafka_bootstrap}); "
                "this session cannot stop or start that broker"
            )
        return self._control

    async def stop_kafka(self) -> None:
        control = self._require_control()
        self._kafka_stopped = True
        await control.stop()

    async def start_kafka(self) -> None:
        control = self._require_control()
        await control.start()
        self._kafka_stopped = False

    async def restart_kafka(self) -> None:
        control = self._require_control()
        self._kafka_stopped = True
        await control.restart()
        self._kafka_stopped = False

    def _require_postgres_control(self) -> _PostgresControl:
        if self._postgres_control is None:
            pytest.skip(f"PostgreSQL comes from {self.source}; this session cannot stop or start it")
        return self._postgres_control

    async def stop_postgres(self) -> None:
        """Stop the whole PostgreSQL server (every database on it): clients are disconnected."""
        control = self._require_postgres_control()
        self._postgres_stopped = True
        await control.stop_postgres()

    async def start_postgres(self) -> None:
        """Start it again; returns once it accepts connections."""
        control = self._require_postgres_control()
        await control.start_postgres()
        self._postgres_stopped = False


# --------------------------------------------------------------------------- helpers


def _with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def _asyncpg_dsn(dsn: str) -> str:
    """asyncpg wants postgresql:// (no SQLAlchemy-style "+driver" suffix)."""
    scheme, sep, rest = dsn.partition("://")
    return scheme.split("+", 1)[0] + sep + rest


def _host_port(address: str, default_port: int) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return (host or address).strip("[]"), int(port) if port.isdigit() else default_port


def _answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _log(message: str) -> None:
    print(f"\n[conveyor_testing] {message}", file=sys.stderr, flush=True)


async def wait_for_kafka(bootstrap: str, within: float = KAFKA_READY_TIMEOUT) -> None:
    """Return once the broker answers a metadata request listing at least one broker."""
    from aiokafka import AIOKafkaClient

    deadline = time.monotonic() + within
    last: BaseException | None = None
    while time.monotonic() < deadline:
        client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await asyncio.wait_for(client.bootstrap(), 10)
            if client.cluster.brokers():
                return
        except Exception as exc:  # not ready yet
            last = exc
        finally:
            await client.close()
        await asyncio.sleep(0.5)
    raise TimeoutError(f"Kafka at {bootstrap} not ready after {within:.0f}s: {last!r}")


# --------------------------------------------------------------------------- source: local


def find_repo_root() -> Path:
    """The checkout that holds deploy/local/infra.sh: this file's first, then the cwd's."""
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for candidate in (start, *start.parents):
            if (candidate / "deploy" / "local" / "infra.sh").is_file():
                return candidate
    raise pytest.UsageError(
        "conveyor_testing: no deploy/local/infra.sh above this plugin or the current directory; "
        f"set {ENV_KAFKA} and {ENV_DATABASE} instead"
    )


class _LocalControl:
    """Bounces the local broker through infra.sh, off the event loop."""

    def __init__(self, script: Path) -> None:
        self.script = script

    async def _run(self, command: str) -> None:
        await asyncio.to_thread(_run_infra_sh, self.script, command)

    async def stop(self) -> None:
        await self._run("stop-kafka")

    async def start(self) -> None:
        await self._run("start-kafka")  # returns once metadata is served

    async def restart(self) -> None:
        await self._run("restart-kafka")

    async def stop_postgres(self) -> None:
        await self._run("stop-postgres")

    async def start_postgres(self) -> None:
        await self._run("start-postgres")  # pg_ctl -w: returns once it accepts connections


def _run_infra_sh(script: Path, command: str) -> None:
    result = subprocess.run(
        [str(script), command],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=INFRA_SH_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{script} {command} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")


def _local_infra() -> Infra:
    root = find_repo_root()
    script = root / "deploy" / "local" / "infra.sh"
    infra_json = root / ".local" / "infra.json"

    def load() -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(infra_json.read_text())
        except (OSError, ValueError):
            return None
        pg = _host_port(urlsplit(data["postgres_dsn"]).netloc.rpartition("@")[2], 5432)
        kafka = _host_port(data["kafka_bootstrap"].split(",")[0], 9092)
        return data if _answers(*pg) and _answers(*kafka) else None

    data = load()
    if data is None:
        # Missing file, or the machine rebooted / someone ran infra-down: bring it up once.
        _log(f"local infrastructure not up; running {script} up")
        _run_infra_sh(script, "up")
        data = load()
        if data is None:
            raise RuntimeError(f"{script} up succeeded but {infra_json} is missing or not answering")
    return Infra(
        postgres_dsn=data["postgres_dsn"],
        kafka_bootstrap=data["kafka_bootstrap"],
        source="local",
        _control=(control := _LocalControl(Path(data.get("control") or script))),
        _postgres_control=control,
    )


# --------------------------------------------------------------------------- source: testcontainers


def docker_available(timeout: float = 2.0) -> bool:
    """True if a Docker engine answers a ping within `timeout` seconds."""
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return False  # the common no-daemon case: decide without importing anything
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        return False

    def ping() -> bool:
        client = docker.from_env(timeout=max(1, int(timeout)))
        try:
            return bool(client.ping())
        finally:
            client.close()

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(ping).result(timeout=timeout)
    except Exception:
        return False
    finally:
        pool.shutdown(wait=False)


class _ContainerControl:
    """Stops/starts the Kafka container; the host port is pinned so it survives a restart."""

    def __init__(self, container: Any, bootstrap: str) -> None:
        self.container = container
        self.bootstrap = bootstrap

    async def stop(self) -> None:
        await asyncio.to_thread(self.container.get_wrapped_container().stop)

    async def start(self) -> None:
        await asyncio.to_thread(self.container.get_wrapped_container().start)
        await wait_for_kafka(self.bootstrap)

    async def restart(self) -> None:
        await self.stop()
        await self.start()


def _testcontainers_infra(stack: contextlib.ExitStack) -> Infra:
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.postgres import PostgresContainer

    postgres = PostgresContainer(
        TC_POSTGRES_IMAGE, username="conveyor", password="conveyor", dbname="postgres", driver=None
    ).with_command("postgres -c max_connections=300")
    # The advertised listener is baked into the container at first start, so the host
    # port must not change across stop/start: pin it instead of letting Docker pick.
    kafka = KafkaContainer(TC_KAFKA_IMAGE).with_kraft().with_bind_ports(9093, free_port())
    stack.enter_context(postgres)
    stack.enter_context(kafka)
    bootstrap = kafka.get_bootstrap_server()
    return Infra(
        postgres_dsn=postgres.get_connection_url(driver=None),
        kafka_bootstrap=bootstrap,
        source="testcontainers",
        _control=_ContainerControl(kafka, bootstrap),
    )


# --------------------------------------------------------------------------- choosing a source


def resolve_infra(stack: contextlib.ExitStack) -> Infra:
    forced = os.environ.get(ENV_FORCE, "").strip() or None
    if forced not in (None, "env", "testcontainers", "local"):
        raise pytest.UsageError(f"{ENV_FORCE}={forced!r}: expected env, testcontainers or local")

    kafka_env, database_env = os.environ.get(ENV_KAFKA), os.environ.get(ENV_DATABASE)
    if forced in (None, "env"):
        if kafka_env and database_env:
            return Infra(postgres_dsn=database_env, kafka_bootstrap=kafka_env, source="env")
        if forced == "env":
            raise pytest.UsageError(f"{ENV_FORCE}=env needs both {ENV_KAFKA} and {ENV_DATABASE}")
        if kafka_env or database_env:
            _log(f"only one of {ENV_KAFKA}/{ENV_DATABASE} is set; ignoring it (set both to use your own servers)")

    if forced in (None, "testcontainers"):
        if docker_available():
            return _testcontainers_infra(stack)
        if forced == "testcontainers":
            raise pytest.UsageError(f"{ENV_FORCE}=testcontainers but no Docker engine answers")

    return _local_infra()


# The resolved Infra while the session fixture is alive, and the last one (for the summary).
_SESSION: dict[str, Infra] = {}
_LAST: dict[str, Infra] = {}


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    """This session's PostgreSQL and Kafka (see the module docstring for the order)."""
    with contextlib.ExitStack() as stack:
        resolved = resolve_infra(stack)
        _SESSION["infra"] = _LAST["infra"] = resolved
        try:
            yield resolved
        finally:
            _SESSION.pop("infra", None)
            _ensure_kafka_started(resolved)


def _ensure_kafka_started(resolved: Infra) -> None:
    """A test that stopped Kafka (or PostgreSQL) and then failed must not leave it down for everyone else."""
    if resolved._kafka_stopped and resolved._control is not None:
        _log("a test left Kafka stopped; starting it again")
        asyncio.run(resolved.start_kafka())
    if resolved._postgres_stopped and resolved._postgres_control is not None:
        _log("a test left PostgreSQL stopped; starting it again")
        asyncio.run(resolved.start_postgres())


@pytest.fixture(autouse=True)
def _conveyor_kafka_guard() -> Iterator[None]:
    yield
    resolved = _SESSION.get("infra")
    if resolved is not None:
        _ensure_kafka_started(resolved)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    resolved = _LAST.get("infra")
    if resolved is not None:
        terminalreporter.write_line(
            f"conveyor_testing: infrastructure from {resolved.source} "
            f"(postgres {urlsplit(resolved.postgres_dsn).netloc.rpartition('@')[2]}, "
            f"kafka {resolved.kafka_bootstrap})"
        )


# --------------------------------------------------------------------------- databases and topics


@dataclass
class _Created:
    databases: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _conveyor_created(infra: Infra) -> AsyncIterator[_Created]:
    """Everything the fixtures created; removed (best effort) when the session ends."""
    created = _Created()
    yield created
    with contextlib.suppress(Exception):
        await asyncio.wait_for(_drop_databases(infra, created.databases), 60)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(_delete_topics(infra, created.topics), 30)


async def _drop_databases(infra: Infra, names: list[str]) -> None:
    if not names:
        return
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(infra.postgres_dsn))
    try:
        for name in names:
            with contextlib.suppress(Exception):
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _delete_topics(infra: Infra, names: list[str]) -> None:
    if not names:
        return
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        for i in range(0, len(names), 100):
            with contextlib.suppress(Exception):
                await admin.delete_topics(names[i : i + 100])
    finally:
        await admin.close()


@pytest_asyncio.fixture(loop_scope="session")
async def fresh_database(infra: Infra, _conveyor_created: _Created) -> str:
    """DSN of a new, empty database that no other test uses."""
    import asyncpg

    name = f"t_{uuid.uuid4().hex}"
    conn = await asyncpg.connect(_asyncpg_dsn(infra.postgres_dsn))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    _conveyor_created.databases.append(name)
    return infra.dsn_for(name)


_TOPIC_PREFIX = re.compile(r"^[A-Za-z0-9._-]{1,200}$")


@pytest_asyncio.fixture(loop_scope="session")
async def make_topic(infra: Infra, _conveyor_created: _Created) -> MakeTopic:
    """Factory: ``await make_topic("prefix", partitions=3)`` -> a new topic's name."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    async def _make(
        prefix: str = "test",
        partitions: int = 3,
        *,
        replication_factor: int = 1,
        config: dict[str, str] | None = None,
    ) -> str:
        if not _TOPIC_PREFIX.match(prefix):
            raise ValueError(f"topic prefix {prefix!r}: use letters, digits, '.', '_' or '-'")
        name = f"{prefix}-{uuid.uuid4().hex[:16]}"
        # A client per call: the factory may be awaited from any event loop.
        admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
        await admin.start()
        try:
            response = await admin.create_topics(
                [NewTopic(name, partitions, replication_factor, topic_configs=config or {})]
            )
            for topic_error in getattr(response, "topic_errors", []):
                _, code, *rest = topic_error
                if code:
                    raise RuntimeError(f"creating topic {name}: error {code} {rest}")
            _conveyor_created.topics.append(name)
            await _wait_for_leaders(admin, name, partitions)
        finally:
            await admin.close()
        return name

    return _make


async def _wait_for_leaders(admin: Any, topic: str, partitions: int, within: float = 30) -> None:
    """Creation returns before leaders are elected; producers would then see retries."""
    deadline = time.monotonic() + within
    while True:
        described = await admin.describe_topics([topic])
        parts = described[0].get("partitions", []) if described else []
        if described and described[0].get("error_code", 0) == 0 and len(parts) == partitions:
            if all(p.get("leader", -1) >= 0 for p in parts):
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"topic {topic}: partitions have no leader after {within}s")
        await asyncio.sleep(0.1)
