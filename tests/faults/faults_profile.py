"""How long the fault tests run: a short profile for CI, a long one on demand.

``CONVEYOR_FAULTS_PROFILE=long`` picks the long one; each figure can also be set on its own, e.g.
``CONVEYOR_FAULTS_CHAOS_SECONDS=600``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Profile:
    chaos_seconds: float  # load while a random service is killed every ``kill_every_seconds``
    kill_every_seconds: float
    kafka_outage_seconds: float  # Kafka stopped under load
    postgres_outage_seconds: float  # PostgreSQL stopped under load
    rebalance_seconds: float  # load while extra consumer replicas come and go
    workers: int  # concurrent item scripts of the load
    pause_seconds: float  # each worker's pause between commands
    rebalanced_services: tuple[str, ...] = ("reporting",)  # whose consumer groups get extra replicas

    @property
    def longest_test_seconds(self) -> float:
        return max(self.chaos_seconds, self.kafka_outage_seconds * 2, self.rebalance_seconds) + 900


SHORT = Profile(
    chaos_seconds=180, kill_every_seconds=30, kafka_outage_seconds=30, postgres_outage_seconds=15,
    rebalance_seconds=35, workers=6, pause_seconds=0.3,
)  # fmt: skip
LONG = Profile(
    chaos_seconds=1800, kill_every_seconds=30, kafka_outage_seconds=120, postgres_outage_seconds=60,
    rebalance_seconds=300, workers=6, pause_seconds=0.3,
    rebalanced_services=("reporting", "automation", "notifications"),
)  # fmt: skip


def from_environment() -> Profile:
    base = LONG if os.environ.get("CONVEYOR_FAULTS_PROFILE", "short") == "long" else SHORT
    overrides: dict[str, object] = {}
    for spec in fields(Profile):
        value = os.environ.get(f"CONVEYOR_FAULTS_{spec.name.upper()}")
        if not value:
            continue
        if spec.name == "rebalanced_services":
            overrides[spec.name] = tuple(name.strip() for name in value.split(",") if name.strip())
        else:
            overrides[spec.name] = int(value) if spec.type == "int" else float(value)
    return replace(base, **overrides)  # type: ignore[arg-type]


PROFILE = from_environment()


RESULTS = Path(__file__).resolve().parents[2] / ".local" / "faults"


def keep_figures(test: str, figures: dict[str, Any]) -> None:
    """Print a run's figures and keep them in ``.local/faults/<test>.json`` with the profile they ran
    under: a 30-minute run's figures should not depend on pytest showing its output."""
    kept = {"profile": asdict(PROFILE), "finished_at": datetime.now(UTC).isoformat(), **figures}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{test}.json").write_text(json.dumps(kept, indent=1, default=str))
    print(f"{test}:", json.dumps(figures, indent=1, default=str), f"(kept in {RESULTS / test}.json)")
