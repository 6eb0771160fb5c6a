"""`python -m reporting analysts create|list|drop`: per-tenant analyst logins of the reporting database.

Run it with a DSN whose role owns the reporting database and may create roles (CREATEROLE): the
service's own `REPORTING_DATABASE_URL`, or `--database-url`. docs/analysts.md shows a session.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from collections.abc import Sequence
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

from reporting.adapters import analysts
from reporting.config import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reporting analysts")
    default_dsn = os.environ.get("REPORTING_DATABASE_URL") or Settings.model_fields["database_url"].default
    parser.add_argument("--database-url", default=default_dsn, help="the reporting database, as its owner")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="a login that sees one tenant's rows; prints its credentials")
    create.add_argument("--tenant", required=True, help="the tenant id, as in tokens and the views' tenant_id")
    create.add_argument("--role", help="the login's name (default: analyst_<tenant>); unique on the server")
    commands.add_parser("list", help="every analyst login and its tenant")
    drop = commands.add_parser("drop", help="drop an analyst login")
    drop.add_argument("--role", required=True)
    return parser


def _dsn_of(admin_dsn: str, role: str, password: str) -> str:
    """The admin DSN's host, port and database with the analyst's credentials."""
    parts = urlsplit(admin_dsn)
    host = parts.hostname or "localhost"
    netloc = f"{quote(role)}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


async def _run(args: argparse.Namespace) -> int:
    conn = await asyncpg.connect(args.database_url)
    try:
        if args.command == "list":
            for role, tenant in await analysts.listing(conn):
                print(f"{role}\t{tenant}")
            return 0
        if args.command == "drop":
            await analysts.drop(conn, args.role)
            print(f"dropped {args.role}")
            return 0
        role, password = args.role or analysts.default_role(args.tenant), secrets.token_urlsafe(24)
        await analysts.create(conn, role=role, tenant_id=args.tenant, password=password)
        print(f"role:     {role}\ntenant:   {args.tenant}\npassword: {password}")
        print(f"dsn:      {_dsn_of(args.database_url, role, password)}")
        still_open = await analysts.other_databases_open_to(conn, role)
        if still_open:
            print(
                f"warning: {role} can still connect to {', '.join(still_open)}: as each one's owner run "
                '`REVOKE CONNECT, TEMPORARY ON DATABASE "<name>" FROM PUBLIC` (docs/operations.md)',
                file=sys.stderr,
            )
        return 0
    except analysts.AnalystRefused as refused:
        print(f"refused: {refused.detail}", file=sys.stderr)
        return 2
    finally:
        await conn.close()


def main(argv: Sequence[str]) -> int:
    return asyncio.run(_run(_parser().parse_args(argv)))
