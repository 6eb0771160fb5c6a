"""Disable, enable and delete process templates. Running instances go on (they keep their version);
a template that is not enabled starts nothing new, by hand, by its start rule or by a robot."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from conveyor_contracts.automation import ProcessTemplateDeleted, ProcessTemplateDisabled, ProcessTemplateEnabled
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import ANY_VERSION, EventStore, NewEvent

from automation.adapters import processes as rows
from automation.domain import errors

EVENTS = {"disabled": ProcessTemplateDisabled, "enabled": ProcessTemplateEnabled, "deleted": ProcessTemplateDeleted}


async def set_template_status(
    conn: Connection, store: EventStore, *, tenant_id: str, template_id: str, status: str, expected_version: int,
    actor: Actor, now: datetime,
) -> rows.TemplateRow:  # fmt: skip
    """Put the template (every version) in ``status`` if its newest version is still ``expected_version``
    (If-Match, as for an upload); a deleted template is not found."""
    template = await live_template(conn, tenant_id, template_id)
    errors.check_version(f"process template {template_id}", template.version, expected_version)
    if template.status != status:
        await rows.set_status(conn, tenant_id, template_id, status)
        # Its own stream: the template's stream counts its versions (an upload expects the newest).
        await store.append(
            conn, stream_id=f"process-template-status-{template_id}", tenant_id=tenant_id,
            aggregate_type="process_template", expected_version=ANY_VERSION,
            events=[NewEvent.of(EVENTS[status](template_id=template_id, version=template.version))], actor=actor,
            now=now,
        )  # fmt: skip
    return dataclasses.replace(template, status=status)


async def live_template(
    conn: Connection, tenant_id: str, template_id: str, version: int | None = None
) -> rows.TemplateRow:
    """The template's newest version (or ``version``), unless it was deleted."""
    template = await rows.load_template(conn, tenant_id, template_id, version)
    if template is None or template.status == "deleted":
        raise errors.NotFound(f"no process template {template_id}")
    return template
