"""Business processes on SpiffWorkflow: BPMN 2.0 templates, a script engine that cannot reach the host,
user tasks described by ``spiffworkflow:properties``, one serialisation per run of steps."""

from __future__ import annotations

import ast
import functools
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from automation.domain import expressions, process_clock, process_state, working_context  # noqa: F401 (timers read the service clock)
from automation.domain.robots import parse_recipient
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
        try:
            return expressions.evaluate(expression, {**(external_context or {}), **task.data})
        except expressions.UnsafeExpression as error:
            raise WorkflowTaskException(f"expression refused: {error}", task=task) from None

    def execute(self, task: Any, script: str, external_context: dict[str, Any] | None = None) -> bool:
        for name, value in _script(script):
            task.data[name] = expressions.evaluate(value, {**(external_context or {}), **task.data})
        return True

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        """A service task is one of our actions: noted here, performed after the run of steps."""
        calls = _requested.get()
        if calls is None:
            raise WorkflowTaskException("service tasks run only inside a run of steps", task=task)
        params = {name: param["value"] for name, param in (kwargs.get("operation_params") or {}).items()}
        calls.append(ServiceCall(str(task.id), kwargs["operation_name"], params, dict(task.data)))
        return "{}"


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """A service task reached in a run of steps: our action ``operation`` with evaluated ``params``."""

    task_id: str
    operation: str
    params: dict[str, Any]
    data: dict[str, Any]


_requested: ContextVar[list[ServiceCall] | None] = ContextVar("service_calls", default=None)


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


def parse_template(bpmn: str, process_id: str | None = None, called: Mapping[str, str] | None = None) -> Template:
    """Parse BPMN 2.0 XML; check every condition and script with the safe engine. ``called`` holds the
    BPMN of other templates whose processes the call activities call, by process id."""
    if len(bpmn.encode()) > MAX_BPMN_BYTES:
        raise InvalidTemplate("a BPMN file is at most 2 MB")
    parser = SpiffBpmnParser()
    try:
        parser.add_bpmn_str(bpmn.encode())
        ids = parser.get_process_ids()
        chosen = process_id or (ids[0] if ids else None)
        for other in (called or {}).values():
            parser.add_bpmn_str(other.encode())
        if chosen is None:
            raise InvalidTemplate("the file has no executable process")
        spec = parser.get_spec(chosen)
        subprocesses = parser.get_subprocess_specs(chosen)
    except InvalidTemplate:
        raise
    except Exception as error:
        raise InvalidTemplate(f"{type(error).__name__}: {error}") from None
    for task_spec in [*spec.task_specs.values(), *(t for s in subprocesses.values() for t in s.task_specs.values())]:
        _check_task_spec(task_spec)
    counts_working_time = working_context.mentions_working_time(bpmn, *(called or {}).values())
    return Template(
        process_id=chosen, spec=spec, subprocess_specs=subprocesses, counts_working_time=counts_working_time
    )


def _check_task_spec(task_spec: Any) -> None:
    try:
        for condition, _target in getattr(task_spec, "cond_task_specs", []) or []:
            source = getattr(condition, "args", [None])[0] if condition is not None else None
            if isinstance(source, str):
                expressions.parse(source)
        timer = getattr(getattr(task_spec, "event_definition", None), "expression", None)
        if isinstance(timer, str):
            expressions.parse(timer)
        script = getattr(task_spec, "script", None)
        if isinstance(script, str):
            _assignments(script)
        operation = getattr(task_spec, "operation_name", None)
        if operation is not None:
            if operation not in SERVICE_ACTIONS:
                raise InvalidTemplate(f"{task_spec.bpmn_name or task_spec.name}: no action {operation!r}")
            for param in (getattr(task_spec, "operation_params", None) or {}).values():
                expressions.parse(param["value"])
    except expressions.UnsafeExpression as error:
        raise InvalidTemplate(f"{task_spec.bpmn_name or task_spec.name}: {error}") from None


def start(template: Template, variables: dict[str, Any]) -> BpmnWorkflow:
    workflow = BpmnWorkflow(template.spec, template.subprocess_specs, script_engine=ENGINE)
    workflow.data.update(variables)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(variables)
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
    steps = []
    for task in workflow.get_tasks(state=TaskState.READY, manual=True):
        props: dict[str, str] = (getattr(task.task_spec, "extensions", None) or {}).get("properties", {})
        steps.append(
            UserStep(
                spiff_task_id=str(task.id),
                title=task.task_spec.bpmn_name or task.task_spec.name,
                assignee=parse_recipient(props.get("assignee", "assignee")),
                form=[_field(item) for item in _items(props.get("form", ""))],
                outcomes=[_outcome(item) for item in _items(props.get("outcomes", "done:Done"))],
                due_in_seconds=int(props["due_in_seconds"]) if props.get("due_in_seconds") else None,
                due_in_working_time=props.get("due_in_working_time", "").strip().lower() in ("true", "1", "yes"),
            )
        )
    return steps


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
    for event in workflow.waiting_events():
        if event.event_type.startswith(("TimeDate", "DurationTimer", "CycleTimer")) and isinstance(event.value, str):
            instant = datetime.fromisoformat(event.value)
            due.append((event.name or event.event_type, instant if instant.tzinfo else instant.replace(tzinfo=UTC)))
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
