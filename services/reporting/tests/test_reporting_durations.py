"""Percentiles read from the logarithmic duration buckets stay within a bucket's width of the exact ones."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from reporting.domain.durations import bucket_of, percentile

pytestmark = pytest.mark.unit


def exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_a_bucket_holds_durations_within_nine_percent_of_each_other() -> None:
    assert bucket_of(0) == 0
    assert bucket_of(1) == 8
    assert bucket_of(3600) == 94
    for seconds in (5.0, 600.0, 86_400.0, 3e7):
        same = [s for s in (seconds * 0.95, seconds, seconds * 1.05) if bucket_of(s) == bucket_of(seconds)]
        assert len(same) >= 2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_median_and_p90_from_buckets_are_within_five_percent_of_exact(seed: int) -> None:
    rng = random.Random(seed)
    durations = [rng.lognormvariate(9.9, 1.2) for _ in range(20_000)]
    buckets = Counter(bucket_of(d) for d in durations)
    for q in (0.5, 0.9):
        estimate = percentile(list(buckets.items()), q)
        assert estimate is not None
        assert abs(estimate - exact(durations, q)) / exact(durations, q) < 0.05


def test_no_visits_have_no_percentile_and_one_visit_is_its_own_bucket() -> None:
    assert percentile([], 0.5) is None
    assert percentile([(94, 0)], 0.5) is None
    one = percentile([(bucket_of(3600), 1)], 0.5)
    assert one is not None and bucket_of(one) == bucket_of(3600)
