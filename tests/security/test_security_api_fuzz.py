"""schemathesis against every service's OpenAPI, every phase (examples, coverage, fuzzing, stateful),
with a valid admin token, on the running services: no 5xx, and every response within its own
schema (documented status, content type, problem+json body for errors, headers).

The short profile runs in CI; ``CONVEYOR_FUZZ_PROFILE=long`` runs the long one (docs/reliability.md).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import schemathesis
from fuzz_profile import PROFILE, openapi_of, schemathesis_config
from hypothesis import settings
from security_stack import SERVICES, ServiceStack, bearer

pytestmark = [
    pytest.mark.security,
    pytest.mark.integration,
    # schemathesis' own strategies draw from `random`; not ours to fix.
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

# One tenant for the whole run, so stateful chains can reach what earlier calls created.
FUZZ_TENANT = f"fuzz-{uuid.uuid4().hex[:8]}"
ADMIN = bearer(FUZZ_TENANT, "fuzz-admin", "admin")

SCHEMAS = {
    service: schemathesis.openapi.from_dict(openapi_of(service), config=schemathesis_config(ADMIN))
    for service in SERVICES
}


def _stateless(service: str) -> Any:
    @SCHEMAS[service].parametrize()
    def test(case: Any, stack: ServiceStack) -> None:
        case.call_and_validate(base_url=stack.urls[service])

    test.__name__ = f"test_{service}_api_conforms"
    return test


def _stateful(service: str) -> Any:
    def test(stack: ServiceStack) -> None:
        class Workflow(SCHEMAS[service].as_state_machine()):  # type: ignore[misc]
            def get_call_kwargs(self, case: Any) -> dict[str, Any]:
                return {"base_url": stack.urls[service]}

        Workflow.run(
            settings=settings(max_examples=PROFILE.stateful_examples, stateful_step_count=PROFILE.steps, deadline=None)
        )

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
