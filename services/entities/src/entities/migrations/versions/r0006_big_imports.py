"""Unique keys of items, upserting imports with their counts, and uploaded files kept in parts.

- ``item_unique_keys`` holds one row per (type, unique key, value): the primary key is what makes two
  writers of the same value unable to both commit (docs/imports.md, "Unique fields").
- Import jobs learn their key fields, what a matched row does, their locale options and their
  updated/skipped counts; files keep their bytes in parts (a 1 GiB file is never one value).

Revision ID: 0006_big_imports
"""

from conveyor_kit.migrations import execute_script

revision = "0006_big_imports"
down_revision = "0005_backbone_lanes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE item_unique_keys (
            tenant_id      text NOT NULL,
            entity_type_id text NOT NULL,
            key_name       text NOT NULL,
            key_value      text NOT NULL,
            item_id        text NOT NULL,
            PRIMARY KEY (tenant_id, entity_type_id, key_name, key_value)
        );
        CREATE INDEX item_unique_keys_by_item ON item_unique_keys (tenant_id, item_id);

        ALTER TABLE import_files ALTER COLUMN content DROP NOT NULL;
        ALTER TABLE import_files ADD COLUMN format text NOT NULL DEFAULT 'csv';
        ALTER TABLE import_files ADD COLUMN size_bytes bigint NOT NULL DEFAULT 0;
        CREATE TABLE import_file_parts (
            tenant_id text NOT NULL,
            file_id   text NOT NULL,
            part      integer NOT NULL,
            data      bytea NOT NULL,
            PRIMARY KEY (tenant_id, file_id, part),
            FOREIGN KEY (tenant_id, file_id) REFERENCES import_files (tenant_id, file_id)
        );

        ALTER TABLE import_jobs ADD COLUMN key_fields jsonb NOT NULL DEFAULT '[]';
        ALTER TABLE import_jobs ADD COLUMN on_match text NOT NULL DEFAULT 'update';
        ALTER TABLE import_jobs ADD COLUMN options jsonb NOT NULL DEFAULT '{}';
        ALTER TABLE import_jobs ADD COLUMN updated integer NOT NULL DEFAULT 0;
        ALTER TABLE import_jobs ADD COLUMN skipped integer NOT NULL DEFAULT 0;
        ALTER TABLE import_jobs ADD COLUMN started_at timestamptz;
        """
    )


def downgrade() -> None:
    execute_script(
        """
        ALTER TABLE import_jobs DROP COLUMN key_fields, DROP COLUMN on_match, DROP COLUMN options,
            DROP COLUMN updated, DROP COLUMN skipped, DROP COLUMN started_at;
        DROP TABLE import_file_parts;
        ALTER TABLE import_files DROP COLUMN format, DROP COLUMN size_bytes;
        DROP TABLE item_unique_keys;
        """
    )
