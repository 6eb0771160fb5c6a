"""One tenant's world, made through the public APIs only: a directory with roles of different scopes,
an entity type with items of several assignees, their pipeline, robots, a task, a process, a
trigger, calendar entries, notifications, a template and a webhook subscription.

Every name, title and text carries the tenant's ``marker``, so a response that shows any of it to
someone else is caught by a substring search, and every id made is kept for the walk.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from security_api import As, settle

# Roles of different reach on the entity type: `rep` reads the items assigned to them, `lead`
# those of their department(s), `admin` everything of the tenant.
REP, LEAD = "rep", "lead"
PEOPLE = {  # user: (department, role)
    "alice": ("sales", REP),
    "bob": ("sales", REP),
    "carol": ("sales", LEAD),
    "dave": ("support", REP),
}
ADMIN = "root"

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="https://conveyor.dev/bpmn">
  <bpmn:process id="check_MARKER" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="check" name="Check MARKER">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="assignee" value="assignee"/>
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="done"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check"/>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>"""


@dataclass
class Tenant:
    """What was made in one tenant: ids by name, items by assignee, and the texts that betray it."""

    tenant: str
    marker: str
    ids: dict[str, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)  # assignee -> item id
    secrets: dict[str, str] = field(default_factory=dict)

    def betrayals(self) -> list[str]:
        """Strings that only this tenant's data contains: its marker and every generated id."""
        return [self.marker, *(v for v in self.ids.values() if len(v) >= 8), *self.items.values()]


async def seed_tenant(admin: As, marker: str, hook_url: str) -> Tenant:
    world = Tenant(admin.tenant, marker)
    await _directory(admin, world)
    await _entities(admin, world)
    await _pipelines(admin, world)
    await _automation(admin, world)
    await _notifications(admin, world, hook_url)
    return world


async def _directory(admin: As, world: Tenant) -> None:
    m = world.marker
    for department in ("sales", "support", f"only-{m}"):
        await admin.ok("entities", "POST", "/v1/directory/departments", {"id": department, "name": f"{department} {m}"})
    world.ids["department_id"] = f"only-{m}"
    for user, (department, role) in {**PEOPLE, ADMIN: ("sales", "admin"), f"only-{m}": ("support", REP)}.items():
        body = {
            "id": user,
            "name": f"{user} {m}",
            "email": f"{user}.{m}@example.test",
            "department_ids": [department],
            "roles": [role],
        }
        await admin.ok("entities", "POST", "/v1/directory/users", body)
    world.ids["user_id"] = f"only-{m}"
    absence = await admin.ok(
        "entities",
        "POST",
        "/v1/directory/absences",
        {
            "user_id": "alice",
            "starts_at": "2030-01-01T00:00:00Z",
            "ends_at": "2030-01-02T00:00:00Z",
            "substitute_user_id": "bob",
            "reason": f"away {m}",
        },
    )
    world.ids["absence_id"] = absence["id"]


