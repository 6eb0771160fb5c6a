"""The forgotten-client story (seed 003) through HTTP: entities, pipelines and automation running,
their test clocks moved forward together by days. The automation service is stopped and started
again twice on its database and consumer groups, and each time Kafka delivers it every event of the
story again (its groups rewound to where they started): the counts stay exact."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DAY = timedelta(days=1)
DEALS, CHANGED, LEAVING = 12, 2, 1
TEMPLATE = (
    "{{ assignee.first_name }}, remind {{ item.client_name }} of yourself: do the terms of our proposal suit them?"
)


class Story:
    """The three services, an admin of a fresh tenant, and one time for all of them."""

    def __init__(self, services: dict[str, Any], settled: Any) -> None:
        self.services = services
        self.settled = settled
        self.tenant = f"fc-{uuid.uuid4().hex[:8]}"
        self.now = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)

    def admin(self, service: str) -> Any:
        client = self.services[service].as_user(self.tenant, "admin-1", "admin")
        client.at = self.now
        return client

    async def set_clocks(self, at: datetime) -> None:
        self.now = at
        for service in self.services.values():
            response = await service.http.post(service.base_url + "/v1/test/clock", json={"set_to": at.isoformat()})
            assert response.status_code == 200, response.text

    async def log(self, item_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.admin("automation").ok("GET", f"/v1/automation-log/{item_id}")
        return found

    async def logs(self, item_ids: list[str]) -> dict[str, dict[str, Any]]:
        return {item_id: await self.log(item_id) for item_id in item_ids}

    async def reminders(self, item_ids: list[str]) -> list[dict[str, Any]]:
        """Every robot run that notified someone, over the given deals."""
        runs = []
        for item_id in item_ids:
            log = await self.automation_log_or_empty(item_id)
            runs += [run | {"item_id": item_id} for run in log["runs"] if run["status"] == "succeeded"]
        return runs

    async def automation_log_or_empty(self, item_id: str) -> dict[str, Any]:
        response = await self.admin("automation").call("GET", f"/v1/automation-log/{item_id}")
        return response.json() if response.status_code == 200 else {"runs": [], "scheduled": []}

    async def scheduled(self, item_ids: list[str]) -> list[int]:
        """How many runs each deal has waiting."""
        return [len(log["scheduled"]) for log in (await self.logs(item_ids)).values()]


Offsets = dict[str, dict[TopicPartition, int]]


async def committed_offsets(bootstrap: str, groups: Mapping[str, list[str]]) -> Offsets:
    """Where each consumer group stands now, partition by partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        found = {group: await admin.list_consumer_group_offsets(group) for group in groups}
    finally:
        await admin.close()
    return {
        group: {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0} for group, offsets in found.items()
    }


async def rewind(bootstrap: str, offsets: Offsets) -> None:
    """Commit the groups back to ``offsets`` (the service stopped: its groups have no members), so
    Kafka delivers everything after them again when it starts."""
    for group, positions in offsets.items():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(list(positions))
            await consumer.commit(positions)
        finally:
            await consumer.stop()


async def lag(bootstrap: str, groups: Mapping[str, list[str]]) -> int:
    """How many events the groups have still to consume (0: all of them applied and committed)."""
    offsets = await committed_offsets(bootstrap, groups)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await probe.start()
    try:
        behind = 0
        for positions in offsets.values():
            ends = await probe.end_offsets(list(positions))
            behind += sum(ends[tp] - offset for tp, offset in positions.items())
        return behind
    finally:
        await probe.stop()


