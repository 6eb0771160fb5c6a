"""Durable timers in PostgreSQL, for any service that must do something at a given instant.

A service runs ``TIMERS_DDL_V1`` in one of its migrations, then:

- ``await schedule(conn, tenant_id, key, due_at, payload, kind="reminder", group="item-1")`` inside
  its own transaction: the timer exists if and only if that transaction commits. Scheduling is
  idempotent by ``key``: a second call with the same key changes nothing, and a key that already
  fired is never scheduled again (so a redelivered event cannot make a timer fire twice).
- ``await reschedule(...)`` moves a pending timer (or creates it); ``await cancel(conn, key)`` and
  ``await cancel_group(conn, tenant_id, group)`` (``cancel_groups`` for many at once) drop pending
  timers; ``await bring_forward(conn, [(tenant_id, group)], due_at)`` makes a group's pending timers
  due sooner.
- ``TimerWorker(pool, handlers={"reminder": fire_reminder}, clock=clock)`` started with the app
  fires each due timer once: it claims due rows with ``FOR UPDATE SKIP LOCKED`` (several replicas
  share the work), calls ``await handler(conn, timer)`` in the transaction that marks the timer
  fired, and commits. A handler that raises is retried with backoff (the timer stays pending,
  ``attempts`` and ``last_error`` recorded) until ``max_attempts``, then marked ``failed``.
  The worker sleeps until the nearest due time, and is woken early by ``pg_notify`` when a nearer
  timer is scheduled (by any process), or by ``worker.wake()`` (tests that move a controllable
  clock). Every "now" comes from the injected clock: a timer never fires before its due time
  by that clock.
"""

from conveyor_timers.schema import TIMERS_CHANNEL, TIMERS_DDL_V1
from conveyor_timers.store import (
    Timer,
    bring_forward,
    cancel,
    cancel_group,
    cancel_groups,
    pending,
    reschedule,
    schedule,
)
from conveyor_timers.worker import TimerHandler, TimerWorker

__all__ = [
    "TIMERS_CHANNEL",
    "TIMERS_DDL_V1",
    "Timer",
    "TimerHandler",
    "TimerWorker",
    "bring_forward",
    "cancel",
    "cancel_group",
    "cancel_groups",
    "pending",
    "reschedule",
    "schedule",
]
