"""Housing & utilities onboarding (docs/scenarios/housing-onboarding.md), steps 1-7, through HTTP only.

Entities, pipelines, automation, notifications and reporting run side by side for one tenant, their test
clocks moved together; a real SMTP server (aiosmtpd) catches the e-mails. The module's fixture plays the
story once, checking each step as it happens; the tests then read what it left behind. Steps 1-2 define
"Company" and import the real CSV file (both encodings checked, the UTF-8 one imported once); step 3 binds
docs/examples/onboarding.bpmn to the status change; steps 4-6 play four imported companies:

| company (CSV line)          | path                                                                            |
| --------------------------- | ------------------------------------------------------------------------------- |
| A (2, declared "Торговля")  | the manager corrects the industry to Retail and sets In progress: ends at once  |
| B (7)                       | dragged to "In progress" on the board (a robot sets the status); next call      |
|                             | twice (the question comes back each time), meeting, held, agreed, ready to      |
|                             | sign, signed, launched                                                          |
| C (9)                       | rejected at the first question                                                  |
| D (13)                      | meeting, held, rejected at the terms                                            |

Step 7 reads B's timeline (user, robot, process) and the reports: companies per status and the time spent
in each, worked out by hand from the instants below.
"""

from __future__ import annotations

import csv
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from statistics import mean
from typing import Any

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from conveyor_testing.waiting import eventually
from icalendar import Calendar

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DATA = Path(__file__).resolve().parents[1] / "data"
ONBOARDING = (Path(__file__).parents[2] / "docs" / "examples" / "onboarding.bpmn").read_text()
STATUSES = [
    "Imported", "In progress", "Meeting set", "Terms negotiation", "Contract negotiation", "Contract signing",
    "Launch preparation", "Launched", "Rejected",
]  # fmt: skip
FIVE_ERRORS = [(17, "ИНН"), (123, "Телефон"), (256, "Кол-во домов в управлении"), (311, "Название"), (499, "E-mail")]
MAPPING = {
    "Название": "title", "ИНН": "inn", "Город": "city", "Контактное лицо": "contact_person", "Телефон": "phone",
    "E-mail": "email", "Сфера деятельности": "declared_industry", "Кол-во домов в управлении": "buildings",
}  # fmt: skip
MANAGER = "manager-1"
ASKED, HELD, AGREED = "Was a meeting set?", "Was the meeting held?", "Were the terms agreed?"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, second, tzinfo=UTC)


# The story's instants (March 2027, UTC); every figure of step 7 follows from them.
IMPORTED = at(1, 8)
STARTED = at(1, 9)  # A, C, D set In progress by the manager; B dragged on the board
FIRST_ANSWERS = at(1, 10)  # C rejects, D sets a meeting, B a call
CALL_1, SECOND_CALL_ANSWER, CALL_2 = at(1, 15), at(1, 15, 30), at(2, 11)
B_MEETING_ANSWER = at(2, 11, 30)
D_MEETING, D_HELD = at(2, 14), at(2, 15)
B_MEETING = at(3, 10)
B_HELD = D_REJECTED = at(3, 11)
B_AGREED, B_READY, B_SIGNED, B_LAUNCHED = at(4, 10), at(4, 16), at(5, 10), at(8, 10)
REPORTED = at(8, 12)
SECOND, HOUR = timedelta(seconds=1), timedelta(hours=1)
COUNTS = {"Imported": 491, "In progress": 1, "Launched": 1, "Rejected": 2}


@dataclass
class Company:
    item_id: str
    title: str


Entry = tuple[str, str, datetime, datetime, str, list[str], str, list[dict[str, int]]]
Note = tuple[str, str, str | None]
TASK_NOTICES = frozenset({"task_assigned", "task_delegated"})


def booked(title: str, kind: str, company: Company, start: datetime, remind: int) -> Entry:
    """A calendar entry the process booked for the manager: 30 minutes, a reminder ``remind`` minutes before."""
    end = start + timedelta(minutes=30)
    return title, kind, start, end, MANAGER, [MANAGER], company.item_id, [{"minutes_before": remind}]


