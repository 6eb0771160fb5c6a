"""Business processes on SpiffWorkflow: BPMN 2.0 templates, a script engine that cannot reach the host,
user tasks described by ``spiffworkflow:properties``, one serialisation per run of steps."""

from __future__ import annotations

import ast
import functools
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from automation.domain import (  # noqa: F401 (process_clock: timers read the service clock)
    bpmn_checks,
    expressions,
    flow_checks,
    iso_timers,
    process_clock,
    process_events,
    process_state,
    service_tasks,
    unsupported_elements,
    working_context,
)
from automation.domain.robots import Recipient, parse_recipient
from automation.domain.tasks import FormField, Outcome

# SpiffWorkflow logs every task's state change at INFO: a line per task per step, which our run log
# already says better; its warnings and errors still pass.
logging.getLogger("spiff").setLevel(logging.WARNING)

MAX_BPMN_BYTES = 2_000_000
MAX_CALLED_TEMPLATES = 20
# Actions a service task may name (``spiffworkflow:serviceTaskOperator id="notify"``).
SERVICE_ACTIONS = frozenset(
    {"set_fields", "move_to_stage", "change_assignee", "create_item", "notify", "send_email", "create_calendar_entry",
     "call_webhook"}
)  # fmt: skip


class InvalidTemplate(ValueError):
    """The BPMN cannot be used: not parseable, no executable process, or an unsafe expression."""


class SafeScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """Gateways, conditions and scripts in our expression language (``domain.expressions``), never eval/exec.

    A script is lines of ``name = expression``: it can set process variables and nothing else."""

    def validate(self, expression: str) -> None:
        expressions.parse(expression)

    def evaluate(self, task: Any, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        _evaluating.set(task)
        try:
            return expressions.evaluate(expression, {**(external_context or {}), **task.data})
        except expressions.UnsafeExpression as error:
            raise WorkflowTaskException(f"expression refused: {error}", task=task) from None

    def execute(self, task: Any, script: str, external_context: dict[str, Any] | None = None) -> bool:
        _evaluating.set(task)
        for name, value in _script(script):
            task.data[name] = _plain(expressions.evaluate(value, {**(external_context or {}), **task.data}))
        return True

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        """A service task is one of our actions: noted here, performed after the run of steps."""
        calls = _requested.get()
        if calls is None:
            raise WorkflowTaskException("service tasks run only inside a run of steps", task=task)
        params = {name: param["value"] for name, param in (kwargs.get("operation_params") or {}).items()}
        try:  # parameters the action refuses fail the step here, before anything after it runs
            service_tasks.service_action(kwargs["operation_name"], params)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in error.errors())
            raise WorkflowTaskException(
                f"{kwargs['operation_name']} refused its parameters: {problems}", task=task
            ) from None
        step_id = task.task_spec.bpmn_id or task.task_spec.name
        step = (step_id, task.task_spec.bpmn_name or step_id)
        calls.append(ServiceCall(str(task.id), kwargs["operation_name"], params, dict(task.data), *step))
        return "{}"


