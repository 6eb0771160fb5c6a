"""Robots, triggers and process templates as read, kept per tenant generation (revision 0010).

Each item event and robot run reads its tenant's configuration, which changes a few times a day;
reading it again every time was about five statements per command. Every change of a robot, trigger
or template gives its tenant a new generation in the same transaction, and the copy of an item comes
with its tenant's generation, so a reader that holds a generation can use what was read under it:

- a change committed before the item was read has a new generation: a miss, read again;
- a change committed after is not seen, as it would not have been by a read at that instant.

What is read after a miss is at least as new as the generation it is kept under, never older.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

# Entries (one stage's robots, one pipeline's triggers of a kind, one type's templates) per process.
KEPT_ENTRIES = 4096


class KeptConfig:
    """A bounded map from (generation, what) to what was read, the least recently used going first."""

    def __init__(self, size: int = KEPT_ENTRIES) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, Hashable], tuple[Any, ...]] = OrderedDict()

    async def read(self, generation: str | None, what: Hashable, load: Callable[[], Awaitable[list[T]]]) -> list[T]:
        """What ``load`` gives, kept under ``generation``; None (a tenant never configured, or a caller
        without an item at hand) reads every time. A new list each call: callers may change theirs."""
        if generation is None:
            return await load()
        key = (generation, what)
        kept = self._entries.get(key)
        if kept is None:
            kept = tuple(await load())
            self._entries[key] = kept
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(key)
        return list(kept)


KEPT = KeptConfig()
