"""Open-loop pacing and the latency record.

Requests are started at their scheduled instants whether or not earlier ones have answered, and
each latency counts from the scheduled instant, not from when the request actually left: a slow
answer cannot hold back the requests behind it and hide their waiting (no coordinated omission).
How late the generator itself started requests is recorded apart (``start_lag``), so a saturated
generator shows instead of passing for a slow service.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from _infra import percentile

# A request that would exceed this many in flight is not sent and counted as `not_sent`: past it
# the system is far beyond what it sustains and the generator would only pile up tasks.
MAX_IN_FLIGHT = 2_000


@dataclass
class Phase:
    """Everything measured while one rate was offered."""

    name: str
    offered_commands_per_s: float
    seconds: float
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    start_lag_ms: list[float] = field(default_factory=list)
    commands_ok: int = 0
    commands_answered: int = 0
    not_sent: int = 0
    max_in_flight: int = 0
    elapsed_s: float = 0.0

    def record(self, endpoint: str, latency_ms: float, status: int, *, command: bool) -> None:
        self.latencies_ms[endpoint].append(latency_ms)
        self.statuses[(endpoint, status)] += 1
        if command:
            self.commands_answered += 1
            self.commands_ok += 200 <= status < 300

    @property
    def achieved_commands_per_s(self) -> float:
        return self.commands_ok / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def failures(self) -> int:
        return self.not_sent + sum(n for (_, status), n in self.statuses.items() if not 200 <= status < 300)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + self.not_sent

    def all_latencies(self, endpoints: set[str] | None = None) -> list[float]:
        return [v for e, values in self.latencies_ms.items() if endpoints is None or e in endpoints for v in values]

    def p(self, q: float, endpoints: set[str] | None = None) -> float:
        return percentile(self.all_latencies(endpoints), q)


Fire = Callable[[Phase, float], Awaitable[None]]


async def drive(phase: Phase, requests_per_s: float, fire: Fire) -> None:
    """Start ``fire(phase, intended)`` at ``requests_per_s`` for ``phase.seconds``, evenly spaced,
    then wait for the stragglers (their latencies count against this phase)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    in_flight: set[asyncio.Task[None]] = set()
    k = 0
    began = time.monotonic()
    while (intended := start + k / requests_per_s) < start + phase.seconds:
        k += 1
        delay = intended - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(in_flight) >= MAX_IN_FLIGHT:
            phase.not_sent += 1
            continue
        phase.start_lag_ms.append(max(0.0, loop.time() - intended) * 1000)
        task = asyncio.create_task(fire(phase, intended))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        phase.max_in_flight = max(phase.max_in_flight, len(in_flight))
    if in_flight:
        await asyncio.wait(in_flight, timeout=60)
    phase.elapsed_s = time.monotonic() - began
