"""Robots: what runs when an item enters a stage, when, and under which condition."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from conveyor_contracts.notifications import CalendarEntryKind
from conveyor_kit.api_models import Timestamp
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from automation.domain import templates
from automation.domain.conditions import Condition
from automation.domain.tasks import DEFAULT_OUTCOMES, FormField, Outcome
from automation.domain.work_calendar import WorkCalendar
from automation.domain.working_time import add_working_time


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Recipient(_Spec):
    """Who an action is for: a user, everyone holding a role, the item's assignee, creator or observers,
    the user(s) in a user field of the item (``field``, ``id``: its code), or the head of another
    recipient's department (``head_of`` with ``of``; ``head_of_assignee`` is ``head_of`` the assignee).
    Absent users are replaced by their substitutes when it runs. Also written as text:
    ``creator``, ``role:manager``, ``field:approver``, ``head_of:field:approver``."""

    kind: Literal["user", "role", "assignee", "creator", "observers", "field", "head_of", "head_of_assignee"]
    id: str | None = Field(default=None, min_length=1, max_length=200)
    of: Recipient | None = Field(default=None, description="head_of: whose head.")

    @model_validator(mode="before")
    @classmethod
    def _written_as_text(cls, value: Any) -> Any:
        return parse_recipient(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _complete(self) -> Recipient:
        # user and role without an id were accepted before (they reach nobody): robots stored so must still read.
        if self.kind == "field" and not self.id:
            raise ValueError("a field recipient needs the field's code (field:<code>)")
        if self.kind == "head_of" and self.of is None:
            raise ValueError("a head_of recipient needs whose head: head_of:<recipient>")
        if self.kind != "head_of" and self.of is not None:
            raise ValueError(f"only head_of takes of, not {self.kind}")
        return self

    def field_codes(self) -> set[str]:
        """The codes of the item's user fields this recipient reads."""
        if self.kind == "field" and self.id:
            return {self.id}
        return self.of.field_codes() if self.of is not None else set()


def parse_recipient(text: str) -> dict[str, Any]:
    """``kind[:id]`` as a recipient's fields; ``head_of:`` takes a whole recipient after it."""
    kind, _, rest = text.strip().partition(":")
    if kind == "head_of":
        return {"kind": kind, "of": parse_recipient(rest) if rest else None}
    return {"kind": kind, **({"id": rest} if rest else {})}


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# `{{ item.contact_email }}` (or `{{ item.fields.contact_email }}`), how an address from a field is written in
# templates: the same as `field:contact_email`, and stored so.
FIELD_AS_TEMPLATE = re.compile(r"^\{\{\s*item\.(?:fields\.)?([a-z][a-z0-9_]*)\s*\}\}$")


def field_address(value: str) -> str:
    """An address as stored: a field written as a template becomes ``field:<code>``; anything else as is."""
    written = FIELD_AS_TEMPLATE.match(value.strip())
    return f"field:{written.group(1)}" if written else value


def address_problem(value: str) -> str | None:
    """What is wrong with an address written in an action (None: nothing): an e-mail address, or
    ``field:<code>`` for the address held in an e-mail field of the item. Checked when a robot is saved, not
    when one is read, so robots saved before the check still read (their runs fail, naming it)."""
    code = value.strip().removeprefix("field:")
    if code != value.strip():
        return None if code else "field: needs the code of an e-mail field"
    if "{{" in value:
        return f"{value!r}: an address is written as is, or as field:<code> for the item's e-mail field"
    return None if EMAIL.match(value.strip()) else f"{value!r} is not an e-mail address"


Address = Annotated[str, Field(min_length=1, max_length=320)]


def _template(source: str) -> str:
    try:
        return templates.check(source)
    except templates.UnsafeTemplate as error:
        raise ValueError(str(error)) from None


Template = Annotated[str, Field(max_length=templates.MAX_LENGTH)]


class _Templated(_Spec):
    @field_validator("*", mode="after")
    @classmethod
    def _templates_are_safe(cls, value: Any, info: Any) -> Any:
        if info.field_name in cls._templated_fields() and isinstance(value, str):
            return _template(value)
        return value

    @classmethod
    def _templated_fields(cls) -> frozenset[str]:
        return frozenset({"title", "body", "subject", "description"})


