"""After the load: wait until the system settles, then hold every store, topic, processed mark,
projection and report of the tenant to what the ledger says was accepted.

Each check returns the problems it found (empty when all is well), so one failure message lists
everything that went wrong at once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from conveyor_contracts import entities, pipelines
from faults_board import Board
from faults_cluster import SERVICES, Cluster
from faults_db import connection
from faults_kafka import Offsets, Published, records_of_tenant
from faults_load import Ledger
from faults_relays import Stored, stored_events

PRODUCERS = ("entities", "pipelines", "automation", "notifications")  # reporting publishes nothing
PLACED, MOVED = pipelines.ItemPlaced.type_name, pipelines.ItemMovedToStage.type_name
CREATED, UPDATED = entities.ItemCreated.type_name, entities.ItemUpdated.type_name


@dataclass
class Audit:
    """The tenant's events in every store and on every topic, and what went wrong."""

    cluster: Cluster
    board: Board
    ledger: Ledger
    stores: dict[str, list[Stored]]
    published: list[Published]
    problems: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @classmethod
    async def take(cls, cluster: Cluster, board: Board, ledger: Ledger, since: Offsets) -> Audit:
        stores = {s: await stored_events(cluster.dsn(s), board.tenant) for s in PRODUCERS}
        published = await records_of_tenant(cluster.kafka_bootstrap, board.tenant, since)
        return cls(cluster, board, ledger, stores, published)

    async def run(self) -> Audit:
        self.accepted_commands_are_stored()
        self.stored_events_are_published()
        await self.every_consumer_marked_every_event()
        await self.robots_acted_once_per_entry()
        await self.notifications_arrived_once()
        await self.reporting_projected_each_event_once()
        await self.reports_equal_a_recount()
        return self

    def problem(self, text: str) -> None:
        self.problems.append(text)

    # ------------------------------------------------------------------ what the stores hold

    def _by_stream(self, service: str) -> dict[tuple[str, int], Stored]:
        return {(e.stream_id, e.version): e for e in self.stores[service]}

    @property
    def entries(self) -> dict[str, list[Stored]]:
        """Per item: its placement and moves (stage entries) in order, from the pipelines store."""
        found: dict[str, list[Stored]] = defaultdict(list)
        for event in self.stores["pipelines"]:
            if event.type in (PLACED, MOVED):
                found[event.stream_id].append(event)
        return found

    @staticmethod
    def stage_of(entry: Stored) -> str:
        return str(entry.data["stage_id"] if entry.type == PLACED else entry.data["to_stage_id"])

    def entries_into(self, stage: str) -> dict[str, list[Stored]]:
        stage_id = self.board.stages[stage]
        return {item: [e for e in visits if self.stage_of(e) == stage_id] for item, visits in self.entries.items()}

    # ------------------------------------------------------------------ the checks

    def accepted_commands_are_stored(self) -> None:
        items, places = self._by_stream("entities"), self._by_stream("pipelines")
        for item_id in self.ledger.created:
            event = items.get((item_id, 1))
            if event is None or event.type != CREATED:
                self.problem(f"accepted create of {item_id} has no item.created in the entities store")
        for item_id, version in self.ledger.updated:
            event = items.get((item_id, version))
            if event is None or event.type != UPDATED:
                self.problem(f"accepted update of {item_id} to version {version} is not in the entities store")
        for item_id, version, stage_id in self.ledger.moved:
            event = places.get((item_id, version))
            if event is None or event.type != MOVED or event.data["to_stage_id"] != stage_id:
                self.problem(f"accepted move of {item_id} (version {version}) is not in the pipelines store")
        self.figures["accepted"] = {
            "creates": len(self.ledger.created), "updates": len(self.ledger.updated), "moves": len(self.ledger.moved),
        }  # fmt: skip

    def stored_events_are_published(self) -> None:
        on_kafka = Counter(record.event_id for record in self.published)
        for service in PRODUCERS:
            missing = [e for e in self.stores[service] if e.event_id not in on_kafka]
            for event in missing[:5]:
                self.problem(f"{service} stored {event.type} {event.event_id} but never published it")
            if len(missing) > 5:
                self.problem(f"{service}: {len(missing) - 5} more stored events never published")
        stored = sum(len(events) for events in self.stores.values())
        self.figures["events"] = {"stored": stored, "published_records": len(self.published),
                                  "published_twice": sum(n - 1 for n in on_kafka.values() if n > 1)}  # fmt: skip
        dead = [r for r in self.published if r.topic.startswith("conveyor.deadletter.")]
        for record in dead[:5]:
            self.problem(f"{record.type} {record.event_id} was dead-lettered to {record.topic}")

    async def every_consumer_marked_every_event(self) -> None:
        """Each consumer group's processed marks hold every event of the tenant published on its topics."""
        marked_total = 0
        for service in SERVICES:
            async with connection(self.cluster.dsn(service)) as conn:
                for group, topics in self.cluster.groups(service).items():
                    wanted = {r.event_id for r in self.published if r.topic in set(topics)}
                    if not wanted:
                        continue
                    marked = {
                        row[0]
                        for row in await conn.fetch(
                            "SELECT event_id FROM processed_events WHERE consumer = $1 AND event_id = ANY($2::text[])",
                            group,
                            list(wanted),
                        )
                    }
                    marked_total += len(marked)
                    missing = wanted - marked
                    if missing:
                        self.problem(f"{group} never applied {len(missing)} events, e.g. {sorted(missing)[:3]}")
        self.figures["processed_marks"] = marked_total

    async def robots_acted_once_per_entry(self) -> None:
        """One succeeded run per robot and stage visit, and its effect once at the owner."""
        async with connection(self.cluster.dsn("automation")) as conn:
            runs = await conn.fetch(
                "SELECT source_id, item_id, visit_id, status, run_id FROM automation_runs WHERE tenant_id = $1",
                self.board.tenant,
            )
        for robot, stage in ((self.board.notify_robot, "In progress"), (self.board.close_robot, "Won")):
            per_visit = Counter((r["item_id"], r["visit_id"]) for r in runs if r["source_id"] == robot)
            statuses = Counter(r["status"] for r in runs if r["source_id"] == robot)
            visits = {(item, e.event_id) for item, entries in self.entries_into(stage).items() for e in entries}
            for key in visits - set(per_visit):
                self.problem(f"robot on {stage!r} never ran for item {key[0]} visit {key[1]}")
            for key, n in per_visit.items():
                if n > 1 or key not in visits:
                    self.problem(f"robot on {stage!r} ran {n} times for item {key[0]} visit {key[1]}")
            if set(statuses) - {"succeeded"}:
                self.problem(f"robot on {stage!r} runs ended {dict(statuses)}")
            self.figures[f"robot runs on {stage}"] = sum(per_visit.values())
        won = self.entries_into("Won")
        closed = Counter(e.stream_id for e in self.stores["entities"] if e.actor == f"robot:{self.board.close_robot}")
        for item, entries in won.items():
            if closed[item] != (1 if entries else 0):
                self.problem(f"item {item} entered Won {len(entries)} times; the robot updated it {closed[item]} times")

    async def notifications_arrived_once(self) -> None:
        async with connection(self.cluster.dsn("notifications")) as conn:
            inbox = await conn.fetch(
                "SELECT kind, item_id, source, recipient_id FROM inbox WHERE tenant_id = $1", self.board.tenant
            )
        robot = Counter(r["item_id"] for r in inbox if r["kind"] == "robot")
        by_source = Counter(r["source"] for r in inbox)
        for item, entries in self.entries_into("In progress").items():
            if robot[item] != len(entries):
                self.problem(f"item {item} entered In progress {len(entries)} times; robot notices: {robot[item]}")
        moves = {e.event_id: e.stream_id for visits in self.entries.values() for e in visits if e.type == MOVED}
        told = Counter(r["source"].removeprefix("event:") for r in inbox if r["kind"] == "stage_changed")
        for event_id, item in moves.items():
            if told[event_id] != 1:
                self.problem(f"move {event_id} of {item} was told {told[event_id]} times (once expected)")
        for source, n in by_source.items():
            if n > 1:
                self.problem(f"notification source {source} delivered {n} times")
        self.figures["notifications"] = dict(Counter(r["kind"] for r in inbox))

    async def reporting_projected_each_event_once(self) -> None:
        async with connection(self.cluster.dsn("reporting")) as conn:
            visits = Counter(
                r[0]
                for r in await conn.fetch(
                    "SELECT event_id FROM projection.stage_visits WHERE tenant_id = $1", self.board.tenant
                )
            )
            items = await conn.fetchval("SELECT count(*) FROM projection.items WHERE tenant_id = $1", self.board.tenant)
        entries = {e.event_id for visits_ in self.entries.values() for e in visits_}
        if set(visits) != entries or any(n != 1 for n in visits.values()):
            self.problem(
                f"reporting has {sum(visits.values())} stage visits for {len(entries)} stage entries"
                f" ({len(entries - set(visits))} missing, {len(set(visits) - entries)} unknown)"
            )
        created = sum(1 for e in self.stores["entities"] if e.type == CREATED)
        if items != created:
            self.problem(f"reporting has {items} items; the entities store created {created}")

    async def reports_equal_a_recount(self) -> None:
        """The funnel, stage time and throughput reports against a recount from the event stores."""
        api, board = self.board.api, self.board
        of_pipeline = {"pipeline_id": board.pipeline_id}
        funnel = await api.ok("reporting", "GET", "/v1/reports/funnel", params=of_pipeline)
        stage_time = await api.ok("reporting", "GET", "/v1/reports/stage-time", params=of_pipeline)
        of_type = {"entity_type_id": board.type_id, "per": "month"}
        throughput = await api.ok("reporting", "GET", "/v1/reports/throughput", params=of_type)
        reached: Counter[str] = Counter()
        current: Counter[str] = Counter()
        ended: Counter[str] = Counter()
        for visits in self.entries.values():
            for stage_id in {self.stage_of(e) for e in visits}:
                reached[stage_id] += 1
            current[self.stage_of(visits[-1])] += 1
            for visit in visits[:-1]:
                ended[self.stage_of(visit)] += 1
        recount = {s: (reached[s], current[s]) for s in board.stages.values()}
        reported = {row["stage_id"]: (row["reached"], row["current"]) for row in funnel["rows"]}
        if reported != recount:
            self.problem(f"funnel (reached, current) {reported} but the stores say {recount}")
        visits_reported = {row["stage_id"]: row["visits"] for row in stage_time["rows"] if row["visits"]}
        if visits_reported != {s: n for s, n in ended.items() if n}:
            self.problem(f"stage time visits {visits_reported} but the stores say {dict(ended)}")
        created = sum(1 for e in self.stores["entities"] if e.type == CREATED)
        totals = {k: sum(row[k] for row in throughput["rows"]) for k in ("created", "won", "lost")}
        expected = {"created": created, "won": reached[board.stages["Won"]], "lost": reached[board.stages["Lost"]]}
        if totals != expected:
            self.problem(f"throughput {totals} but the stores say {expected}")
        self.figures["funnel"] = {name: recount[stage_id] for name, stage_id in board.stages.items()}

    def report(self) -> str:
        lines = [f"{len(self.problems)} problem(s):", *(f"  - {p}" for p in self.problems[:60])]
        return "\n".join(lines)
