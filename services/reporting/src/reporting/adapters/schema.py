"""The projections' tables (in a schema of their own, so a rebuild can build a second set and swap),
the analysts' views over them, and the read-only role.

The projections live in schema ``projection``; a rebuild fills ``projection_next`` and renames it
in one transaction (``adapters/rebuild.py``). The views in schema ``reporting`` are recreated after
every swap, since a view follows the tables it was created on, not their names.
"""

from __future__ import annotations

from conveyor_contracts import entities

from reporting.domain.durations import BUCKETS_PER_DOUBLING

LIVE = "projection"
SHADOW = "projection_next"

_TABLES = """
CREATE SCHEMA {s};
CREATE TABLE {s}.entity_types (
    tenant_id text NOT NULL, entity_type_id text NOT NULL, name text NOT NULL DEFAULT '',
    settings jsonb NOT NULL DEFAULT '{{}}', PRIMARY KEY (tenant_id, entity_type_id));
CREATE TABLE {s}.fields (
    tenant_id text NOT NULL, entity_type_id text NOT NULL, code text NOT NULL, label text NOT NULL,
    kind text NOT NULL, options jsonb NOT NULL DEFAULT '{{}}', PRIMARY KEY (tenant_id, entity_type_id, code));
CREATE TABLE {s}.stages (
    tenant_id text NOT NULL, stage_id text NOT NULL, pipeline_id text NOT NULL, entity_type_id text NOT NULL,
    pipeline_name text NOT NULL DEFAULT '', name text NOT NULL, sort int NOT NULL, semantic text NOT NULL,
    deleted boolean NOT NULL DEFAULT false, PRIMARY KEY (tenant_id, stage_id));
CREATE INDEX ON {s}.stages (tenant_id, pipeline_id);
CREATE TABLE {s}.products (
    tenant_id text NOT NULL, product_id text NOT NULL, name text NOT NULL, sku text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, product_id));
CREATE TABLE {s}.items (
    tenant_id text NOT NULL, item_id text NOT NULL, entity_type_id text, title text NOT NULL DEFAULT '',
    assignee_id text, amount numeric, currency text, fields jsonb NOT NULL DEFAULT '{{}}',
    pipeline_id text, stage_id text, stage_semantic text, stage_entered_at timestamptz,
    created_at timestamptz, changed_at timestamptz, closed_at timestamptz, outcome text,
    deleted boolean NOT NULL DEFAULT false, product_id text, parent_item_id text,
    PRIMARY KEY (tenant_id, item_id));
CREATE INDEX ON {s}.items (tenant_id, entity_type_id, created_at);
CREATE INDEX ON {s}.items (tenant_id, pipeline_id, stage_id);
CREATE INDEX ON {s}.items (tenant_id, entity_type_id, outcome, closed_at);
CREATE INDEX ON {s}.items (tenant_id, parent_item_id) WHERE parent_item_id IS NOT NULL;
CREATE TABLE {s}.stage_visits (
    seq bigint GENERATED ALWAYS AS IDENTITY, event_id text NOT NULL, tenant_id text NOT NULL,
    item_id text NOT NULL, entity_type_id text, pipeline_id text NOT NULL, stage_id text NOT NULL,
    entered_at timestamptz NOT NULL, left_at timestamptz, duration_s double precision, actor text,
    PRIMARY KEY (seq), UNIQUE (event_id));
CREATE INDEX ON {s}.stage_visits (tenant_id, item_id) WHERE left_at IS NULL;
CREATE INDEX ON {s}.stage_visits (tenant_id, item_id, stage_id);
CREATE INDEX ON {s}.stage_visits (tenant_id, pipeline_id, entered_at) INCLUDE (stage_id, duration_s, item_id);
CREATE TABLE {s}.product_lines (
    tenant_id text NOT NULL, line_item_id text NOT NULL, deal_item_id text, product_id text NOT NULL,
    name text NOT NULL, price numeric NOT NULL DEFAULT 0, quantity numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, line_item_id));
CREATE INDEX ON {s}.product_lines (tenant_id, deal_item_id);
CREATE TABLE {s}.daily_counters (
    tenant_id text NOT NULL, day date NOT NULL, entity_type_id text NOT NULL, pipeline_id text NOT NULL,
    stage_id text NOT NULL, assignee_id text NOT NULL, metric text NOT NULL, n bigint NOT NULL,
    amount numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, entity_type_id, metric, day, pipeline_id, stage_id, assignee_id));
CREATE INDEX ON {s}.daily_counters (tenant_id, pipeline_id, metric, day);
"""