class SetFields(_Spec):
    type: Literal["set_fields"]
    fields: dict[str, Any] = Field(min_length=1)  # by field code; standard keys (title, amount...) too


class MoveToStage(_Spec):
    type: Literal["move_to_stage"]
    stage_id: str = Field(min_length=1)


class ChangeAssignee(_Spec):
    type: Literal["change_assignee"]
    to: Recipient


class CreateItem(_Templated):
    type: Literal["create_item"]
    entity_type_id: str = Field(min_length=1)
    title: Template
    fields: dict[str, Any] = Field(default_factory=dict)
    link_field: str | None = None  # a link field of the new item that points back at this one
    assignee: Recipient | None = None


class Notify(_Templated):
    type: Literal["notify"]
    recipients: list[Recipient] = Field(min_length=1, max_length=50)
    kind: str = Field(
        default="robot", pattern=r"^[a-z][a-z0-9_]{0,49}$",
        description="What the notice is about (e.g. sla_breach): users route each kind to their channels.",
    )  # fmt: skip
    title: Template | None = None
    body: Template


class SendEmail(_Templated):
    type: Literal["send_email"]
    recipients: list[Recipient] = Field(default_factory=list, max_length=50)
    addresses: list[Address] = Field(default_factory=list, max_length=50)  # or field:<code> (an e-mail field)
    subject: Template
    body: Template

    @field_validator("addresses")
    @classmethod
    def _fields_as_field_addresses(cls, addresses: list[str]) -> list[str]:
        return [field_address(a) for a in addresses]


class CreateCalendarEntry(_Templated):
    type: Literal["create_calendar_entry"]
    kind: CalendarEntryKind = "meeting"  # a call shows as a call in the calendar and its reminder
    title: Template
    description: Template | None = None
    start_field: str | None = None  # a date field of the item; none: when the robot runs
    start: Timestamp | None = None  # a fixed start (a process passes its variables' dates here); kept in UTC
    duration_minutes: int = Field(default=30, ge=1, le=60 * 24)
    attendees: list[Recipient] = Field(default_factory=lambda: [Recipient(kind="assignee")], max_length=50)
    remind_minutes_before: int | None = Field(default=None, ge=0, le=60 * 24 * 14)


class CallWebhook(_Spec):
    type: Literal["call_webhook"]
    url: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")
    payload: dict[str, Any] = Field(default_factory=dict)


class CreateTask(_Templated):
    """A task in the inbox of a user, of a role's holders, or of the assignee's head."""

    type: Literal["create_task"]
    title: Template
    description: Template | None = None
    assignee: Recipient = Recipient(kind="assignee")
    form: list[FormField] = Field(default_factory=list, max_length=50)
    outcomes: list[Outcome] = Field(default_factory=lambda: list(DEFAULT_OUTCOMES), min_length=1, max_length=10)
    due_in_seconds: int | None = Field(default=None, ge=0)
    due_in_working_time: bool = Field(
        default=False, description="due_in_seconds counts the tenant's working time only (nights, weekends skipped)."
    )


class StartProcess(_Spec):
    """Start a business process template on the item."""

    type: Literal["start_process"]
    template_id: str = Field(min_length=1)


class Wait(_Spec):
    """Does nothing; with a delay it holds back the robots that wait for it."""

    type: Literal["wait"]


Action = Annotated[
    SetFields
    | MoveToStage
    | ChangeAssignee
    | CreateItem
    | CreateTask
    | Notify
    | SendEmail
    | CreateCalendarEntry
    | CallWebhook
    | StartProcess
    | Wait,
    Field(discriminator="type"),
]


def recipients_of(action: Action) -> dict[str, list[Recipient]]:
    """The action's recipients by the parameter that holds them."""
    match action:
        case Notify() | SendEmail():
            return {"recipients": action.recipients}
        case ChangeAssignee():
            return {"to": [action.to]}
        case CreateItem():
            return {"assignee": [action.assignee] if action.assignee else []}
        case CreateTask():
            return {"assignee": [action.assignee]}
        case CreateCalendarEntry():
            return {"attendees": action.attendees}
    return {}


