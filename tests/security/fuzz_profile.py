"""How hard schemathesis pushes: a short profile for CI, a long one on demand.

``CONVEYOR_FUZZ_PROFILE=long`` selects the long profile; ``CONVEYOR_FUZZ_SEED`` repeats a run.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any

from schemathesis.config import SchemathesisConfig


@dataclass(frozen=True)
class Profile:
    max_examples: int  # per operation in the examples and fuzzing phases
    # The coverage phase makes every boundary case the schema defines (max_examples does not bound
    # it): "positive" only valid ones, "all" the invalid ones too, several times as many.
    coverage_mode: str
    stateful_examples: int  # scenarios per service
    steps: int  # calls per scenario at most


PROFILES = {
    "short": Profile(max_examples=2, coverage_mode="positive", stateful_examples=4, steps=5),
    "long": Profile(max_examples=200, coverage_mode="all", stateful_examples=100, steps=20),
}
PROFILE = PROFILES[os.environ.get("CONVEYOR_FUZZ_PROFILE", "short")]

# Checks every response must pass. Left out on purpose: `positive_data_acceptance` (a body that
# fits the schema may still name an entity type that does not exist: a 404 or 422, not a bug) and
# `negative_data_rejection` (pydantic's lax mode reads 0 as false and a number as an epoch time,
# and unknown query parameters are ignored; the services accept those on purpose).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "missing_required_header",
    "ignored_auth",
    "unsupported_method",
    "use_after_free",
    "ensure_resource_availability",
)


def openapi_of(service: str) -> dict[str, Any]:
    """The service's OpenAPI document as its app serves it (building the app connects to nothing)."""
    settings = importlib.import_module(f"{service}.config").Settings(environment="test")
    app = importlib.import_module(f"{service}.entrypoints.http").create(settings)
    document: dict[str, Any] = app.openapi()
    return document


def schemathesis_config(headers: dict[str, str]) -> SchemathesisConfig:
    """``headers`` authenticate every call; schemathesis knows them, so `ignored_auth` can drop them."""
    seed = os.environ.get("CONVEYOR_FUZZ_SEED")
    return SchemathesisConfig.from_dict(
        {
            "headers": headers,
            **({"seed": int(seed)} if seed else {}),
            "generation": {"max-examples": PROFILE.max_examples, "database": "none"},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True, "generation": {"mode": PROFILE.coverage_mode}},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": PROFILE.steps},
            },
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS},
            },
            "suppress-health-check": ["all"],
            # Issuing a calendar feed URL revokes the caller's previous one, on purpose (a leaked URL is
            # cut off by issuing a new one). A stateful chain that issued two and then reads the first
            # gets the 404 it should; "created resource not found" cannot tell that from a lost one.
            "operations": [
                {
                    "include-path": "/v1/calendar/feeds/{token}.ics",
                    "checks": {"ensure_resource_availability": {"enabled": False}},
                }
            ],
        }
    )