def reminder(entry: Entry, company: Company) -> Note:
    """The in-app reminder of a booked entry, in English, naming the entry's kind as the notifications service does."""
    title, kind, start = entry[:3]
    word = {"call": "Call", "meeting": "Meeting"}[kind]
    return f"Reminder: {title}", f'{word} "{title}" starts at {start:%Y-%m-%d %H:%M} UTC.', company.item_id


def meeting_in_an_hour(company: Company, start: datetime) -> Note:
    """The process's own message an hour before the meeting."""
    return "Meeting in an hour", f"Meeting {company.title} at {start.isoformat()}", company.item_id


class Mailbox:
    """The SMTP server's side: every message the notifications service sent."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class Story:
    """The five services, the tenant's admin and manager, one time for all of them, and what was booked."""

    def __init__(self, services: dict[str, Any]) -> None:
        self.services = services
        self.tenant = f"housing-{uuid.uuid4().hex[:8]}"
        # Every notifications service on the shared topics carries out every tenant's commands, so other
        # tests' mail reaches this SMTP server too: the manager's address is the tenant's own.
        self.manager_email = f"olga@{self.tenant}.example.test"
        self.now = IMPORTED
        self.status_ids: dict[str, str] = {}
        self.industry_ids: dict[str, str] = {}
        self.calendar_so_far: list[Entry] = []
        self.notes_so_far: list[Note] = []

    def admin(self, service: str) -> Any:
        client = self.services[service].as_user(self.tenant, "admin-1", "admin")
        client.at = self.now
        return client

    def manager(self, service: str) -> Any:
        client = self.services[service].as_user(self.tenant, MANAGER, "manager")
        client.at = self.now
        return client

    async def set_clocks(self, instant: datetime) -> None:
        self.now = instant
        for service in self.services.values():
            moved = await service.http.post(service.base_url + "/v1/test/clock", json={"set_to": instant.isoformat()})
            assert moved.status_code == 200, moved.text

    async def inbox(self) -> list[tuple[str, str]]:
        tasks = await self.manager("automation").ok("GET", "/v1/tasks/inbox")
        return sorted((t["item_id"], t["title"]) for t in tasks["items"])

    async def inbox_becomes(self, *expected: tuple[Company, str]) -> None:
        wanted = sorted((company.item_id, title) for company, title in expected)
        await eventually(self.inbox, lambda found: found == wanted, within=20)

    async def answer(self, company: Company, title: str, outcome: str, **values: str) -> None:
        tasks = await self.manager("automation").ok("GET", "/v1/tasks/inbox")
        task = next(t for t in tasks["items"] if (t["item_id"], t["title"]) == (company.item_id, title))
        body = {"outcome": outcome, "values": values}
        await self.manager("automation").ok("POST", f"/v1/tasks/{task['id']}/complete", body)

    async def status_of(self, company: Company) -> str:
        item = await self.admin("entities").ok("GET", f"/v1/items/{company.item_id}")
        labels = {option_id: label for label, option_id in self.status_ids.items()}
        return labels.get(item["fields"].get("status"), "?")

    async def status_becomes(self, company: Company, status: str) -> None:
        await eventually(lambda: self.status_of(company), lambda found: found == status, within=20)

    async def processes(self, company: Company) -> list[str]:
        found = await self.admin("automation").ok("GET", "/v1/processes", params={"item_id": company.item_id})
        return [p["status"] for p in found["items"]]

    async def set_fields(self, company: Company, **fields: str) -> None:
        entities = self.manager("entities")
        current = await entities.call("GET", f"/v1/items/{company.item_id}")
        await entities.ok(
            "PATCH", f"/v1/items/{company.item_id}", {"fields": fields}, headers={"If-Match": current.headers["ETag"]}
        )

    async def notifications(self) -> list[Note]:
        """The manager's in-app reminders and the process's messages, sorted (those delivered at one instant come
        in any order). The notices of new tasks in the inbox are left out: the story counts tasks in the inbox
        itself, and tests/e2e/test_task_notices_and_moot_tasks.py checks those notices."""
        found = await self.manager("notifications").ok("GET", "/v1/notifications", params={"limit": 100})
        return sorted(
            (n["title"], n["body"], (n["item"] or {}).get("item_id"))
            for n in found["items"]
            if n["kind"] not in TASK_NOTICES
        )

    async def notified(self, *more: Note) -> None:
        """The notifications so far and these, and no other."""
        self.notes_so_far += more
        wanted = sorted(self.notes_so_far)
        await eventually(self.notifications, lambda found: found == wanted, within=20)

    async def calendar(self) -> list[Entry]:
        found = await self.manager("notifications").ok("GET", "/v1/calendar/entries")
        return sorted(
            (e["title"], e["kind"], datetime.fromisoformat(e["start"]), datetime.fromisoformat(e["end"]),
             e["organizer_id"], e["attendee_ids"], e["item"]["item_id"], e["reminders"])
            for e in found["items"]
        )  # fmt: skip

    async def calendar_holds(self, *more: Entry) -> None:
        """The manager's calendar holds the entries so far and these, and no other."""
        self.calendar_so_far += more
        wanted = sorted(self.calendar_so_far)
        await eventually(self.calendar, lambda found: found == wanted, within=20)