_VIEWS_V1 = """
CREATE OR REPLACE VIEW reporting.items AS
SELECT i.tenant_id, i.item_id, i.entity_type_id, t.name AS entity_type, i.title, i.assignee_id,
       i.amount, i.currency, i.fields, i.pipeline_id, s.pipeline_name AS pipeline, i.stage_id, s.name AS stage,
       i.stage_semantic, i.stage_entered_at, i.created_at, i.changed_at, i.closed_at, i.outcome, i.product_id,
       i.parent_item_id
  FROM projection.items i
  LEFT JOIN projection.entity_types t ON t.tenant_id = i.tenant_id AND t.entity_type_id = i.entity_type_id
  LEFT JOIN projection.stages s ON s.tenant_id = i.tenant_id AND s.stage_id = i.stage_id
 WHERE NOT i.deleted;
CREATE OR REPLACE VIEW reporting.stage_visits AS
SELECT v.tenant_id, v.item_id, v.entity_type_id, v.pipeline_id, s.pipeline_name AS pipeline, v.stage_id,
       s.name AS stage, s.sort AS stage_sort, d.department, v.entered_at, v.left_at, v.duration_s, v.actor
  FROM projection.stage_visits v
  LEFT JOIN projection.stages s ON s.tenant_id = v.tenant_id AND s.stage_id = v.stage_id
  LEFT JOIN public.stage_departments d ON d.tenant_id = v.tenant_id AND d.stage_id = v.stage_id;
CREATE OR REPLACE VIEW reporting.stage_time AS
SELECT tenant_id, pipeline_id, pipeline, stage_id, stage, stage_sort, department,
       count(*) AS visits, count(DISTINCT item_id) AS items,
       avg(duration_s) AS mean_s,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_s) AS median_s,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY duration_s) AS p90_s,
       sum(duration_s) AS total_s
  FROM reporting.stage_visits
 WHERE left_at IS NOT NULL
 GROUP BY tenant_id, pipeline_id, pipeline, stage_id, stage, stage_sort, department;
CREATE OR REPLACE VIEW reporting.product_lines AS
SELECT l.tenant_id, l.line_item_id, l.name AS line_name, l.product_id, p.name AS product, l.price, l.quantity,
       l.price * l.quantity AS amount, l.deal_item_id, d.outcome AS deal_outcome, d.closed_at AS deal_closed_at
  FROM projection.product_lines l
  LEFT JOIN projection.products p ON p.tenant_id = l.tenant_id AND p.product_id = l.product_id
  LEFT JOIN projection.items d ON d.tenant_id = l.tenant_id AND d.item_id = l.deal_item_id;
CREATE OR REPLACE VIEW reporting.daily_counters AS
SELECT tenant_id, day, entity_type_id, pipeline_id, stage_id, assignee_id, metric, n, amount
  FROM projection.daily_counters;
"""

