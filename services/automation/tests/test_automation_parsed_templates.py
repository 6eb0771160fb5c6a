"""Templates parsed once per version (domain.parsed_templates): a start never runs another tenant's
template, an older version of its own, or an older version of a template it calls."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from automation.adapters import items
from automation.adapters import processes as rows
from automation.domain import parsed_templates
from automation.domain.process_start import StartRule
from automation.handlers.processes import save_template, start_process
from automation.migrations import MIGRATIONS_PATH
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_messaging.actor import Actor
from conveyor_messaging.eventstore import EventStore

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STORE = EventStore(source="/conveyor/automation")
ADMIN = Actor.user("admin-1")


def bpmn(process_id: str, body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions'
        ' xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="https://conveyor.dev/bpmn">'
        f'<bpmn:process id="{process_id}" isExecutable="true"><bpmn:startEvent id="s"/>{body}<bpmn:endEvent id="e"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="step"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="step" targetRef="e"/></bpmn:process></bpmn:definitions>'
    )


def asking(process_id: str, title: str) -> str:
    return bpmn(process_id, f'<bpmn:userTask id="step" name="{title}"/>')


def calling(process_id: str, called: str) -> str:
    return bpmn(process_id, f'<bpmn:callActivity id="step" name="Call" calledElement="{called}"/>')


@pytest.fixture
async def conn(fresh_database: str) -> AsyncIterator[asyncpg.Connection]:
    await upgrade_in_thread(MIGRATIONS_PATH, fresh_database)
    connection = await asyncpg.connect(fresh_database)
    try:
        yield connection
    finally:
        await connection.close()


async def an_item(conn: asyncpg.Connection, tenant_id: str) -> str:
    await items.save_created(
        conn, tenant_id, "item-1", entity_type_id="deal", title="Deal", assignee_id="manager-1", observer_ids=[],
        standard={}, fields={},
    )  # fmt: skip
    return "item-1"


async def save(conn: asyncpg.Connection, tenant_id: str, text: str, template_id: str | None = None) -> str:
    async with conn.transaction():
        saved = await save_template(
            conn, STORE, tenant_id=tenant_id, name="Template", entity_type_id="deal", bpmn=text, process_id=None,
            start=StartRule(), actor=ADMIN, now=NOW, template_id=template_id,
        )  # fmt: skip
    return saved.template_id


async def asks_for(conn: asyncpg.Connection, tenant_id: str, template_id: str) -> list[str]:
    """Start the template on item-1; the titles of the inbox tasks the new instance opened."""
    async with conn.transaction():
        instance = await start_process(
            conn, STORE, tenant_id=tenant_id, template_id=template_id, item_id="item-1", started_by="user:admin-1",
            now=NOW,
        )  # fmt: skip
    found = await conn.fetch(
        "SELECT title FROM tasks WHERE tenant_id = $1 AND source = $2 AND status = 'open'",
        tenant_id,
        f"process:{instance.instance_id}",
    )
    return [row["title"] for row in found]


class TestParsedTemplates:
    async def test_two_tenants_with_the_same_template_id_and_version_each_start_their_own(
        self, conn: asyncpg.Connection
    ) -> None:
        a, b = f"tenant-a-{uuid.uuid4().hex[:8]}", f"tenant-b-{uuid.uuid4().hex[:8]}"
        for tenant_id, title in ((a, "Call the client"), (b, "E-mail the client")):
            await an_item(conn, tenant_id)
            template = rows.TemplateRow(
                template_id="same-id", version=1, name="Follow up", process_id="follow_up", entity_type_id="deal",
                start={"mode": "manual"}, bpmn=asking("follow_up", title), created_at=NOW,
            )  # fmt: skip
            await rows.insert_template(conn, tenant_id, template)

        # a parses and keeps its version; b must not be served it, nor a b's.
        assert await asks_for(conn, a, "same-id") == ["Call the client"]
        assert await asks_for(conn, b, "same-id") == ["E-mail the client"]
        assert await asks_for(conn, a, "same-id") == ["Call the client"]

    async def test_a_new_version_starts_with_its_own_definition(self, conn: asyncpg.Connection) -> None:
        await an_item(conn, "tenant-a")
        template_id = await save(conn, "tenant-a", asking("follow_up", "Call the client"))
        assert await asks_for(conn, "tenant-a", template_id) == ["Call the client"]

        await save(conn, "tenant-a", asking("follow_up", "E-mail the client"), template_id)

        assert await asks_for(conn, "tenant-a", template_id) == ["E-mail the client"]

    async def test_a_new_version_of_a_called_template_is_run_by_the_next_start(self, conn: asyncpg.Connection) -> None:
        await an_item(conn, "tenant-a")
        check = await save(conn, "tenant-a", asking("check", "Check the documents"))
        contract = await save(conn, "tenant-a", calling("contract", "check"))
        assert await asks_for(conn, "tenant-a", contract) == ["Check the documents"]

        await save(conn, "tenant-a", asking("check", "Check the documents twice"), check)

        assert await asks_for(conn, "tenant-a", contract) == ["Check the documents twice"]

    async def test_a_version_is_parsed_once_however_often_it_starts(self, conn: asyncpg.Connection) -> None:
        await an_item(conn, "tenant-a")
        template_id = await save(conn, "tenant-a", asking("follow_up", "Call the client"))
        await asks_for(conn, "tenant-a", template_id)
        template = await rows.load_template(conn, "tenant-a", template_id)
        assert template is not None
        parsed = parsed_templates.PARSED.get((("tenant-a", template_id, 1), ()))
        assert parsed is not None

        await asks_for(conn, "tenant-a", template_id)

        assert parsed_templates.PARSED.get((("tenant-a", template_id, 1), ())) is parsed


class TestLru:
    pytestmark = pytest.mark.unit

    def test_the_entry_used_longest_ago_goes_first(self) -> None:
        lru: parsed_templates.Lru[str, int] = parsed_templates.Lru(2)
        lru.put("a", 1)
        lru.put("b", 2)
        assert lru.get("a") == 1  # b is now the one used longest ago

        lru.put("c", 3)

        assert (lru.get("a"), lru.get("b"), lru.get("c"), len(lru)) == (1, None, 3, 2)
