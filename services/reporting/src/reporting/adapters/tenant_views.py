"""The analysts' views as each analyst sees them: only the rows of the tenant their login is an analyst of.

Every view is built twice: in schema ``reporting_all`` as written in ``schema.CURRENT_VIEWS`` (no grants,
so analysts cannot read it), and in schema ``reporting`` as a security-barrier view of it filtered by the
caller's tenant. The caller is ``current_user``, looked up in ``public.analyst_tenants``; a role that may
use the projections' schema anyway (the service's owner, a superuser) sees every tenant. Why views and not
row-level security: docs/adr/006-per-tenant-analysts.md.
"""

from __future__ import annotations

import re

from reporting.adapters.schema import CURRENT_VIEWS

FULL = "reporting_all"
VIEW_NAMES: tuple[str, ...] = tuple(re.findall(r"CREATE OR REPLACE VIEW reporting\.(\w+)", CURRENT_VIEWS))

# Both are InitPlans, computed once per query; a tenant-scoped reader never sees another tenant's row, and
# security_barrier keeps the caller's own (possibly leaky) functions from seeing rows before this filter.
_VISIBLE = (
    "tenant_id = (SELECT a.tenant_id FROM public.analyst_tenants a WHERE a.role_name = current_user)"
    " OR (SELECT has_schema_privilege('projection', 'USAGE'))"
)

ANALYST_TENANTS = """
CREATE TABLE IF NOT EXISTS public.analyst_tenants (
    role_name  text        PRIMARY KEY,
    tenant_id  text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""

# Members of reporting_reader (each tenant's analyst logins) may connect to this database only; the other
# services' databases are closed to PUBLIC by whoever creates them (deploy/, docs/operations.md).
CONNECT = """
DO $$ BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO reporting_reader', current_database());
END $$;
"""


def tenant_views() -> str:
    """SQL that (re)creates both schemas of views over the live projections, and the readers' grants."""
    full = CURRENT_VIEWS.replace("reporting.", f"{FULL}.")
    filtered = "".join(
        f"CREATE VIEW reporting.{name} WITH (security_barrier) AS SELECT * FROM {FULL}.{name} WHERE {_VISIBLE};\n"
        for name in VIEW_NAMES
    )
    return f"""
DROP SCHEMA IF EXISTS reporting CASCADE;
DROP SCHEMA IF EXISTS {FULL} CASCADE;
CREATE SCHEMA {FULL};
CREATE SCHEMA reporting;
{full}
{filtered}
GRANT USAGE ON SCHEMA reporting TO reporting_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO reporting_reader;
"""