_PROCESS_VIEWS = """
-- A template is named by its newest version; an instance keeps the version it started on. Its status
-- uses automation's words (running, completed).
CREATE OR REPLACE VIEW reporting.process_instances AS
SELECT p.tenant_id, p.instance_id, p.template_id, t.name AS template, p.template_version, t.entity_type_id,
       p.item_id, p.started_by, p.started_at, p.finished_at, p.end_event,
       CASE WHEN p.finished_at IS NULL THEN 'running' ELSE 'completed' END AS status
  FROM projection.process_instances p
  LEFT JOIN LATERAL (SELECT name, entity_type_id FROM projection.process_templates t
                      WHERE t.tenant_id = p.tenant_id AND t.template_id = p.template_id
                      ORDER BY version DESC LIMIT 1) t ON true;
CREATE OR REPLACE VIEW reporting.process_steps AS
SELECT s.tenant_id, s.instance_id, p.template_id, p.template, p.template_version, p.entity_type_id, s.item_id,
       s.task_id, s.step, s.assignee_user_id, s.assignee_role, s.entered_at, s.left_at, s.duration_s, s.outcome,
       p.status AS instance_status
  FROM projection.process_steps s
  LEFT JOIN reporting.process_instances p ON p.tenant_id = s.tenant_id AND p.instance_id = s.instance_id;
"""

# Visits of items in the recycle bin are left out, as the API leaves them out.
_FIELD_VIEWS = """
CREATE OR REPLACE VIEW reporting.field_visits AS
SELECT v.tenant_id, v.item_id, v.entity_type_id, v.field, f.label AS field_label, v.value,
       coalesce(f.options->>v.value, v.value) AS value_label, v.item_assignee_id AS assignee_id, v.entered_at,
       v.left_at, v.duration_s
  FROM projection.field_visits v
  LEFT JOIN projection.fields f ON f.tenant_id = v.tenant_id AND f.entity_type_id = v.entity_type_id
                               AND f.code = v.field
 WHERE NOT v.item_deleted;
"""

_GRANTS = """
GRANT USAGE ON SCHEMA reporting TO reporting_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO reporting_reader;
"""

# The views as revision 0002 created them (a migration keeps creating what it created then).
VIEWS_V1 = _VIEWS_V1 + _GRANTS
# What revision 0005 adds.
PROCESS_VIEWS = _PROCESS_VIEWS + _GRANTS
# What revision 0006 adds.
FIELD_VIEWS = _FIELD_VIEWS + _GRANTS
# Every view as it is now, unfiltered and ungranted: adapters/tenant_views.py builds the analysts' views on it.
CURRENT_VIEWS = _VIEWS_V1 + _PROCESS_VIEWS + _FIELD_VIEWS

# Views read through projection and public tables with the owner's rights; the reader sees only them.
ROLE_AND_SETTINGS = """
CREATE SCHEMA IF NOT EXISTS reporting;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'reporting_reader') THEN
        CREATE ROLE reporting_reader NOLOGIN;
    END IF;
END $$;
CREATE TABLE IF NOT EXISTS stage_departments (
    tenant_id text NOT NULL, stage_id text NOT NULL, department text NOT NULL,
    PRIMARY KEY (tenant_id, stage_id));
CREATE TABLE IF NOT EXISTS journal (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id text NOT NULL UNIQUE, topic text NOT NULL,
    type text NOT NULL, tenant_id text NOT NULL, subject text NOT NULL, time timestamptz NOT NULL,
    actor text NOT NULL, version int NOT NULL, data jsonb NOT NULL);
"""