def fields_read(action: Action) -> list[tuple[str, str, str]]:
    """The item's fields the action takes people or addresses from: (parameter, field code, the field kind
    it needs), ``user`` for a ``field:<code>`` recipient, ``email`` for a ``field:<code>`` address."""
    found = [
        (parameter, code, "user")
        for parameter, recipients in recipients_of(action).items()
        for recipient in recipients
        for code in sorted(recipient.field_codes())
    ]
    if isinstance(action, SendEmail):
        found += [("addresses", a.removeprefix("field:"), "email") for a in action.addresses if a.startswith("field:")]
    return found


def address_in(value: Any, code: str) -> list[str]:
    """The addresses an e-mail field holds (one, or a list); an empty or malformed value is refused, naming
    the field, so the run fails visibly instead of mailing nobody."""
    values = value if isinstance(value, list) else [value]
    addresses = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    if not addresses:
        raise NoAddress(f"the e-mail field {code!r} of the item is empty")
    for address in addresses:
        if not EMAIL.match(address):
            raise NoAddress(f"the e-mail field {code!r} holds {address!r}, which is not an e-mail address")
    return addresses


def literal(address: str) -> list[str]:
    """An address written in the robot, checked again when it runs (a robot saved before the check)."""
    if not EMAIL.match(address.strip()):
        raise NoAddress(f"{address!r} is not an e-mail address")
    return [address.strip()]


class NoAddress(ValueError):
    """An address taken from the item's field is missing or malformed when the action runs."""


class Timing(_Spec):
    """When a robot runs after the item enters its stage.

    ``at_once``; ``after_delay`` (``seconds`` after entering); ``before_field`` / ``after_field``
    (``seconds`` before or after the item's date field ``field``); ``idle`` (once the item has not
    changed for ``seconds`` on the stage: the "no change for N days" rule, counted again from every
    change). With ``working_time`` the seconds are working seconds of the tenant's work calendar
    (``after_delay`` of 7200: two working hours), and an at-once robot waits for the next working
    moment."""

    mode: Literal["at_once", "after_delay", "before_field", "after_field", "idle"] = "at_once"
    seconds: int = Field(default=0, ge=0, le=3650 * 86400)
    field: str | None = Field(default=None, min_length=1)
    working_time: bool = Field(
        default=False, description="Count only the tenant's working time (GET /v1/work-calendar)."
    )

    def due(
        self, *, entered_at: datetime, last_change_at: datetime, fields: dict[str, Any],
        calendar: WorkCalendar | None = None,
    ) -> datetime | None:  # fmt: skip
        """The instant the robot is due, or None when the date field it counts from is empty. ``calendar``:
        the tenant's, needed when the timing counts working time."""
        offset = timedelta(seconds=self.seconds)
        match self.mode:
            case "at_once":
                anchor: datetime | None = entered_at
                offset = timedelta(0)
            case "after_delay":
                anchor = entered_at
            case "idle":
                anchor = last_change_at
            case _:
                anchor = parse_instant(fields.get(self.field or ""))
        if anchor is None:
            return None
        if self.mode == "before_field":
            offset = -offset
        if not self.working_time:
            return anchor + offset
        assert calendar is not None, "a working-time robot is timed on its tenant's calendar"
        return add_working_time(calendar, anchor, offset)


# A robot's stage "*": it acts on entries to every stage of its pipeline ("notify the requester of each
# stage change" is one robot, not one per stage). Each entry is a visit of its own, as for a stage's robot.
EVERY_STAGE = "*"


class RobotSpec(_Spec):
    """A robot as an admin writes it."""

    pipeline_id: str = Field(min_length=1)
    stage_id: str = Field(min_length=1, description='The stage whose entries it acts on; "*": every stage.')
    name: str = Field(min_length=1, max_length=200)
    position: int = Field(default=0, ge=-(2**31), le=2**31 - 1)  # an integer column
    timing: Timing = Timing()
    condition: Condition | None = None
    action: Action
    wait_for_previous: bool = False
    enabled: bool = True

    @model_validator(mode="after")
    def _every_stage_waits_for_nobody(self) -> RobotSpec:
        if self.stage_id == EVERY_STAGE and self.wait_for_previous:
            raise ValueError('a robot of every stage ("*") has no robot before it to wait for')
        return self


def parse_instant(value: Any) -> datetime | None:
    """A date or datetime field's value as an aware instant (dates at midnight UTC)."""
    from datetime import UTC, date

    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
