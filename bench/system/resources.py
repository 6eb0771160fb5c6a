"""CPU and memory per process (psutil), and py-spy profiles of the services while they are loaded.

A process group is a root process and its descendants (PostgreSQL's backends are children of the
postmaster). CPU is the group's CPU time over wall time between samples: 100 % is one core.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from conveyor_kit.background import in_background

ROOT = Path(__file__).resolve().parents[2]


def local_pids() -> dict[str, int]:
    """PostgreSQL's postmaster and Kafka's JVM when the local stack (`make infra-up`) runs them."""
    found: dict[str, int] = {}
    postmaster = ROOT / ".local" / "postgres" / "data" / "postmaster.pid"
    kafka = ROOT / ".local" / "kafka" / "kafka.pid"
    with contextlib.suppress(OSError, ValueError):
        found["postgres"] = int(postmaster.read_text().split()[0])
    with contextlib.suppress(OSError, ValueError):
        found["kafka"] = int(kafka.read_text().split()[0])
    return found


@dataclass
class Usage:
    cpu_pct: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    last_cpu_s: dict[int, float] = field(default_factory=dict)


class ResourceSampler:
    def __init__(self, pids: dict[str, int], trees: set[str], every_s: float = 2.0) -> None:
        self.pids = pids
        self.trees = trees  # groups counted with their descendants (PostgreSQL's backends)
        self.every_s = every_s
        self.usage = {name: Usage() for name in pids}
        self.machine_cpu_pct: list[float] = []

    def _sample(self, name: str, interval_s: float) -> None:
        usage = self.usage[name]
        try:
            root = psutil.Process(self.pids[name])
            group = [root, *root.children(recursive=True)] if name in self.trees else [root]
        except psutil.NoSuchProcess:
            return
        cpu_s, rss, seen = 0.0, 0, {}
        for process in group:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                now = times.user + times.system
                cpu_s += now - usage.last_cpu_s.get(process.pid, 0.0)
                seen[process.pid] = now
                rss += process.memory_info().rss
        if usage.last_cpu_s:  # the first sample only sets the baseline
            usage.cpu_pct.append(100 * cpu_s / interval_s)
        usage.last_cpu_s = seen
        usage.rss_mb.append(rss / 2**20)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        before = loop.time()
        psutil.cpu_percent()
        while True:
            await asyncio.sleep(self.every_s)
            now = loop.time()
            for name in self.pids:
                self._sample(name, now - before)
            self.machine_cpu_pct.append(psutil.cpu_percent() * psutil.cpu_count())
            before = now

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ResourceSampler]:
        for name in self.pids:
            self._sample(name, 1.0)
        async with in_background(self._loop()):
            yield self

    def figures(self, commands_per_s: float) -> dict[str, float]:
        """Average and peak CPU (100 % = one core), peak memory, and CPU milliseconds per command:
        the cost of a command, which other work on the machine does not change much."""
        out: dict[str, float] = {}
        for name, usage in self.usage.items():
            if usage.cpu_pct:
                average = sum(usage.cpu_pct) / len(usage.cpu_pct)
                out[f"cpu_{name}_avg_pct"] = average
                out[f"cpu_{name}_max_pct"] = max(usage.cpu_pct)
                if commands_per_s:
                    out[f"cpu_{name}_ms_per_command"] = 10 * average / commands_per_s
            if usage.rss_mb:
                out[f"rss_{name}_max_mb"] = max(usage.rss_mb)
        if self.machine_cpu_pct:
            out["cpu_machine_avg_pct"] = sum(self.machine_cpu_pct) / len(self.machine_cpu_pct)
        return out


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    if found is None:
        raise RuntimeError("py-spy is not installed (uv sync --frozen installs it with the dev group)")
    return found


def start_profiles(pids: dict[str, int], seconds: float, folder: Path) -> list[subprocess.Popen[bytes]]:
    """py-spy records each process for ``seconds`` as collapsed stacks (``hotspots.py`` reads them)."""
    folder.mkdir(parents=True, exist_ok=True)
    runs = []
    for name, pid in pids.items():
        # --gil: only samples of a thread holding the GIL, i.e. running Python, not waiting for the
        # CPU or the network (on a busy machine, waiting threads would crowd the profile).
        command = [py_spy(), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "50", "--gil"]
        command += ["--format", "raw", "--output", str(folder / f"{name}.txt")]
        runs.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    (folder / "pids.json").write_text(json.dumps(pids))
    return runs
