"""The OpenAPI document every service serves describes its errors as they are sent: problem+json."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pytest
from conveyor_kit.auth import Principal, current_principal
from conveyor_kit.openapi import problem_responses, text_body
from conveyor_kit.problems import PROBLEM_MEDIA_TYPE
from fastapi import APIRouter, Depends, FastAPI, Response
from pydantic import BaseModel

pytestmark = pytest.mark.unit


class Thing(BaseModel):
    name: str


def routes() -> APIRouter:
    router = APIRouter(prefix="/v1", responses=problem_responses(409))

    @router.post("/things/{thing_id}")
    async def change(thing_id: str, thing: Thing, _: Annotated[Principal, Depends(current_principal)]) -> Thing:
        return thing

    @router.get("/things.csv", response_class=Response, responses=text_body("text/csv"))
    async def export(_: Annotated[Principal, Depends(current_principal)]) -> Response:
        return Response("a,b\n", media_type="text/csv")

    return router


@pytest.fixture
def document(make_app: Callable[..., FastAPI]) -> dict[str, Any]:
    openapi: dict[str, Any] = make_app(routers=[routes()]).openapi()
    return openapi


def _media(response: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = response["content"]
    return content


class TestProblemResponses:
    def test_validation_errors_are_documented_as_the_problem_the_kit_sends(self, document: dict[str, Any]) -> None:
        responses = document["paths"]["/v1/things/{thing_id}"]["post"]["responses"]

        assert _media(responses["422"]) == {
            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}
        }
        assert "HTTPValidationError" not in document["components"]["schemas"]

    def test_an_operation_lists_what_the_kit_and_its_router_may_answer(self, document: dict[str, Any]) -> None:
        responses = document["paths"]["/v1/things/{thing_id}"]["post"]["responses"]

        # a body (400, 413, 422), a token (401, 503), a path id (404), the router (409), the last resort (500)
        assert set(responses) == {"200", "400", "401", "404", "409", "413", "422", "500", "503"}
        assert all(PROBLEM_MEDIA_TYPE in _media(responses[status]) for status in responses if status != "200")

    def test_an_operation_without_body_or_path_ids_lists_neither_413_nor_404(self, document: dict[str, Any]) -> None:
        responses = document["paths"]["/v1/things.csv"]["get"]["responses"]

        assert "413" not in responses and "404" not in responses

    def test_a_text_answer_is_documented_with_its_own_media_type_only(self, document: dict[str, Any]) -> None:
        ok = document["paths"]["/v1/things.csv"]["get"]["responses"]["200"]

        assert _media(ok) == {"text/csv": {"schema": {"type": "string"}}}

    def test_the_problem_schema_requires_the_standard_members(self, document: dict[str, Any]) -> None:
        problem = document["components"]["schemas"]["Problem"]

        assert problem["required"] == ["type", "title", "status"]
        assert problem["additionalProperties"] is True

    def test_the_probes_are_left_out_of_the_public_document(self, document: dict[str, Any]) -> None:
        # For the orchestrator, not API clients; the public origin does not route them either.
        assert [path for path in document["paths"] if path.startswith("/health")] == []
        assert "/v1/things.csv" in document["paths"]