class AutomationRuns:
    """The story's automation service: started, stopped and started again on one database and one
    set of consumer groups, as a restarted deployment would be."""

    def __init__(self, home: Any, story: Story) -> None:
        self.home = home
        self.story = story
        self.bootstrap: str = home.infra.kafka_bootstrap
        self._run: AsyncExitStack | None = None
        self.started_at: Offsets = {}

    async def start(self) -> None:
        if not self.started_at:
            self.started_at = await committed_offsets(self.bootstrap, self.home.groups)
        self._run = AsyncExitStack()
        service = await self._run.enter_async_context(self.home.run())
        self.story.services["automation"] = service
        response = await service.http.post(
            service.base_url + "/v1/test/clock", json={"set_to": self.story.now.isoformat()}
        )  # a new process starts on the wall clock: put it back on the story's time
        assert response.status_code == 200, response.text

    async def stop(self) -> None:
        if self._run is not None:
            await self._run.aclose()
            self._run = None
            del self.story.services["automation"]

    async def start_with_everything_delivered_again(self) -> None:
        """Start (after a stop) with its groups rewound to where the story began: Kafka delivers
        every event of the story again; wait until it has consumed them all."""
        await rewind(self.bootstrap, self.started_at)
        assert await lag(self.bootstrap, self.home.groups) > 0, "nothing to deliver again"
        await self.start()
        behind = await self.story.settled(lambda: lag(self.bootstrap, self.home.groups), lambda n: n == 0, within=60)
        assert behind == 0


async def set_up_sales(story: Story) -> tuple[str, str, dict[str, str]]:
    entities, pipelines = story.admin("entities"), story.admin("pipelines")
    deal_type = await entities.ok("POST", "/v1/entity-types", {"code": "deal", "name": "Deal"})
    for code, label in [("client_name", "Client"), ("note", "Note")]:
        await entities.ok(
            "POST", f"/v1/entity-types/{deal_type['id']}/fields", {"code": code, "label": label, "kind": "string"}
        )
    await entities.ok("POST", "/v1/directory/departments", {"id": "sales", "name": "Sales"})
    for user_id, name in [("head-1", "Irina Head"), ("manager-1", "Olga Petrova"), ("manager-2", "Pavel Ivanov")]:
        body = {"id": user_id, "name": name, "email": f"{user_id}@example.test", "department_ids": ["sales"]}
        await entities.ok("POST", "/v1/directory/users", body)
    await entities.ok("PATCH", "/v1/directory/departments/sales", {"head_user_id": "head-1"})

    async def default_pipelines() -> list[dict[str, Any]]:  # a 404 until pipelines hears of the type
        response = await pipelines.call("GET", "/v1/pipelines", params={"entity_type_id": deal_type["id"]})
        return list(response.json()["items"]) if response.status_code == 200 else []

    (pipeline,) = await story.settled(default_pipelines, lambda p: len(p) == 1)
    proposal = await pipelines.ok("POST", f"/v1/pipelines/{pipeline['id']}/stages", {"name": "Proposal sent"})
    stages = {s["name"]: s["id"] for s in pipeline["stages"]} | {"Proposal sent": proposal["id"]}
    return deal_type["id"], pipeline["id"], stages


async def deals_on(story: Story, type_id: str, stage_id: str, count: int) -> list[str]:
    """``count`` new deals (assignees alternating between the two managers), each moved to the stage."""
    entities, pipelines = story.admin("entities"), story.admin("pipelines")
    deals: list[str] = []
    for n in range(count):
        body = {"entity_type_id": type_id, "title": f"Deal {n}", "assignee_id": f"manager-{n % 2 + 1}",
                "fields": {"client_name": f"Client {n}"}}  # fmt: skip
        deals.append((await entities.ok("POST", "/v1/items", body))["id"])
    for item_id in deals:
        placed = await story.settled(
            lambda path=f"/v1/placements/{item_id}": pipelines.call("GET", path), lambda r: r.status_code == 200
        )
        await pipelines.ok(
            "POST", f"/v1/placements/{item_id}/move", {"to_stage_id": stage_id},
            headers={"If-Match": placed.headers["ETag"]},
        )  # fmt: skip
    return deals


async def change_a_field(story: Story, item_id: str) -> None:
    entities = story.admin("entities")
    current = await entities.call("GET", f"/v1/items/{item_id}")
    await entities.ok(
        "PATCH", f"/v1/items/{item_id}", {"fields": {"note": "called them"}},
        headers={"If-Match": current.headers["ETag"]},
    )  # fmt: skip


