"""A generation per tenant that changes with every change of its robots, triggers or process templates.

Every item event and every robot run reads the tenant's robots, triggers and templates again (about
five statements per command, bench/README.md, system) although they change a few times a day. The
item's copy now comes with its tenant's generation (one subquery, no statement more), and the service
keeps what it read per generation (``adapters/kept_config.py``): a new generation is a miss.

A generation is a random UUID, not a counter: a process that talks to several databases (tests, a
bench) cannot mistake one database's tenant for another's. A tenant without a row (no robot, trigger
or template ever saved) has no generation, and its reads are not kept.

Revision ID: 0010_config_generations
"""

from conveyor_kit.migrations import execute_script

revision = "0010_config_generations"
down_revision = "0009_items_created"
branch_labels = None
depends_on = None

CONFIG_TABLES = ("robots", "triggers", "process_templates")


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE config_generations (
            tenant_id text PRIMARY KEY,
            generation uuid NOT NULL
        );

        -- Row by row: these tables change rarely, and always in the tenant's own transaction, which
        -- the new generation then commits with.
        CREATE FUNCTION automation_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO config_generations (tenant_id, generation)
            VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.tenant_id ELSE NEW.tenant_id END, gen_random_uuid())
            ON CONFLICT (tenant_id) DO UPDATE SET generation = EXCLUDED.generation;
            RETURN NULL;
        END $$;

        -- TRUNCATE names no tenant: every generation goes, and nothing is kept until the next change.
        CREATE FUNCTION automation_config_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM config_generations;
            RETURN NULL;
        END $$;
        """
    )
    for table in CONFIG_TABLES:
        execute_script(
            f"""
            CREATE TRIGGER {table}_config_changed AFTER INSERT OR UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION automation_config_changed();
            CREATE TRIGGER {table}_config_truncated AFTER TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION automation_config_truncated();
            """
        )
    execute_script(
        """
        INSERT INTO config_generations (tenant_id, generation)
        SELECT tenant_id, gen_random_uuid()
          FROM (SELECT tenant_id FROM robots UNION SELECT tenant_id FROM triggers
                UNION SELECT tenant_id FROM process_templates) AS configured;
        """
    )


def downgrade() -> None:
    for table in CONFIG_TABLES:
        execute_script(
            f"DROP TRIGGER {table}_config_changed ON {table}; DROP TRIGGER {table}_config_truncated ON {table};"
        )
    execute_script(
        """
        DROP FUNCTION automation_config_truncated();
        DROP FUNCTION automation_config_changed();
        DROP TABLE config_generations;
        """
    )