@dataclass
class Played:
    """What the story left behind, for the tests to read."""

    story: Story
    type_id: str
    robot_id: str
    a: Company
    b: Company
    c: Company
    d: Company
    mailbox: Mailbox
    call_kinds: set[str] = field(default_factory=set)


def csv_row(line: int) -> dict[str, str]:
    """A row of the UTF-8 file by its line number (the header is line 1)."""
    with (DATA / "housing_companies_utf8.csv").open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    return rows[line - 2]


async def count(client: Any, type_id: str, *filters: str) -> int:
    total, cursor = 0, None
    while True:
        params: dict[str, Any] = {"entity_type_id": type_id, "limit": 200, "filter": list(filters)}
        if cursor:
            params["cursor"] = cursor
        page = await client.ok("GET", "/v1/items", params=params)
        total += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return total


async def define_companies(story: Story) -> str:
    """Step 1: the "Company" type, its fields and the "Industry" dictionary; the manager and their rights."""
    admin = story.admin("entities")
    industry = await admin.ok(
        "POST", "/v1/dictionaries",
        {"code": "industry", "name": "Industry",
         "options": [{"label": label} for label in ("Housing & utilities", "Construction", "Retail")]},
    )  # fmt: skip
    story.industry_ids.update({o["label"]: o["id"] for o in industry["options"]})
    company = await admin.ok("POST", "/v1/entity-types", {"code": "company", "name": "Company"})
    fields: list[dict[str, Any]] = [
        {"code": "contact_person", "label": "Contact person", "kind": "string"},
        {"code": "status", "label": "Processing status", "kind": "list", "options": [{"label": s} for s in STATUSES]},
        {"code": "industry", "label": "Industry", "kind": "list", "dictionary_id": industry["id"]},
        {"code": "next_call_at", "label": "Next call at", "kind": "datetime"},
        {"code": "meeting_at", "label": "Meeting at", "kind": "datetime"},
        {"code": "inn", "label": "Tax id", "kind": "string", "validation": {"pattern": r"^(\d{10}|\d{12})$"}},
        {"code": "city", "label": "City", "kind": "string"},
        {"code": "phone", "label": "Phone", "kind": "phone"},
        {"code": "email", "label": "E-mail", "kind": "email"},
        {"code": "declared_industry", "label": "Declared industry", "kind": "string"},
        {"code": "buildings", "label": "Buildings managed", "kind": "integer"},
    ]
    for spec in fields:
        added = await admin.ok("POST", f"/v1/entity-types/{company['id']}/fields", spec)
        if spec["code"] == "status":
            story.status_ids.update({o["label"]: o["id"] for o in added["options"]})
    user = {"id": MANAGER, "name": "Olga Petrova", "email": story.manager_email, "roles": ["manager"]}
    await admin.ok("POST", "/v1/directory/users", user)
    grants = [{"entity_type_id": company["id"], "actions": {"read": "own", "update": "own"}}]
    await admin.ok("PUT", "/v1/directory/roles/manager/grants", {"grants": grants})
    type_id: str = company["id"]
    return type_id


