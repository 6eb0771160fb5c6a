"""Every event a service stores carries the time of the service's injectable clock.

``EventStore.append`` falls back to the wall clock when it is given no time. In a service that
fallback is a defect: a robot's command stamped with the wall clock put its change at the wrong
moment on the item's timeline and in the reports whenever the clock was not the wall clock (tests
moving time, timers firing late after an outage). So each append in a service names its time,
either for the whole call (``now=``) or per event (``NewEvent.of(..., occurred_at=)``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SERVICES = Path(__file__).resolve().parents[2] / "services"
APPENDS = {"append", "append_new_streams"}


def _names_its_time(call: ast.Call) -> bool:
    if any(k.arg == "now" for k in call.keywords):
        return True
    events = next((k.value for k in call.keywords if k.arg in ("events", "streams")), None)
    if events is None:
        return False
    given = [
        node
        for node in ast.walk(events)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "of"
    ]
    return bool(given) and all(any(k.arg == "occurred_at" for k in of.keywords) for of in given)


def _event_store_appends(tree: ast.AST) -> list[ast.Call]:
    """Calls that look like ``store.append(conn, stream_id=..., ...)`` (a list's append has no keywords)."""
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in APPENDS
        and {k.arg for k in node.keywords} & {"stream_id", "streams"}
    ]


def test_every_append_in_a_service_names_its_time() -> None:
    sources = sorted(SERVICES.glob("*/src/**/*.py"))
    assert len(sources) > 100  # the walk found the services
    found, missing = 0, []
    for path in sources:
        for call in _event_store_appends(ast.parse(path.read_text(), str(path))):
            found += 1
            if not _names_its_time(call):
                missing.append(f"{path.relative_to(SERVICES.parent)}:{call.lineno}")
    assert found > 30  # every service appends somewhere
    assert missing == [], "appends that would stamp events with the wall clock: " + ", ".join(missing)


def test_the_check_sees_a_missing_time() -> None:
    bare = ast.parse("store.append(conn, stream_id='s', events=[NewEvent.of(e)], actor=a)")
    timed = ast.parse("store.append(conn, stream_id='s', events=[NewEvent.of(e, occurred_at=t)], actor=a)")
    (bare_call,), (timed_call,) = _event_store_appends(bare), _event_store_appends(timed)
    assert not _names_its_time(bare_call)
    assert _names_its_time(timed_call)
