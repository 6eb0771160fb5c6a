"""Reading `If-Match`: the version a client last saw, as the ETag a service gave out."""

from __future__ import annotations

from conveyor_kit.problems import Problem

# Versions are PostgreSQL integers: a larger number is no version this service gave out.
MAX_VERSION = 2**31 - 1


def expected_version(if_match: str | None, *, required: bool) -> int | None:
    """The version an If-Match header names: `"3"` (the ETag as given), `W/"3"` or a bare `3`; `*` or
    none is no expectation. 428 when a required one is missing, 400 for anything else."""
    if if_match is None or if_match.strip() == "*":
        if required and if_match is None:
            raise Problem(
                428,
                "Precondition required",
                "send If-Match with the resource's ETag (its version) so that no change is overwritten unseen",
                slug="precondition-required",
            )
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    # isdigit alone takes "²" and other digits int() refuses: only ASCII digits are a version.
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_VERSION:
        detail = 'If-Match must be an ETag this service gave out, e.g. "3"'
        raise Problem(400, "Bad If-Match", detail, slug="bad-if-match")
    return int(text)