class TestForgottenClient:
    async def test_a_week_without_change_reminds_the_manager_once_and_two_weeks_the_head(
        self, start_service: Callable[[str], Any], service_homes: Callable[[str], Any], settled: Any
    ) -> None:
        async with AsyncExitStack() as stack:
            services = {
                name: await stack.enter_async_context(start_service(name)) for name in ("entities", "pipelines")
            }
            story = Story(services, settled)
            automation_runs = AutomationRuns(await stack.enter_async_context(service_homes("automation")), story)
            stack.push_async_callback(automation_runs.stop)
            await automation_runs.start()
            await story.set_clocks(story.now)
            type_id, pipeline_id, stages = await set_up_sales(story)
            automation = story.admin("automation")
            for name, days, recipient in [("A week", 7, "assignee"), ("Two weeks", 14, "head_of_assignee")]:
                await automation.ok(
                    "POST", "/v1/robots",
                    {"pipeline_id": pipeline_id, "stage_id": stages["Proposal sent"], "name": name,
                     "timing": {"mode": "idle", "seconds": days * 86400},
                     "action": {"type": "notify", "recipients": [{"kind": recipient}], "body": TEMPLATE}},
                )  # fmt: skip
            refused = await automation.call(
                "POST", "/v1/robots",
                {"pipeline_id": pipeline_id, "stage_id": stages["Proposal sent"], "name": "Sneaky",
                 "action": {"type": "notify", "recipients": [{"kind": "assignee"}],
                            "body": "{{ ''.__class__.__mro__ }}"}},
            )  # fmt: skip
            assert refused.status_code == 422

            # Day 0: every deal is moved to "Proposal sent".
            deals = await deals_on(story, type_id, stages["Proposal sent"], DEALS)
            waiting = await settled(lambda: story.scheduled(deals), lambda counts: counts == [2] * DEALS)
            assert waiting == [2] * DEALS

            # Day 3: two deals change.
            day0 = story.now
            await story.set_clocks(day0 + 3 * DAY)
            changed, leaving = deals[:CHANGED], deals[CHANGED : CHANGED + LEAVING]
            quiet = deals[CHANGED + LEAVING :]
            for item_id in changed:
                await change_a_field(story, item_id)
            await settled(
                lambda: story.logs(changed),
                lambda logs: all(
                    datetime.fromisoformat(s["due_at"]) > day0 + 9 * DAY
                    for log in logs.values()
                    for s in log["scheduled"]
                ),
            )  # fmt: skip

            # The automation service stops; on day 5 one deal leaves the stage while it is down. It
            # starts again and Kafka delivers it every event of the story once more.
            await automation_runs.stop()
            await story.set_clocks(day0 + 5 * DAY)
            pipelines = story.admin("pipelines")
            for item_id in leaving:
                current = await pipelines.call("GET", f"/v1/placements/{item_id}")
                await pipelines.ok(
                    "POST", f"/v1/placements/{item_id}/move", {"to_stage_id": stages["Won"]},
                    headers={"If-Match": current.headers["ETag"]},
                )  # fmt: skip
            await automation_runs.start_with_everything_delivered_again()
            assert await story.scheduled(leaving) == [0] * LEAVING
            assert await story.scheduled(changed + quiet) == [2] * (CHANGED + len(quiet))
            assert await story.reminders(deals) == []

            # Day 7: one reminder per quiet deal, naming the right manager and client.
            await story.set_clocks(day0 + 7 * DAY)
            await settled(lambda: story.scheduled(quiet), lambda counts: counts == [1] * len(quiet), within=30)
            sent = await story.reminders(deals)
            assert sorted(run["item_id"] for run in sent) == sorted(quiet)
            names = {"manager-1": "Olga", "manager-2": "Pavel"}
            for run in sent:
                n = deals.index(run["item_id"])
                manager = f"manager-{n % 2 + 1}"
                assert run["detail"]["recipient_ids"] == [manager]
                assert run["detail"]["body"] == (
                    f"{names[manager]}, remind Client {n} of yourself: do the terms of our proposal suit them?"
                )

            # Stopped and started again, every event delivered once more: nothing runs twice.
            await automation_runs.stop()
            await automation_runs.start_with_everything_delivered_again()
            assert await story.scheduled(quiet) == [1] * len(quiet)
            assert await story.scheduled(changed) == [2] * CHANGED
            assert len(await story.reminders(deals)) == len(quiet)

            # Day 10: the changed deals; day 14: the head hears about the quiet ones, day 17 about the
            # changed ones. Each reminder once, none lost, none for the deal that left.
            await story.set_clocks(day0 + 10 * DAY)
            await settled(lambda: story.scheduled(changed), lambda counts: counts == [1] * CHANGED, within=30)
            sent = await story.reminders(deals)
            assert len(sent) == len(quiet) + CHANGED
            await story.set_clocks(day0 + 14 * DAY)
            await settled(lambda: story.scheduled(quiet), lambda counts: counts == [0] * len(quiet), within=30)
            sent = await story.reminders(deals)
            heads = [run for run in sent if run["source_name"] == "Two weeks"]
            assert len(sent) == 2 * len(quiet) + CHANGED
            assert sorted(run["item_id"] for run in heads) == sorted(quiet)
            assert all(run["detail"]["recipient_ids"] == ["head-1"] for run in heads)
            await story.set_clocks(day0 + 17 * DAY)
            await settled(lambda: story.scheduled(changed), lambda counts: counts == [0] * CHANGED, within=30)
            sent = await story.reminders(deals)
            per_deal = {item_id: [run["source_name"] for run in sent if run["item_id"] == item_id] for item_id in deals}
            assert {item_id: sorted(names) for item_id, names in per_deal.items()} == {
                item_id: [] if item_id in leaving else ["A week", "Two weeks"] for item_id in deals
            }

    async def test_an_idle_trigger_moves_the_deals_nobody_touched_for_a_week_to_lost(
        self, start_service: Callable[[str], Any], settled: Any
    ) -> None:
        # The trigger's side of the story: not a reminder but a move, carried out by pipelines.
        async with AsyncExitStack() as stack:
            services = {
                name: await stack.enter_async_context(start_service(name))
                for name in ("entities", "pipelines", "automation")
            }
            story = Story(services, settled)
            await story.set_clocks(story.now)
            type_id, pipeline_id, stages = await set_up_sales(story)
            trigger = await story.admin("automation").ok(
                "POST", "/v1/triggers",
                {"pipeline_id": pipeline_id, "stage_id": stages["Lost"], "name": "Gone quiet", "kind": "idle",
                 "from_stage_id": stages["Proposal sent"], "days": 7},
            )  # fmt: skip
            day0 = story.now
            deals = await deals_on(story, type_id, stages["Proposal sent"], 4)
            await settled(lambda: story.scheduled(deals), lambda counts: counts == [1] * len(deals))
            changed, quiet = deals[0], deals[1:]

            async def stage_names() -> list[str]:
                pipelines = story.admin("pipelines")
                names = {stage_id: name for name, stage_id in stages.items()}
                return [names[(await pipelines.ok("GET", f"/v1/placements/{d}"))["stage_id"]] for d in deals]

            await story.set_clocks(day0 + 3 * DAY)
            await change_a_field(story, changed)
            await settled(
                lambda: story.log(changed),
                lambda log: [datetime.fromisoformat(s["due_at"]) for s in log["scheduled"]] == [day0 + 10 * DAY],
            )

            await story.set_clocks(day0 + 7 * DAY - timedelta(minutes=1))
            assert await stage_names() == ["Proposal sent"] * 4
            await story.set_clocks(day0 + 7 * DAY)
            moved = await settled(stage_names, lambda names: names == ["Proposal sent"] + ["Lost"] * 3, within=30)
            assert moved == ["Proposal sent"] + ["Lost"] * 3
            for item_id in quiet:
                runs = (await story.log(item_id))["runs"]
                assert [(r["source_kind"], r["source_id"], r["status"]) for r in runs] == [
                    ("trigger", trigger["id"], "succeeded")
                ]

            await story.set_clocks(day0 + 10 * DAY)
            moved = await settled(stage_names, lambda names: names == ["Lost"] * 4, within=30)
            assert moved == ["Lost"] * 4
            await story.set_clocks(day0 + 30 * DAY)  # on "Lost" now: the trigger watches "Proposal sent" only
            assert [len((await story.log(d))["runs"]) for d in deals] == [1] * 4
            assert await story.scheduled(deals) == [0] * 4