async def import_companies(story: Story, type_id: str) -> None:
    """Step 2: both encodings read with the same five errors; the UTF-8 file imported once, a re-run adds nothing."""
    admin = story.admin("entities")

    async def upload(name: str) -> dict[str, Any]:
        content = (DATA / name).read_bytes()
        response = await admin.call(
            "POST", "/v1/imports/files", content=content, params={"file_name": name},
            headers={"Content-Type": "text/csv"},
        )  # fmt: skip
        assert response.status_code == 201, response.text
        found: dict[str, Any] = response.json()
        return found

    request = {
        "entity_type_id": type_id,
        "mapping": MAPPING,
        "values": {"status": "Imported", "industry": "Housing & utilities", "assignee_id": MANAGER},
    }
    for name, encoding in [("housing_companies_cp1251.csv", "windows-1251"), ("housing_companies_utf8.csv", "utf-8")]:
        file = await upload(name)
        assert (file["encoding"], file["rows"]) == (encoding, 500)
        report = await admin.ok("POST", "/v1/imports/dry-run", {**request, "file_id": file["id"]})
        assert [(e["line"], e["column"]) for e in report["errors"]] == FIVE_ERRORS
    assert await count(admin, type_id) == 0

    key = {"Idempotency-Key": f"housing-{uuid.uuid4()}"}
    started = await admin.call("POST", "/v1/imports", {**request, "file_id": file["id"]}, headers=key)
    assert started.status_code == 202, started.text
    job = await eventually(
        lambda: admin.ok("GET", f"/v1/imports/{started.json()['id']}"),
        lambda j: j["status"] != "running",
        within=60,
    )
    assert (job["status"], job["imported"], job["refused"]) == ("completed", 495, 5)
    assert [(e["line"], e["column"]) for e in job["errors"]] == FIVE_ERRORS

    again = await upload("housing_companies_utf8.csv")
    rerun = await admin.call("POST", "/v1/imports", {**request, "file_id": again["id"]}, headers=key)
    assert (rerun.status_code, rerun.json()["id"]) == (200, job["id"])
    imported = [
        f"fields.status:eq:{story.status_ids['Imported']}",
        f"fields.industry:eq:{story.industry_ids['Housing & utilities']}",
        f"assignee_id:eq:{MANAGER}",
    ]
    assert await count(admin, type_id, *imported) == await count(admin, type_id) == 495


async def bind_the_process(story: Story, type_id: str) -> tuple[str, str]:
    """Step 3: the process starts when the status changes from "Imported" to "In progress"; on the board,
    the "In progress" column's robot sets that status for a company the manager drags there. Answers the
    column and the robot."""
    template = await story.admin("automation").ok(
        "POST", "/v1/process-templates",
        {"name": "Onboarding", "entity_type_id": type_id, "bpmn": ONBOARDING,
         "start": {"mode": "on_change", "condition": {"field": "status", "op": "eq", "value": "In progress"},
                   "was": {"field": "status", "op": "eq", "value": "Imported"}}},
    )  # fmt: skip
    assert (template["process_id"], template["version"]) == ("onboarding", 1)
    pipelines = story.admin("pipelines")

    async def boards() -> list[dict[str, Any]]:  # the default board, once pipelines hears of the type (a 404 before)
        response = await pipelines.call("GET", "/v1/pipelines", params={"entity_type_id": type_id})
        return list(response.json()["items"]) if response.status_code == 200 else []

    [board] = await eventually(boards, lambda found: len(found) == 1)
    column: str = {s["name"]: s["id"] for s in board["stages"]}["In progress"]
    robot = await story.admin("automation").ok(
        "POST", "/v1/robots",
        {"pipeline_id": board["id"], "stage_id": column, "name": "Status follows the board",
         "condition": {"all": [{"field": "status", "op": "eq", "value": "Imported"}]},
         "action": {"type": "set_fields", "fields": {"status": "In progress"}}},
    )  # fmt: skip
    return column, robot["id"]