def _plain(value: Any) -> Any:
    """A script's value as the instance's state can hold it (JSON): the language computes in ``Decimal``,
    which the state's serialiser refuses (a script computing a number failed every save)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """A service task reached in a run of steps: our action ``operation`` with evaluated ``params``."""

    task_id: str
    operation: str
    params: dict[str, Any]
    data: dict[str, Any]
    step_id: str = ""  # the service task's BPMN id and name, for the run log and a failure
    step_name: str = ""


_requested: ContextVar[list[ServiceCall] | None] = ContextVar("service_calls", default=None)
# The task whose expression or script the engine evaluated last: SpiffWorkflow raises some errors (a timer
# whose expression gave nothing) without naming the task, and a failure must name its step.
_evaluating: ContextVar[Any] = ContextVar("evaluating", default=None)


@dataclass(frozen=True, slots=True)
class Failure:
    """A step the engine could not take: a modelling or business error (an unset variable, a gateway
    without a true branch, a script or timer expression that fails), at a BPMN element."""

    task_id: str  # the engine's task, where a retry starts again
    step_id: str  # the BPMN element's id
    step_name: str
    error: str

    def as_json(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "step_id": self.step_id, "step_name": self.step_name, "error": self.error}


def attempt(workflow: BpmnWorkflow, steps: Callable[[], None]) -> Failure | None:
    """Run ``steps`` on the workflow; a step that raises becomes a ``Failure`` naming it, and the workflow
    stays as far as it got (the failed task waits for a retry)."""
    token = _evaluating.set(None)
    try:
        steps()
    except Exception as error:  # whatever a model makes the engine raise is the model's failure, not ours
        task = _failed_task(workflow, error)
        spec = task.task_spec if task is not None else None
        step_id = (getattr(spec, "bpmn_id", None) or getattr(spec, "name", None) or "") if spec else ""
        step_name = (getattr(spec, "bpmn_name", None) or step_id) if spec else ""
        message = str(error).strip() or type(error).__name__
        return Failure(
            str(task.id) if task is not None else "", step_id, step_name, f"{type(error).__name__}: {message}"
        )
    finally:
        _evaluating.reset(token)
    return None


def failed_step_left(workflow: BpmnWorkflow) -> Failure | None:
    """A step still in error once another failure was retried (two branches failed apart): the instance
    stays failed at it, so that no failed step is forgotten."""
    errored = workflow.get_tasks(state=TaskState.ERROR)
    if not errored:
        return None
    spec = errored[0].task_spec
    step_id = getattr(spec, "bpmn_id", None) or spec.name
    error = "failed in another run of steps; retry it to take it again"
    return Failure(str(errored[0].id), step_id, getattr(spec, "bpmn_name", None) or step_id, error)


def _failed_task(workflow: BpmnWorkflow, error: Exception) -> Any:
    errored = workflow.get_tasks(state=TaskState.ERROR)
    if errored:
        return errored[-1]
    return getattr(error, "task", None) or _evaluating.get()


def retry_step(workflow: BpmnWorkflow, failure: Mapping[str, Any], variables: dict[str, Any]) -> None:
    """Take the failed step again, from its parent's data with ``variables`` on top (the item as it is now,
    values given with the retry), then run on."""
    if not failure["task_id"]:  # the engine named no task: run on from where it stopped
        workflow.do_engine_steps()
        return
    task = workflow.get_task_from_id(uuid.UUID(failure["task_id"]))
    # On the parent too: a gateway (a join) takes its data from the tasks before it again.
    task.parent.data.update(variables)
    task.reset_branch(None)
    workflow.do_engine_steps()


@contextmanager
def collecting() -> Iterator[list[ServiceCall]]:
    """Collect the service tasks the engine reaches inside the block (each run of steps)."""
    calls: list[ServiceCall] = []
    token = _requested.set(calls)
    try:
        yield calls
    finally:
        _requested.reset(token)


@functools.lru_cache(maxsize=1024)
def _script(script: str) -> tuple[tuple[str, ast.Expression], ...]:
    """``_assignments``, once per script text: a script task runs it on every pass (the trees are only read)."""
    return tuple(_assignments(script))


def _assignments(script: str) -> list[tuple[str, ast.Expression]]:
    try:
        module = ast.parse(script or "", mode="exec")
    except SyntaxError as error:
        raise expressions.UnsafeExpression(f"not a script: {error.msg}") from None
    assignments = []
    for statement in module.body:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and not statement.targets[0].id.startswith("_")
        ):
            raise expressions.UnsafeExpression("a script is lines of `name = expression`")
        tree = expressions.parse(ast.unparse(statement.value))
        assignments.append((statement.targets[0].id, tree))
    return assignments


ENGINE = SafeScriptEngine()


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: its executable process and every expression already checked."""

    process_id: str
    spec: Any
    subprocess_specs: dict[str, Any]
    # Whether it or a template it calls counts working time: a start loads the tenant's calendar then.
    counts_working_time: bool = False


