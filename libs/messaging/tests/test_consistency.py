"""Consistency tokens: what a request wrote, as a header; what a service still has to apply of one."""

from __future__ import annotations

import asyncpg
import pytest
from backbone_support import EVENT_TYPE
from conveyor_messaging import consistency
from conveyor_messaging.actor import Actor
from conveyor_messaging.consistency import BadToken, Written, parse_token, to_wait_for, token_of
from conveyor_messaging.eventstore import NO_STREAM, EventStore, NewEvent

store = EventStore(source="/conveyor/test")
NOW_MS = 1_765_098_110_000


class TestTokens:
    pytestmark = pytest.mark.unit

    def test_a_token_names_the_last_event_of_each_topic_and_reads_back(self) -> None:
        written = [
            Written("conveyor.entities.item", "e1", NOW_MS),
            Written("conveyor.entities.entity_type", "t1", NOW_MS),
            Written("conveyor.entities.item", "e2", NOW_MS + 1),
        ]

        token = token_of(written)

        assert token == f"conveyor.entities.entity_type/t1/{NOW_MS},conveyor.entities.item/e2/{NOW_MS + 1}"
        assert parse_token(token or "") == [written[1], written[2]]
        assert token_of([]) is None

    @pytest.mark.parametrize(
        "header",
        ["", "nonsense", "conveyor.entities.item/e1", "elsewhere.x/e1/1", "conveyor.entities.item//1",
         ",".join(["conveyor.a.b/e/1"] * 17), "conveyor.entities.item/e1/12a"],
    )  # fmt: skip
    def test_anything_else_is_refused(self, header: str) -> None:
        with pytest.raises(BadToken):
            parse_token(header)

    def test_only_fresh_entries_of_topics_the_service_consumes_from_others_are_waited_for(self) -> None:
        entries = [
            Written("conveyor.entities.entity_type", "type-created", NOW_MS),
            Written("conveyor.entities.item", "too-old", NOW_MS - consistency.MAX_AGE_MS - 1),
            Written("conveyor.pipelines.item", "own-write", NOW_MS),
            Written("conveyor.notifications.entry", "not-read-here", NOW_MS),
        ]
        consumers = {
            "conveyor.entities.entity_type": ["pipelines.entities"],
            "conveyor.entities.item": ["pipelines.entities", "pipelines.cards"],
            "conveyor.pipelines.item": ["pipelines.self"],
        }

        wanted = to_wait_for(entries, service="pipelines", consumers=consumers, now_ms=NOW_MS)

        assert wanted == {"type-created": ["pipelines.entities"]}


@pytest.mark.integration
async def test_a_request_collects_what_it_appends_and_nothing_outside_it(pool: asyncpg.Pool) -> None:
    async def append(stream: str) -> None:
        async with pool.acquire() as conn:
            await store.append(
                conn, stream_id=stream, tenant_id="t", aggregate_type="thing", expected_version=NO_STREAM,
                events=[NewEvent(EVENT_TYPE, {}), NewEvent(EVENT_TYPE, {})], actor=Actor.user("u"),
            )  # fmt: skip

    await append("outside")  # no request collects: nothing is kept
    with consistency.collecting() as written:
        await append("inside")

    assert [entry.topic for entry in written] == ["conveyor.test.thing"] * 2
    stored = await pool.fetch("SELECT event_id::text FROM events WHERE stream_id = 'inside' ORDER BY version")
    assert [entry.event_id for entry in written] == [row[0] for row in stored]
    assert token_of(written) == str(written[-1])


@pytest.mark.integration
async def test_an_event_is_missing_until_every_consumer_group_of_its_topic_has_marked_it(pool: asyncpg.Pool) -> None:
    wanted = {"ev-1": ["svc.a", "svc.b"], "ev-2": ["svc.a"]}
    await pool.execute("INSERT INTO processed_events (consumer, event_id) VALUES ('svc.a', 'ev-1')")

    async with pool.acquire() as conn:
        before = await consistency.missing(conn, wanted)
        await conn.execute(
            "INSERT INTO processed_events (consumer, event_id) VALUES ('svc.b', 'ev-1'), ('svc.a', 'ev-2')"
        )
        after = await consistency.missing(conn, wanted)

    assert (before, after) == (["ev-1", "ev-2"], [])
