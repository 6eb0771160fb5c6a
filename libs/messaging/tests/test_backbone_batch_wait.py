"""Which batch wait each consumer of a backbone fetches with: its subscription's own, else the
service's default (``consumer_batch_wait_ms``), else none."""

from __future__ import annotations

import pytest
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.runtime import Backbone, Subscription

pytestmark = pytest.mark.unit


async def ignore(conn: object, event: Envelope) -> None:
    return None


def backbone(default_batch_wait_ms: int | None) -> Backbone:
    # Never started: choosing a batch wait needs no pool, broker or loop.
    return Backbone(
        service="kit", pool=None, bootstrap_servers="unused:9092",  # type: ignore[arg-type]
        default_batch_wait_ms=default_batch_wait_ms,
    )  # fmt: skip


OWN = Subscription(name="webhooks", topics=["t"], handle=ignore, batch_wait_ms=100)
PLAIN = Subscription(name="items", topics=["t"], handle=ignore)


class TestBatchWait:
    def test_without_a_default_only_subscriptions_that_ask_wait(self) -> None:
        assert backbone(None).batch_wait_of(PLAIN) is None
        assert backbone(None).batch_wait_of(OWN) == 100

    def test_the_default_applies_to_subscriptions_without_their_own(self) -> None:
        assert backbone(25).batch_wait_of(PLAIN) == 25
        assert backbone(25).batch_wait_of(OWN) == 100

    def test_a_subscription_may_ask_for_no_wait_at_all(self) -> None:
        assert backbone(25).batch_wait_of(Subscription(name="x", topics=["t"], handle=ignore, batch_wait_ms=0)) == 0