def called_processes(bpmn: str) -> set[str]:
    """Processes the file's call activities call that it does not define (other templates' processes)."""
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_str(bpmn.encode())
    except Exception as error:
        raise InvalidTemplate(f"{type(error).__name__}: {error}") from None
    return {name for name in parser.get_process_dependencies() if name} - set(parser.get_process_ids())


def check_upload(bpmn: str) -> None:
    """What only an upload checks, on the uploaded file alone: the BPMN 2.0 schema (a saved version that
    passed before this check keeps starting)."""
    try:
        root = bpmn_checks.xml_of(bpmn)
        bpmn_checks.check_schema(root)
        unsupported_elements.refuse_unsupported(root)
    except bpmn_checks.Refused as error:
        raise InvalidTemplate(str(error)) from None


def parse_template(bpmn: str, process_id: str | None = None, called: Mapping[str, str] | None = None) -> Template:
    """Parse BPMN 2.0 XML; check every condition and script with the safe engine. ``called`` holds the
    BPMN of other templates whose processes the call activities call, by process id."""
    if len(bpmn.encode()) > MAX_BPMN_BYTES:
        raise InvalidTemplate("a BPMN file is at most 2 MB")
    parser = SpiffBpmnParser()
    camunda: dict[str, dict[str, Any]] = {}
    root = None
    try:
        root = bpmn_checks.xml_of(bpmn)
        camunda |= bpmn_checks.camunda_user_tasks(root)
        parser.add_bpmn_xml(root)
        ids = parser.get_process_ids()
        chosen = process_id or (ids[0] if ids else None)
        for other in (called or {}).values():
            other_root = bpmn_checks.xml_of(other)
            camunda |= bpmn_checks.camunda_user_tasks(other_root)
            parser.add_bpmn_xml(other_root)
        if chosen is None:
            raise InvalidTemplate("the file has no executable process")
        spec = parser.get_spec(chosen)
        subprocesses = parser.get_subprocess_specs(chosen)
    except InvalidTemplate:
        raise
    except bpmn_checks.Refused as error:
        raise InvalidTemplate(str(error)) from None
    except Exception as error:
        raise InvalidTemplate(bpmn_checks.naming_the_call(root, _parse_error(error))) from None
    _refuse_call_cycles(chosen, {**subprocesses, chosen: spec})
    for each in (spec, *subprocesses.values()):
        if (cycle := flow_checks.loop_without_gateway(each)) is not None:
            raise InvalidTemplate(flow_checks.describe(cycle))
    for task_spec in [*spec.task_specs.values(), *(t for s in subprocesses.values() for t in s.task_specs.values())]:
        if getattr(task_spec, "bpmn_id", None) in camunda:
            _take_camunda(task_spec, camunda[task_spec.bpmn_id])
        iso_timers.quote_iso_literal(task_spec)
        _check_task_spec(task_spec)
        if (undeliverable := process_events.problem(task_spec)) is not None:
            raise InvalidTemplate(undeliverable)
    counts_working_time = working_context.mentions_working_time(bpmn, *(called or {}).values())
    return Template(
        process_id=chosen, spec=spec, subprocess_specs=subprocesses, counts_working_time=counts_working_time
    )


def _refuse_call_cycles(chosen: str, specs: Mapping[str, Any]) -> None:
    """A process that calls itself, directly or through others, would start sub-processes without end
    (an instance that never finishes a step): refused, naming the call activity that closes the circle."""
    calls = {
        name: [(t, t.spec) for t in process.task_specs.values() if isinstance(getattr(t, "spec", None), str)]
        for name, process in specs.items()
    }
    path: list[str] = []
    seen: set[str] = set()  # processes whose calls were all followed without meeting a circle

    def visit(process: str) -> None:
        if process in seen:
            return
        path.append(process)
        for task_spec, called in calls.get(process, []):
            if called in path:
                circle = " → ".join([*path[path.index(called) :], called])
                raise InvalidTemplate(
                    f"{_step(task_spec)}: calls {called!r} again ({circle}): a process cannot call itself"
                )
            visit(called)
        path.pop()
        seen.add(process)

    visit(chosen)


