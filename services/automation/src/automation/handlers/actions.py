"""The action library: what a robot does, as commands to the service that owns the data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from conveyor_access.directory import head_of_department_of
from conveyor_contracts import entities, notifications, pipelines
from conveyor_kit.api_models import utc_z
from conveyor_messaging.actor import Actor
from conveyor_messaging.contracts import EventContract
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import EventStore

from automation import follow_ups
from automation.adapters import people, work_calendars
from automation.adapters import tasks as task_rows
from automation.adapters.items import STANDARD_KEYS, ItemCopy
from automation.adapters.outbox import send_command
from automation.adapters.runs import AWAITS_DELIVERY
from automation.domain import robots as spec
from automation.domain import templates
from automation.domain.tasks import due_at
from automation.handlers.tasks import create_task, role_candidates

TOP_LEVEL_KEYS = frozenset({"title", "assignee_id", "observer_ids", *STANDARD_KEYS})


class NothingToDo(Exception):
    """The action has nobody or nothing to act on (e.g. no recipients): the run is skipped, not failed."""


@dataclass(frozen=True, slots=True)
class ActionContext:
    conn: Connection
    store: EventStore
    tenant_id: str
    item: ItemCopy
    run_id: str
    actor: Actor
    now: datetime
    variables: dict[str, Any] | None = None  # a process's variables, seen by templates as `vars`

    async def send(self, command: EventContract) -> bool:
        return await send_command(
            self.conn, self.store, self.tenant_id, command, key=self.run_id, actor=self.actor, now=self.now
        )

    async def users(self, recipients: list[spec.Recipient]) -> list[str]:
        return await people.resolve(self.conn, self.tenant_id, recipients, self.item, self.now)

    async def render(self, source: str) -> str:
        context = await template_context(self.conn, self.tenant_id, self.item)
        return templates.render(source, {**context, "vars": self.variables or {}})

    def item_ref(self) -> notifications.ItemRef:
        return notifications.ItemRef(item_id=self.item.item_id, entity_type_id=self.item.entity_type_id)


async def template_context(conn: Connection, tenant_id: str, item: ItemCopy) -> dict[str, Any]:
    """The item, its people and (for processes) their variables: all a template can see."""
    assignee = await people.person(conn, tenant_id, item.assignee_id)
    head_id = await head_of_department_of(conn, tenant_id, item.assignee_id) if item.assignee_id else None
    observers = [await people.person(conn, tenant_id, user_id) for user_id in item.observer_ids]
    return {
        "item": item.view(),
        "assignee": assignee,
        "head": await people.person(conn, tenant_id, head_id),
        "observers": observers,
        "vars": {},
    }


async def perform(action: spec.Action, ctx: ActionContext) -> dict[str, Any]:
    """Run one action; returns what the run log shows about it."""
    match action:
        case spec.Wait():
            return {}
        case spec.SetFields(fields=values):
            changes = _changes(values)
            await ctx.send(
                entities.UpdateItemFields(idempotency_key=ctx.run_id, item_id=ctx.item.item_id, changes=changes)
            )
            return {"changes": changes}
        case spec.MoveToStage(stage_id=stage_id):
            await ctx.send(
                pipelines.MoveItem(idempotency_key=ctx.run_id, item_id=ctx.item.item_id, to_stage_id=stage_id)
            )
            return {"to_stage_id": stage_id}
        case spec.ChangeAssignee(to=recipient):
            users = await ctx.users([recipient])
            if not users:
                raise NothingToDo(f"nobody to assign for {recipient.kind}")
            changes = {"assignee_id": users[0]}
            await ctx.send(
                entities.UpdateItemFields(idempotency_key=ctx.run_id, item_id=ctx.item.item_id, changes=changes)
            )
            return {"assignee_id": users[0]}
        case spec.CreateItem():
            return await _create_item(action, ctx)
        case spec.CreateTask():
            return await _create_task(action, ctx)
        case spec.Notify(recipients=recipients, title=title, body=body, kind=kind):
            users = await ctx.users(recipients)
            if not users:
                raise NothingToDo("nobody to notify")
            text = await ctx.render(body)
            heading = await ctx.render(title) if title else text.split("\n", 1)[0][:120]
            await ctx.send(
                notifications.Notify(
                    idempotency_key=ctx.run_id, recipient_ids=users, kind=kind, title=heading, body=text,
                    item=ctx.item_ref(),
                )
            )  # fmt: skip
            return {"recipient_ids": users, "kind": kind, "body": text}
        case spec.SendEmail(recipients=recipients, addresses=addresses, subject=subject, body=body):
            users = await ctx.users(recipients)
            to_addresses = _addresses(addresses, ctx.item)
            if not users and not to_addresses:
                raise NothingToDo("nobody to write to")
            email = notifications.SendEmail(
                idempotency_key=ctx.run_id, to_user_ids=users, to_addresses=to_addresses,
                subject=await ctx.render(subject), body_text=await ctx.render(body), item=ctx.item_ref(),
            )  # fmt: skip
            queued = await ctx.send(email)
            # Sent is not delivered: the notifications service tells how the mail ended (EmailSent/EmailFailed).
            done = {"to_user_ids": users, "to_addresses": to_addresses, "subject": email.subject}
            return {**done, **AWAITS_DELIVERY} if queued else done
        case spec.CreateCalendarEntry():
            return await _create_calendar_entry(action, ctx)
        case spec.StartProcess(template_id=template_id):
            start = follow_ups.StartProcess(
                tenant_id=ctx.tenant_id, template_id=template_id, item_id=ctx.item.item_id, started_by=str(ctx.actor),
                now=ctx.now, instance_id=str(uuid.uuid5(uuid.NAMESPACE_URL, ctx.run_id)),
            )  # fmt: skip
            instance = await follow_ups.dispatch(ctx.conn, ctx.store, start)
            return {"instance_id": instance.instance_id, "template_version": instance.template_version}
        case spec.CallWebhook(url=url, payload=payload):
            sent = {"item": ctx.item.view(), **payload}
            called = await ctx.send(notifications.CallWebhook(idempotency_key=ctx.run_id, url=url, payload=sent))
            return {"url": url, **AWAITS_DELIVERY} if called else {"url": url}
    raise TypeError(f"unknown action {action!r}")


def _addresses(addresses: list[str], item: ItemCopy) -> list[str]:
    """The addresses as written, with each ``field:<code>`` replaced by what the item's e-mail field holds."""
    found: list[str] = []
    for address in addresses:
        code = address.removeprefix("field:")
        taken = spec.address_in(item.fields.get(code), code) if code != address else spec.literal(address)
        found += [a for a in taken if a not in found]
    return found


