"""No token, password or webhook secret reaches a log line or an error body.

While every log line of the five services is captured (conftest's LogTap, rendered by the services'
own formatter), the test sends good, forged and expired tokens, makes a webhook subscription whose
deliveries fail, a trigger and an iCalendar feed with secret URLs (called right and wrong), and a
robot whose e-mail fails on the SMTP login and whose webhook call fails; every service runs with a
password in its database URL. Then it looks for each secret in the logs and in every error body.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator

import httpx
import pytest
from conveyor_kit.tokens import mint_token
from security_api import As, settle
from security_stack import (
    DATABASE_PASSWORD,
    JWT_SECRET,
    SERVICES,
    SMTP_PASSWORD,
    LogTap,
    Receiver,
    ServiceStack,
    bearer,
)

pytestmark = [pytest.mark.security, pytest.mark.integration]


@pytest.fixture
def logs(log_tap: LogTap) -> Iterator[LogTap]:
    """The session's tap, attached again if a test elsewhere reconfigured logging meanwhile."""
    root = logging.getLogger()
    if log_tap not in root.handlers:
        root.addHandler(log_tap)
    yield log_tap


async def test_no_secret_reaches_a_log_line_or_an_error_body(
    stack: ServiceStack, receiver: Receiver, logs: LogTap
) -> None:
    tenant, run = f"secrets-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(timeout=30) as http:
        admin = As(stack, http, tenant, "root", ("admin",))
        secrets = {
            "the JWT secret": JWT_SECRET,
            "the database password": DATABASE_PASSWORD,
            "the SMTP password": SMTP_PASSWORD,
        }

        # Tokens: good, forged (another key) and expired, on every service.
        good = bearer(tenant, "root", "admin")["Authorization"].removeprefix("Bearer ")
        forged = mint_token(tenant_id=tenant, user_id="root", roles=("admin",), secret="x" * 40)
        expired = mint_token(tenant_id=tenant, user_id="root", roles=("admin",), secret=JWT_SECRET, ttl_seconds=-60)
        secrets |= {"a valid token": good, "a forged token": forged, "an expired token": expired}
        for service in SERVICES:
            for token in (good, forged, expired, f"{good}.extra"):
                await admin.call(service, "GET", "/v1/whoami", headers={"Authorization": f"Bearer {token}"})

        # A webhook subscription whose every delivery fails (the receiver answers 500 under /fail).
        subscription = await admin.ok(
            "notifications",
            "POST",
            "/v1/webhooks/subscriptions",
            {"url": receiver.url(f"/fail/{run}"), "event_types": ["*"]},
        )
        settings = await admin.ok("notifications", "GET", "/v1/settings")
        secrets |= {
            "a subscription's secret": subscription["secret"],
            "the tenant's webhook secret": settings["webhook_secret"],
        }

        # A type, its pipeline, and robots that e-mail (the SMTP login is refused) and call a webhook (500).
        deal = await admin.ok("entities", "POST", "/v1/entity-types", {"code": "deal", "name": "Deal"})
        listed = await settle(  # a 404 until pipelines hears of the type
            lambda: admin.call("pipelines", "GET", "/v1/pipelines", params={"entity_type_id": deal["id"]}),
            lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
        )
        (pipeline,) = listed.json()["items"]
        pipeline_id, first = pipeline["id"], pipeline["stages"][0]["id"]
        for name, action in [
            ("Mail", {"type": "send_email", "addresses": ["someone@example.test"], "subject": "Hi", "body": "Hello"}),
            ("Call", {"type": "call_webhook", "url": receiver.url(f"/fail/call-{run}"), "payload": {"k": "v"}}),
        ]:
            await admin.ok(
                "automation",
                "POST",
                "/v1/robots",
                {"pipeline_id": pipeline_id, "stage_id": first, "name": name, "action": action},
            )

        # Secret URLs: a webhook trigger and an iCalendar feed, called with the right and a wrong secret.
        trigger = await admin.ok(
            "automation",
            "POST",
            "/v1/triggers",
            {"pipeline_id": pipeline_id, "stage_id": first, "name": "Paid", "kind": "webhook"},
        )
        hook_secret = trigger["webhook_path"].rsplit("/", 1)[1]
        feed = await admin.ok("notifications", "POST", "/v1/calendar/feed")
        secrets |= {"a trigger's secret": hook_secret, "a feed token": feed["token"]}
        await admin.call(
            "automation", "POST", trigger["webhook_path"], {"item_id": "nope"}, headers={"Authorization": ""}
        )
        await admin.call("automation", "POST", trigger["webhook_path"] + "x", {"item_id": "nope"})
        await admin.call("notifications", "GET", f"/v1/calendar/feeds/{feed['token']}.ics")
        await admin.call("notifications", "GET", f"/v1/calendar/feeds/{feed['token']}x.ics")

        # The item that sets the robots off; then wait for the failures to have happened and been logged.
        await admin.ok("entities", "POST", "/v1/items", {"entity_type_id": deal["id"], "title": "Deal"})
        await settle(lambda: _called(receiver, f"/fail/call-{run}"), lambda calls: calls >= 2, within=30)
        await settle(
            lambda: _events(receiver, f"/fail/{run}"),
            lambda types: "conveyor.notifications.email.failed.v1" in types,
            within=30,
        )
        deliveries = await admin.ok("notifications", "GET", "/v1/webhooks/deliveries")

    assert any(a.get("status_code") == 500 for d in deliveries["items"] for a in d["attempts_log"]), (
        "no delivery failed"
    )
    # The test's own HTTP client logs its requests too (logger httpx, in this process): not the services'.
    # Matched in any format: when another test configured logging first, the tap renders pytest's.
    ours = tuple(stack.urls.values())
    text = "\n".join(
        line for line in logs.text().splitlines() if not ("httpx" in line and any(u in line for u in ours))
    )
    assert tenant in text, "the services' log lines were not captured"
    in_logs = [name for name, secret in secrets.items() if secret in text]
    errors = [r for r in admin.seen if r.status_code >= 400]
    in_errors = [
        f"{name} in {r.request.url.path}" for r in errors for name, secret in secrets.items() if secret in r.text
    ]
    assert len(errors) >= 10
    assert in_logs == [], "\n".join(line for line in text.splitlines() if any(s in line for s in secrets.values()))[
        :3000
    ]
    assert in_errors == []


async def _called(receiver: Receiver, path: str) -> int:
    return len(receiver.bodies(path))


async def _events(receiver: Receiver, path: str) -> set[str]:
    return {json.loads(body)["type"] for body in receiver.bodies(path)}
