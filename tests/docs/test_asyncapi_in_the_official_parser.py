"""docs/asyncapi.yaml is read by the official AsyncAPI parser (@asyncapi/parser 3, as AsyncAPI Studio
and the code generators read it) without a single error: tools/asyncapi-check."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECK = REPO_ROOT / "tools" / "asyncapi-check"
DOCUMENT = REPO_ROOT / "docs" / "asyncapi.yaml"


def asyncapi_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: `make setup` installs Node.js and tools/asyncapi-check's modules")
    if not (CHECK / "node_modules" / "@asyncapi" / "parser").is_dir():
        pytest.fail("tools/asyncapi-check/node_modules is missing: run `make setup` (it runs `npm ci` there)")
    return subprocess.run(
        [node, str(CHECK / "check.mjs"), *map(str, paths)], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_events_contract_parses_without_errors() -> None:
    result = asyncapi_check(DOCUMENT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"ok {DOCUMENT}"]


def test_the_check_refuses_a_reference_that_points_nowhere(tmp_path: Path) -> None:
    document = yaml.safe_load(DOCUMENT.read_text())
    del document["components"]["schemas"]["ItemRef"]
    broken = tmp_path / "asyncapi.yaml"
    broken.write_text(yaml.safe_dump(document, sort_keys=False))

    result = asyncapi_check(broken)

    assert result.returncode == 1
    assert "invalid-ref '#/components/schemas/ItemRef' does not exist" in result.stdout