def _changes(values: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {key: value for key, value in values.items() if key in TOP_LEVEL_KEYS}
    custom = {key.removeprefix("fields."): value for key, value in values.items() if key not in TOP_LEVEL_KEYS}
    if custom:
        changes["fields"] = custom
    return changes


async def _create_item(action: spec.CreateItem, ctx: ActionContext) -> dict[str, Any]:
    fields = dict(action.fields)
    if action.link_field:
        fields[action.link_field] = ctx.item.item_id
    assignees = await ctx.users([action.assignee]) if action.assignee else [ctx.item.assignee_id]
    command = entities.CreateItem(
        idempotency_key=ctx.run_id,
        entity_type_id=action.entity_type_id,
        title=await ctx.render(action.title),
        assignee_id=assignees[0] if assignees else None,
        fields=fields,
    )
    await ctx.send(command)
    return {"entity_type_id": action.entity_type_id, "title": command.title}


async def _create_calendar_entry(action: spec.CreateCalendarEntry, ctx: ActionContext) -> dict[str, Any]:
    start = action.start or (
        spec.parse_instant(ctx.item.view().get(action.start_field)) if action.start_field else ctx.now
    )
    if start is None:
        raise NothingToDo(f"{action.start_field} is empty")
    attendees = await ctx.users(action.attendees)
    reminders = (
        [notifications.ReminderSpec(minutes_before=action.remind_minutes_before)]
        if action.remind_minutes_before is not None
        else []
    )
    entry = notifications.CreateCalendarEntry(
        idempotency_key=ctx.run_id,
        entry_id=ctx.run_id,
        kind=action.kind,
        title=await ctx.render(action.title),
        description=await ctx.render(action.description) if action.description else None,
        start=start,
        end=start + timedelta(minutes=action.duration_minutes),
        organizer_id=ctx.item.assignee_id,
        attendee_ids=attendees,
        item=ctx.item_ref(),
        reminders=reminders,
    )
    await ctx.send(entry)
    return {"entry_id": ctx.run_id, "title": entry.title, "start": utc_z(start)}


async def _create_task(action: spec.CreateTask, ctx: ActionContext) -> dict[str, Any]:
    role = action.assignee.id if action.assignee.kind == "role" else None
    if role is not None:
        user_id, candidates = None, await role_candidates(ctx.conn, ctx.tenant_id, role, ctx.now)
    else:
        users = await ctx.users([action.assignee])
        if not users:
            raise NothingToDo(f"nobody to give the task to ({action.assignee.kind})")
        user_id, candidates = users[0], [users[0]]
    calendar = (
        await work_calendars.calendar_of(ctx.conn, ctx.tenant_id, generation=ctx.item.config_generation)
        if action.due_in_working_time
        else None
    )
    task = task_rows.Task(
        task_id=ctx.run_id, item_id=ctx.item.item_id, title=await ctx.render(action.title),
        description=await ctx.render(action.description) if action.description else None,
        assignee_user_id=user_id, assignee_role=role, candidate_user_ids=candidates, form=action.form,
        outcomes=action.outcomes, due_at=due_at(ctx.now, action.due_in_seconds, calendar),
        status="open", outcome=None, values=None, completed_by=None, completed_at=None, source=str(ctx.actor),
        created_at=ctx.now, version=1,
    )  # fmt: skip
    await create_task(ctx.conn, ctx.store, ctx.tenant_id, task, ctx.actor)
    return {"task_id": task.task_id, "assignee_user_id": user_id, "assignee_role": role, "candidates": candidates}
