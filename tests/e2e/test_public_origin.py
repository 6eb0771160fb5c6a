"""The one public origin, as `make run` serves it on :8000: nginx configured by deploy/gateway in
front of the five services, each path sent to its owner. A browser at another localhost port calls it
with its token, and the TypeScript client's example (clients/typescript) creates a type, an item and
a move through it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import gateway  # deploy/gateway/gateway.py (on pytest's pythonpath)
import httpx
import pytest
import pytest_asyncio
from conveyor_testing.services import free_port

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENT = REPO_ROOT / "clients" / "typescript"
DEV_ORIGIN = "http://localhost:5173"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        pytest.fail("nginx is missing: `make test` installs it (deploy/local/bootstrap.sh)")
    return found


@contextlib.contextmanager
def running_gateway(upstreams: dict[str, str], home: Path) -> Iterator[str]:
    port = free_port()
    conf = gateway.write_gateway(f"127.0.0.1:{port}", upstreams, home)
    process = subprocess.Popen(
        [nginx_binary(), "-p", str(home), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
                break
            if process.poll() is not None:
                raise AssertionError(f"nginx stopped: {process.stdout.read().decode() if process.stdout else ''}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest_asyncio.fixture
async def five(start_service: Callable[..., Any]) -> AsyncIterator[dict[str, Any]]:
    async with contextlib.AsyncExitStack() as stack:
        running = {}
        for service in gateway.SERVICES:
            running[service] = await stack.enter_async_context(
                start_service(service, cors_origins=["http://localhost:*"])
            )
        yield running


@pytest.fixture
def origin(five: dict[str, Any], tmp_path: Path) -> Iterator[str]:
    upstreams = {service: client.base_url.removeprefix("http://") for service, client in five.items()}
    with running_gateway(upstreams, tmp_path / "gateway") as url:
        yield url


def token(five: dict[str, Any], tenant: str = "acme") -> str:
    return five["entities"].auth(tenant, "alice", ("admin",))["Authorization"].removeprefix("Bearer ")


class TestOneOrigin:
    async def test_each_path_reaches_the_service_that_owns_it(self, five: dict[str, Any], origin: str) -> None:
        headers = {"Authorization": f"Bearer {token(five)}"}
        async with httpx.AsyncClient(base_url=origin, headers=headers, timeout=30) as api:
            whoami = await api.get("/v1/whoami")
            templates = await api.get("/v1/process-templates")
            inbox = await api.get("/v1/notifications")
            funnel = await api.get("/v1/reports/funnel", params={"pipeline_id": "nowhere"})
            placement = await api.get("/v1/placements/no-such-item")

        assert whoami.json() == {"tenant_id": "acme", "user_id": "alice", "roles": ["admin"]}
        assert templates.json() == {"items": [], "next_cursor": None}
        assert inbox.status_code == 200
        # Answered by reporting and pipelines themselves (their own problem types), not by the gateway.
        assert funnel.headers["content-type"] == "application/problem+json"
        assert placement.status_code == 404
        assert placement.headers["content-type"] == "application/problem+json"

    async def test_probes_metrics_and_unknown_paths_are_not_routed(self, origin: str) -> None:
        async with httpx.AsyncClient(base_url=origin, timeout=30) as api:
            answers = {path: await api.get(path) for path in ("/health/live", "/health/ready", "/metrics", "/v2/x")}

        for path, answer in answers.items():
            assert answer.status_code == 404, path
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["status"] == 404

    async def test_the_merged_document_and_its_pages_are_served(self, origin: str) -> None:
        async with httpx.AsyncClient(base_url=origin, timeout=30) as api:
            document = await api.get("/openapi.json")
            page = await api.get("/v1/docs")
            script = await api.get("/v1/docs/assets/swagger-ui-bundle.js")
            reference = await api.get("/v1/redoc")
            reference_script = await api.get("/v1/docs/assets/redoc.standalone.js")

        assert document.json() == json.loads((REPO_ROOT / "docs" / "openapi.json").read_text())
        assert "/openapi.json" in page.text and "/v1/docs/assets/swagger-ui-bundle.js" in page.text
        assert script.status_code == 200 and len(script.content) > 100_000
        assert 'spec-url="/openapi.json"' in reference.text and "https://" not in reference.text
        assert reference_script.status_code == 200 and len(reference_script.content) > 100_000

    async def test_a_browser_on_another_localhost_port_may_call_it_with_its_token(
        self, five: dict[str, Any], origin: str
    ) -> None:
        preflight = {
            "Origin": DEV_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, if-match",
        }
        async with httpx.AsyncClient(base_url=origin, timeout=30) as api:
            allowed = await api.options("/v1/items", headers=preflight)
            call = await api.get(
                "/v1/entity-types", headers={"Origin": DEV_ORIGIN, "Authorization": f"Bearer {token(five)}"}
            )

        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == DEV_ORIGIN
        assert "if-match" in allowed.headers["access-control-allow-headers"].lower()
        assert call.status_code == 200
        assert call.headers["access-control-allow-origin"] == DEV_ORIGIN
        exposed = {h.strip().lower() for h in call.headers["access-control-expose-headers"].split(",")}
        assert {"etag", "location", "retry-after"} <= exposed

    async def test_a_service_that_does_not_answer_is_a_retryable_problem(
        self, five: dict[str, Any], tmp_path: Path
    ) -> None:
        upstreams = {service: client.base_url.removeprefix("http://") for service, client in five.items()}
        upstreams["reporting"] = f"127.0.0.1:{free_port()}"  # nobody listens there
        with running_gateway(upstreams, tmp_path / "down") as url:
            async with httpx.AsyncClient(base_url=url, timeout=30) as api:
                answer = await api.get("/v1/reports/funnel")

        assert answer.status_code == 503
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["retry-after"] == "1"


def npm_ready() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: `make test` installs Node.js (deploy/local/bootstrap.sh)")
    if not (CLIENT / "node_modules" / "openapi-fetch").is_dir():
        pytest.fail("clients/typescript/node_modules is missing: `make test` runs `npm ci` there")
    return node


def build_the_client() -> None:
    node = npm_ready()
    tsc = CLIENT / "node_modules" / "typescript" / "bin" / "tsc"
    built = subprocess.run(
        [node, str(tsc), "--project", str(CLIENT / "tsconfig.json")], capture_output=True, text=True, timeout=300
    )
    assert built.returncode == 0, built.stdout + built.stderr


class TestTypeScriptClient:
    def test_it_is_generated_from_the_committed_document(self, tmp_path: Path) -> None:
        node = npm_ready()
        cli = CLIENT / "node_modules" / "openapi-typescript" / "bin" / "cli.js"
        fresh = tmp_path / "schema.d.ts"
        generated = subprocess.run(
            [node, str(cli), str(REPO_ROOT / "docs" / "openapi.json"), "--output", str(fresh), "--alphabetize"],
            capture_output=True,
            text=True,
            timeout=300,
        )

        assert generated.returncode == 0, generated.stderr
        assert fresh.read_text() == (CLIENT / "src" / "schema.d.ts").read_text(), (
            "clients/typescript/src/schema.d.ts is stale: run `make openapi`"
        )

    async def test_its_example_creates_a_type_an_item_and_a_move_through_the_origin(
        self, five: dict[str, Any], origin: str
    ) -> None:
        build_the_client()
        node = npm_ready()
        env = {**os.environ, "CONVEYOR_API": origin, "CONVEYOR_TOKEN": token(five, "example-tenant")}
        process = await asyncio.create_subprocess_exec(
            node,
            str(CLIENT / "dist" / "examples" / "create-type-item-move.js"),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)

        assert process.returncode == 0, err.decode()
        result = json.loads(out.decode().strip().splitlines()[-1])
        headers = {"Authorization": f"Bearer {token(five, 'example-tenant')}"}
        async with httpx.AsyncClient(base_url=origin, headers=headers, timeout=30) as api:
            placement = (await api.get(f"/v1/placements/{result['item_id']}")).json()
            item = (await api.get(f"/v1/items/{result['item_id']}")).json()

        assert placement["stage_id"] == result["moved_to_stage_id"] != result["first_stage_id"]
        assert item["title"] == result["title"]
