"""Tunnels form a graph between stages; a tunnel that would close a cycle is refused."""

from __future__ import annotations

from collections.abc import Iterable

from conveyor_messaging.actor import Actor

# Who moves an item through a tunnel, and sends a tunnel's linked copy: the tenant's configuration.
TUNNEL_ACTOR = Actor.system("tunnels")


def cycle_through(edges: Iterable[tuple[str, str]], new_edge: tuple[str, str]) -> list[str] | None:
    """The stage ids of the cycle `new_edge` would close (first id repeated at the end), or None.

    Both move and copy tunnels count: a copy entering a stage fires that stage's tunnels too, so
    a cycle of copies would create items forever.
    """
    source, target = new_edge
    if source == target:
        return [source, source]
    graph: dict[str, list[str]] = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
    # A path target →* source plus the new edge source → target is the cycle.
    path = _path(graph, target, source)
    return [source, *path] if path is not None else None


def _path(graph: dict[str, list[str]], start: str, goal: str) -> list[str] | None:
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        if node == goal:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack.extend((nxt, [*path, nxt]) for nxt in graph.get(node, ()) if nxt not in seen)
    return None
