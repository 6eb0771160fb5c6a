"""Integration specifications of per-tenant analysts: with two tenants' rows in every projection behind the views,
an analyst made by `python -m reporting analysts create` sees only its tenant's rows in every documented view,
reads nothing else of the reporting database, and cannot connect to another service's database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from conveyor_kit.migrations import upgrade_in_thread
from reporting.adapters.schema import CURRENT_VIEWS
from reporting.migrations import MIGRATIONS_PATH

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
# What the columns a test row must fill get, by type; the rest keep their defaults (or null).
SAMPLES: dict[str, Any] = {
    "text": "x",
    "timestamp with time zone": NOW,
    "date": date(2026, 12, 7),
    "integer": 1,
    "bigint": 1,
    "numeric": 1,
    "double precision": 60.0,
    "boolean": False,
    "jsonb": "{}",
    "ARRAY": [],
}
# Set so that every view has the row: stage_time counts ended visits only.
OVERRIDES: dict[str, dict[str, Any]] = {"stage_visits": {"left_at": NOW, "duration_s": 60.0}}


def analysts_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reporting", "analysts", "--database-url", database_url, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ},
    )


def tables_behind_the_views() -> list[str]:
    return sorted(set(re.findall(r"\b((?:projection|public)\.\w+)", CURRENT_VIEWS)))


async def seed(conn: asyncpg.Connection, table: str, tenant: str) -> None:
    """One row of ``tenant`` in ``table``: every required column filled by its type, ids made unique."""
    schema, name = table.split(".")
    columns = await conn.fetch(
        """SELECT column_name, data_type FROM information_schema.columns
            WHERE table_schema = $1 AND table_name = $2 AND is_nullable = 'NO' AND column_default IS NULL
              AND is_identity = 'NO' AND is_generated = 'NEVER'""",
        schema,
        name,
    )
    row: dict[str, Any] = {c["column_name"]: SAMPLES[c["data_type"]] for c in columns}
    row.update({k: f"{k}-{uuid.uuid4().hex[:8]}" for k, v in row.items() if v == "x"})
    row.update(OVERRIDES.get(name, {}), tenant_id=tenant)
    names = ", ".join(row)
    values = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    await conn.execute(f"INSERT INTO {table} ({names}) VALUES ({values})", *row.values())


@pytest.fixture
async def reporting_db(fresh_database: str) -> AsyncIterator[str]:
    await upgrade_in_thread(MIGRATIONS_PATH, fresh_database)
    yield fresh_database


def credentials(output: str) -> dict[str, str]:
    return dict(re.findall(r"^(\w+):\s+(\S+)$", output, re.MULTILINE))


class TestTenantAnalysts:
    async def test_an_analyst_sees_only_its_tenants_rows_in_every_documented_view(self, reporting_db: str) -> None:
        acme, other = f"acme-{uuid.uuid4().hex[:6]}", f"other-{uuid.uuid4().hex[:6]}"
        owner = await asyncpg.connect(reporting_db)
        try:
            for table in tables_behind_the_views():
                for tenant in (acme, other):
                    await seed(owner, table, tenant)
            views = {
                r["table_name"]
                for r in await owner.fetch(
                    "SELECT table_name FROM information_schema.views WHERE table_schema = 'reporting'"
                )
            }
        finally:
            await owner.close()
        documented = set(re.findall(r"^\| `reporting\.(\w+)` \|", (ROOT / "docs" / "analysts.md").read_text(), re.M))
        assert documented == views

        made = analysts_cli(reporting_db, "create", "--tenant", acme)
        assert made.returncode == 0, made.stderr
        given = credentials(made.stdout)
        assert given["role"] == f"analyst_{acme.replace('-', '_')}" and given["tenant"] == acme
        analyst = await asyncpg.connect(given["dsn"])
        try:
            for view in sorted(views):
                tenants = [r["tenant_id"] for r in await analyst.fetch(f"SELECT tenant_id FROM reporting.{view}")]
                assert tenants and set(tenants) == {acme}, view
                asked_for_other = await analyst.fetch(f"SELECT 1 FROM reporting.{view} WHERE tenant_id = $1", other)
                assert asked_for_other == [], view
            for hidden in ("projection.items", "reporting_all.items", "public.journal", "public.analyst_tenants"):
                with pytest.raises(asyncpg.InsufficientPrivilegeError):
                    await analyst.fetch(f"SELECT * FROM {hidden} LIMIT 1")
        finally:
            await analyst.close()
        assert analysts_cli(reporting_db, "drop", "--role", given["role"]).returncode == 0

    async def test_an_analyst_cannot_connect_to_a_services_database_closed_as_deploy_closes_them(
        self, reporting_db: str, infra: Any
    ) -> None:
        tenant = f"acme-{uuid.uuid4().hex[:6]}"
        entities_db = f"t_entities_{uuid.uuid4().hex[:12]}"
        deploy_sql = (ROOT / "deploy" / "compose" / "postgres-init" / "10-conveyor-databases.sql").read_text()
        [closing] = re.findall(r"^REVOKE .* conveyor_entities FROM PUBLIC;$", deploy_sql, re.M)
        admin = await asyncpg.connect(infra.postgres_dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{entities_db}"')
            await admin.execute(closing.replace("conveyor_entities", f'"{entities_db}"'))
        finally:
            await admin.close()
        made = analysts_cli(reporting_db, "create", "--tenant", tenant)
        given = credentials(made.stdout)
        try:
            reporting = await asyncpg.connect(given["dsn"])
            await reporting.close()
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied for database"):
                await asyncpg.connect(given["dsn"].rsplit("/", 1)[0] + f"/{entities_db}")
        finally:
            analysts_cli(reporting_db, "drop", "--role", given["role"])
            admin = await asyncpg.connect(infra.postgres_dsn)
            await admin.execute(f'DROP DATABASE IF EXISTS "{entities_db}"')
            await admin.close()

    async def test_a_second_analyst_of_a_taken_name_is_refused(self, reporting_db: str) -> None:
        tenant = f"acme-{uuid.uuid4().hex[:6]}"
        first = analysts_cli(reporting_db, "create", "--tenant", tenant)
        again = analysts_cli(reporting_db, "create", "--tenant", tenant)
        listed = analysts_cli(reporting_db, "list")
        analysts_cli(reporting_db, "drop", "--role", credentials(first.stdout)["role"])
        assert again.returncode == 2 and "exists already" in again.stderr
        assert f"{credentials(first.stdout)['role']}\t{tenant}" in listed.stdout
