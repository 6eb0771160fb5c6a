"""Render the Conveyor chart with helm and index the manifests (shared by the chart tests)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART = REPO_ROOT / "deploy" / "helm" / "conveyor"
SERVICES = ["entities", "pipelines", "automation", "notifications", "reporting"]
PORTS = {"entities": 8001, "pipelines": 8002, "automation": 8003, "notifications": 8004, "reporting": 8005}
RELEASE = "conveyor"
KUBE_VERSION = "1.27.0"

Manifest = dict[str, Any]


def helm_binary() -> str:
    """helm from $CONVEYOR_HELM, .local/tools/bin (make chart-check builds it) or PATH; else skip."""
    candidates = [os.environ.get("CONVEYOR_HELM", ""), str(REPO_ROOT / ".local" / "tools" / "bin" / "helm")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("helm")
    if found is None:
        pytest.skip("helm is not installed: run `make chart-check`, which builds it")
    return found


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm_binary(), *args], capture_output=True, text=True, check=False, timeout=120)


class Rendered:
    """The documents `helm template` printed, looked up by kind and name."""

    def __init__(self, text: str) -> None:
        self.docs: list[Manifest] = [doc for doc in yaml.safe_load_all(text) if doc]
        self.text = text

    def kinds(self, kind: str) -> list[Manifest]:
        return [doc for doc in self.docs if doc["kind"] == kind]

    def get(self, kind: str, name: str) -> Manifest:
        for doc in self.kinds(kind):
            if doc["metadata"]["name"] == name:
                return doc
        raise KeyError(f"no {kind} {name}; have {[d['metadata']['name'] for d in self.kinds(kind)]}")

    def names(self, kind: str) -> set[str]:
        return {doc["metadata"]["name"] for doc in self.kinds(kind)}

    def __iter__(self) -> Iterator[Manifest]:
        return iter(self.docs)


def render(*values_files: Path, sets: dict[str, str] | None = None) -> Rendered:
    args = ["template", RELEASE, str(CHART), "--namespace", "conveyor", "--kube-version", KUBE_VERSION]
    for path in values_files:
        args += ["-f", str(path)]
    for key, value in (sets or {}).items():
        args += ["--set", f"{key}={value}"]
    result = helm(*args)
    if result.returncode != 0:
        raise AssertionError(f"helm template failed:\n{result.stderr}")
    return Rendered(result.stdout)


def fullname(service: str) -> str:
    return f"{RELEASE}-{service}"


def container(deployment: Manifest) -> Manifest:
    containers: list[Manifest] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_names(spec: Manifest) -> dict[str, Manifest]:
    return {entry["name"]: entry for entry in spec.get("env", [])}
