"""Kafka consumer lag per group (committed offset behind the high watermark), sampled through the
admin API during the run: the maximum seen and the value at the end."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from conveyor_kit.background import in_background


class LagSampler:
    def __init__(self, bootstrap: str, groups: Mapping[str, list[str]], every_s: float = 5.0) -> None:
        self.bootstrap = bootstrap
        self.groups = dict(groups)
        self.every_s = every_s
        self.max_lag: dict[str, int] = dict.fromkeys(self.groups, 0)
        self.last: dict[str, int] = {}
        self.samples = 0  # taken; a lag of 0 from no sample at all would be a lie
        self.failures: list[str] = []
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self._probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)

    async def sample(self) -> dict[str, int]:
        """Messages behind per group now (partitions a group never committed count from 0)."""
        await self._probe.topics()  # fresh metadata: topics appear during the run
        committed = {group: await self._admin.list_consumer_group_offsets(group) for group in self.groups}
        partitions = {
            TopicPartition(topic, p)
            for topics in self.groups.values()
            for topic in topics
            for p in self._probe.partitions_for_topic(topic) or ()
        }
        ends = await self._probe.end_offsets(list(partitions)) if partitions else {}
        lag: dict[str, int] = {}
        for group, topics in self.groups.items():
            offsets = committed[group]
            lag[group] = sum(
                end - max(0, offsets[tp].offset if tp in offsets else 0)
                for tp, end in ends.items()
                if tp.topic in topics
            )
            self.max_lag[group] = max(self.max_lag[group], lag[group])
        self.last = lag
        return lag

    async def _loop(self) -> None:
        while True:
            try:
                await self.sample()
                self.samples += 1
            except Exception as error:  # a missed sample is not worth stopping the run
                self.failures.append(repr(error))
            await asyncio.sleep(self.every_s)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[LagSampler]:
        await self._admin.start()
        await self._probe.start()
        try:
            async with in_background(self._loop()):
                yield self
        finally:
            await self._probe.stop()
            await self._admin.close()

    def total(self) -> int:
        return sum(self.last.values())
