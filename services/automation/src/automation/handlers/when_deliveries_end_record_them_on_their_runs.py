"""A run that sent an e-mail or a webhook call succeeded in asking; the notifications service tells
later how the mail or the call ended (its ``source`` is the run's id, the command's idempotency key).
The run records it in ``detail.delivery``; one that was not delivered fails, visibly, in the run log.

Mails and calls nobody in automation asked for (no run with that id, or a run that awaits no delivery,
such as a notification's mail) are ignored, and so is a replayed event: the run awaits it no more."""

from __future__ import annotations

from typing import cast

import structlog
from conveyor_contracts import notifications
from conveyor_contracts.automation import RunRecorded
from conveyor_kit.api_models import utc_z
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import ANY_VERSION, EventStore, NewEvent

from automation.adapters import runs

log = structlog.get_logger("automation.deliveries")

ACTOR = Actor.system("deliveries")


async def when_emails_sent_record_them_on_their_runs(conn: Connection, store: EventStore, event: Envelope) -> None:
    sent = notifications.EmailSent.model_validate(event.data)
    await _record(conn, store, event, sent.source, None, what="e-mail")


async def when_emails_failed_fail_their_runs(conn: Connection, store: EventStore, event: Envelope) -> None:
    failed = notifications.EmailFailed.model_validate(event.data)
    await _record(conn, store, event, failed.source, failed.error, what="e-mail")


async def when_webhooks_delivered_record_them_on_their_runs(
    conn: Connection, store: EventStore, event: Envelope
) -> None:
    delivered = notifications.WebhookDelivered.model_validate(event.data)
    await _record(conn, store, event, delivered.source, None, what="webhook")


async def when_webhooks_failed_fail_their_runs(conn: Connection, store: EventStore, event: Envelope) -> None:
    failed = notifications.WebhookFailed.model_validate(event.data)
    await _record(conn, store, event, failed.source, failed.error, what="webhook")


async def _record(
    conn: Connection, store: EventStore, event: Envelope, source: str | None, failure: str | None, *, what: str
) -> None:
    """``failure``: the notifications service's error when it gave up, None when it delivered."""
    if source is None:
        return
    delivery = {"status": "failed" if failure else "delivered", "at": utc_z(event.time), "error": failure}
    error = f"{what} not delivered: {failure}" if failure else None
    run = await runs.record_delivery(conn, event.tenant_id, source, delivery=delivery, error=error)
    if run is None or error is None:
        return  # a delivered one leaves the run's outcome as it was: no new outcome to publish
    log.info("run_delivery_failed", run_id=run.run_id, item_id=run.item_id, error=error)
    # The run's outcome changed after the fact: published like any other (timelines and reporting follow it).
    recorded = RunRecorded(
        run_id=run.run_id, item_id=run.item_id, source_kind=cast(runs.SourceKind, run.source_kind),
        source_id=run.source_id, outcome="failed", attempt=run.attempts, detail=error,
    )  # fmt: skip
    await store.append(
        conn,
        stream_id=f"run-{run.run_id}",
        tenant_id=event.tenant_id,
        aggregate_type="run",
        expected_version=ANY_VERSION,
        events=[NewEvent.of(recorded)],
        actor=ACTOR,
        now=event.time,
    )