async def imported_company(story: Story, type_id: str, line: int) -> Company:
    """The company imported from a line of the file, found by its tax id, once automation and pipelines know it."""
    row = csv_row(line)
    params = {"entity_type_id": type_id, "filter": [f"fields.inn:eq:{row['ИНН']}"]}
    [item] = (await story.admin("entities").ok("GET", "/v1/items", params=params))["items"]
    assert (item["title"], item["fields"]["declared_industry"]) == (row["Название"], row["Сфера деятельности"])

    async def known() -> list[int]:
        paths = [("automation", f"/v1/processes?item_id={item['id']}"), ("pipelines", f"/v1/placements/{item['id']}")]
        return [(await story.manager(service).call("GET", path)).status_code for service, path in paths]

    await eventually(known, lambda codes: codes == [200, 200])
    return Company(item["id"], item["title"])


async def start_four_companies(story: Story, column: str, a: Company, b: Company, c: Company, d: Company) -> None:
    """Step 4: A's industry is not ours, so its process ends at once; B, C and D are asked."""
    await story.set_clocks(STARTED)
    await story.set_fields(a, industry="Retail", status="In progress")
    for company in (c, d):
        await story.set_fields(company, status="In progress")
    pipelines = story.manager("pipelines")
    placed = await pipelines.call("GET", f"/v1/placements/{b.item_id}")
    move = {"to_stage_id": column}
    await pipelines.ok("POST", f"/v1/placements/{b.item_id}/move", move, headers={"If-Match": placed.headers["ETag"]})
    await story.status_becomes(b, "In progress")
    await story.inbox_becomes((b, ASKED), (c, ASKED), (d, ASKED))
    assert (await story.processes(a), await story.status_of(a)) == (["completed"], "In progress")


async def first_answers(played: Played) -> None:
    """Step 5: reject ends C; D sets a meeting; B books a call (its reminder 15 minutes before), and once the
    call's time has passed the same question comes back."""
    story, b, c, d = played.story, played.b, played.c, played.d
    await story.set_clocks(FIRST_ANSWERS)
    await story.answer(c, ASKED, "reject")
    await story.answer(d, ASKED, "meeting", meeting_at=D_MEETING.isoformat())
    await story.answer(b, ASKED, "next_call", next_call_at=CALL_1.isoformat())
    await story.status_becomes(c, "Rejected")
    await story.status_becomes(d, "Meeting set")
    assert await story.processes(c) == ["completed"]
    # A call should be booked as a call; the test of that reads ``call_kinds``, the rest follows the entry.
    entries = await eventually(story.calendar, lambda found: len(found) == 2)
    played.call_kinds |= {kind for title, kind, *_ in entries if title == f"Call {b.title}"}
    [call_kind] = played.call_kinds
    call_1 = booked(f"Call {b.title}", call_kind, b, CALL_1, 15)
    await story.calendar_holds(call_1, booked(f"Meeting {d.title}", "meeting", d, D_MEETING, 60))
    assert await story.inbox() == []

    await story.set_clocks(CALL_1 - timedelta(minutes=15))
    await story.notified(reminder(call_1, b))
    assert await story.inbox() == []
    await story.set_clocks(CALL_1 + SECOND)
    await story.inbox_becomes((b, ASKED))

    # The loop again: a second call, its reminder, the same question.
    await story.set_clocks(SECOND_CALL_ANSWER)
    await story.answer(b, ASKED, "next_call", next_call_at=CALL_2.isoformat())
    call_2 = booked(f"Call {b.title}", call_kind, b, CALL_2, 15)
    await story.calendar_holds(call_2)
    await story.set_clocks(CALL_2 - timedelta(minutes=15))
    await story.notified(reminder(call_2, b))
    await story.set_clocks(CALL_2 + SECOND)
    await story.inbox_becomes((b, ASKED))


