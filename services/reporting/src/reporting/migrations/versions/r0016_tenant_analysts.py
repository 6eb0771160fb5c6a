"""Per-tenant analysts: ``public.analyst_tenants`` maps each analyst login to its tenant, and every view of
schema ``reporting`` shows a member of ``reporting_reader`` only its tenant's rows (docs/adr/006). The readers'
group may connect to this database.

Revision ID: 0016_tenant_analysts
"""

from conveyor_kit.migrations import execute_script

from reporting.adapters.tenant_views import ANALYST_TENANTS, CONNECT, tenant_views

revision = "0016_tenant_analysts"
down_revision = "0015_reporting_type_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(ANALYST_TENANTS + tenant_views() + CONNECT)


def downgrade() -> None:
    raise NotImplementedError("restore the views of revision 0015 from a backup; analysts' logins stay")