# Revision 0004: what the reports' query plans need (bench/README.md, reporting). Visits know whether they
# are the item's first entry into the stage and the item's current assignee; first entries per stage and
# day without the assignee (the funnel for whoever sees everything); ended visits per stage, day of entry
# and duration bucket (stage time over long periods); partial covering indexes for the rest.
_SPEED = """
ALTER TABLE {s}.stage_visits ADD COLUMN first_entry boolean NOT NULL DEFAULT false, ADD COLUMN assignee_id text;
CREATE INDEX ON {s}.stage_visits (tenant_id, pipeline_id, entered_at) INCLUDE (stage_id, assignee_id)
    WHERE first_entry;
CREATE INDEX ON {s}.stage_visits (tenant_id, pipeline_id, entered_at)
    INCLUDE (stage_id, duration_s, item_id, assignee_id) WHERE left_at IS NOT NULL;
CREATE INDEX ON {s}.stage_visits (tenant_id, pipeline_id, assignee_id, entered_at) INCLUDE (stage_id)
    WHERE first_entry;
CREATE INDEX ON {s}.stage_visits (tenant_id, pipeline_id, assignee_id, entered_at)
    INCLUDE (stage_id, duration_s, item_id, first_entry) WHERE left_at IS NOT NULL;
DROP INDEX {s}.stage_visits_tenant_id_pipeline_id_entered_at_stage_id_dura_idx;
CREATE TABLE {s}.stage_entries (
    tenant_id text NOT NULL, pipeline_id text NOT NULL, day date NOT NULL, stage_id text NOT NULL,
    n bigint NOT NULL, PRIMARY KEY (tenant_id, pipeline_id, day, stage_id));
CREATE TABLE {s}.stage_durations (
    tenant_id text NOT NULL, pipeline_id text NOT NULL, day date NOT NULL, stage_id text NOT NULL,
    bucket int NOT NULL, n bigint NOT NULL, total_s double precision NOT NULL, firsts bigint NOT NULL,
    PRIMARY KEY (tenant_id, pipeline_id, day, stage_id, bucket));
CREATE INDEX ON {s}.items (tenant_id, pipeline_id, stage_id) INCLUDE (assignee_id) WHERE NOT deleted;
CREATE INDEX ON {s}.items (tenant_id, pipeline_id, assignee_id, stage_id) WHERE NOT deleted;
CREATE INDEX ON {s}.items (tenant_id, entity_type_id, outcome, closed_at)
    INCLUDE (assignee_id, amount, pipeline_id) WHERE NOT deleted;
CREATE INDEX ON {s}.product_lines (tenant_id, deal_item_id) INCLUDE (product_id, name, price, quantity);
"""

# Fills the revision's columns and tables from what the projections already hold.
BACKFILL = """
UPDATE projection.stage_visits v SET first_entry = NOT EXISTS (
    SELECT 1 FROM projection.stage_visits e
     WHERE e.tenant_id = v.tenant_id AND e.item_id = v.item_id AND e.stage_id = v.stage_id AND e.seq < v.seq),
    assignee_id = i.assignee_id
  FROM projection.items i WHERE i.tenant_id = v.tenant_id AND i.item_id = v.item_id;
INSERT INTO projection.stage_entries (tenant_id, pipeline_id, day, stage_id, n)
SELECT tenant_id, pipeline_id, day, stage_id, sum(n) FROM projection.daily_counters WHERE metric = 'entered'
 GROUP BY 1, 2, 3, 4;
INSERT INTO projection.stage_durations (tenant_id, pipeline_id, day, stage_id, bucket, n, total_s, firsts)
SELECT tenant_id, pipeline_id, (entered_at AT TIME ZONE 'UTC')::date, stage_id, reporting_duration_bucket(duration_s),
       count(*), sum(duration_s), count(*) FILTER (WHERE first_entry)
  FROM projection.stage_visits WHERE left_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5;
"""

# Durations fall into logarithmic buckets (domain/durations.py).
BUCKET_FUNCTION = f"""
CREATE OR REPLACE FUNCTION reporting_duration_bucket(seconds double precision) RETURNS int
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN floor(ln(greatest(seconds, 0) + 1) * ({BUCKETS_PER_DOUBLING} / ln(2)))::int;
"""