async def meetings(played: Played) -> None:
    """Step 5, the meeting: "Meeting set", the entry, a pause until an hour before, then the reminder and the
    process's message (by e-mail too: the manager routed those to e-mail)."""
    story, b, d = played.story, played.b, played.d
    await story.set_clocks(B_MEETING_ANSWER)
    await story.answer(b, ASKED, "meeting", meeting_at=B_MEETING.isoformat())
    await story.status_becomes(b, "Meeting set")
    b_meeting = booked(f"Meeting {b.title}", "meeting", b, B_MEETING, 60)
    await story.calendar_holds(b_meeting)
    assert await story.inbox() == []
    await story.set_clocks(D_MEETING - HOUR - SECOND)
    assert await story.inbox() == []
    assert await story.notifications() == sorted(story.notes_so_far)
    await story.set_clocks(D_MEETING - HOUR + SECOND)
    await story.inbox_becomes((d, HELD))
    d_meeting = next(entry for entry in story.calendar_so_far if entry[0] == f"Meeting {d.title}")
    await story.notified(reminder(d_meeting, d), meeting_in_an_hour(d, D_MEETING))

    await story.set_clocks(D_HELD)
    await story.answer(d, HELD, "held")
    await story.status_becomes(d, "Terms negotiation")
    await story.set_clocks(B_MEETING - HOUR + SECOND)
    await story.inbox_becomes((b, HELD), (d, AGREED))
    await story.notified(reminder(b_meeting, b), meeting_in_an_hour(b, B_MEETING))


async def to_the_launch(played: Played) -> None:
    """Step 6: B all the way to "Launched"; D rejected at the terms."""
    story, b, d = played.story, played.b, played.d
    await story.set_clocks(D_REJECTED)
    await story.answer(d, AGREED, "reject")
    await story.status_becomes(d, "Rejected")
    for instant, question, outcome, status in [
        (B_HELD, HELD, "held", "Terms negotiation"),
        (B_AGREED, AGREED, "agreed", "Contract negotiation"),
        (B_READY, "Is the contract ready to sign?", "ready", "Contract signing"),
        (B_SIGNED, "Was the contract signed?", "signed", "Launch preparation"),
        (B_LAUNCHED, "Was the client launched?", "launched", "Launched"),
    ]:
        await story.set_clocks(instant)
        await story.inbox_becomes((b, question))
        await story.answer(b, question, outcome)
        await story.status_becomes(b, status)


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def played(start_shared_service: Callable[..., Any], mailbox: tuple[Mailbox, int]) -> AsyncIterator[Played]:
    """The whole story, played once with its step-by-step checks; the services stay up for the tests."""
    box, smtp_port = mailbox
    async with AsyncExitStack() as stack:
        services = {}
        for name in ("entities", "pipelines", "automation", "notifications", "reporting"):
            extra = {"smtp_port": smtp_port} if name == "notifications" else {}
            services[name] = await stack.enter_async_context(start_shared_service(name, **extra))
        story = Story(services)
        await story.set_clocks(IMPORTED)
        type_id = await define_companies(story)
        await import_companies(story, type_id)
        routes = {"language": "en", "channels": {"robot": ["in_app", "email"]}}  # the process's messages by e-mail
        await story.manager("notifications").ok("PUT", "/v1/preferences", routes)
        column, robot_id = await bind_the_process(story, type_id)
        a, b, c, d = [await imported_company(story, type_id, line) for line in (2, 7, 9, 13)]
        played = Played(story, type_id, robot_id, a, b, c, d, box)
        await start_four_companies(story, column, a, b, c, d)
        await first_answers(played)
        await meetings(played)
        await to_the_launch(played)
        await story.set_clocks(REPORTED)
        yield played


