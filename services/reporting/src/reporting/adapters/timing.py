"""Durations summed up per key in one statement over one scan: exact figures (``percentile_cont``) when the
caller may read at most ``limit`` durations, else counts per key and logarithmic duration bucket (a hash
aggregate, no sort) from which median and p90 are read within a bucket's width (``domain/durations.py``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from reporting.domain import durations

Key = TypeVar("Key", bound=Hashable)


def exact_or_bucketed(durations_sql: str, keys: Sequence[str], limit: int) -> str:
    """A statement over ``durations_sql`` (a query of the columns ``keys`` and ``seconds``) that returns, per
    key, ``n``, ``total``, ``median`` and ``p90`` with ``bucket`` null when there are at most ``limit``
    durations, else ``n`` and ``total`` per key and ``bucket``."""
    by = ", ".join(keys)
    return f"""WITH d AS MATERIALIZED ({durations_sql}), counted AS (SELECT count(*) AS n FROM d)
SELECT {by}, NULL::int AS bucket, count(*) AS n, sum(seconds) AS total,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90
  FROM d WHERE (SELECT n FROM counted) <= {int(limit)} GROUP BY {by}
UNION ALL
SELECT {by}, reporting_duration_bucket(seconds), count(*), sum(seconds), NULL, NULL
  FROM d WHERE (SELECT n FROM counted) > {int(limit)} GROUP BY {by}, reporting_duration_bucket(seconds)"""


def figures(rows: Sequence[Any], key: Callable[[Any], Key]) -> tuple[bool, dict[Key, dict[str, float | int | None]]]:
    """Whether the rows of ``exact_or_bucketed`` are exact, and per key: visits, total, mean, median and p90
    seconds."""
    if all(r["bucket"] is None for r in rows):
        return True, {
            key(r): {
                "visits": r["n"],
                "total_seconds": r["total"],
                "mean_seconds": r["total"] / r["n"],
                "median_seconds": r["median"],
                "p90_seconds": r["p90"],
            }
            for r in rows
        }
    buckets: dict[Key, list[tuple[int, int, float]]] = defaultdict(list)
    for r in rows:
        buckets[key(r)].append((r["bucket"], r["n"], r["total"]))
    return False, {k: durations.summary(counted) for k, counted in buckets.items()}
