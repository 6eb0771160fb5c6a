"""Templates parsed once per version, kept in memory, least recently used first out.

A template version never changes once saved, so starting an instance need not parse its BPMN again:
parsing was most of a start's time (bench/README.md, peers). What a version calls may change,
though: a call activity calls the newest version of another template, so the key names the called
versions too, and a new version of a called template is parsed anew. The tenant is part of every
key: one tenant's template is never served to another.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

from automation.domain.processes import Template

MAX_PARSED = 128
MAX_KNOWN_CALLS = 1024

# A template version: (tenant, template id, version).
Version = tuple[str, str, int]
# What a start runs: the version, and each called process's (process id, template id, version), sorted.
ParsedKey = tuple[Version, tuple[tuple[str, str, int], ...]]

K = TypeVar("K")
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A bounded map that forgets the entry used longest ago (the service's few hot entries stay)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


# The parsed template a start runs, by version and called versions.
PARSED: Lru[ParsedKey, Template] = Lru(MAX_PARSED)
# The processes a version's call activities call (other templates'), by version: read from its BPMN once.
CALLS: Lru[Version, frozenset[str]] = Lru(MAX_KNOWN_CALLS)
