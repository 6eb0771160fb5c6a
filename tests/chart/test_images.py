"""Static checks of the service image (deploy/docker) and the compose file (deploy/compose).

There is no Docker engine here, so the Dockerfile is parsed instead of built: its stages, the
user it runs as, its health check, and that everything it copies exists in the build context.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from .render import PORTS, REPO_ROOT, SERVICES

pytestmark = pytest.mark.unit

DOCKERFILE = REPO_ROOT / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / "deploy" / "docker" / "Dockerfile.dockerignore"
COMPOSE = REPO_ROOT / "deploy" / "compose" / "docker-compose.yml"


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def parse_dockerfile(text: str) -> list[Stage]:
    """Instructions per stage, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            match = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", args.strip(), flags=re.IGNORECASE)
            assert match, line
            stages.append(Stage(base=match.group(1), name=match.group(2) or ""))
        elif stages:
            stages[-1].instructions.append((keyword, args.strip()))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())


def test_multi_stage_build_on_python_slim(stages: list[Stage]) -> None:
    assert [stage.name for stage in stages] == ["builder", "runtime"]
    assert all(stage.base == "${PYTHON_IMAGE}" for stage in stages)
    default = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), flags=re.MULTILINE)
    assert default and default.group(1).startswith("python:3.11-slim")


def test_builder_installs_exactly_the_locked_service(stages: list[Stage]) -> None:
    builder = stages[0]
    runs = " ".join(builder.all("RUN"))
    assert 'uv sync --frozen --no-dev --no-editable --package "${SERVICE}"' in runs
    assert re.search(r"pip install .*uv==\$\{UV_VERSION\}", runs)
    assert "ARG UV_VERSION=0.13.8" in DOCKERFILE.read_text(), "the same uv as deploy/local/bootstrap.sh"


def test_everything_copied_exists_in_the_context_and_is_not_ignored(stages: list[Stage]) -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line and not line.startswith("#")}
    for stage in stages:
        for args in stage.all("COPY"):
            parts = [part for part in shlex.split(args) if not part.startswith("--")]
            if "--from=" in args:
                continue
            for source in parts[:-1]:
                path = REPO_ROOT / source
                assert path.exists(), f"COPY {source}: not in the build context"
                assert source.rstrip("/") not in ignored, f"COPY {source}: excluded by the .dockerignore"
    assert {"tests", ".venv", ".local", ".git"} <= ignored


def test_runtime_is_non_root_with_healthcheck_and_migrate_command(stages: list[Stage]) -> None:
    runtime = stages[-1]
    assert runtime.all("COPY")[0].startswith("--from=builder /app/.venv /app/.venv")
    users = runtime.all("USER")
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert "--uid 10001" in " ".join(runtime.all("RUN")), "the user the chart's runAsUser names"
    [healthcheck] = runtime.all("HEALTHCHECK")
    assert healthcheck.endswith('CMD ["python", "/app/healthcheck.py"]')
    assert runtime.all("ENTRYPOINT") == ['["/app/entrypoint.sh"]']
    assert runtime.all("CMD") == ['["serve"]']
    assert os.access(REPO_ROOT / "deploy" / "docker" / "entrypoint.sh", os.X_OK)
    env = " ".join(runtime.all("ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env, "the root filesystem is read-only in Kubernetes"


@pytest.mark.parametrize(
    ("args", "extra_env", "expected"),
    [
        (["serve"], {}, "-m entities serve|HOST=0.0.0.0|PORT=8001"),
        (
            ["migrate", "--revision", "heads"],
            {"ENTITIES_PORT": "9000"},
            "-m entities migrate --revision heads|HOST=0.0.0.0|PORT=9000",
        ),
    ],
)
def test_entrypoint_runs_the_service_module_on_all_interfaces(
    tmp_path: Path, args: list[str], extra_env: dict[str, str], expected: str
) -> None:
    # A stand-in `python` that prints what it was asked to run and the listen address it got.
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\necho "$*|HOST=$ENTITIES_HOST|PORT=$ENTITIES_PORT"\n')
    fake.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "CONVEYOR_SERVICE": "entities", "CONVEYOR_PORT": "8001", **extra_env}
    result = subprocess.run(
        [str(REPO_ROOT / "deploy" / "docker" / "entrypoint.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert result.stdout.strip() == expected


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def test_compose_every_service_has_image_healthcheck_and_dependencies(compose: dict[str, Any]) -> None:
    services: dict[str, Any] = compose["services"]
    assert set(services) == {"postgres", "kafka"} | set(SERVICES) | {f"{s}-migrate" for s in SERVICES}
    for name, service in services.items():
        assert service.get("image"), f"{name} has no image"
        assert "healthcheck" in service, f"{name} has no healthcheck"
        if name not in {"postgres", "kafka"}:
            assert service.get("depends_on"), f"{name} has no depends_on"
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"


@pytest.mark.parametrize("service", SERVICES)
def test_compose_migrates_before_serving(compose: dict[str, Any], service: str) -> None:
    services: dict[str, Any] = compose["services"]
    serve, migrate = services[service], services[f"{service}-migrate"]
    assert migrate["command"] == ["migrate"] and serve["command"] == ["serve"]
    assert serve["image"] == migrate["image"] and serve["image"].endswith(f"/{service}:${{CONVEYOR_TAG:-dev}}")
    assert serve["build"] == migrate["build"]
    assert serve["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert serve["build"]["args"] == {"SERVICE": service, "PORT": str(PORTS[service])}
    assert (COMPOSE.parent / serve["build"]["context"] / serve["build"]["dockerfile"]).is_file()
    assert serve["depends_on"][f"{service}-migrate"] == {"condition": "service_completed_successfully"}
    assert serve["depends_on"]["kafka"] == {"condition": "service_healthy"}
    assert migrate["depends_on"]["postgres"] == {"condition": "service_healthy"}
    dsn_key = f"{service.upper()}_DATABASE_URL"
    assert serve["environment"][dsn_key] == migrate["environment"][dsn_key]
    assert serve["environment"][dsn_key].endswith(f"@postgres:5432/conveyor_{service}")
    assert serve["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert serve["ports"] == [f"127.0.0.1:{PORTS[service]}:{PORTS[service]}"]


def test_compose_postgres_creates_the_five_databases(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["postgres"]["volumes"]
    init_mount = next(v for v in volumes if v.endswith(":/docker-entrypoint-initdb.d:ro"))
    init_dir = COMPOSE.parent / init_mount.split(":")[0]
    sql = " ".join(path.read_text() for path in sorted(init_dir.glob("*.sql")))
    assert sorted(re.findall(r"CREATE DATABASE (\w+);", sql)) == sorted(f"conveyor_{s}" for s in SERVICES)