# Revision 0005: business processes. Automation publishes no event per BPMN step; the steps that take time
# are its user tasks (where an instance waits for people), so a step is a task of a process instance
# (task.created opens it, task.completed closes it; the instance's end closes what is still open). A step
# carries its instance's template and its item's assignee and pipeline (the reader's rights), so the report
# reads one index; they are filled in whichever order instances, steps and items arrive.
_PROCESSES = """
CREATE TABLE {s}.process_templates (
    tenant_id text NOT NULL, template_id text NOT NULL, version int NOT NULL, name text NOT NULL,
    process_id text NOT NULL, entity_type_id text NOT NULL, saved_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, template_id, version));
CREATE INDEX ON {s}.process_templates (tenant_id, entity_type_id);
CREATE TABLE {s}.process_instances (
    tenant_id text NOT NULL, instance_id text NOT NULL, template_id text NOT NULL, template_version int,
    item_id text NOT NULL, started_by text, started_at timestamptz, finished_at timestamptz, end_event text,
    PRIMARY KEY (tenant_id, instance_id));
CREATE INDEX ON {s}.process_instances (tenant_id, template_id) WHERE finished_at IS NULL;
CREATE INDEX ON {s}.process_instances (tenant_id, item_id);
CREATE TABLE {s}.process_steps (
    tenant_id text NOT NULL, task_id text NOT NULL, instance_id text NOT NULL, template_id text, item_id text,
    step text NOT NULL, assignee_user_id text, assignee_role text,
    entered_at timestamptz NOT NULL, left_at timestamptz, duration_s double precision, outcome text,
    item_assignee_id text, item_pipeline_id text, PRIMARY KEY (tenant_id, task_id));
CREATE INDEX ON {s}.process_steps (tenant_id, instance_id) INCLUDE (left_at);
CREATE INDEX ON {s}.process_steps (tenant_id, item_id);
CREATE INDEX ON {s}.process_steps (tenant_id, entered_at)
    INCLUDE (template_id, step, duration_s, item_assignee_id, item_pipeline_id) WHERE left_at IS NOT NULL;
CREATE INDEX ON {s}.process_steps (tenant_id, template_id)
    INCLUDE (step, entered_at, instance_id, item_assignee_id, item_pipeline_id) WHERE left_at IS NULL;
"""

# Revision 0006: how long items held each value of their list fields (a status kept in a field, not a stage).
# A visit opens when an item gets the value and ends when the value changes or is cleared; it carries its
# item's assignee, pipeline and bin mark (the reader's rights) so that the report joins no items.
_FIELDS = """
CREATE TABLE {s}.field_visits (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant_id text NOT NULL, item_id text NOT NULL,
    entity_type_id text NOT NULL, field text NOT NULL, value text NOT NULL,
    entered_at timestamptz NOT NULL, left_at timestamptz, duration_s double precision,
    item_assignee_id text, item_pipeline_id text, item_deleted boolean NOT NULL DEFAULT false);
CREATE INDEX ON {s}.field_visits (tenant_id, item_id, field);
CREATE INDEX ON {s}.field_visits (tenant_id, entity_type_id, field, entered_at)
    INCLUDE (value, duration_s, item_assignee_id, item_pipeline_id) WHERE NOT item_deleted;
CREATE INDEX ON {s}.field_visits (tenant_id, entity_type_id, field)
    INCLUDE (value, item_assignee_id, item_pipeline_id) WHERE left_at IS NULL AND NOT item_deleted;
"""

# Revision 0007: a product line carries its deal's type, outcome, close time, assignee, pipeline and bin mark
# (kept by the projector whenever the deal or the line changes), so the products report reads the lines of
# the deals won in a period from one index instead of joining a year of won deals (bench/README.md).
_LINE_DEALS = """
ALTER TABLE {s}.product_lines ADD COLUMN deal_entity_type_id text, ADD COLUMN deal_outcome text,
    ADD COLUMN deal_closed_at timestamptz, ADD COLUMN deal_assignee_id text, ADD COLUMN deal_pipeline_id text,
    ADD COLUMN deal_deleted boolean NOT NULL DEFAULT false;
CREATE INDEX ON {s}.product_lines (tenant_id, deal_entity_type_id, deal_closed_at)
    INCLUDE (product_id, name, price, quantity, deal_assignee_id, deal_pipeline_id)
    WHERE deal_outcome = 'won' AND NOT deal_deleted;
DROP INDEX {s}.product_lines_tenant_id_deal_item_id_product_id_name_price__idx;
"""

