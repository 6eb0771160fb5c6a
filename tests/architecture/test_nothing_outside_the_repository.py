"""The repository carries every file its code, tests, benchmarks, scripts and docs refer to.

A newcomer clones the project into an empty folder. Tests that read `../shared/data` or a path on
one developer's machine passed in CI (which had that folder beside the clone) and failed for
everyone else. So every relative path written in a tracked file must resolve inside the
repository, `Path(__file__)` may not climb above the repository root, and no file names a
machine's own folders.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CHECKED_SUFFIXES = {".py", ".sh", ".md", ".yml", ".yaml", ".toml", ".mjs", ".js", ".ts", ".tsx", ".cfg", ".ini"}
CHECKED_NAMES = {"Makefile", "Dockerfile", "Procfile", "run"}
# A run of `../` segments, not preceded by a dot (".../grants" in prose is an ellipsis).
RELATIVE_UP = re.compile(r"(?<![.\w])((?:\.\./)+(?:[\w.-]+/?)*|\.\.(?=[\s\"'`)]|$))")
# Folders that exist on one machine only; "/shared" beside a checkout is where the trap was.
MACHINE_PATHS = re.compile(r"(?<![\w.])(/work/|/home/\w|/Users/\w|/mnt/\w)")
SIBLING_SHARED = re.compile(r"\.\./shared\b|[\"'](?:shared)[\"']\s*/")
PATH_OF_FILE = re.compile(r"^Path\(__file__\)(?:\.resolve\(\))?((?:\.parent)+|\.parents\[(\d+)\])$")


def checked_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.splitlines()  # fmt: skip
        paths = [ROOT / name for name in listed]
    except (OSError, subprocess.CalledProcessError):  # an export without .git
        paths = [p for p in ROOT.rglob("*") if ".local" not in p.parts and ".venv" not in p.parts]
    return [
        p
        for p in paths
        if p.is_file() and "node_modules" not in p.parts and (p.suffix in CHECKED_SUFFIXES or p.name in CHECKED_NAMES)
    ]


def escapes(base: Path, relative: str) -> bool:
    target = (base / relative.strip("`'\"")).resolve()
    return not target.is_relative_to(ROOT)


def relative_paths_leaving_the_repository(path: Path, text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in RELATIVE_UP.finditer(line):
            if escapes(path.parent, match.group(1)):
                found.append(f"{path.relative_to(ROOT)}:{number}: {match.group(1)}")
        for match in (*MACHINE_PATHS.finditer(line), *SIBLING_SHARED.finditer(line)):
            found.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)}")
    return found


def file_paths_above_the_root(path: Path, source: str) -> list[str]:
    """`Path(__file__).parents[N]` (or `.parent` N+1 times) that lands above the repository root."""
    found = []
    for node in ast.walk(ast.parse(source, str(path))):
        if not isinstance(node, (ast.Subscript, ast.Attribute)):
            continue
        match = PATH_OF_FILE.match(ast.unparse(node))
        if match is None:
            continue
        levels = int(match.group(2)) + 1 if match.group(2) is not None else match.group(1).count(".parent")
        target = path.parents[levels - 1] if levels <= len(path.parents) else Path("/")
        if not target.is_relative_to(ROOT):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_every_path_a_tracked_file_names_is_inside_the_repository() -> None:
    files = checked_files()
    assert len(files) > 300  # the walk found the project
    this_file = Path(__file__).resolve()
    outside = []
    for path in files:
        if path == this_file:
            continue  # its patterns and examples name what they forbid
        text = path.read_text(encoding="utf-8", errors="replace")
        outside += relative_paths_leaving_the_repository(path, text)
        if path.suffix == ".py":
            outside += file_paths_above_the_root(path, text)
    assert outside == [], "references outside the repository:\n" + "\n".join(outside)


class TestTheCheckItself:
    def test_it_sees_a_sibling_folder_and_a_machine_path(self) -> None:
        here = ROOT / "tests" / "e2e" / "test_story.py"
        assert relative_paths_leaving_the_repository(here, 'DATA = "../../../shared/data"')
        assert relative_paths_leaving_the_repository(here, 'DATA = Path("/work/shared/data")')
        assert relative_paths_leaving_the_repository(ROOT / "README.md", "the stories in `../shared/scenarios`")
        assert relative_paths_leaving_the_repository(here, 'DATA = ROOT.parent / "shared" / "data"')

    def test_it_lets_paths_inside_the_repository_pass(self) -> None:
        script = ROOT / "deploy" / "local" / "lib" / "common.sh"
        assert not relative_paths_leaving_the_repository(script, 'ROOT="$(dirname "$0")/../../.."')
        assert not relative_paths_leaving_the_repository(ROOT / "docs" / "x.md", "[ops](../deploy/README.md)")
        assert not relative_paths_leaving_the_repository(ROOT / "docs" / "x.md", "`PUT .../grants` sets")

    def test_it_sees_path_of_file_climbing_above_the_root(self) -> None:
        here = ROOT / "tests" / "e2e" / "test_story.py"
        assert file_paths_above_the_root(here, 'D = Path(__file__).resolve().parents[3] / "shared"')
        assert file_paths_above_the_root(here, "D = Path(__file__).parent.parent.parent.parent")
        assert not file_paths_above_the_root(here, 'D = Path(__file__).resolve().parents[2] / "tests" / "data"')
        assert not file_paths_above_the_root(here, "D = Path(__file__).parent.parent.parent")
