"""How robot runs and their timers are named: run ids, timer kinds and the groups that cancel them."""

from __future__ import annotations

import uuid
from datetime import datetime

ROBOT_TIMER = "robot"
_RUN_IDS = uuid.UUID("6f1c0c1e-6a38-4f55-9c7d-0b0a8d4b2a11")


def visit_group(tenant_id: str, item_id: str, visit_id: str) -> str:
    """Every timer of one visit to a stage: cancelled when the item leaves it."""
    return f"visit:{tenant_id}:{item_id}:{visit_id}"


def idle_group(tenant_id: str, item_id: str, visit_id: str) -> str:
    """The "no change for N days" timers of a visit: set again from every change."""
    return f"idle:{tenant_id}:{item_id}:{visit_id}"


def creation_group(tenant_id: str, item_id: str) -> str:
    """Runs that wait for the item's creation (its placement came first): brought forward by it."""
    return f"creation:{tenant_id}:{item_id}"


def run_id_for(tenant_id: str, robot_id: str, item_id: str, visit_id: str, anchor: datetime | None) -> str:
    """The same robot, item, visit (and, for idle robots, last change) always make the same run."""
    name = f"{tenant_id}|{robot_id}|{item_id}|{visit_id}|{anchor.isoformat() if anchor else ''}"
    return str(uuid.uuid5(_RUN_IDS, name))
