"""Running Conveyor's services for tests and benchmarks: a free port, the consumer groups a service
runs, and the service itself, in this process (uvicorn) or as an OS process (`python -m <service>
serve`, as deploy/local/run.sh and the chart run it)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from conveyor_messaging.lanes import both_lanes

SERVICES = ("entities", "pipelines", "automation", "notifications", "reporting")
READY_WITHIN = 90.0


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def consumer_groups(service: str, suffix: str) -> dict[str, list[str]]:
    """Every consumer group the service runs (its routing table's and its batch consumers'), with
    their topics; ``suffix`` as the service's ``consumer_group_suffix`` setting appends it."""
    routing = importlib.import_module(f"{service}.routing")
    groups = {f"{service}.{s.name}{suffix}": both_lanes(s.topics) for s in routing.SUBSCRIPTIONS}
    for name, topics in getattr(routing, "BATCH_CONSUMERS", {}).items():
        groups[f"{service}.{name}{suffix}"] = both_lanes(topics)
    return groups


@contextlib.asynccontextmanager
async def serving_in_process(
    service: str, settings: Any, *, within: float = READY_WITHIN, **uvicorn_options: Any
) -> AsyncIterator[str]:
    """The service's app under uvicorn in this event loop, on ``settings.port``, from the moment its
    /health/ready answers 200 until the block ends; yields its base URL."""
    create = importlib.import_module(f"{service}.entrypoints.http").create
    config = uvicorn.Config(create(settings), host="127.0.0.1", port=settings.port, **uvicorn_options)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    base_url = f"http://127.0.0.1:{settings.port}"
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            deadline = time.monotonic() + within
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(base_url + "/health/ready")).status_code == 200:
                        break
                if task.done():
                    task.result()  # the server failed to start: its error, not a timeout
                if time.monotonic() > deadline:
                    raise AssertionError(f"the {service} service never became ready within {within:g} s")
                await asyncio.sleep(0.1)
        yield base_url
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 15)


@dataclass
class ServiceProcess:
    """One copy of a service as an OS process: its environment, port and log file. It can be
    started, killed (SIGKILL, as a crash leaves things), stopped (SIGTERM) and started again."""

    service: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.service} was never started"
        return self.process.pid

    def start(self) -> None:
        env = {**self.env, f"{self.service.upper()}_PORT": str(self.port)}
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {self.starts + 1} at {time.strftime('%H:%M:%S')} ===\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.service, "serve"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of the run is not delivered to it twice
            )
        self.starts += 1

    async def kill(self) -> None:
        """SIGKILL: no shutdown at all, as a crash or an OOM kill would leave things."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            await asyncio.to_thread(self.process.wait)

    async def stop(self, within: float = 30.0) -> None:
        """SIGTERM: a graceful stop (requests finish, consumers leave their groups); SIGKILL after
        ``within`` seconds."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.to_thread(self.process.wait), within)
            except TimeoutError:
                await self.kill()

    async def until_ready(self, http: httpx.AsyncClient, within: float = READY_WITHIN) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"{self.service} exited with {self.process.returncode}; see {self.log_path}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(self.base_url + "/health/ready", timeout=5)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.service} (port {self.port}) not ready within {within:g}s; see {self.log_path}")

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""
