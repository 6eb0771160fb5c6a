"""A credential in a URL (a webhook trigger's secret, a feed token) never reaches a log line or a
problem's `instance`: the kit shows such paths with the value redacted (found by tests/security)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from conveyor_kit.logging import configure_logging, get_logger, redact_text
from conveyor_kit.problems import not_found
from fastapi import APIRouter, FastAPI

pytestmark = pytest.mark.unit

Client = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]
SECRET = "Xq7-very-secret-value-of-32-chars"


def hooks() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.post("/hooks/{hook_id}/{secret}")
    async def hook(hook_id: str, secret: str) -> None:
        raise not_found(f"no hook {hook_id}")

    return router


async def test_a_secret_path_parameter_is_redacted_in_logs_and_problems(
    make_app: Callable[..., FastAPI], client_for: Client, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", json=True, force=True)
    try:
        async with client_for(make_app(routers=[hooks()])) as api:
            matched = await api.post(f"/v1/hooks/h-1/{SECRET}")
            unmatched = await api.post(f"/v1/hoooks/h-1/{SECRET}")
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    finally:
        logging.getLogger().handlers.clear()

    assert matched.status_code == 404 and matched.json()["instance"] == "/v1/hooks/h-1/[redacted]"
    assert unmatched.status_code == 404 and SECRET not in unmatched.text
    finished = [line["path"] for line in lines if line["event"] == "request_finished"]
    assert finished == ["/v1/hooks/h-1/[redacted]", "/v1/hoooks/h-1/[redacted]"]
    served = [line for line in lines if line.get("logger") != "httpx"]  # httpx: the test's own client
    assert [line for line in served if SECRET in json.dumps(line)] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [redacted]"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abc_DEF-1 refused", "token [redacted] refused"),
        ("postgresql://conveyor:pa55@db:5432/x down", "postgresql://conveyor:[redacted]@db:5432/x down"),
        ("https://hooks.example/path?x=1 for olga@example.com", "https://hooks.example/path?x=1 for olga@example.com"),
    ],
)
def test_secrets_inside_text_are_redacted(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_a_traceback_with_a_database_password_is_logged_without_it(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", json=True, force=True)
    try:
        try:
            raise ConnectionError("cannot reach postgresql://conveyor:hunter2-db@db:5432/entities")
        except ConnectionError:
            get_logger("kit.test").exception("database_down", dsn="postgresql://conveyor:hunter2-db@db/entities")
        out = capsys.readouterr().out
    finally:
        logging.getLogger().handlers.clear()

    line = json.loads(out.strip().splitlines()[-1])
    assert "hunter2-db" not in out
    assert "ConnectionError" in line["exception"] and line["dsn"] == "postgresql://conveyor:[redacted]@db/entities"