def _parse_error(error: Exception) -> str:
    """SpiffWorkflow's parse error, naming the element it was at when it says which."""
    message = f"{type(error).__name__}: {str(error).strip()}"
    element = getattr(error, "id", "") or ""
    if element:
        name = getattr(error, "name", "") or ""
        return f"{getattr(error, 'tag', '') or 'element'} {element!r}{f' ({name})' if name else ''}: {message}"
    return message


def _take_camunda(task_spec: Any, mapped: dict[str, Any]) -> None:
    """A user task's Camunda assignee and form as our properties (``spiffworkflow:properties`` win)."""
    extensions = task_spec.extensions if isinstance(getattr(task_spec, "extensions", None), dict) else {}
    properties = extensions.setdefault("properties", {})
    if "assignee" in mapped:
        properties.setdefault("assignee", mapped["assignee"])
    if "form_fields" in mapped and "form" not in properties:
        extensions["form_fields"] = mapped["form_fields"]
    task_spec.extensions = extensions


def _check_task_spec(task_spec: Any) -> None:
    try:
        for condition, _target in getattr(task_spec, "cond_task_specs", []) or []:
            source = getattr(condition, "args", [None])[0] if condition is not None else None
            if isinstance(source, str):
                expressions.parse(source)
        timer = getattr(getattr(task_spec, "event_definition", None), "expression", None)
        if isinstance(timer, str):
            expressions.parse(timer)
        # A script task's script, and the pre- and post-scripts any task may carry (spiffworkflow:preScript).
        for script in (getattr(task_spec, key, None) for key in ("script", "prescript", "postscript")):
            if isinstance(script, str):
                _assignments(script)
        operation = getattr(task_spec, "operation_name", None)
        if operation is not None:
            if operation not in SERVICE_ACTIONS:
                raise InvalidTemplate(f"{_step(task_spec)}: no action {operation!r}")
            for param in (getattr(task_spec, "operation_params", None) or {}).values():
                expressions.parse(param["value"])
        if getattr(task_spec, "manual", False):  # a user task: its properties must make an inbox task
            _user_step(task_spec, "")
    except expressions.UnsafeExpression as error:
        raise InvalidTemplate(f"{_step(task_spec)}: {error}") from None
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in error.errors())
        raise InvalidTemplate(f"{_step(task_spec)}: spiffworkflow:properties refused: {problems}") from None
    except ValueError as error:
        raise InvalidTemplate(f"{_step(task_spec)}: spiffworkflow:properties refused: {error}") from None


def _step(task_spec: Any) -> str:
    """A task spec as an upload's refusal names it: its BPMN id, and its name when it has one."""
    step_id = getattr(task_spec, "bpmn_id", None) or task_spec.name
    name = getattr(task_spec, "bpmn_name", None)
    return f"{step_id!r} ({name})" if name and name != step_id else repr(step_id)


def new_instance(template: Template, variables: dict[str, Any]) -> BpmnWorkflow:
    """An instance of the template with its variables, before its first step."""
    workflow = BpmnWorkflow(template.spec, template.subprocess_specs, script_engine=ENGINE)
    workflow.data.update(variables)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(variables)
    return workflow


def start(template: Template, variables: dict[str, Any]) -> BpmnWorkflow:
    """A new instance run until people are needed (a failing step raises: ``attempt`` records it instead)."""
    workflow = new_instance(template, variables)
    workflow.do_engine_steps()
    return workflow


def dumps(workflow: BpmnWorkflow) -> str:
    """The instance's state (``process_state``: its definition once, by hash, and its tasks)."""
    return process_state.dumps(workflow)


def loads(text: str) -> BpmnWorkflow:
    workflow = process_state.loads(text)
    workflow.script_engine = ENGINE
    return workflow


@dataclass(frozen=True, slots=True)
class UserStep:
    """A user task waiting for someone, as the inbox shows it."""

    spiff_task_id: str
    title: str
    assignee: dict[str, Any]
    form: list[FormField]
    outcomes: list[Outcome]
    due_in_seconds: int | None
    due_in_working_time: bool = False  # ``due_in_seconds`` counts the tenant's working time only


