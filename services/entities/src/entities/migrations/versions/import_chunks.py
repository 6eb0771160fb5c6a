"""Import jobs record each chunk they finished, so several workers (or a second run) share a job.

Revision ID: 0004_import_chunks
"""

from conveyor_kit.migrations import execute_script

revision = "0004_import_chunks"
down_revision = "0003_relations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE import_chunks (
            tenant_id text NOT NULL,
            job_id    text NOT NULL,
            chunk     integer NOT NULL,
            rows      integer NOT NULL,
            PRIMARY KEY (tenant_id, job_id, chunk),
            FOREIGN KEY (tenant_id, job_id) REFERENCES import_jobs (tenant_id, job_id)
        );
        """
    )


def downgrade() -> None:
    execute_script("DROP TABLE import_chunks;")
