"""The request context every endpoint takes: the caller and the service's means, without worker threads."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import SimpleNamespace
from typing import Any

import fastapi.dependencies.utils
import httpx
import pytest
from conveyor_kit.context import ContextDep
from conveyor_kit.tokens import mint_token
from fastapi import APIRouter, FastAPI

pytestmark = pytest.mark.unit

Client = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


def context_router() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.get("/context")
    async def context(ctx: ContextDep) -> dict[str, Any]:
        return {"tenant": ctx.tenant_id, "actor": str(ctx.actor), "store": ctx.store, "pool": ctx.pool}

    return router


class TestRequestContext:
    async def test_it_carries_the_caller_and_the_means_and_needs_no_worker_thread(
        self, make_app: Callable[..., FastAPI], client_for: Client, jwt_secret: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        app = make_app(routers=[context_router()])
        app.state.pool = "the pool"
        app.state.backbone = SimpleNamespace(store="the store")
        threaded: list[object] = []
        run_in_threadpool = fastapi.dependencies.utils.run_in_threadpool  # type: ignore[attr-defined]

        async def counting(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            threaded.append(call)
            return await run_in_threadpool(call, *args, **kwargs)

        # FastAPI runs a plain `def` dependency through this, in a worker thread, on every request.
        monkeypatch.setattr(fastapi.dependencies.utils, "run_in_threadpool", counting)
        token = mint_token(tenant_id="tenant-a", user_id="user-1", secret=jwt_secret)

        async with client_for(app) as client:
            response = await client.get("/v1/context", headers={"Authorization": f"Bearer {token}"})

        assert response.status_code == 200
        assert response.json() == {
            "tenant": "tenant-a",
            "actor": "user:user-1",
            "store": "the store",
            "pool": "the pool",
        }
        assert threaded == []


def roles_router() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.post("/admin-only")
    async def admin_only(ctx: ContextDep) -> dict[str, str]:
        ctx.require_admin()
        return {"by": ctx.principal.user_id}

    @router.post("/operators-only")
    async def operators_only(ctx: ContextDep) -> dict[str, str]:
        ctx.require_any_role("platform-operator")
        return {"by": ctx.principal.user_id}

    return router


class TestRolesOnTheContext:
    @pytest.mark.parametrize(
        ("path", "roles", "status", "detail"),
        [
            ("/v1/admin-only", ["admin"], 200, None),
            ("/v1/admin-only", ["manager"], 403, "only the tenant's admins may do this"),
            ("/v1/operators-only", ["platform-operator"], 200, None),
            ("/v1/operators-only", ["admin"], 403, "requires one of the roles: platform-operator"),
            ("/v1/operators-only", [], 403, "requires one of the roles: platform-operator"),
        ],
    )
    async def test_a_route_checks_the_callers_role_through_the_context(
        self,
        make_app: Callable[..., FastAPI],
        client_for: Client,
        jwt_secret: str,
        path: str,
        roles: list[str],
        status: int,
        detail: str | None,
    ) -> None:
        app = make_app(routers=[roles_router()])
        app.state.pool = "the pool"
        app.state.backbone = SimpleNamespace(store="the store")
        token = mint_token(tenant_id="tenant-a", user_id="user-1", roles=roles, secret=jwt_secret)

        async with client_for(app) as client:
            response = await client.post(path, headers={"Authorization": f"Bearer {token}"})

        assert response.status_code == status
        if detail is None:
            assert response.json() == {"by": "user-1"}
        else:
            assert response.json()["detail"] == detail
