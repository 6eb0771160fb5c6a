"""One controllable clock for every service on a machine: its time lives in a small JSON file.

For development and tests only (`make run ARGS=--test-clock`, the e2e stories). Services never call
each other, so they share the clock through the file system: ``POST /v1/test/clock`` on any service
rewrites the file (atomically, under a lock), and every service's ``now()`` re-reads it when its
modification stamp changed: one ``stat`` per reading, the JSON parsed only after a move.

The file says where the clock stood when it was last written (``at``) and whether it runs on from
there with the wall clock (``ticking``) or stands still until moved, as ``ControllableClock`` does::

    {"at": "2027-02-01T08:00:00+00:00", "ticking": false, "written_at": "2026-05-04T10:12:00+00:00"}

    python -m conveyor_kit.shared_clock .local/test-clock.json                     # read it
    python -m conveyor_kit.shared_clock .local/test-clock.json --advance 86400     # a day on
    python -m conveyor_kit.shared_clock .local/test-clock.json --set 2027-02-01T08:00:00Z --frozen
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path


def _wall() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Reading:
    """What the file holds: the clock's time when written, and whether it has run on since."""

    at: datetime
    ticking: bool
    written_at: datetime

    def now(self, wall: datetime) -> datetime:
        return self.at + (wall - self.written_at) if self.ticking else self.at


class FileClock:
    """A controllable clock whose time is a file shared by every process that names the same path."""

    def __init__(self, path: Path, *, ticking_if_new: bool = False, wall: Callable[[], datetime] = _wall) -> None:
        self._path = Path(path)
        self._wall = wall
        self._stamp: tuple[int, int, int] | None = None
        self._reading: Reading | None = None
        with self._locked():
            if not self._path.exists():
                start = wall()
                self._write(Reading(at=start, ticking=ticking_if_new, written_at=start))

    @property
    def path(self) -> Path:
        return self._path

    def now(self) -> datetime:
        return self.read().now(self._wall())

    def read(self) -> Reading:
        """The file's reading; parsed again only when the file was replaced since the last one."""
        status = os.stat(self._path)
        stamp = (status.st_ino, status.st_mtime_ns, status.st_size)
        if stamp != self._stamp or self._reading is None:
            self._reading, self._stamp = _parse(self._path.read_text()), stamp
        return self._reading

    def set(self, instant: datetime, *, ticking: bool | None = None) -> None:
        """Jump to ``instant`` (naive values are taken as UTC); ``ticking`` switches running on or off."""
        with self._locked():
            current = _parse(self._path.read_text())
            self._write(Reading(_utc(instant), current.ticking if ticking is None else ticking, self._wall()))

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds``; moving backward is refused, as real clocks never do."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._locked():
            current = _parse(self._path.read_text())
            wall = self._wall()
            self._write(Reading(current.now(wall) + timedelta(seconds=seconds), current.ticking, wall))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        # Two services moving the clock at once must not both read the old time and lose a move.
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._path.with_name(self._path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, reading: Reading) -> None:
        # Written beside and renamed over: a reader sees the old file or the new one, never half of one.
        text = json.dumps(
            {"at": reading.at.isoformat(), "ticking": reading.ticking, "written_at": reading.written_at.isoformat()}
        )
        handle, temporary = tempfile.mkstemp(dir=self._path.parent, prefix=self._path.name, suffix=".tmp")
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.replace(temporary, self._path)


def _parse(text: str) -> Reading:
    data = json.loads(text)
    return Reading(
        at=_utc(datetime.fromisoformat(data["at"])),
        ticking=bool(data.get("ticking", False)),
        written_at=_utc(datetime.fromisoformat(data.get("written_at", data["at"]))),
    )


def _utc(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    move = parser.add_mutually_exclusive_group()
    move.add_argument("--set", dest="set_to", type=datetime.fromisoformat, help="jump to this instant (ISO 8601)")
    move.add_argument("--advance", type=float, help="move forward by this many seconds")
    running = parser.add_mutually_exclusive_group()
    running.add_argument("--ticking", dest="ticking", action="store_true", default=None, help="run on from there")
    running.add_argument("--frozen", dest="ticking", action="store_false", help="stand still until moved")
    args = parser.parse_args(argv)

    clock = FileClock(args.file, ticking_if_new=bool(args.ticking))
    if args.advance is not None:
        clock.advance(args.advance)
    if args.set_to is not None or (args.advance is None and args.ticking is not None):
        clock.set(args.set_to or clock.now(), ticking=args.ticking)
    print(clock.now().isoformat())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
