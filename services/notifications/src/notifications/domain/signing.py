"""The outgoing-webhook signature: HMAC-SHA256 over ``<timestamp>.<body>``, sent as ``t=<ts>,v1=<hex>``."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Conveyor-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return mac.hexdigest()


def header_value(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance_seconds: int = 300) -> bool:
    """What a receiver does: parse the header, recompute, compare in constant time, refuse stale timestamps."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, timestamp, body))