# Fills the revision's columns from the deals the projections hold.
LINE_DEALS_BACKFILL = """
UPDATE projection.product_lines l
   SET deal_entity_type_id = d.entity_type_id, deal_outcome = d.outcome, deal_closed_at = d.closed_at,
       deal_assignee_id = d.assignee_id, deal_pipeline_id = d.pipeline_id, deal_deleted = d.deleted
  FROM projection.items d WHERE d.tenant_id = l.tenant_id AND d.item_id = l.deal_item_id;
"""

# Revision 0008: an instance carries its item's assignee and pipeline too (where instances wait for a timer is
# read without joining the items).
_INSTANCE_RIGHTS = """
ALTER TABLE {s}.process_instances ADD COLUMN item_assignee_id text, ADD COLUMN item_pipeline_id text;
"""

INSTANCE_RIGHTS_BACKFILL = """
UPDATE projection.process_instances p SET item_assignee_id = i.assignee_id, item_pipeline_id = i.pipeline_id
  FROM projection.items i WHERE i.tenant_id = p.tenant_id AND i.item_id = p.item_id;
"""

# Revision 0009: the throughput report reads a year of counters (225,000 rows at 1M items) from the index alone,
# instead of 9,700 heap blocks (173 -> 78 ms); the index by pipeline was read by no report.
_COUNTERS_COVERED = """
CREATE INDEX ON {s}.daily_counters (tenant_id, entity_type_id, metric, day)
    INCLUDE (pipeline_id, assignee_id, n, amount);
DROP INDEX {s}.daily_counters_tenant_id_pipeline_id_metric_day_idx;
"""


# Revision 0010: ended field visits of items out of the recycle bin, counted per type, field, month of entry, value
# and duration bucket (like stage_durations, but per month: a field has few visits a day, the documents' `kind` 180
# over 8 values and 50 buckets, so rows per day would be nearly one per visit); the field-time report reads the
# whole months of a period here and the rest from the visits. Open visits are indexed with their entry, whose
# durations run until the request.
_FIELD_DURATIONS = """
CREATE TABLE {s}.field_durations (
    tenant_id text NOT NULL, entity_type_id text NOT NULL, field text NOT NULL, month date NOT NULL,
    value text NOT NULL, bucket int NOT NULL, n bigint NOT NULL, total_s double precision NOT NULL,
    PRIMARY KEY (tenant_id, entity_type_id, field, month, value, bucket));
CREATE INDEX ON {s}.field_visits (tenant_id, entity_type_id, field, entered_at)
    INCLUDE (value, item_assignee_id, item_pipeline_id) WHERE left_at IS NULL AND NOT item_deleted;
DROP INDEX {s}.field_visits_tenant_id_entity_type_id_field_value_item_assi_idx;
"""

# The month a field visit is counted in.
VISIT_MONTH = "date_trunc('month', {0} AT TIME ZONE 'UTC')::date"

# Fills the revision's table from the visits the projections hold.
FIELD_DURATIONS_BACKFILL = f"""
INSERT INTO projection.field_durations (tenant_id, entity_type_id, field, month, value, bucket, n, total_s)
SELECT tenant_id, entity_type_id, field, {VISIT_MONTH.format("entered_at")}, value,
       reporting_duration_bucket(duration_s), count(*), sum(duration_s)
  FROM projection.field_visits WHERE left_at IS NOT NULL AND NOT item_deleted GROUP BY 1, 2, 3, 4, 5, 6;
"""


