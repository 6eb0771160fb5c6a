"""Stage durations in logarithmic buckets, and percentiles read from them.

Bucket ``b`` holds the durations ``d`` with ``2^(b/K) <= d + 1 < 2^((b+1)/K)``, ``K`` =
``BUCKETS_PER_DOUBLING`` (the SQL function ``reporting_duration_bucket`` in adapters/schema.py computes
the same). A percentile read from the buckets places its rank inside its bucket as if the bucket's
visits were spread evenly on the logarithmic scale, so it is off by at most one bucket's width (about 9 %).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

BUCKETS_PER_DOUBLING = 8


def bucket_of(seconds: float) -> int:
    return math.floor(math.log(max(seconds, 0.0) + 1) * (BUCKETS_PER_DOUBLING / math.log(2)))


def percentile(buckets: Sequence[tuple[int, int]], q: float) -> float | None:
    """The ``q`` quantile (0..1) of the durations counted in ``(bucket, visits)``, ranked as
    ``percentile_cont`` ranks them: position ``(n - 1) * q`` between the two closest ranked durations."""
    ordered = sorted((b, n) for b, n in buckets if n > 0)
    total = sum(n for _, n in ordered)
    if not total:
        return None
    position = (total - 1) * q
    low = int(position)
    below, above = _ranked(ordered, low), _ranked(ordered, min(low + 1, total - 1))
    return below + (above - below) * (position - low)


def _ranked(ordered: Sequence[tuple[int, int]], rank: int) -> float:
    """The duration of 0-based ``rank``, its bucket's visits spread evenly on the logarithmic scale."""
    before = 0
    for bucket, n in ordered:
        if rank < before + n:
            return float(2 ** ((bucket + (rank - before + 0.5) / n) / BUCKETS_PER_DOUBLING) - 1)
        before += n
    raise ValueError(f"rank {rank} beyond {before} durations")


# Up to this many durations a report sorts them for exact percentiles; beyond, it reads them in buckets.
# Sorting costs about 2 ms per 1,000 durations of PostgreSQL's CPU on every request: at 50,000 (the
# first limit) a mid-sized tenant's stage-time report took 107 ms of it each time, and under the
# system benchmark's mix those reports used most of a core (bench/README.md, "system").
EXACT_VISITS = 10_000


def summary(buckets: Sequence[tuple[int, int, float]]) -> dict[str, float | int | None]:
    """Count, total and mean (exact) and median and p90 (within a bucket) of the durations counted as
    ``(bucket, count, total seconds)``."""
    count = sum(n for _, n, _ in buckets)
    total = sum(seconds for _, _, seconds in buckets)
    counted = [(b, n) for b, n, _ in buckets]
    return {
        "visits": count,
        "total_seconds": total,
        "mean_seconds": total / count if count else None,
        "median_seconds": percentile(counted, 0.5),
        "p90_seconds": percentile(counted, 0.9),
    }