class TestHousingOnboardingStory:
    async def test_every_company_ends_where_its_branch_leads(self, played: Played) -> None:
        story = played.story
        companies = [played.a, played.b, played.c, played.d]
        assert [await story.status_of(company) for company in companies] == [
            "In progress", "Launched", "Rejected", "Rejected"
        ]  # fmt: skip
        assert [await story.processes(company) for company in companies] == [["completed"]] * 4
        assert await story.inbox() == []

    async def test_the_manager_was_reminded_in_app_and_by_e_mail(self, played: Played) -> None:
        story = played.story
        assert len(story.notes_so_far) == 6  # two call reminders; per meeting a reminder and the process's message
        assert await story.notifications() == sorted(story.notes_so_far)

        async def subjects() -> list[str]:  # sorted: mail sent at one instant comes in any order
            return sorted(str(m["Subject"]) for m in played.mailbox.to(story.manager_email))

        await eventually(subjects, lambda found: found == sorted(title for title, _, _ in story.notes_so_far))
        mails = played.mailbox.to(story.manager_email)
        bodies = [m.get_content().strip() for m in mails if m["Subject"] == "Meeting in an hour"]
        assert bodies == [meeting_in_an_hour(played.d, D_MEETING)[1], meeting_in_an_hour(played.b, B_MEETING)[1]]

    async def test_the_calendar_feed_holds_every_booked_entry(self, played: Played) -> None:
        story, notifications = played.story, played.story.services["notifications"]
        assert await story.calendar() == sorted(story.calendar_so_far)
        feed = await story.manager("notifications").ok("POST", "/v1/calendar/feed")
        assert feed["url"].endswith(f"/v1/calendar/feeds/{feed['token']}.ics")
        ics = await notifications.http.get(f"{notifications.base_url}/v1/calendar/feeds/{feed['token']}.ics")
        assert ics.status_code == 200, ics.text
        events: list[Any] = Calendar.from_ical(ics.content).walk("VEVENT")
        found = sorted(
            (str(e["SUMMARY"]), e["CATEGORIES"].cats, e["DTSTART"].dt, e["DTEND"].dt, str(e["STATUS"]),
             str(e["X-CONVEYOR-ITEM"]))
            for e in events
        )  # fmt: skip
        assert found == [
            (title, [kind.upper()], start, end, "CONFIRMED", item_id)
            for title, kind, start, end, _, _, item_id, _ in sorted(story.calendar_so_far)
        ]

    async def test_the_timeline_names_the_user_the_robot_and_the_process(self, played: Played) -> None:
        story, ids = played.story, played.story.status_ids
        page = await story.admin("automation").ok("GET", "/v1/processes", params={"item_id": played.b.item_id})
        [instance] = page["items"]
        process = ("process", instance["id"])
        path = [
            ("Meeting set", "Terms negotiation"),
            ("Terms negotiation", "Contract negotiation"),
            ("Contract negotiation", "Contract signing"),
            ("Contract signing", "Launch preparation"),
            ("Launch preparation", "Launched"),
        ]
        assert await self.status_changes(story, played.b) == [
            ("created", "user", "admin-1", (None, ids["Imported"])),
            ("changed", "robot", played.robot_id, (ids["Imported"], ids["In progress"])),
            ("changed", *process, None),  # "Next call at", twice: the call loop
            ("changed", *process, None),
            ("changed", *process, (ids["In progress"], ids["Meeting set"])),  # with "Meeting at"
            *[("changed", *process, (ids[old], ids[new])) for old, new in path],
        ]
        assert await self.status_changes(story, played.a) == [
            ("created", "user", "admin-1", (None, ids["Imported"])),
            ("changed", "user", MANAGER, (ids["Imported"], ids["In progress"])),
        ]

    async def test_every_change_carries_the_time_it_was_made(self, played: Played) -> None:
        timeline = await played.story.admin("entities").ok("GET", f"/v1/items/{played.b.item_id}/timeline")
        instants = [datetime.fromisoformat(e["at"]) for e in timeline["entries"]]
        assert instants == [
            IMPORTED, STARTED, FIRST_ANSWERS, SECOND_CALL_ANSWER, B_MEETING_ANSWER,
            B_HELD, B_AGREED, B_READY, B_SIGNED, B_LAUNCHED,
        ]  # fmt: skip

    async def test_the_process_writes_the_dates_it_was_given_into_the_company(self, played: Played) -> None:
        async def dates(company: Company) -> tuple[datetime | None, ...]:
            item = await played.story.admin("entities").ok("GET", f"/v1/items/{company.item_id}")
            found = (item["fields"].get("next_call_at"), item["fields"].get("meeting_at"))
            return tuple(datetime.fromisoformat(value) if value else None for value in found)

        assert await dates(played.b) == (CALL_2, B_MEETING)  # the second call's date replaced the first
        assert await dates(played.d) == (None, D_MEETING)
        assert await dates(played.c) == (None, None)

    async def test_reports_count_companies_per_status(self, played: Played) -> None:
        day = IMPORTED.date().isoformat()
        params = {"entity_type_id": played.type_id, "field": "status", "from": day, "to": day}

        async def registry() -> list[tuple[str, str | None, str, int]]:
            report = await played.story.admin("reporting").ok("GET", "/v1/reports/registry", params=params)
            return sorted((r["day"], r["assignee_id"], r["label"], r["items"]) for r in report["rows"])

        wanted = sorted((day, MANAGER, status, n) for status, n in COUNTS.items())
        await eventually(registry, lambda found: found == wanted)

    async def test_reports_time_spent_per_status(self, played: Played) -> None:
        ids = played.story.status_ids
        stays: dict[str, list[float]] = {  # hours per visit; open visits count until REPORTED
            "Imported": [1.0] * 4 + [(REPORTED - IMPORTED) / HOUR] * 491,
            "In progress": [171.0, 26.5, 1.0, 1.0],  # A is still there; B until its meeting; C and D an hour
            "Meeting set": [29.0, 23.5],  # D, B
            "Terms negotiation": [20.0, 23.0],  # D, B
            "Contract negotiation": [6.0],
            "Contract signing": [18.0],
            "Launch preparation": [72.0],
            "Launched": [2.0],
            "Rejected": [170.0, 121.0],  # C, D
        }
        wanted = {
            ids[status]: {
                "value": ids[status], "current_items": COUNTS.get(status, 0), "visits": len(hours),
                **{name: pytest.approx(seconds, rel=1e-12) for name, seconds in [  # only a float's last bits
                    ("total_seconds", sum(hours) * 3600), ("mean_seconds", mean(hours) * 3600),
                    ("median_seconds", percentile(hours, 0.5) * 3600), ("p90_seconds", percentile(hours, 0.9) * 3600),
                ]},
            }
            for status, hours in stays.items()
        }  # fmt: skip
        params = {"entity_type_id": played.type_id, "field": "status"}

        async def field_time() -> dict[str, Any]:
            report = await played.story.admin("reporting").ok("GET", "/v1/reports/field-time", params=params)
            return {row["value"]: row for row in report["values"] if row["visits"]}

        await eventually(field_time, lambda found: found == wanted, within=20)

    async def test_a_booked_call_is_a_call(self, played: Played) -> None:
        assert played.call_kinds == {"call"}

    @staticmethod
    async def status_changes(story: Story, company: Company) -> list[tuple[str, str, str, Any]]:
        """Each timeline entry: what, who (kind and id), and the status's old and new value (None: untouched)."""
        timeline = await story.admin("entities").ok("GET", f"/v1/items/{company.item_id}/timeline")
        return [
            (entry["event"], entry["actor"]["kind"], entry["actor"]["id"],
             next(((c["old"], c["new"]) for c in entry["changes"] if c["field"] == "fields.status"), None))
            for entry in timeline["entries"]
        ]  # fmt: skip


def percentile(values: list[float], fraction: float) -> float:
    """PostgreSQL's percentile_cont: linear interpolation between the two nearest ranks."""
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
