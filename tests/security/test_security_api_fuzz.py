"""schemathesis against every service's OpenAPI, every phase (examples, coverage, fuzzing, stateful),
with a valid admin token, on the running services: no 5xx, and every response within its own
schema (documented status, content type, problem+json body for errors, headers).

The short profile runs in CI; ``CONVEYOR_FUZZ_PROFILE=long`` runs the long one (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from fuzz_profile import PROFILE, openapi_of, schemathesis_config
from hypothesis import settings
from security_api import As
from security_seed import Tenant, seed_tenant
from security_stack import SERVICES, Receiver, ServiceStack, bearer

pytestmark = [
    pytest.mark.security,
    pytest.mark.integration,
    # schemathesis' own strategies draw from `random`; not ours to fix.
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

# One tenant for the whole run, so stateful chains can reach what earlier calls created.
FUZZ_TENANT = f"fuzz-{uuid.uuid4().hex[:8]}"
ADMIN_USER = "fuzz-admin"
ADMIN = bearer(FUZZ_TENANT, ADMIN_USER, "admin")

SCHEMAS = {
    service: schemathesis.openapi.from_dict(openapi_of(service), config=schemathesis_config(ADMIN))
    for service in SERVICES
}


# Ids a stateful chain cannot make up: a chain that starts from a made-up pipeline or entity type id
# meets 404 and 422 at every step and never gets further. Parameters and body fields of these names
# that do not hold an id (ids are UUIDs) get the fuzz tenant's real ones; ids that earlier calls of
# the chain returned, through the OpenAPI links, are kept.
REAL_IDS = {"entity_type_id": "type_id", "pipeline_id": "pipeline_id", "stage_id": "stage_id", "item_id": "item_id"}


@pytest.fixture(scope="module")
def fuzz_world(stack: ServiceStack, receiver: Receiver) -> Tenant:
    """The fuzz tenant with an entity type, items, a pipeline, robots and the rest (security_seed)."""

    async def seed() -> Tenant:
        async with httpx.AsyncClient(timeout=30) as http:
            admin = As(stack, http, FUZZ_TENANT, ADMIN_USER, ("admin",))
            return await seed_tenant(admin, f"fuzz{uuid.uuid4().hex[:6]}", receiver.url("/hook/fuzz"))

    return asyncio.run(seed())


def with_real_ids(case: Any, world: Tenant) -> None:
    for container in (case.path_parameters, case.query, case.body):
        if isinstance(container, dict):
            for name, seeded in REAL_IDS.items():
                if name in container and not _is_an_id(container[name]):
                    container[name] = world.ids[seeded]


def _is_an_id(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _stateless(service: str) -> Any:
    @SCHEMAS[service].parametrize()
    def test(case: Any, stack: ServiceStack) -> None:
        # call_and_validate raises on any failed check (the checks are in fuzz_profile.py); the
        # explicit assertion names the one this suite is above all about.
        response = case.call_and_validate(base_url=stack.urls[service])
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"

    test.__name__ = f"test_{service}_api_conforms"
    return test


def _stateful(service: str) -> Any:
    def test(stack: ServiceStack, fuzz_world: Tenant) -> None:
        statuses: list[int] = []

        class Workflow(SCHEMAS[service].as_state_machine()):  # type: ignore[misc]
            def get_call_kwargs(self, case: Any) -> dict[str, Any]:
                return {"base_url": stack.urls[service]}

            def before_call(self, case: Any) -> None:
                super().before_call(case)
                with_real_ids(case, fuzz_world)

            def after_call(self, response: Any, case: Any) -> None:
                super().after_call(response, case)
                statuses.append(response.status_code)

        Workflow.run(
            settings=settings(max_examples=PROFILE.stateful_examples, stateful_step_count=PROFILE.steps, deadline=None)
        )
        # Each step was validated as it ran (a failed check raises); the chains did run, and reached
        # something beyond refusals: a stateful phase that only ever got 4xx would prove nothing.
        assert statuses, "the state machine made no call"
        assert any(code < 400 for code in statuses), f"no call succeeded: {sorted(set(statuses))}"

    test.__name__ = f"test_{service}_api_stateful"
    return test


test_entities_api_conforms = _stateless("entities")
test_pipelines_api_conforms = _stateless("pipelines")
test_automation_api_conforms = _stateless("automation")
test_notifications_api_conforms = _stateless("notifications")
test_reporting_api_conforms = _stateless("reporting")

test_entities_api_stateful = _stateful("entities")
test_pipelines_api_stateful = _stateful("pipelines")
test_automation_api_stateful = _stateful("automation")
test_notifications_api_stateful = _stateful("notifications")
# Reporting has no stateful test: its reports only read, and nothing it answers feeds another of
# its operations, so schemathesis finds no link to follow (NoLinksFound).