# Revision 0011: fewer index updates per batch. A move rewrites its item and closes a visit (neither can be a HOT
# update: the stage and the end are indexed), and every index of the table takes the new version: three indexes
# of items and one of stage_visits that no report reads go (the funnel counts an admin's current items by
# pipeline, assignee and stage). The counters' covering index leaves out `entered`, which throughput does not read
# and which most batches' counter updates are, so those update the figures in place (HOT) instead of both indexes.
_FEWER_INDEXES = """
DROP INDEX {s}.items_tenant_id_pipeline_id_stage_id_idx;
DROP INDEX {s}.items_tenant_id_pipeline_id_stage_id_assignee_id_idx;
DROP INDEX {s}.items_tenant_id_entity_type_id_outcome_closed_at_idx;
DROP INDEX {s}.stage_visits_tenant_id_pipeline_id_entered_at_stage_id_assi_idx;
DROP INDEX {s}.daily_counters_tenant_id_entity_type_id_metric_day_pipeline_idx;
CREATE INDEX ON {s}.daily_counters (tenant_id, entity_type_id, metric, day)
    INCLUDE (pipeline_id, assignee_id, n, amount) WHERE metric <> 'entered';
"""


# Revision 0012: the funnel's "on the stage now", kept instead of counted. Counting a pipeline's current items on
# every funnel read cost 18 ms at 25,000 deals under the system benchmark's churn (updates clear the visibility map,
# so even the covering index visits the heap) and grows with the pipeline. Statement triggers on items add each
# statement's changes of an item's contribution (placed, moved, reassigned, binned, restored, purged), summed per
# pipeline, stage and assignee, to `stage_counts`: one upsert per statement of a batch, not one per item. The
# projections' consumer is the only writer of items, so nothing waits for a counter row but another replica's
# batch (a deadlock between two fails the batch, which is then applied event by event). The function names its
# table by the trigger's schema, so the counts follow their items through a rebuild's rename; a rebuild's replay
# keeps them as it goes. Assignee '' stands for nobody: it matches no narrower viewer's rights, as NULL does.
_STAGE_COUNTS = """
CREATE TABLE {s}.stage_counts (
    tenant_id text NOT NULL, pipeline_id text NOT NULL, stage_id text NOT NULL, assignee_id text NOT NULL,
    n bigint NOT NULL, PRIMARY KEY (tenant_id, pipeline_id, stage_id, assignee_id));
CREATE FUNCTION {s}.keep_stage_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO %I.stage_counts AS c (tenant_id, pipeline_id, stage_id, assignee_id, n)
         SELECT tenant_id, pipeline_id, stage_id, coalesce(assignee_id, %L), sum(n) FROM (%s) d
          WHERE pipeline_id IS NOT NULL AND stage_id IS NOT NULL AND NOT deleted
          GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4
         ON CONFLICT (tenant_id, pipeline_id, stage_id, assignee_id) DO UPDATE SET n = c.n + excluded.n',
        TG_TABLE_SCHEMA, '',
        CASE TG_OP
            WHEN 'INSERT' THEN 'SELECT tenant_id, pipeline_id, stage_id, assignee_id, deleted, 1 AS n FROM new_items'
            WHEN 'DELETE' THEN 'SELECT tenant_id, pipeline_id, stage_id, assignee_id, deleted, -1 AS n FROM old_items'
            ELSE 'SELECT tenant_id, pipeline_id, stage_id, assignee_id, deleted, 1 AS n FROM new_items UNION ALL
                  SELECT tenant_id, pipeline_id, stage_id, assignee_id, deleted, -1 FROM old_items' END);
    RETURN NULL;
END $$;
CREATE TRIGGER items_stage_counts_insert AFTER INSERT ON {s}.items
    REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION {s}.keep_stage_counts();
CREATE TRIGGER items_stage_counts_update AFTER UPDATE ON {s}.items
    REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION {s}.keep_stage_counts();
CREATE TRIGGER items_stage_counts_delete AFTER DELETE ON {s}.items
    REFERENCING OLD TABLE AS old_items FOR EACH STATEMENT EXECUTE FUNCTION {s}.keep_stage_counts();
"""

