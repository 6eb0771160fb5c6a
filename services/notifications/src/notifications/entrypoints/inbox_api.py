"""/v1/notifications: the caller's in-app inbox, its unread count, marking read, and a live stream (SSE)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from conveyor_contracts.notifications import NotificationsRead
from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses, text_body
from conveyor_kit.pagination import Cursor, Limit, cut, instant_key
from conveyor_kit.problems import not_found
from conveyor_messaging.eventstore import ANY_VERSION, NewEvent
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from notifications.adapters import inbox
from notifications.entrypoints.deps import CtxDep
from notifications.entrypoints.inbox_models import InboxNotification, NotificationsMarkedRead, NotificationUnreadCount

router = APIRouter(prefix="/v1/notifications", tags=["notifications"], responses=problem_responses(404))
KEEPALIVE_SECONDS = 15.0


class NotificationsMarkRead(BaseModel):
    ids: list[str] | None = Field(default=None, max_length=1000, description="omit to mark everything read")


@router.get("", response_model=Page[InboxNotification])
async def list_notifications(
    ctx: CtxDep, unread: bool = False, limit: Limit = 50, cursor: Cursor = None
) -> dict[str, Any]:
    """The caller's notifications, newest first (``unread``: only those not read yet); the count still unread
    is `GET /v1/notifications/unread-count`."""
    before = instant_key(cursor)
    async with ctx.pool.acquire() as conn:
        rows = await inbox.page(
            conn, ctx.tenant_id, ctx.principal.user_id, unread_only=unread, limit=limit + 1, before=before
        )
    items, next_cursor = cut(rows, limit, lambda n: [n["created_at"].isoformat(), n["id"]])
    return {"items": items, "next_cursor": next_cursor}


@router.get("/unread-count", response_model=NotificationUnreadCount)
async def unread_count(ctx: CtxDep) -> dict[str, int]:
    async with ctx.pool.acquire() as conn:
        return {"unread": await inbox.unread_count(conn, ctx.tenant_id, ctx.principal.user_id)}


@router.post("/read", response_model=NotificationsMarkedRead)
async def mark_read(body: NotificationsMarkRead, ctx: CtxDep) -> dict[str, Any]:
    """Mark some notifications (``ids``) or all of them read."""
    now = ctx.now()
    async with ctx.pool.acquire() as conn, conn.transaction():
        changed = await inbox.mark_read(conn, ctx.tenant_id, ctx.principal.user_id, body.ids, now)
        if changed:
            event = NotificationsRead(
                recipient_id=ctx.principal.user_id,
                notification_ids=changed,
                all_before=now if body.ids is None else None,
            )
            await ctx.store.append(
                conn,
                stream_id=f"inbox-{ctx.principal.user_id}",
                tenant_id=ctx.tenant_id,
                aggregate_type="notification",
                expected_version=ANY_VERSION,
                events=[NewEvent.of(event, occurred_at=now)],
                actor=ctx.actor,
            )
        return {"marked": changed, "unread": await inbox.unread_count(conn, ctx.tenant_id, ctx.principal.user_id)}


@router.get("/stream", response_class=Response, responses=text_body("text/event-stream"))
async def stream(request: Request, ctx: CtxDep) -> StreamingResponse:
    """Server-Sent Events: one ``notification`` event per new notification of the caller, keep-alives between."""
    hub = request.app.state.live
    queue = hub.subscribe(ctx.tenant_id, ctx.principal.user_id)

    async def events() -> AsyncIterator[str]:
        try:
            yield ": connected\n\n"
            while True:
                try:
                    notification_id = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                async with ctx.pool.acquire() as conn:
                    found = await inbox.one(conn, ctx.tenant_id, ctx.principal.user_id, notification_id)
                if found is not None:
                    data = InboxNotification.model_validate(found).model_dump_json()
                    yield f"id: {notification_id}\nevent: notification\ndata: {data}\n\n"
        finally:
            hub.unsubscribe(ctx.tenant_id, ctx.principal.user_id, queue)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.get("/{notification_id}", response_model=InboxNotification)
async def get_notification(notification_id: str, ctx: CtxDep) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        found = await inbox.one(conn, ctx.tenant_id, ctx.principal.user_id, notification_id)
    if found is None:
        raise not_found(f"notification {notification_id}")
    return found
