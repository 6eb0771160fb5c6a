"""`python -m <service> topics`: the service's topics created before it starts, with their retention."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from conveyor_messaging.topics import KEEP_FOREVER, ensure_topics, service_topics
from conveyor_testing.plugin import Infra

pytestmark = pytest.mark.integration


@pytest.fixture
async def admin(infra: Infra) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await client.start()
    yield client
    await client.close()


async def test_missing_topics_are_created_once_with_their_retention(infra: Infra, admin: AIOKafkaAdminClient) -> None:
    service = f"t{uuid.uuid4().hex[:10]}"  # no contract of this service: only what its consumers read
    consumers = {"items": [f"test-{service}.items"], "commands": [f"test-{service}.commands"]}
    plans = service_topics(service, consumers)
    names = [p.name for p in plans]
    assert names == [
        f"test-{service}.commands", f"test-{service}.commands.bulk", f"test-{service}.items",
        f"test-{service}.items.bulk",  # each topic's twin for the bulk lane
        f"conveyor.deadletter.{service}.commands", f"conveyor.deadletter.{service}.items",
    ]  # fmt: skip
    try:
        created, present = await ensure_topics(infra.kafka_bootstrap, plans, partitions=2, replication_factor=1)
        assert (created, present) == (sorted(names), [])
        again = await ensure_topics(infra.kafka_bootstrap, plans, partitions=2, replication_factor=1)
        assert again == ([], sorted(names))

        described = {t["topic"]: t for t in await admin.describe_topics(names)}
        assert {name: len(described[name]["partitions"]) for name in names} == dict.fromkeys(names, 2)
        (configs,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, names[1])])
        values = {entry[0]: entry[1] for entry in configs.resources[0][4]}
        assert {key: values[key] for key in KEEP_FOREVER} == KEEP_FOREVER
    finally:
        await admin.delete_topics(names)


def test_dead_letter_topics_follow_the_group_suffix() -> None:
    plans = service_topics("svc", {"items": ["a"]}, group_suffix=".t1")
    assert [p.name for p in plans] == ["a", "a.bulk", "conveyor.deadletter.svc.items.t1"]
