"""The Kafka topics a service needs, and creating them before it first starts.

Brokers that auto-create topics make them on first use with the broker's defaults: the relay's first
send and every consumer's first fetch race for it, consumers log "topic not found" until then, and
the partition count (the ceiling on a service's useful replicas) is whatever the broker says. So a
deployment creates them up front: `python -m <service> topics` (the Helm chart's migrate job and
`deploy/local/run.sh` run it), with the partition count chosen for the replicas it plans.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from conveyor_messaging.contracts import TYPE_NAME, registry, topic_for
from conveyor_messaging.kafka import KafkaSecurity
from conveyor_messaging.lanes import both_lanes
from conveyor_messaging.runtime import Subscription

# Domain events are the log reporting rebuilds from and a new consumer starts from: kept forever.
KEEP_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1"}
# A dead-letter record waits for a human; a month is the time to look at it.
DEAD_LETTERS_KEPT = {"retention.ms": str(31 * 24 * 3600 * 1000)}


@dataclass(frozen=True, slots=True)
class TopicPlan:
    name: str
    config: dict[str, str]


def consumers_of(subscriptions: Sequence[Subscription]) -> dict[str, list[str]]:
    """A routing table's consumers: name (the group is ``<service>.<name>``) → topics."""
    return {sub.name: list(sub.topics) for sub in subscriptions}


def service_topics(service: str, consumers: Mapping[str, Sequence[str]], *, group_suffix: str = "") -> list[TopicPlan]:
    """What ``service`` publishes (every registered contract of ``conveyor.<service>.*``), what its
    ``consumers`` (name → topics) read, and the dead-letter topic of each of its consumer groups."""
    published = {
        topic_for(contract.type_name)
        for contract in registry
        if (match := TYPE_NAME.match(contract.type_name)) and match["service"] == service
    }
    consumed = {topic for topics in consumers.values() for topic in topics}
    # Every topic has a twin for the bulk lane (lanes.py), created with it.
    published, consumed = set(both_lanes(published)), set(both_lanes(consumed))
    dead_letters = {f"conveyor.deadletter.{service}.{name}{group_suffix}" for name in consumers}
    return [TopicPlan(name, KEEP_FOREVER) for name in sorted(published | consumed)] + [
        TopicPlan(name, DEAD_LETTERS_KEPT) for name in sorted(dead_letters)
    ]


async def ensure_topics(
    bootstrap_servers: str,
    plans: Sequence[TopicPlan],
    *,
    partitions: int,
    replication_factor: int,
    security: KafkaSecurity | None = None,
) -> tuple[list[str], list[str]]:
    """Create the missing topics; answers (created, already there). Existing topics are left as they
    are: changing a live topic's partitions remaps its keys, which is an operator's decision."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id="conveyor-topics",
        **(security or KafkaSecurity.from_env()).client_options(),
    )  # fmt: skip
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [plan for plan in plans if plan.name not in existing]
        created: list[str] = []
        if wanted:
            # With replicas, an acks=all write must reach two of them: it survives the loss of a broker.
            durability = {"min.insync.replicas": "2"} if replication_factor >= 3 else {}
            response = await admin.create_topics(
                [NewTopic(p.name, partitions, replication_factor, topic_configs=p.config | durability) for p in wanted]
            )
            for topic, code, *message in response.topic_errors:
                if code == TopicAlreadyExistsError.errno:  # made meanwhile (a broker auto-created it)
                    existing.add(topic)
                elif code:
                    raise for_code(code)(f"creating {topic}: {message[0] if message else ''}")
                else:
                    created.append(topic)
        return sorted(created), sorted(existing & {p.name for p in plans})
    finally:
        await admin.close()
