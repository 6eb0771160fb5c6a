"""/v1/calendar: the caller's entries (with overlaps marked), create/change/cancel, and the secret iCalendar feed."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

from conveyor_contracts.notifications import CalendarEntryKind, ItemRef, ReminderSpec
from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses, text_body
from conveyor_kit.pagination import Cursor, Limit, cut, instant_key
from conveyor_kit.problems import not_found
from conveyor_kit.versions import expected_version
from conveyor_messaging.db import Connection
from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field

from notifications.adapters import calendar_repo, people
from notifications.domain.calendar import DEFAULT_DURATION, Entry, overlapping
from notifications.domain.ical import Feed, Person
from notifications.entrypoints.calendar_models import CalendarEntry, CalendarFeedUrl, TimeZoneName
from notifications.entrypoints.deps import CtxDep
from notifications.handlers.calendar_entries import cancel_entry, change_entry, schedule_entry

router = APIRouter(prefix="/v1/calendar", tags=["calendar"], responses=problem_responses(404, 409))
WRITE_RESPONSES = problem_responses(412, 428)
IfMatch = Annotated[str | None, Header(max_length=40, description='The entry\'s ETag as read, e.g. "2" (required).')]


class NewCalendarEntry(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=20000)
    kind: CalendarEntryKind = "meeting"
    start: datetime
    end: datetime | None = None
    attendee_ids: list[str] = Field(default_factory=list, max_length=500)
    item: ItemRef | None = None
    reminders: list[ReminderSpec] = Field(default_factory=list, max_length=20)
    time_zone: TimeZoneName | None = Field(
        default=None,
        description="the zone the entry is made in (default: the caller's, from /v1/preferences); a `start`, `end` "
        "or reminder `at` without an offset is a wall-clock time of it",
    )


class CalendarEntryPatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = None
    kind: CalendarEntryKind | None = None
    start: datetime | None = None
    end: datetime | None = None
    attendee_ids: list[str] | None = None
    reminders: list[ReminderSpec] | None = None
    time_zone: TimeZoneName | None = Field(
        default=None, description="a new zone: the instants stay, the feed shows them in it"
    )


def view(entry: Entry, overlaps: bool = False) -> dict[str, Any]:
    return {
        "id": entry.entry_id,
        "title": entry.title,
        "description": entry.description,
        "kind": entry.kind,
        "start": entry.start,
        "end": entry.end,
        "organizer_id": entry.organizer_id,
        "attendee_ids": list(entry.attendee_ids),
        "item": {"item_id": entry.item_id, "entity_type_id": entry.entity_type_id} if entry.item_id else None,
        "reminders": [r.model_dump(exclude_none=True) for r in entry.reminders],
        "time_zone": entry.time_zone or "UTC",
        "status": entry.status,
        "version": entry.version,
        "overlaps": overlaps,
    }


def answer(entry: Entry, response: Response) -> dict[str, Any]:
    """The entry as answered by its GET and its writes, its version as the ETag."""
    response.headers["ETag"] = f'"{entry.version}"'
    return view(entry)


@router.post("/entries", status_code=201, response_model=CalendarEntry)
async def create_entry(body: NewCalendarEntry, ctx: CtxDep, response: Response) -> dict[str, Any]:
    """An entry organised by the caller, in its `time_zone` or the caller's (an end before its start, or a time
    without an offset and no zone to read it in, is a 422, `EntryRefused`)."""
    entry = Entry(
        entry_id=str(uuid.uuid4()),
        title=body.title,
        kind=body.kind,
        start=body.start,
        end=body.end or body.start + DEFAULT_DURATION,
        description=body.description,
        organizer_id=ctx.principal.user_id,
        attendee_ids=tuple(body.attendee_ids),
        item_id=body.item.item_id if body.item else None,
        entity_type_id=body.item.entity_type_id if body.item else None,
        reminders=tuple(body.reminders),
        time_zone=body.time_zone,
    )
    async with ctx.pool.acquire() as conn, conn.transaction():
        entry = await schedule_entry(
            conn, ctx.store, tenant_id=ctx.tenant_id, entry=entry, actor=ctx.actor, now=ctx.now()
        )
    return answer(entry, response)


@router.get("/entries", response_model=Page[CalendarEntry])
async def list_entries(
    ctx: CtxDep,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The caller's entries (organizer or attendee) sharing time with [from, to), by start then id;
    ``overlaps`` marks those that clash with another entry of the range, on this page or another."""
    after = instant_key(cursor)
    async with ctx.pool.acquire() as conn:
        found = await calendar_repo.page_of_user(
            conn, ctx.tenant_id, ctx.principal.user_id, start=start, end=end, after=after, limit=limit + 1
        )
        entries, next_cursor = cut(found, limit, lambda e: [e.start.isoformat(), e.entry_id])
        clashing = await _clashing(conn, ctx.tenant_id, ctx.principal.user_id, entries, start=start, end=end)
    return {"items": [view(e, e.entry_id in clashing) for e in entries], "next_cursor": next_cursor}


async def _clashing(
    conn: Connection,
    tenant_id: str,
    user_id: str,
    entries: list[Entry],
    *,
    start: datetime | None,
    end: datetime | None,
) -> set[str]:
    """Ids of the entries that share time with another of the range: any such other shares time with the span
    from the first entry's start to the latest end of them, within the range."""
    if not entries:
        return set()
    lower, upper = entries[0].start, max(e.end for e in entries)
    # A time without a zone is UTC, as PostgreSQL took it for the page.
    start, end = (t.replace(tzinfo=UTC) if t and t.tzinfo is None else t for t in (start, end))
    neighbours = await calendar_repo.of_user(
        conn,
        tenant_id,
        user_id,
        start=max(lower, start) if start else lower,
        end=min(upper, end) if end else upper,
        cancelled=False,
    )
    return overlapping(list({e.entry_id: e for e in [*neighbours, *entries]}.values()))