# Counts the items the live projections already hold (the migration's triggers lock items against the consumer's
# writes until it commits, so no change slips in between).
STAGE_COUNTS_BACKFILL = """
INSERT INTO projection.stage_counts (tenant_id, pipeline_id, stage_id, assignee_id, n)
SELECT tenant_id, pipeline_id, stage_id, coalesce(assignee_id, ''), count(*) FROM projection.items
 WHERE pipeline_id IS NOT NULL AND stage_id IS NOT NULL AND NOT deleted GROUP BY 1, 2, 3, 4;
"""


# Revision 0015: a type's code beside its id, so the reports' `entity_type_id` takes either
# (docs/api-conventions.md). The reaction to a type's creation keeps it (the code never changes); a tenant's
# types are few, so the primary key's tenant prefix finds one by its code without an index of its own.
_TYPE_CODES = """
ALTER TABLE {s}.entity_types ADD COLUMN code text;
"""

# The codes of the types the live projections already hold, from the journal of their creations (a rebuild
# replays the journal, so its tables get them from the reaction).
TYPE_CODES_BACKFILL = f"""
UPDATE projection.entity_types t SET code = j.data->>'code' FROM journal j
 WHERE j.type = '{entities.EntityTypeCreated.type_name}' AND j.tenant_id = t.tenant_id
   AND j.data->>'entity_type_id' = t.entity_type_id AND t.code IS NULL;
"""


# Indexes that only reports read (the reactions probe others): a rebuild builds them once after replaying the
# journal instead of updating them for every projected row. Their names are PostgreSQL's for the DDL above.
REPORT_INDEXES = (
    "daily_counters_tenant_id_entity_type_id_metric_day_pipeline_idx",
    "field_visits_tenant_id_entity_type_id_field_entered_at_val_idx1",
    "field_visits_tenant_id_entity_type_id_field_entered_at_valu_idx",
    "items_tenant_id_entity_type_id_created_at_idx",
    "items_tenant_id_entity_type_id_outcome_closed_at_assignee_i_idx",
    "items_tenant_id_pipeline_id_assignee_id_stage_id_idx",
    "process_steps_tenant_id_entered_at_template_id_step_duratio_idx",
    "process_steps_tenant_id_template_id_step_entered_at_instanc_idx",
    "product_lines_tenant_id_deal_entity_type_id_deal_closed_at__idx",
    "stage_visits_tenant_id_pipeline_id_assignee_id_entered_at__idx1",
    "stage_visits_tenant_id_pipeline_id_assignee_id_entered_at_s_idx",
    "stage_visits_tenant_id_pipeline_id_entered_at_stage_id_dur_idx1",
)


# Each revision's change to the projection tables, in order; ``{s}`` stands for the schema. The
# revision's migration runs it on the live schema, and a rebuild runs them all, in this order, into
# the shadow schema: a revision that changes the tables adds its text here.
PROJECTION_REVISIONS = {
    "0002": _TABLES,
    "0004": _SPEED,
    "0005": _PROCESSES,
    "0006": _FIELDS,
    "0007": _LINE_DEALS,
    "0008": _INSTANCE_RIGHTS,
    "0009": _COUNTERS_COVERED,
    "0010": _FIELD_DURATIONS,
    "0011": _FEWER_INDEXES,
    "0012": _STAGE_COUNTS,
    "0015": _TYPE_CODES,
}


def projection_ddl(revision: str, schema: str) -> str:
    """What ``revision`` (e.g. "0004") does to the projection tables inside ``schema``."""
    return PROJECTION_REVISIONS[revision].format(s=schema)


def tables_ddl(schema: str) -> str:
    """The projection tables as they are now inside ``schema`` (which must not exist yet): for a rebuild."""
    return "".join(projection_ddl(revision, schema) for revision in PROJECTION_REVISIONS)