def waiting_user_steps(workflow: BpmnWorkflow) -> list[UserStep]:
    """Ready user tasks. ``spiffworkflow:properties`` describe them: ``assignee`` (a recipient as text:
    ``role:manager``, ``user:u-1``, ``assignee``, ``creator``, ``field:<code>``, ``head_of:<recipient>``),
    ``outcomes`` (``id:Label,…``; an outcome may require fields: ``meeting:Meeting set:meeting_at``), ``form``
    (``code:kind:Label,…``), ``due_in_seconds``, ``due_in_working_time`` (``true``: the seconds are working
    seconds of the tenant's work calendar)."""
    return [_user_step(task.task_spec, str(task.id)) for task in workflow.get_tasks(state=TaskState.READY, manual=True)]


def _user_step(task_spec: Any, spiff_task_id: str) -> UserStep:
    extensions: dict[str, Any] = getattr(task_spec, "extensions", None) or {}
    props: dict[str, str] = extensions.get("properties", {})
    assignee = parse_recipient(props.get("assignee", "assignee"))
    try:
        Recipient.model_validate(assignee)  # a kind the inbox cannot resolve is the model's mistake
    except ValidationError:
        raise ValueError(f"assignee: {props.get('assignee')!r} is no recipient") from None
    return UserStep(
        spiff_task_id=spiff_task_id,
        title=task_spec.bpmn_name or task_spec.name,
        assignee=assignee,
        form=[FormField.model_validate(f) for f in extensions.get("form_fields", [])]
        or [_field(item) for item in _items(props.get("form", ""))],
        outcomes=[_outcome(item) for item in _items(props.get("outcomes", "done:Done"))],
        due_in_seconds=int(props["due_in_seconds"]) if props.get("due_in_seconds") else None,
        due_in_working_time=props.get("due_in_working_time", "").strip().lower() in ("true", "1", "yes"),
    )


def _items(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _field(item: str) -> FormField:
    code, _, rest = item.partition(":")
    kind, _, label = rest.partition(":")
    return FormField.model_validate({"code": code, "kind": kind or "string", "label": label or code})


def _outcome(item: str) -> Outcome:
    ident, _, rest = item.partition(":")
    label, _, requires = rest.partition(":")
    return Outcome(id=ident, label=label or ident, requires=[r for r in requires.split("+") if r])


def complete_user_step(workflow: BpmnWorkflow, spiff_task_id: str, outcome: str, values: dict[str, Any]) -> None:
    """Complete a waiting user task with its outcome and values, then run until people are needed again."""
    task = next(t for t in workflow.get_tasks(state=TaskState.READY, manual=True) if str(t.id) == spiff_task_id)
    task.data.update(values)
    task.data["outcome"] = outcome
    task.run()
    workflow.do_engine_steps()


def waiting_timers(workflow: BpmnWorkflow) -> list[tuple[str, datetime]]:
    """Timer events the instance waits for: (name, due instant), for the durable timers to wake it."""
    due = []
    timers = [
        (event.name or event.event_type, event.value)
        for event in workflow.waiting_events()
        if event.event_type.startswith(("TimeDate", "DurationTimer", "CycleTimer")) and isinstance(event.value, str)
    ]
    for name, value in [*timers, *process_events.gateway_timers(workflow)]:
        instant = datetime.fromisoformat(value)
        due.append((name, instant if instant.tzinfo else instant.replace(tzinfo=UTC)))
    return due


def reached_steps(workflow: BpmnWorkflow) -> list[tuple[str, str, str]]:
    """Tasks and events the instance has reached (ready, waiting or done), sub-processes included:
    ``(task id, BPMN id, name)``, for the process-step triggers."""
    reached = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.COMPLETED
    found = []
    for task in workflow.get_tasks(state=reached):
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if bpmn_id:
            found.append((str(task.id), bpmn_id, task.task_spec.bpmn_name or bpmn_id))
    return found


def wake(workflow: BpmnWorkflow) -> None:
    """A timer is due: let waiting timer events fire and run on."""
    workflow.refresh_timers()
    workflow.do_engine_steps()
