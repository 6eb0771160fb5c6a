"""/v1/webhooks: the tenant's outgoing webhook subscriptions and their delivery log (admins only)."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import Any

from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, cut, instant_key
from conveyor_kit.problems import Problem, not_found
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from notifications.adapters.http_target import check_target
from notifications.domain.targets import TargetRefused
from notifications.entrypoints.deps import CtxDep
from notifications.entrypoints.webhooks_models import WebhookDelivery, WebhookSubscription, WebhookSubscriptionCreated

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=problem_responses(403, 404))


class NewWebhookSubscription(BaseModel):
    url: str = Field(min_length=1, max_length=2000)
    event_types: list[str] = Field(min_length=1, max_length=200, description="exact types, `prefix.*` or `*`")


def _view(row: Any) -> dict[str, Any]:
    return {
        "id": row["subscription_id"],
        "url": row["url"],
        "event_types": list(row["event_types"]),
        "active": row["active"],
        "consecutive_failures": row["consecutive_failures"],
        "created_at": row["created_at"],
        "disabled_at": row["disabled_at"],
    }


@router.post("/subscriptions", status_code=201, response_model=WebhookSubscriptionCreated)
async def subscribe(body: NewWebhookSubscription, request: Request, ctx: CtxDep) -> dict[str, Any]:
    """Subscribe a URL to event types; the signing secret is returned once, here."""
    ctx.require_admin()
    try:
        await check_target(body.url, request.app.state.settings.webhook_allow_hosts)
    except TargetRefused as refused:
        raise Problem(422, "Webhook target refused", str(refused), slug="webhook-target-refused") from None
    secret = "whsec_" + secrets.token_urlsafe(32)
    async with ctx.pool.acquire() as conn:
        row = await conn.fetchrow(
            """INSERT INTO webhook_subscriptions (tenant_id, subscription_id, url, event_types, secret, created_at)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
            ctx.tenant_id,
            str(uuid.uuid4()),
            body.url,
            body.event_types,
            secret,
            ctx.now(),
        )
    return {**_view(row), "secret": secret}


@router.get("/subscriptions", response_model=Page[WebhookSubscription])
async def subscriptions(ctx: CtxDep, limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
    """The tenant's subscriptions, oldest first."""
    ctx.require_admin()
    after = instant_key(cursor)
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT * FROM webhook_subscriptions
                WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (created_at, subscription_id) > ($2, $3))
                ORDER BY created_at, subscription_id LIMIT $4""",
            ctx.tenant_id,
            after[0] if after else None,
            after[1] if after else "",
            limit + 1,
        )
    items, next_cursor = cut([_view(r) for r in rows], limit, lambda s: [s["created_at"].isoformat(), s["id"]])
    return {"items": items, "next_cursor": next_cursor}


@router.post("/subscriptions/{subscription_id}/enable", response_model=WebhookSubscription)
async def enable(subscription_id: str, ctx: CtxDep) -> dict[str, Any]:
    """Turn a disabled subscription back on, with its failure count reset."""
    ctx.require_admin()
    async with ctx.pool.acquire() as conn:
        row = await conn.fetchrow(
            """UPDATE webhook_subscriptions SET active = true, consecutive_failures = 0, disabled_at = NULL
                WHERE tenant_id = $1 AND subscription_id = $2 RETURNING *""",
            ctx.tenant_id,
            subscription_id,
        )
    if row is None:
        raise not_found(f"webhook subscription {subscription_id}")
    return _view(row)


@router.delete("/subscriptions/{subscription_id}", status_code=204)
async def unsubscribe(subscription_id: str, ctx: CtxDep) -> None:
    """Delete a subscription; nothing more is posted to its URL."""
    ctx.require_admin()
    async with ctx.pool.acquire() as conn:
        status = await conn.execute(
            "DELETE FROM webhook_subscriptions WHERE tenant_id = $1 AND subscription_id = $2",
            ctx.tenant_id,
            subscription_id,
        )
    if status == "DELETE 0":
        raise not_found(f"webhook subscription {subscription_id}")


@router.get("/deliveries", response_model=Page[WebhookDelivery])
async def deliveries(
    ctx: CtxDep, subscription_id: str | None = None, limit: Limit = 50, cursor: Cursor = None
) -> dict[str, Any]:
    """The delivery log, newest first, each with its attempts (status code or error, duration)."""
    ctx.require_admin()
    before = instant_key(cursor)
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT d.delivery_id AS id, d.subscription_id, d.url, d.event_type, d.status, d.attempts,
                      d.next_attempt_at, d.created_at, d.finished_at,
                      coalesce((SELECT json_agg(json_build_object('attempt', a.attempt, 'at', a.at,
                                   'status_code', a.status_code, 'error', a.error, 'duration_ms', a.duration_ms)
                                   ORDER BY a.attempt)
                                  FROM webhook_attempts a
                                 WHERE a.tenant_id = d.tenant_id AND a.delivery_id = d.delivery_id), '[]')::text AS log
                 FROM webhook_deliveries d
                WHERE d.tenant_id = $1 AND ($2::text IS NULL OR d.subscription_id = $2)
                  AND ($3::timestamptz IS NULL OR (d.created_at, d.delivery_id) < ($3, $4))
                ORDER BY d.created_at DESC, d.delivery_id DESC LIMIT $5""",
            ctx.tenant_id,
            subscription_id,
            before[0] if before else None,
            before[1] if before else "",
            limit + 1,
        )
    found = [{**{k: r[k] for k in r.keys() if k != "log"}, "attempts_log": json.loads(r["log"])} for r in rows]
    items, next_cursor = cut(found, limit, lambda d: [d["created_at"].isoformat(), d["id"]])
    return {"items": items, "next_cursor": next_cursor}
