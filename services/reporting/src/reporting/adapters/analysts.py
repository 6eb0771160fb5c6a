"""Analyst logins of the reporting database: each a PostgreSQL role in ``reporting_reader``, tied to one tenant."""

from __future__ import annotations

import re

from conveyor_kit.domain_errors import Invalid
from conveyor_messaging.db import Connection

# Roles are shared by every database of the server, so the name must not collide with another service's.
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class AnalystRefused(Invalid):
    """An analyst that cannot be created or dropped: a bad or taken name, or an unknown one."""


def default_role(tenant_id: str) -> str:
    """``analyst_<tenant>``, the tenant id lowercased with anything but letters, digits and ``_`` as ``_``."""
    return ("analyst_" + re.sub(r"[^a-z0-9_]", "_", tenant_id.lower()))[:63]


async def create(conn: Connection, *, role: str, tenant_id: str, password: str) -> None:
    """A login role that reads the tenant's rows of the ``reporting`` views and nothing else here."""
    if not ROLE_NAME.fullmatch(role):
        raise AnalystRefused(f"role name {role!r}: lowercase letters, digits and _, at most 63")
    if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
        raise AnalystRefused(f"role {role} exists already")
    # CREATE ROLE takes no parameters: PostgreSQL itself quotes the name and the password.
    statement = await conn.fetchval(
        "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE reporting_reader', $1::text, $2::text)",
        role,
        password,
    )
    async with conn.transaction():
        await conn.execute(statement)
        await conn.execute("INSERT INTO public.analyst_tenants (role_name, tenant_id) VALUES ($1, $2)", role, tenant_id)


async def drop(conn: Connection, role: str) -> None:
    """Drop an analyst's login (and only an analyst's: a role not in ``analyst_tenants`` is refused)."""
    async with conn.transaction():
        if await conn.fetchval("DELETE FROM public.analyst_tenants WHERE role_name = $1 RETURNING 1", role) is None:
            raise AnalystRefused(f"{role} is not an analyst of this database")
        await conn.execute(await conn.fetchval("SELECT format('DROP ROLE IF EXISTS %I', $1::text)", role))


async def listing(conn: Connection) -> list[tuple[str, str]]:
    """Every analyst as (role, tenant), by role."""
    rows = await conn.fetch("SELECT role_name, tenant_id FROM public.analyst_tenants ORDER BY role_name")
    return [(r["role_name"], r["tenant_id"]) for r in rows]


async def other_databases_open_to(conn: Connection, role: str) -> list[str]:
    """Databases of the server other than this one the role may still connect to (PUBLIC keeps CONNECT on a
    database unless its owner revokes it)."""
    rows = await conn.fetch(
        """SELECT datname FROM pg_database
            WHERE datallowconn AND datname <> current_database() AND NOT datistemplate
              AND has_database_privilege($1, datname, 'CONNECT')
            ORDER BY datname""",
        role,
    )
    return [r["datname"] for r in rows]
