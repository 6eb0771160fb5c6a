"""Read your own writes across services: every write answers a `Conveyor-Consistency` token, and a
service given it answers only once it has applied those events (docs/api-conventions.md)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

TOKEN = "Conveyor-Consistency"
ADMIN = ("admin",)


def as_admin(service: Any, tenant: str, token: str | None = None) -> dict[str, str]:
    return {**service.auth(tenant, "alice", ADMIN), **({TOKEN: token} if token else {})}


async def test_a_client_reads_at_once_in_one_service_what_it_wrote_in_another(
    start_service: Callable[..., Any],
) -> None:
    tenant = f"ryw-{uuid.uuid4().hex[:8]}"
    async with start_service("entities") as entities, start_service("pipelines") as pipelines:
        created = await entities.http.post(
            f"{entities.base_url}/v1/entity-types",
            json={"code": "deal", "name": "Deal"},
            headers=as_admin(entities, tenant),
        )
        assert created.status_code == 201, created.text
        type_token = created.headers[TOKEN]
        assert type_token.startswith("conveyor.entities.entity_type/")

        # Right away, with the token: pipelines has heard of the type and made its default pipeline.
        listed = await pipelines.http.get(
            f"{pipelines.base_url}/v1/pipelines",
            params={"entity_type_id": created.json()["id"]},
            headers=as_admin(pipelines, tenant, type_token),
        )
        assert listed.status_code == 200, listed.text
        [pipeline] = [p for p in listed.json()["items"] if p["is_default"]]
        # The docs' call names the type by its code: the same list.
        by_code = await pipelines.http.get(
            f"{pipelines.base_url}/v1/pipelines", params={"entity_type_id": "deal"}, headers=as_admin(pipelines, tenant)
        )
        assert by_code.json() == listed.json()

        item = await entities.http.post(
            f"{entities.base_url}/v1/items",
            json={"entity_type_id": created.json()["id"], "title": "First deal"},
            headers=as_admin(entities, tenant),
        )
        assert item.status_code == 201, item.text
        placed = await pipelines.http.get(
            f"{pipelines.base_url}/v1/placements/{item.json()['id']}",
            headers=as_admin(pipelines, tenant, item.headers[TOKEN]),
        )
        assert placed.status_code == 200, placed.text
        assert placed.json()["stage_id"] == pipeline["stages"][0]["id"]

        # And back: a move in pipelines, read at once in entities.
        second = pipeline["stages"][1]["id"]
        moved = await pipelines.http.post(
            f"{pipelines.base_url}/v1/placements/{item.json()['id']}/move",
            json={"to_stage_id": second},
            headers={**as_admin(pipelines, tenant), "If-Match": placed.headers["ETag"]},
        )
        assert moved.status_code == 200, moved.text
        assert moved.headers[TOKEN].startswith("conveyor.pipelines.")
        path = f"{entities.base_url}/v1/items/{item.json()['id']}"
        read = await entities.http.get(path, headers=as_admin(entities, tenant, moved.headers[TOKEN]))
        assert read.json()["stage_id"] == second


async def test_a_token_it_cannot_honour_in_time_is_a_retryable_503_and_a_forged_one_a_400(
    start_service: Callable[..., Any],
) -> None:
    tenant = f"ryw-{uuid.uuid4().hex[:8]}"
    never = f"conveyor.entities.item/{uuid.uuid4()}/{int(time.time() * 1000)}"
    async with start_service("pipelines", consistency_wait_seconds=0.3) as pipelines:
        waited = await pipelines.http.get(
            f"{pipelines.base_url}/v1/pipelines",
            params={"entity_type_id": "deal"},
            headers=as_admin(pipelines, tenant, never),
        )
        forged = await pipelines.http.get(
            f"{pipelines.base_url}/v1/pipelines",
            params={"entity_type_id": "deal"},
            headers=as_admin(pipelines, tenant, "give me everything"),
        )
        # Only a known caller makes a service wait: without a bearer token it is a 401 at once.
        stranger = await pipelines.http.get(
            f"{pipelines.base_url}/v1/pipelines", params={"entity_type_id": "deal"}, headers={TOKEN: never}
        )
        # A token of a topic pipelines does not read, or of its own, asks for no wait: the answer comes at once
        # (the tenant has no type `deal`: a 404, not an empty list).
        unread = await pipelines.http.get(
            f"{pipelines.base_url}/v1/pipelines",
            params={"entity_type_id": "deal"},
            headers=as_admin(pipelines, tenant, never.replace("entities.item", "notifications.calendar_entry")),
        )

    assert waited.status_code == 503
    assert waited.headers["Retry-After"] == "1"
    assert waited.json()["type"].endswith("/not-yet-consistent")
    assert forged.status_code == 400 and forged.json()["type"].endswith("/bad-consistency-token")
    assert unread.status_code == 404 and unread.json()["type"].endswith("/unknown-entity-type")
    assert stranger.status_code == 401
