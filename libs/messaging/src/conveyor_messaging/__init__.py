"""The event backbone: envelopes, contracts, event store, outbox relay and idempotent consumers.

Every state change in Conveyor is an event stored first in the owning service's PostgreSQL
database (``eventstore``), then published to Kafka by the ``relay``, then applied exactly once by
each interested ``consumer``. Read ``docs/adr/001-event-backbone.md`` for the reasoning.
"""
