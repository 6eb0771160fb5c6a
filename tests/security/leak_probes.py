"""Every operation of every service, classified by what another tenant's admin must get from it.

The walk in test_security_tenant_leaks.py takes the operations from the services' OpenAPI
documents and fails on any that is not classified here, so a new endpoint cannot go unwalked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

Ids = Mapping[str, str]


class Expect(Enum):
    GONE = "404: the other tenant's id does not exist for the caller"
    BLIND = "any answer below 500 that shows nothing of the other tenant (lists, the caller's own namespace)"
    REFUSED = "403, 404 or 422: a change naming the other tenant's things is refused"
    CREDENTIAL = "404 with a wrong secret in the URL (the URL is the credential; no token is asked)"
    STREAM = "walked by the live-stream test"
    PUBLIC = "nothing of any tenant (health, the caller's own identity)"


@dataclass(frozen=True)
class Probe:
    expect: Expect
    body: Callable[[Ids], Any] | None = None
    query: Callable[[Ids], dict[str, str]] | None = None
    headers: Mapping[str, str] | None = None
    # The item id in the path is subject to the access rule (scope own / department / all).
    item_scoped: bool = False
    # A list that shows items, so a narrower scope must not show items it may not read.
    lists_items: bool = False


GONE, BLIND, REFUSED = Expect.GONE, Expect.BLIND, Expect.REFUSED
V1 = {"If-Match": '"1"'}
NAME = lambda ids: {"name": "outsider"}  # noqa: E731


def _item_query(ids: Ids) -> dict[str, str]:
    return {"entity_type_id": ids["type_id"]}


def _pipeline_query(ids: Ids) -> dict[str, str]:
    return {"pipeline_id": ids["pipeline_id"]}


PROBES: dict[str, Probe] = {
    # --- everyone's
    "entities GET /health/live": Probe(Expect.PUBLIC),
    "entities GET /health/ready": Probe(Expect.PUBLIC),
    "entities GET /v1/whoami": Probe(Expect.PUBLIC),
    # --- entities: directory (user, department and role names repeat across tenants on purpose)
    "entities GET /v1/directory/users": Probe(BLIND),
    "entities POST /v1/directory/users": Probe(BLIND, lambda ids: {"id": "erin", "name": "Erin"}),
    "entities GET /v1/directory/users/{user_id}": Probe(GONE),
    "entities PATCH /v1/directory/users/{user_id}": Probe(GONE, NAME),
    "entities POST /v1/directory/users/{user_id}/deactivate": Probe(GONE),
    "entities GET /v1/directory/departments": Probe(BLIND),
    "entities GET /v1/directory/department-tree": Probe(BLIND),
    "entities POST /v1/directory/departments": Probe(BLIND, lambda ids: {"id": "hq", "name": "HQ"}),
    "entities PATCH /v1/directory/departments/{department_id}": Probe(GONE, NAME),
    "entities DELETE /v1/directory/departments/{department_id}": Probe(GONE),
    "entities GET /v1/directory/absences": Probe(BLIND, query=lambda ids: {"user_id": "alice"}),
    "entities POST /v1/directory/absences": Probe(
        BLIND, lambda ids: {"user_id": "alice", "starts_at": "2031-01-01T00:00:00Z", "ends_at": "2031-01-02T00:00:00Z"}
    ),
    "entities POST /v1/directory/absences/{absence_id}/cancel": Probe(GONE),
    "entities GET /v1/directory/roles/{role}/grants": Probe(BLIND),
    "entities PUT /v1/directory/roles/{role}/grants": Probe(BLIND, lambda ids: {"grants": []}),
    # --- entities: types, fields, dictionaries
    "entities POST /v1/entity-types": Probe(BLIND, lambda ids: {"code": "outsider", "name": "Outsider"}),
    "entities GET /v1/entity-types": Probe(BLIND),
    "entities GET /v1/entity-types/{type_id}": Probe(GONE),
    "entities PATCH /v1/entity-types/{type_id}": Probe(GONE, NAME, headers=V1),
    "entities POST /v1/entity-types/{type_id}/archive": Probe(GONE, headers=V1),
    "entities POST /v1/entity-types/{type_id}/fields": Probe(
        GONE, lambda ids: {"code": "spy", "label": "Spy", "kind": "string"}
    ),
    "entities PATCH /v1/entity-types/{type_id}/fields/{field_id}": Probe(
        GONE, lambda ids: {"label": "Spy"}, headers=V1
    ),
    "entities DELETE /v1/entity-types/{type_id}/fields/{field_id}": Probe(GONE, headers=V1),
    "entities POST /v1/entity-types/{type_id}/fields/{field_id}/restore": Probe(GONE, headers=V1),
    "entities GET /v1/dictionaries": Probe(BLIND),
    "entities POST /v1/dictionaries": Probe(BLIND, lambda ids: {"code": "spy", "name": "Spy", "options": []}),
    "entities GET /v1/dictionaries/{dictionary_id}": Probe(GONE),
    "entities PATCH /v1/dictionaries/{dictionary_id}": Probe(GONE, NAME, headers=V1),
    # --- entities: items
    "entities GET /v1/items": Probe(BLIND, query=_item_query, lists_items=True),
    "entities POST /v1/items": Probe(REFUSED, lambda ids: {"entity_type_id": ids["type_id"], "title": "Spy"}),
    "entities POST /v1/items/search": Probe(BLIND, lambda ids: {"entity_type_id": ids["type_id"]}, lists_items=True),
    "entities GET /v1/items/{item_id}": Probe(GONE, item_scoped=True),
    "entities PATCH /v1/items/{item_id}": Probe(GONE, lambda ids: {"title": "Spy"}, headers=V1, item_scoped=True),
    "entities DELETE /v1/items/{item_id}": Probe(GONE, headers=V1, item_scoped=True),
    "entities POST /v1/items/{item_id}/restore": Probe(GONE, headers=V1, item_scoped=True),
    "entities POST /v1/items/{item_id}/purge": Probe(GONE, headers=V1, item_scoped=True),
    "entities GET /v1/items/{item_id}/timeline": Probe(GONE, item_scoped=True),
    "entities GET /v1/items/{item_id}/fields/{field_id}/history": Probe(GONE, item_scoped=True),
    # --- entities: relations, roll-ups, catalogue
    "entities POST /v1/relations": Probe(
        REFUSED,
        lambda ids: {
            "code": "spy",
            "name": "Spy",
            "parent_entity_type_id": ids["type_id"],
            "child_entity_type_id": ids["line_type_id"],
            "cardinality": "one_to_many",
        },
    ),
    "entities GET /v1/relations": Probe(BLIND, query=_item_query),
    "entities POST /v1/relations/{relation_id}/links": Probe(
        GONE, lambda ids: {"parent_item_id": ids["item_id"], "child_item_id": ids["child_item_id"]}
    ),
    "entities DELETE /v1/relations/{relation_id}/links/{parent_item_id}/{child_item_id}": Probe(GONE),
    "entities GET /v1/items/{item_id}/links/{relation_id}": Probe(GONE, item_scoped=True),
    "entities GET /v1/rollup-rules": Probe(BLIND),
    "entities POST /v1/rollup-rules": Probe(
        REFUSED,
        lambda ids: {
            "relation_id": ids["relation_id"],
            "parent_field": "amount",
            "aggregate": "count",
            "child_fields": [],
        },
    ),
    "entities POST /v1/products": Probe(
        BLIND, lambda ids: {"name": "Spy", "sku": "SPY", "base_price": "1", "currency": "EUR"}
    ),
    "entities GET /v1/products": Probe(BLIND),
    "entities GET /v1/products/{product_id}": Probe(GONE),
    "entities PATCH /v1/products/{product_id}": Probe(GONE, NAME, headers=V1),
    "entities GET /v1/products/{product_id}/items": Probe(GONE, lists_items=True),
    "entities PUT /v1/items/{item_id}/product": Probe(GONE, lambda ids: {"product_id": None}, item_scoped=True),
    "entities GET /v1/items/{item_id}/product": Probe(GONE, item_scoped=True),
    # --- entities: import and export
    "entities POST /v1/imports/files": Probe(BLIND),  # an upload of the caller's own (the walk sends a small CSV)
    "entities POST /v1/imports/dry-run": Probe(
        REFUSED,
        lambda ids: {"file_id": ids["file_id"], "entity_type_id": ids["type_id"], "mapping": {"Title": "title"}},
    ),
    "entities POST /v1/imports": Probe(
        REFUSED,
        lambda ids: {"file_id": ids["file_id"], "entity_type_id": ids["type_id"], "mapping": {"Title": "title"}},
        headers={"Idempotency-Key": "outsider-import"},
    ),
    "entities GET /v1/imports/{job_id}": Probe(GONE),
    "entities GET /v1/imports/{job_id}/progress": Probe(GONE),
    "entities GET /v1/exports/items.csv": Probe(BLIND, query=_item_query, lists_items=True),
    # The workbook's rows are the CSV's (one page reader, one read rule), walked above; its zip would
    # hide a leaked text from a search of the answer, so it is only walked as another tenant's caller.
    "entities GET /v1/exports/items.xlsx": Probe(BLIND, query=_item_query),
    "entities POST /v1/exports/items": Probe(BLIND, lambda ids: {"entity_type_id": ids["type_id"]}, lists_items=True),
    # --- pipelines
    "pipelines GET /health/live": Probe(Expect.PUBLIC),
    "pipelines GET /health/ready": Probe(Expect.PUBLIC),
    "pipelines GET /v1/whoami": Probe(Expect.PUBLIC),
    # A type the caller's tenant does not have is unknown to it: 404 `unknown-entity-type`.
    "pipelines GET /v1/pipelines": Probe(GONE, query=_item_query),
    "pipelines POST /v1/pipelines": Probe(REFUSED, lambda ids: {"entity_type_id": ids["type_id"], "name": "Spy"}),
    "pipelines GET /v1/pipelines/{pipeline_id}": Probe(GONE),
    "pipelines PATCH /v1/pipelines/{pipeline_id}": Probe(GONE, NAME),
    "pipelines POST /v1/pipelines/{pipeline_id}/stages": Probe(GONE, NAME),
    "pipelines PATCH /v1/pipelines/{pipeline_id}/stages/{stage_id}": Probe(GONE, NAME),
    "pipelines DELETE /v1/pipelines/{pipeline_id}/stages/{stage_id}": Probe(GONE),
    "pipelines PUT /v1/pipelines/{pipeline_id}/stage-order": Probe(GONE, lambda ids: {"stage_ids": [ids["stage_id"]]}),
    "pipelines GET /v1/pipelines/{pipeline_id}/board": Probe(GONE, lists_items=True),
    "pipelines GET /v1/pipelines/{pipeline_id}/board/columns/{stage_id}": Probe(GONE, lists_items=True),
    "pipelines GET /v1/placements/{item_id}": Probe(GONE, item_scoped=True),
    "pipelines POST /v1/placements/{item_id}/move": Probe(
        GONE, lambda ids: {"to_stage_id": ids["stage_id"]}, headers=V1, item_scoped=True
    ),
    "pipelines GET /v1/placements/{item_id}/stage-history": Probe(GONE, item_scoped=True),
    "pipelines GET /v1/tunnels": Probe(GONE, query=_item_query),
    "pipelines POST /v1/tunnels": Probe(
        REFUSED, lambda ids: {"from_stage_id": ids["stage_id"], "to_stage_id": ids["stage_won"], "action": "move"}
    ),
    "pipelines DELETE /v1/tunnels/{tunnel_id}": Probe(GONE),
    # --- automation
    "automation GET /health/live": Probe(Expect.PUBLIC),
    "automation GET /health/ready": Probe(Expect.PUBLIC),
    "automation GET /v1/whoami": Probe(Expect.PUBLIC),
    "automation GET /v1/robots": Probe(BLIND, query=_pipeline_query),
    # A robot or trigger of the caller's tenant on any pipeline id runs only on its own tenant's items.
    "automation POST /v1/robots": Probe(
        BLIND,
        lambda ids: {
            "pipeline_id": ids["pipeline_id"],
            "stage_id": ids["stage_id"],
            "name": "Spy",
            "action": {"type": "wait"},
        },
    ),
    "automation GET /v1/robots/{robot_id}": Probe(GONE),
    "automation PUT /v1/robots/{robot_id}": Probe(
        GONE,
        lambda ids: {
            "pipeline_id": ids["pipeline_id"],
            "stage_id": ids["stage_id"],
            "name": "Spy",
            "action": {"type": "wait"},
        },
        headers=V1,
    ),
    "automation DELETE /v1/robots/{robot_id}": Probe(GONE, headers=V1),
    "automation GET /v1/triggers": Probe(BLIND, query=_pipeline_query),
    "automation POST /v1/triggers": Probe(
        BLIND,
        lambda ids: {"pipeline_id": ids["pipeline_id"], "stage_id": ids["stage_id"], "name": "Spy", "kind": "webhook"},
    ),
    "automation GET /v1/triggers/{trigger_id}": Probe(GONE),
    "automation PUT /v1/triggers/{trigger_id}": Probe(
        GONE,
        lambda ids: {"pipeline_id": ids["pipeline_id"], "stage_id": ids["stage_id"], "name": "Spy", "kind": "webhook"},
        headers=V1,
    ),
    "automation DELETE /v1/triggers/{trigger_id}": Probe(GONE, headers=V1),
    "automation POST /v1/hooks/{trigger_id}/{secret}": Probe(
        Expect.CREDENTIAL, lambda ids: {"item_id": ids["item_id"]}
    ),
    "automation GET /v1/automation-log/{item_id}": Probe(GONE, item_scoped=True),
    "automation POST /v1/automation-log/{item_id}/runs/{run_id}/retry": Probe(GONE),
    # The tenant's own work calendar: an outsider reads and writes their own, never this tenant's.
    "automation GET /v1/work-calendar": Probe(BLIND),
    "automation PUT /v1/work-calendar": Probe(BLIND, lambda ids: {}, headers={"If-Match": '"0"'}),
    "automation GET /v1/tasks": Probe(BLIND),
    "automation GET /v1/tasks/inbox": Probe(BLIND),
    "automation GET /v1/tasks/{task_id}": Probe(GONE),
    "automation POST /v1/tasks/{task_id}/complete": Probe(GONE, lambda ids: {"outcome": "done", "values": {}}),
    "automation POST /v1/tasks/{task_id}/delegate": Probe(GONE, lambda ids: {"to_user_id": "bob"}),
    "automation POST /v1/tasks/{task_id}/cancel": Probe(GONE, lambda ids: {"reason": "outsider"}),
    "automation GET /v1/process-templates": Probe(BLIND),
    "automation POST /v1/process-templates": Probe(BLIND),  # the walk sends a template of the caller's own
    "automation PUT /v1/process-templates/{template_id}": Probe(GONE, headers=V1),
    "automation GET /v1/process-templates/{template_id}": Probe(GONE),
    "automation GET /v1/process-templates/{template_id}/bpmn": Probe(GONE),
    "automation POST /v1/process-templates/{template_id}/disable": Probe(GONE, headers=V1),
    "automation POST /v1/process-templates/{template_id}/enable": Probe(GONE, headers=V1),
    "automation DELETE /v1/process-templates/{template_id}": Probe(GONE, headers=V1),
    "automation POST /v1/processes": Probe(
        REFUSED, lambda ids: {"template_id": ids["process_template_id"], "item_id": ids["item_id"]}
    ),
    "automation GET /v1/processes/{instance_id}": Probe(GONE),
    "automation POST /v1/processes/{instance_id}/retry": Probe(GONE, lambda ids: {"variables": {}}),
    "automation GET /v1/processes": Probe(GONE, item_scoped=True, query=lambda ids: {"item_id": ids["item_id"]}),
    "automation POST /v1/processes/messages": Probe(
        GONE, lambda ids: {"name": "outsider", "item_id": ids["item_id"]}, item_scoped=True
    ),
    # A signal goes to the caller's own tenant's processes only (the walk then finds the other's unchanged).
    "automation POST /v1/processes/signals": Probe(BLIND, lambda ids: {"name": "outsider"}),
    # --- notifications
    "notifications GET /health/live": Probe(Expect.PUBLIC),
    "notifications GET /health/ready": Probe(Expect.PUBLIC),
    "notifications GET /v1/whoami": Probe(Expect.PUBLIC),
    "notifications GET /v1/notifications": Probe(BLIND),
    "notifications GET /v1/notifications/unread-count": Probe(BLIND),
    "notifications POST /v1/notifications/read": Probe(BLIND, lambda ids: {"ids": [ids["notification_id"]]}),
    "notifications GET /v1/notifications/stream": Probe(Expect.STREAM),
    "notifications GET /v1/notifications/{notification_id}": Probe(GONE),
    "notifications POST /v1/calendar/entries": Probe(
        BLIND, lambda ids: {"title": "Spy", "kind": "call", "start": "2030-03-01T10:00:00Z"}
    ),
    "notifications GET /v1/calendar/entries": Probe(
        BLIND, query=lambda ids: {"from": "2030-01-01T00:00:00Z", "to": "2031-01-01T00:00:00Z"}
    ),
    "notifications GET /v1/calendar/entries/{entry_id}": Probe(GONE),
    "notifications PATCH /v1/calendar/entries/{entry_id}": Probe(GONE, lambda ids: {"title": "Spy"}, headers=V1),
    "notifications POST /v1/calendar/entries/{entry_id}/cancel": Probe(GONE, headers=V1),
    "notifications POST /v1/calendar/feed": Probe(BLIND),
    "notifications DELETE /v1/calendar/feed": Probe(BLIND),
    "notifications GET /v1/calendar/feeds/{token}.ics": Probe(Expect.CREDENTIAL),
    "notifications HEAD /v1/calendar/feeds/{token}.ics": Probe(Expect.CREDENTIAL),
    # Template ids are the tenant's own names: a PUT with another tenant's id makes the caller's own.
    "notifications PUT /v1/templates/{template_id}": Probe(
        BLIND, lambda ids: {"name": "Spy", "variables": [], "variants": {"en": {"subject": "s", "text": "t"}}}
    ),
    "notifications GET /v1/templates/{template_id}": Probe(GONE),
    "notifications GET /v1/templates": Probe(BLIND),
    "notifications POST /v1/templates/{template_id}/preview": Probe(GONE, lambda ids: {"variables": {}}),
    "notifications GET /v1/webhooks/subscriptions": Probe(BLIND),
    "notifications POST /v1/webhooks/subscriptions": Probe(BLIND),  # the walk subscribes the outsider's receiver
    "notifications POST /v1/webhooks/subscriptions/{subscription_id}/enable": Probe(GONE),
    "notifications DELETE /v1/webhooks/subscriptions/{subscription_id}": Probe(GONE),
    "notifications GET /v1/webhooks/deliveries": Probe(
        BLIND, query=lambda ids: {"subscription_id": ids["subscription_id"]}
    ),
    "notifications GET /v1/preferences": Probe(BLIND),
    "notifications PUT /v1/preferences": Probe(BLIND, lambda ids: {"language": "en", "channels": {}}),
    "notifications GET /v1/settings": Probe(BLIND),
    "notifications PUT /v1/settings": Probe(BLIND, lambda ids: {"stage_change_notifications": False}),
    # --- reporting
    "reporting GET /health/live": Probe(Expect.PUBLIC),
    "reporting GET /health/ready": Probe(Expect.PUBLIC),
    "reporting GET /v1/whoami": Probe(Expect.PUBLIC),
    "reporting GET /v1/reports/funnel": Probe(BLIND, query=_pipeline_query, lists_items=True),
    "reporting GET /v1/reports/stage-time": Probe(BLIND, query=_pipeline_query, lists_items=True),
    "reporting GET /v1/reports/forgotten": Probe(
        BLIND, query=lambda ids: {"pipeline_id": ids["pipeline_id"], "days": "1"}, lists_items=True
    ),
    # By entity type: another tenant's type is unknown to the caller's (404 `unknown-entity-type`).
    "reporting GET /v1/reports/throughput": Probe(GONE, query=_item_query, lists_items=True),
    "reporting GET /v1/reports/products": Probe(GONE, query=_item_query, lists_items=True),
    "reporting GET /v1/reports/registry": Probe(
        GONE, query=lambda ids: {"entity_type_id": ids["type_id"], "field": "kind"}, lists_items=True
    ),
    "reporting GET /v1/reports/process-steps": Probe(GONE, query=_item_query, lists_items=True),
    "reporting GET /v1/reports/field-time": Probe(
        GONE, query=lambda ids: {"entity_type_id": ids["type_id"], "field": "kind"}, lists_items=True
    ),
    # The same handlers under their first, deprecated paths.
    "reporting GET /v1/analytics/process-steps": Probe(GONE, query=_item_query, lists_items=True),
    "reporting GET /v1/analytics/field-time": Probe(
        GONE, query=lambda ids: {"entity_type_id": ids["type_id"], "field": "kind"}, lists_items=True
    ),
    # Keyed by (tenant, stage): a stage the projections have not seen yet may be given its department
    # ahead (the pipeline's events are still on their way), so an unknown id lands in the caller's tenant.
    "reporting PUT /v1/stage-departments/{stage_id}": Probe(BLIND, lambda ids: {"department": "Spies"}),
    "reporting GET /v1/stage-departments": Probe(BLIND),
    "reporting POST /v1/rebuild": Probe(BLIND),
}