async def _entities(admin: As, world: Tenant) -> None:
    m = world.marker
    deal = await admin.ok(
        "entities",
        "POST",
        "/v1/entity-types",
        {"code": "deal", "name": f"Deal {m}", "settings": {"catalogue_binding": True}},
    )
    line = await admin.ok("entities", "POST", "/v1/entity-types", {"code": "line", "name": f"Line {m}"})
    world.ids |= {"type_id": deal["id"], "line_type_id": line["id"]}
    for code, kind in [("note", "string"), ("kind", "list")]:
        body: dict[str, Any] = {"code": code, "label": f"{code} {m}", "kind": kind}
        if kind == "list":
            body["options"] = [{"label": f"Contract {m}"}, {"label": f"Invoice {m}"}]
        added = await admin.ok("entities", "POST", f"/v1/entity-types/{deal['id']}/fields", body)
        world.ids[f"field_{code}"] = added["id"]
    world.ids["field_id"] = world.ids["field_note"]
    dictionary = await admin.ok(
        "entities",
        "POST",
        "/v1/dictionaries",
        {"code": "region", "name": f"Region {m}", "options": [{"label": f"North {m}"}]},
    )
    world.ids["dictionary_id"] = dictionary["id"]
    for role, scope in [(REP, "own"), (LEAD, "department")]:
        grants = [
            {"entity_type_id": t, "actions": {"read": scope, "create": scope, "update": scope, "delete": scope}}
            for t in (deal["id"], line["id"])
        ]
        await admin.ok("entities", "PUT", f"/v1/directory/roles/{role}/grants", {"grants": grants})
    world.ids["role"] = REP
    for user in PEOPLE:
        item = await admin.ok(
            "entities",
            "POST",
            "/v1/items",
            {
                "entity_type_id": deal["id"],
                "title": f"Deal of {user} {m}",
                "assignee_id": user,
                "amount": "100",
                "currency": "EUR",
                "fields": {"note": f"secret note {m}", "kind": f"Contract {m}"},
            },
        )
        world.items[user] = item["id"]
    world.ids["item_id"] = world.items["alice"]
    child = await admin.ok(
        "entities",
        "POST",
        "/v1/items",
        {"entity_type_id": line["id"], "title": f"Line of alice {m}", "assignee_id": "alice"},
    )
    world.ids["child_item_id"] = child["id"]
    relation = await admin.ok(
        "entities",
        "POST",
        "/v1/relations",
        {
            "code": "lines",
            "name": f"Lines {m}",
            "parent_entity_type_id": deal["id"],
            "child_entity_type_id": line["id"],
            "cardinality": "one_to_many",
        },
    )
    world.ids["relation_id"] = relation["id"]
    await admin.ok(
        "entities",
        "POST",
        f"/v1/relations/{relation['id']}/links",
        {"parent_item_id": world.items["alice"], "child_item_id": child["id"]},
    )
    world.ids["parent_item_id"] = world.items["alice"]
    rule = await admin.ok(
        "entities",
        "POST",
        "/v1/rollup-rules",
        {"relation_id": relation["id"], "parent_field": "amount", "aggregate": "count", "child_fields": []},
    )
    world.ids["rule_id"] = rule["id"]
    product = await admin.ok(
        "entities",
        "POST",
        "/v1/products",
        {"name": f"Ball {m}", "sku": f"SKU-{m}", "base_price": "300", "currency": "EUR"},
    )
    world.ids["product_id"] = product["id"]
    await admin.ok("entities", "PUT", f"/v1/items/{world.items['alice']}/product", {"product_id": product["id"]})
    upload = await admin.call(
        "entities",
        "POST",
        "/v1/imports/files?file_name=a.csv",
        content=f"Title;Note\nImported {m};note {m}\n".encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert upload.status_code == 201, upload.text
    world.ids["file_id"] = upload.json()["id"]
    job = await admin.ok(
        "entities",
        "POST",
        "/v1/imports",
        {
            "file_id": world.ids["file_id"],
            "entity_type_id": deal["id"],
            "mapping": {"Title": "title", "Note": "note"},
            "values": {"assignee_id": "alice"},
        },
        headers={"Idempotency-Key": f"import-{m}"},
    )
    world.ids["job_id"] = job["id"]


async def _pipelines(admin: As, world: Tenant) -> None:
    m = world.marker
    found = await settle(  # a 404 until pipelines hears of the type
        lambda: admin.call("pipelines", "GET", "/v1/pipelines", params={"entity_type_id": world.ids["type_id"]}),
        lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
    )
    pipeline = found.json()["items"][0]
    world.ids["pipeline_id"] = pipeline["id"]
    await admin.ok("pipelines", "PATCH", f"/v1/pipelines/{pipeline['id']}", {"name": f"Sales {m}"})
    stages = [s["id"] for s in pipeline["stages"]]
    world.ids |= {"stage_id": stages[0], "stage_progress": stages[1], "stage_won": stages[2]}
    extra = await admin.ok("pipelines", "POST", f"/v1/pipelines/{pipeline['id']}/stages", {"name": f"Extra {m}"})
    world.ids["stage_extra"] = extra["id"]
    tunnel = await admin.ok(
        "pipelines",
        "POST",
        "/v1/tunnels",
        {"from_stage_id": stages[2], "to_stage_id": extra["id"], "action": "move"},
    )
    world.ids["tunnel_id"] = tunnel["id"]
    # Every deal is on the board before anything moves.
    for item_id in world.items.values():
        await settle(
            lambda i=item_id: admin.call("pipelines", "GET", f"/v1/placements/{i}"), lambda r: r.status_code == 200
        )


async def _automation(admin: As, world: Tenant) -> None:
    m, pipeline, progress = world.marker, world.ids["pipeline_id"], world.ids["stage_progress"]
    robot = await admin.ok(
        "automation",
        "POST",
        "/v1/robots",
        {
            "pipeline_id": pipeline,
            "stage_id": progress,
            "name": f"Ask {m}",
            "action": {
                "type": "create_task",
                "title": f"Call {{{{ item.title }}}} {m}",
                "assignee": {"kind": "assignee"},
            },
        },
    )
    world.ids["robot_id"] = robot["id"]
    trigger = await admin.ok(
        "automation",
        "POST",
        "/v1/triggers",
        {"pipeline_id": pipeline, "stage_id": world.ids["stage_won"], "name": f"Paid {m}", "kind": "webhook"},
    )
    world.ids["trigger_id"] = trigger["id"]
    world.secrets["hook_path"] = trigger["webhook_path"]
    world.ids["secret"] = trigger["webhook_path"].rsplit("/", 1)[1]
    template = await admin.ok(
        "automation",
        "POST",
        "/v1/process-templates",
        {
            "name": f"Check {m}",
            "entity_type_id": world.ids["type_id"],
            "bpmn": BPMN.replace("MARKER", m),
            "start": {"mode": "manual"},
        },
    )
    world.ids["process_template_id"] = template["id"]
    # Automation knows an item from its own copy (the entities' events): 404 until that copy has it.
    await settle(  # up to a minute: on a loaded 2-core runner the copy took longer than 20 s
        lambda: admin.call("automation", "GET", "/v1/processes", params={"item_id": world.items["alice"]}),
        lambda r: r.status_code == 200,
        within=60.0,
    )
    instance = await admin.ok(
        "automation", "POST", "/v1/processes", {"template_id": template["id"], "item_id": world.items["alice"]}
    )
    world.ids["instance_id"] = instance["id"]


async def _notifications(admin: As, world: Tenant, hook_url: str) -> None:
    m = world.marker
    await admin.ok("notifications", "PUT", "/v1/settings", {"stage_change_notifications": True})
    template = await admin.ok(
        "notifications",
        "PUT",
        f"/v1/templates/tpl-{m}",
        {
            "name": f"Greeting {m}",
            "variables": ["name"],
            "variants": {"en": {"subject": f"Hi {m}", "text": "Hello {{ name }} " + m}},
        },
    )
    world.ids["notification_template_id"] = f"tpl-{m}"
    del template
    alice = admin.as_user("alice", REP)
    entry = await alice.ok(
        "notifications",
        "POST",
        "/v1/calendar/entries",
        {
            "title": f"Meeting {m}",
            "kind": "meeting",
            "start": "2030-03-01T10:00:00Z",
            "attendee_ids": ["bob"],
            "reminders": [{"minutes_before": 15}],
        },
    )
    world.ids["entry_id"] = entry["id"]
    feed = await alice.ok("notifications", "POST", "/v1/calendar/feed")
    world.ids["token"] = feed["token"]
    subscription = await admin.ok(
        "notifications", "POST", "/v1/webhooks/subscriptions", {"url": hook_url, "event_types": ["*"]}
    )
    world.ids["subscription_id"] = subscription["id"]
    world.secrets["subscription"] = subscription["secret"]


async def move_every_deal_on(admin: As, world: Tenant) -> None:
    """Moves each deal to "in progress" (a robot makes a task, people are notified, reports count)."""
    for item_id in world.items.values():
        item = await admin.ok("pipelines", "GET", f"/v1/placements/{item_id}")
        await admin.ok(
            "pipelines",
            "POST",
            f"/v1/placements/{item_id}/move",
            {"to_stage_id": world.ids["stage_progress"]},
            headers={"If-Match": f'"{item["version"]}"'},
        )


async def wait_for_the_effects(admin: As, world: Tenant) -> None:
    """Until the moves reached automation (tasks, runs), notifications (inbox) and reporting (funnel)."""
    alice = admin.as_user("alice", REP)

    async def run_id() -> str | None:
        log = await admin.call("automation", "GET", f"/v1/automation-log/{world.items['alice']}")
        runs = log.json().get("runs", []) if log.status_code == 200 else []
        return runs[0]["id"] if runs else None

    world.ids["run_id"] = str(await settle(run_id, lambda r: r is not None))
    tasks = await settle(lambda: alice.ok("automation", "GET", "/v1/tasks/inbox"), lambda t: len(t["items"]) >= 1)
    world.ids["task_id"] = tasks["items"][0]["id"]
    inbox = await settle(lambda: alice.ok("notifications", "GET", "/v1/notifications"), lambda n: len(n["items"]) >= 1)
    world.ids["notification_id"] = inbox["items"][0]["id"]
    funnel = await settle(
        lambda: admin.ok("reporting", "GET", "/v1/reports/funnel", params={"pipeline_id": world.ids["pipeline_id"]}),
        lambda report: sum(row["reached"] for row in report["rows"]) >= 2 * len(world.items),
    )
    assert funnel["rows"], "reporting never saw the tenant's pipeline"
    await asyncio.sleep(0)
