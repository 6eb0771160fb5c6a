"""Save process templates; start instances; run them until people are needed; go on when a task is done.

An instance is loaded, run and saved once per run of steps (never per task), in the transaction of
what made it move; it keeps the template version it started with."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from conveyor_contracts.automation import ProcessFinished, ProcessStarted, ProcessTemplateSaved
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import ANY_VERSION, NO_STREAM, EventStore, NewEvent
from conveyor_timers import Timer, schedule
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState

from automation import follow_ups
from automation.adapters import field_kinds, items, runs, work_calendars
from automation.adapters import processes as rows
from automation.adapters import tasks as task_rows
from automation.adapters.people import resolve
from automation.domain import errors, field_references, parsed_templates, process_events, working_context
from automation.domain import processes as engine
from automation.domain.process_start import StartRule
from automation.domain.robots import Recipient
from automation.domain.service_tasks import service_action
from automation.domain.tasks import due_at
from automation.handlers.actions import ActionContext, NothingToDo, perform
from automation.handlers.tasks import create_task, record_cancellations, role_candidates
from automation.handlers.triggers import fire_process_step_triggers

PROCESS_TIMER = "process"
# An instance that moves on when a task is done or a timer is due: a failed one too, since only the
# failed step waits for its retry and its other branches go on.
MOVING = ("running", "failed")


async def save_template(
    conn: Connection, store: EventStore, *, tenant_id: str, name: str, entity_type_id: str, bpmn: str,
    process_id: str | None, start: StartRule, actor: Actor, now: datetime, template_id: str | None = None,
    expected_version: int | None = None,
) -> rows.TemplateRow:  # fmt: skip
    """A new template, or a new version of one (only if the newest is still ``expected_version``, when given);
    the BPMN must parse and every expression be safe (422)."""
    try:
        engine.check_upload(bpmn)
        called = await called_templates(conn, tenant_id, bpmn)
        parsed = engine.parse_template(bpmn, process_id, {p: t.bpmn for p, t in called.items()})
    except engine.InvalidTemplate as error:
        raise errors.InvalidProcess(str(error)) from None
    await _check_fields_read(conn, tenant_id, entity_type_id, parsed)
    previous = await rows.load_template(conn, tenant_id, template_id) if template_id else None
    if template_id and (previous is None or previous.status == "deleted"):
        raise errors.NotFound(f"no process template {template_id}")
    if previous is not None:
        errors.check_version(f"process template {template_id}", previous.version, expected_version)
    template = rows.TemplateRow(
        template_id=template_id or str(uuid.uuid4()), version=(previous.version if previous else 0) + 1, name=name,
        process_id=parsed.process_id, entity_type_id=entity_type_id, start=start.model_dump(mode="json"), bpmn=bpmn,
        created_at=now, status=previous.status if previous else "enabled",
    )  # fmt: skip
    await rows.insert_template(conn, tenant_id, template)
    saved = ProcessTemplateSaved(
        template_id=template.template_id, version=template.version, name=name, process_id=parsed.process_id,
        entity_type_id=entity_type_id, start=template.start,
    )  # fmt: skip
    await store.append(
        conn, stream_id=f"process-template-{template.template_id}", tenant_id=tenant_id,
        aggregate_type="process_template", expected_version=previous.version if previous else NO_STREAM,
        events=[NewEvent.of(saved)], actor=actor, now=now,
    )  # fmt: skip
    return template


async def _check_fields_read(conn: Connection, tenant_id: str, entity_type_id: str, parsed: engine.Template) -> None:
    """Recipients written in the template must be recipients, and their fields (and addresses' fields) of the
    right kind on the template's type, as for a robot."""
    specs = [
        *parsed.spec.task_specs.values(),
        *(t for s in parsed.subprocess_specs.values() for t in s.task_specs.values()),
    ]
    try:
        uses = field_references.uses_in_process(specs)
    except field_references.InvalidRecipientText as error:
        raise errors.InvalidProcess(str(error)) from None
    if not uses:
        return
    wrong = field_references.misused(uses, await field_kinds.kinds_of_type(conn, tenant_id, entity_type_id))
    if wrong is not None:
        use, found = wrong
        raise errors.InvalidFieldReference(field_references.describe(use, found), field=use.code, parameter=use.where)


async def called_templates(
    conn: Connection, tenant_id: str, bpmn: str, calls: frozenset[str] | None = None
) -> dict[str, rows.TemplateRow]:
    """The tenant's templates that the call activities call, transitively, by process id (newest version
    of each process; an instance then keeps them, as it keeps its own version). A missing one is left
    out, so parsing names it. ``calls``: the processes ``bpmn`` calls, when already known."""
    found: dict[str, rows.TemplateRow] = {}
    wanted = set(engine.called_processes(bpmn) if calls is None else calls)
    while wanted and len(found) < engine.MAX_CALLED_TEMPLATES:
        process_id = wanted.pop()
        other = await rows.latest_template_with_process(conn, tenant_id, process_id)
        if other is not None:
            found[process_id] = other
            wanted |= _calls_of(tenant_id, other) - set(found)
    return found


def _calls_of(tenant_id: str, template: rows.TemplateRow) -> frozenset[str]:
    """The processes a saved version calls: read from its BPMN once (a version never changes)."""
    version = (tenant_id, template.template_id, template.version)
    calls = parsed_templates.CALLS.get(version)
    if calls is None:
        calls = frozenset(engine.called_processes(template.bpmn))
        parsed_templates.CALLS.put(version, calls)
    return calls


async def parsed_template(conn: Connection, tenant_id: str, template: rows.TemplateRow) -> engine.Template:
    """The version parsed with the templates it calls, parsed once per version and called versions
    (``domain.parsed_templates``); a template without call activities costs no query at all."""
    called = await called_templates(conn, tenant_id, template.bpmn, _calls_of(tenant_id, template))
    key: parsed_templates.ParsedKey = (
        (tenant_id, template.template_id, template.version),
        tuple(sorted((process_id, t.template_id, t.version) for process_id, t in called.items())),
    )
    parsed = parsed_templates.PARSED.get(key)
    if parsed is None:
        parsed = engine.parse_template(template.bpmn, template.process_id, {p: t.bpmn for p, t in called.items()})
        parsed_templates.PARSED.put(key, parsed)
    return parsed


async def start_process(
    conn: Connection, store: EventStore, *, tenant_id: str, template_id: str, item_id: str, started_by: str,
    now: datetime, instance_id: str | None = None,
) -> rows.InstanceRow:  # fmt: skip
    template = await rows.load_template(conn, tenant_id, template_id)
    item = await items.load(conn, tenant_id, item_id)
    if template is None or item is None:
        raise errors.NotFound(f"no template {template_id}" if template is None else f"no item {item_id}")
    if template.status != "enabled":  # running instances go on; nothing new starts
        raise errors.TemplateNotStartable(
            f"process template {template_id} is {template.status}", template_status=template.status
        )
    try:
        parsed = await parsed_template(conn, tenant_id, template)
    except engine.InvalidTemplate as error:  # a called template is gone or no longer fits
        raise errors.InvalidProcess(str(error)) from None
    calendar = await work_calendars.calendar_of(conn, tenant_id) if parsed.counts_working_time else None
    with engine.collecting() as calls, working_context.in_effect(calendar, now):
        workflow = engine.new_instance(parsed, {"item": item.view()})
        failure = engine.attempt(workflow, workflow.do_engine_steps)
    instance = rows.InstanceRow(
        instance_id=instance_id or str(uuid.uuid4()), template_id=template_id, template_version=template.version,
        item_id=item_id, status="running", state="", started_at=now, updated_at=now,
    )  # fmt: skip
    started = ProcessStarted(
        instance_id=instance.instance_id, template_id=template_id, template_version=template.version,
        item_id=item_id, started_by=started_by,
    )  # fmt: skip
    await _append(conn, store, tenant_id, instance.instance_id, started, now)
    return await _after_steps(conn, store, tenant_id, instance, workflow, item, now, "started", calls, failure)


async def start_process_asked(conn: Connection, store: EventStore, asked: follow_ups.StartProcess) -> rows.InstanceRow:
    """A robot's ``start_process`` action (through `automation.follow_ups`)."""
    return await start_process(
        conn, store, tenant_id=asked.tenant_id, template_id=asked.template_id, item_id=asked.item_id,
        started_by=asked.started_by, now=asked.now, instance_id=asked.instance_id,
    )  # fmt: skip


async def continue_after_task(
    conn: Connection, store: EventStore, tenant_id: str, task: task_rows.Task, now: datetime
) -> rows.InstanceRow | None:
    """A process's inbox task was completed: complete its user task and run on."""
    if not task.source.startswith("process:") or task.outcome is None:
        return None
    instance_id, _, spiff_task_id = task.task_id.partition(":")
    instance = await rows.load_instance(conn, tenant_id, instance_id, lock=True)
    if instance is None or instance.status not in MOVING:
        return None
    workflow = engine.loads(instance.state)
    calendar = await work_calendars.calendar_if_mentioned(conn, tenant_id, instance.state)
    with engine.collecting() as calls, working_context.in_effect(calendar, now):
        failure = engine.attempt(
            workflow, lambda: engine.complete_user_step(workflow, spiff_task_id, task.outcome or "", task.values or {})
        )
    item = await items.load(conn, tenant_id, instance.item_id)
    assert item is not None
    step = f"{task.title}: {task.outcome}"
    return await _after_steps(conn, store, tenant_id, instance, workflow, item, now, step, calls, failure)


async def wake_process(conn: Connection, store: EventStore, now: datetime, timer: Timer) -> None:
    """The timer handler of kind ``process``: a timer event of a waiting instance is due."""
    tenant_id = timer.tenant_id
    instance = await rows.load_instance(conn, tenant_id, timer.payload["instance_id"], lock=True)
    if instance is None or instance.status not in MOVING:
        return
    workflow = engine.loads(instance.state)
    calendar = await work_calendars.calendar_if_mentioned(conn, tenant_id, instance.state)
    with engine.collecting() as calls, working_context.in_effect(calendar, now):
        failure = engine.attempt(workflow, lambda: engine.wake(workflow))
    item = await items.load(conn, tenant_id, instance.item_id)
    assert item is not None
    step = f"timer: {timer.payload['timer']}"
    await _after_steps(conn, store, tenant_id, instance, workflow, item, now, step, calls, failure)


async def move_instance(
    conn: Connection, store: EventStore, tenant_id: str, instance_id: str, step: str,
    act: Callable[[BpmnWorkflow], int], now: datetime,
) -> int:  # fmt: skip
    """An event delivered to a waiting instance (``domain.process_events``): ``act`` moves its workflow and
    answers how many of its events took it; saved and logged as any run of steps when it did (or failed)."""
    instance = await rows.load_instance(conn, tenant_id, instance_id, lock=True)
    if instance is None or instance.status not in MOVING:
        return 0
    workflow = engine.loads(instance.state)
    taken = [0]
    calendar = await work_calendars.calendar_if_mentioned(conn, tenant_id, instance.state)
    with engine.collecting() as calls, working_context.in_effect(calendar, now):
        failure = engine.attempt(workflow, lambda: taken.__setitem__(0, act(workflow)))
    if not taken[0] and failure is None:
        return 0
    item = await items.load(conn, tenant_id, instance.item_id)
    assert item is not None
    await _after_steps(conn, store, tenant_id, instance, workflow, item, now, step, calls, failure)
    return max(taken[0], 1)


async def retry_process(
    conn: Connection, store: EventStore, *, tenant_id: str, instance_id: str, variables: dict[str, Any],
    now: datetime,
) -> rows.InstanceRow:  # fmt: skip
    """Take a failed instance's failed step again, from the data it had with the item as it is now and
    ``variables`` on top (a service task whose action failed performs it again), then run on as usual."""
    instance = await rows.load_instance(conn, tenant_id, instance_id, lock=True)
    if instance is None:
        raise errors.NotFound(f"no process {instance_id}")
    if instance.status != "failed" or instance.failure is None:
        raise errors.ProcessNotFailed(f"process {instance_id} is {instance.status}, not failed")
    item = await items.load(conn, tenant_id, instance.item_id)
    if item is None:
        raise errors.NotFound(f"no item {instance.item_id}")
    workflow = engine.loads(instance.state)
    failed = instance.failure
    step = f"retry: {failed['step_name']}"
    calendar = await work_calendars.calendar_if_mentioned(conn, tenant_id, instance.state)
    with engine.collecting() as calls, working_context.in_effect(calendar, now):
        failure = engine.attempt(
            workflow, lambda: engine.retry_step(workflow, failed, {"item": item.view(), **variables})
        )
    return await _after_steps(conn, store, tenant_id, instance, workflow, item, now, step, calls, failure, retried=True)


async def _after_steps(
    conn: Connection, store: EventStore, tenant_id: str, instance: rows.InstanceRow, workflow: BpmnWorkflow,
    item: items.ItemCopy, now: datetime, step: str, calls: list[engine.ServiceCall],
    failure: engine.Failure | None, *, retried: bool = False,
) -> rows.InstanceRow:  # fmt: skip
    """Perform the service tasks reached, open inbox tasks for the user steps now waiting, log the
    step, save the instance once. A step that failed (``failure``), or a service task's action that
    fails, makes the instance `failed` with the step and the error until a retry gets past it; the
    branches that did not fail go on meanwhile (their inbox tasks, timers and actions)."""
    actor = Actor("process", instance.instance_id)
    recorded: dict[str, Any] | None = failure.as_json() if failure is not None else None
    for call in calls:
        if recorded is not None and recorded.get("action") and _after(workflow, call.task_id, recorded["task_id"]):
            continue  # comes after the failed action: the retry takes the step again and reaches it anew
        error = await _perform(conn, store, tenant_id, instance, call, item, actor, now)
        if error is not None and recorded is None:
            recorded = {
                "task_id": call.task_id, "step_id": call.step_id, "step_name": call.step_name, "error": error,
                "action": call.operation,
            }  # fmt: skip
    if recorded is None and not retried:
        recorded = instance.failure  # another branch moved on: the failed step still waits for its retry
    if recorded is None and (left := engine.failed_step_left(workflow)) is not None:
        recorded = left.as_json()
    waiting_steps = [
        waiting
        for waiting in engine.waiting_user_steps(workflow)
        # After a failed action the retry takes its step again and reaches these anew.
        if not (recorded and recorded.get("action") and _after(workflow, waiting.spiff_task_id, recorded["task_id"]))
    ]
    for waiting in waiting_steps:
        await _open_task(conn, store, tenant_id, instance, waiting, item, actor, now)
    keep = [f"{instance.instance_id}:{w.spiff_task_id}" for w in waiting_steps]
    # Tasks it no longer waits for (a boundary event took over, or it ended) close, each with an event.
    cause = "process_ended" if workflow.is_completed() else "process_moved_on"
    moot = await task_rows.cancel_open_of_source(
        conn, tenant_id, f"process:{instance.instance_id}", keep, cause=cause, at=now
    )
    await record_cancellations(conn, store, tenant_id, moot, actor, now)
    for name, due in engine.waiting_timers(workflow):
        # SpiffWorkflow fires a timer strictly after its instant: wake the instance a millisecond later.
        await schedule(
            conn, tenant_id, f"process:{tenant_id}:{instance.instance_id}:{due.isoformat()}",
            due + timedelta(milliseconds=1), {"instance_id": instance.instance_id, "timer": name}, kind=PROCESS_TIMER,
            group=f"process:{tenant_id}:{instance.instance_id}",
        )  # fmt: skip
    await fire_process_step_triggers(
        conn, store, tenant_id, item, template_id=instance.template_id, reached=engine.reached_steps(workflow), now=now
    )
    finished = workflow.is_completed() and recorded is None
    status = "failed" if recorded is not None else "completed" if finished else "running"
    thrown = process_events.signals_thrown(workflow)  # marks them sent: before the state is written
    saved = rows.InstanceRow(
        instance_id=instance.instance_id, template_id=instance.template_id,
        template_version=instance.template_version, item_id=instance.item_id, status=status,
        state=engine.dumps(workflow), started_at=instance.started_at, updated_at=now, failure=recorded,
        waiting_for=tuple(process_events.waiting_for(workflow)) if status != "completed" else (),
    )  # fmt: skip
    await rows.save_instance(conn, tenant_id, saved)
    for signal, variables in thrown:  # once saved: an instance the signal moves may signal this one back
        signalled = follow_ups.DeliverEvent(tenant_id, "signal", signal, None, variables, now, instance.instance_id)
        await follow_ups.dispatch(conn, store, signalled)
    detail: dict[str, Any] = {"status": status}
    if recorded is not None:
        detail |= {"step_id": recorded["step_id"], "step_name": recorded["step_name"]}
    await runs.log_finished(
        conn, tenant_id, run_id=str(uuid.uuid4()), item_id=instance.item_id, source_kind="process",
        source_id=instance.instance_id, source_name=step, status="failed" if recorded is not None else "succeeded",
        detail=detail, now=now, error=recorded["error"] if recorded is not None else None,
    )  # fmt: skip
    if finished:
        end = _end_event(workflow)
        done = ProcessFinished(
            instance_id=instance.instance_id, template_id=instance.template_id, item_id=instance.item_id, end_event=end
        )
        await _append(conn, store, tenant_id, instance.instance_id, done, now)
    return saved


def _after(workflow: BpmnWorkflow, task_id: str, failed_task_id: str) -> bool:
    """Whether the task comes after the failed one on its branch (a descendant of it)."""
    try:
        task, failed = (workflow.get_task_from_id(uuid.UUID(t)) for t in (task_id, failed_task_id))
    except (TaskNotFoundException, ValueError):  # gone with a retry, or never an engine task
        return False
    return bool(task.is_descendant_of(failed))


def _end_event(workflow: BpmnWorkflow) -> str | None:
    ends = [
        t.task_spec.bpmn_id
        for t in workflow.get_tasks(state=TaskState.COMPLETED)
        if type(t.task_spec).__name__ == "EndEvent" and t.workflow is workflow
    ]
    return ends[-1] if ends else None


async def _open_task(
    conn: Connection, store: EventStore, tenant_id: str, instance: rows.InstanceRow, waiting: engine.UserStep,
    item: items.ItemCopy, actor: Actor, now: datetime,
) -> None:  # fmt: skip
    recipient = Recipient.model_validate(waiting.assignee)
    calendar = (
        await work_calendars.calendar_of(conn, tenant_id, generation=item.config_generation)
        if waiting.due_in_working_time
        else None
    )
    if recipient.kind == "role" and recipient.id:
        user_id, role, candidates = None, recipient.id, await role_candidates(conn, tenant_id, recipient.id, now)
    else:
        users = await resolve(conn, tenant_id, [recipient], item, now)
        user_id, role, candidates = (users[0] if users else None), None, users[:1]
    task = task_rows.Task(
        task_id=f"{instance.instance_id}:{waiting.spiff_task_id}", item_id=instance.item_id, title=waiting.title,
        description=None, assignee_user_id=user_id, assignee_role=role, candidate_user_ids=candidates,
        form=waiting.form, outcomes=waiting.outcomes,
        due_at=due_at(now, waiting.due_in_seconds, calendar),
        status="open", outcome=None, values=None, completed_by=None, completed_at=None,
        source=f"process:{instance.instance_id}", created_at=now, version=1,
    )  # fmt: skip
    await create_task(conn, store, tenant_id, task, actor)


async def _append(
    conn: Connection, store: EventStore, tenant_id: str, instance_id: str, event: Any, now: datetime
) -> None:
    await store.append(
        conn, stream_id=f"process-{instance_id}", tenant_id=tenant_id, aggregate_type="process",
        expected_version=ANY_VERSION, events=[NewEvent.of(event)], actor=Actor("process", instance_id), now=now,
    )  # fmt: skip


async def start_processes_on(
    conn: Connection, store: EventStore, *, tenant_id: str, item: items.ItemCopy, before: dict[str, Any] | None,
    event_id: str, now: datetime,
) -> None:  # fmt: skip
    """Start every template of the item's type whose rule fires: on create (``before`` is None), or on a
    change that made its condition hold."""
    if item.entity_type_id is None:
        return
    templates = await rows.latest_templates_of_type(
        conn, tenant_id, item.entity_type_id, generation=item.config_generation
    )
    for template in templates:
        rule = StartRule.model_validate(template.start)
        calendar = await work_calendars.calendar_if_mentioned(
            conn, tenant_id, json.dumps(template.start), generation=item.config_generation
        )
        with working_context.in_effect(calendar, now):
            fires = rule.fires(before, item.view())
        if not fires:
            continue
        instance_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}|{template.template_id}|{event_id}"))
        if await rows.load_instance(conn, tenant_id, instance_id) is None:
            try:
                async with conn.transaction():
                    await start_process(
                        conn, store, tenant_id=tenant_id, template_id=template.template_id, item_id=item.item_id,
                        started_by=f"system:{rule.mode}", now=now, instance_id=instance_id,
                    )  # fmt: skip
            except errors.InvalidProcess as error:  # a called template gone: the item's event is still applied
                await runs.log_finished(
                    conn, tenant_id, run_id=instance_id, item_id=item.item_id, source_kind="process",
                    source_id=template.template_id, source_name=f"start: {template.name}", status="failed",
                    detail={"template_id": template.template_id}, now=now, error=str(error),
                )  # fmt: skip


async def _perform(
    conn: Connection, store: EventStore, tenant_id: str, instance: rows.InstanceRow, call: engine.ServiceCall,
    item: items.ItemCopy, actor: Actor, now: datetime,
) -> str | None:  # fmt: skip
    """One service task: our action, keyed by the instance and the task (a loop's rounds are distinct)."""
    key = f"{instance.instance_id}:{call.task_id}"
    context = ActionContext(conn, store, tenant_id, item, key, actor, now, variables=call.data)
    outcome, detail, error = "succeeded", {}, None
    try:
        async with conn.transaction():
            detail = await perform(service_action(call.operation, call.params), context)
    except NothingToDo as reason:
        outcome, detail = "skipped", {"reason": str(reason)}
    except Exception as failure:  # the instance fails at this step (the caller records it), retryable
        outcome, error = "failed", f"{type(failure).__name__}: {failure}"
    await runs.open_run(
        conn, tenant_id, run_id=key, item_id=instance.item_id, source_kind="process", source_id=instance.instance_id,
        source_name=f"action: {call.operation}", visit_id=None, status="running", due_at=now, now=now,
    )  # fmt: skip
    await runs.finish(conn, tenant_id, key, status=outcome, now=now, error=error, detail=detail)
    return error
