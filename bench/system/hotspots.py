"""The hottest functions of a py-spy profile (collapsed stacks, ``--format raw``), by own and total time.

    uv run python bench/system/hotspots.py bench/results/system/profiles/entities.txt [--top 30] [--match conveyor]

Own time is where the samples stopped; total time counts every sample with the function anywhere on
the stack (once per sample). Idle samples (the event loop waiting in ``select``/``epoll``) are left out
of the percentages, so they read as shares of the CPU the process used.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

IDLE = ("select (selectors.py", "poll (selectors.py", "run_once (uvloop", "_run_once (asyncio")
LINE = re.compile(r":\d+\)$")


def frames(stack: str) -> list[str]:
    # "handle (conveyor_messaging/consumer.py:120)" → "handle (conveyor_messaging/consumer.py)"
    return [LINE.sub(")", frame) for frame in stack.split(";") if frame]


def package(frame: str) -> str:
    """The library a frame belongs to: ``Connection.execute (asyncpg/connection.py)`` → asyncpg. Samples
    that stop in ``Runner.run`` are in the event loop's native code (uvloop: sockets, callbacks)."""
    if frame.startswith("Runner.run ("):
        return "event loop (native)"
    inside = frame.rpartition("(")[2]
    return inside.split("/", 1)[0] if "/" in inside else inside.rstrip(")")


def read(path: Path) -> tuple[Counter[str], Counter[str], int]:
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    busy = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        found = frames(stack)
        if not found or found[-1].startswith(IDLE):
            continue
        n = int(count)
        busy += n
        own[found[-1]] += n
        for frame in set(found):
            total[frame] += n
    return own, total, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="", help="only functions whose frame contains this text")
    args = parser.parse_args()
    own, total, busy = read(args.profile)
    print(f"{args.profile}: {busy} busy samples")
    by_package: Counter[str] = Counter()
    for frame, n in own.items():
        by_package[package(frame)] += n
    for title, counts in (("own time by library", by_package), ("own time", own), ("total time", total)):
        print(f"\n{title}:")
        shown = [(frame, n) for frame, n in counts.most_common() if args.match in frame][: args.top]
        for frame, n in shown:
            print(f"  {100 * n / max(1, busy):5.1f} %  {frame}")


if __name__ == "__main__":
    main()
