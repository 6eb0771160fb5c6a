"""Text built from pieces that stops at a size: a template render cannot grow without end."""

from __future__ import annotations

from collections.abc import Iterable


class TooLarge(ValueError):
    """The text would exceed its limit; what was built so far is dropped."""


def join_within(pieces: Iterable[str], limit: int) -> str:
    """The pieces joined, or TooLarge as soon as they pass ``limit`` characters (so a template's
    loop is stopped at the piece that crosses the line, not after it has run to the end)."""
    out: list[str] = []
    size = 0
    for piece in pieces:
        size += len(piece)
        if size > limit:
            raise TooLarge(f"the text would be longer than {limit} characters")
        out.append(piece)
    return "".join(out)