async def _visible(ctx: CtxDep, entry_id: str) -> Entry:
    async with ctx.pool.acquire() as conn:
        entry = await calendar_repo.load(conn, ctx.tenant_id, entry_id)
    if entry is None or ctx.principal.user_id not in entry.people():
        raise not_found(f"calendar entry {entry_id}")
    return entry


@router.get("/entries/{entry_id}", response_model=CalendarEntry)
async def get_entry(entry_id: str, ctx: CtxDep, response: Response) -> dict[str, Any]:
    """One entry, its version as the `ETag` to send back as `If-Match` when changing or cancelling it."""
    return answer(await _visible(ctx, entry_id), response)


@router.patch(
    "/entries/{entry_id}",
    response_model=CalendarEntry,
    responses=WRITE_RESPONSES,
    summary="Change an entry (If-Match required)",
)
async def update_entry(
    entry_id: str, body: CalendarEntryPatch, ctx: CtxDep, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    """Change an entry the caller organises or attends; its reminders move with it. If-Match names the
    version read: 428 without it, 412 when it is stale."""
    expected = expected_version(if_match, required=True)
    await _visible(ctx, entry_id)
    changes = body.model_dump(exclude_none=True)
    if body.reminders is not None:
        changes["reminders"] = body.reminders
    async with ctx.pool.acquire() as conn, conn.transaction():
        entry = await change_entry(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            entry_id=entry_id,
            changes=changes,
            actor=ctx.actor,
            now=ctx.now(),
            expected_version=expected,
        )
    return answer(entry, response)


@router.post(
    "/entries/{entry_id}/cancel",
    response_model=CalendarEntry,
    responses=WRITE_RESPONSES,
    summary="Cancel an entry (If-Match required)",
)
async def cancel(
    entry_id: str,
    ctx: CtxDep,
    response: Response,
    if_match: IfMatch = None,
    reason: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    """Cancel an entry: an action, not a deletion (docs/api-conventions.md): the entry stays readable with
    status `cancelled`, its pending reminders are dropped, and feeds show it cancelled. If-Match names the
    version read: 428 without it, 412 when it is stale."""
    expected = expected_version(if_match, required=True)
    await _visible(ctx, entry_id)
    async with ctx.pool.acquire() as conn, conn.transaction():
        entry = await cancel_entry(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            entry_id=entry_id,
            reason=reason,
            actor=ctx.actor,
            now=ctx.now(),
            expected_version=expected,
        )
    return answer(entry, response)


@router.post("/feed", status_code=201, response_model=CalendarFeedUrl)
async def issue_feed(request: Request, ctx: CtxDep) -> dict[str, str]:
    """A new secret feed URL for the caller (shown once); the previous URL stops working."""
    token = secrets.token_urlsafe(32)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await calendar_repo.issue_feed(conn, ctx.tenant_id, ctx.principal.user_id, token, ctx.now())
    base = request.app.state.settings.public_base_url.rstrip("/")
    return {"url": f"{base}/v1/calendar/feeds/{token}.ics", "token": token}


@router.delete("/feed", status_code=204)
async def revoke_feed(ctx: CtxDep) -> None:
    """Revoke the caller's feed URL."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        if not await calendar_repo.revoke_feed(conn, ctx.tenant_id, ctx.principal.user_id, ctx.now()):
            raise not_found("no feed to revoke")


feed_router = APIRouter(prefix="/v1/calendar/feeds", tags=["calendar"], responses=problem_responses(404))


@feed_router.get("/{token}.ics", response_class=Response, responses=text_body("text/calendar"))
async def feed(token: str, request: Request) -> Response:
    """The iCalendar feed; the unguessable token in the URL is the only credential, as calendar apps expect.
    Events are in their entries' zones (a VTIMEZONE for each), with an alarm per reminder and people named."""
    body = await _feed_body(token, request)
    return Response(body, media_type=ICS, headers={"Cache-Control": "private, max-age=60"})


# Some calendar apps ask HEAD before subscribing; FastAPI routes only GET unless told.
@feed_router.head("/{token}.ics", response_class=Response, responses=text_body("text/calendar"))
async def feed_head(token: str, request: Request) -> Response:
    """The feed's headers, its `Content-Length` included, without the body."""
    length = len(await _feed_body(token, request))
    return Response(media_type=ICS, headers={"Cache-Control": "private, max-age=60", "Content-Length": str(length)})


ICS = "text/calendar; charset=utf-8"


async def _feed_body(token: str, request: Request) -> bytes:
    pool = request.app.state.pool
    async with pool.acquire() as conn:
        owner = await calendar_repo.feed_owner(conn, token)
        if owner is None:
            raise not_found("calendar feed")
        entries = await calendar_repo.of_user(conn, owner[0], owner[1], start=None, end=None, cancelled=True)
        known = await people.names_and_addresses(conn, owner[0], sorted({p for e in entries for p in e.people()}))
    domain = urlsplit(request.app.state.settings.public_base_url).hostname or "conveyor"
    named = {user_id: Person(name=name, email=email) for user_id, (name, email) in known.items()}
    return Feed(user_id=owner[1], domain=domain, entries=entries, people=named).to_ical()
