-- Time per step of a type's business processes (ended steps, hours) and the instances waiting there now.
SELECT template, step, count(*) FILTER (WHERE left_at IS NOT NULL) AS ended,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_s) / 3600)::numeric, 2) AS median_h,
       round((sum(duration_s) / 3600)::numeric, 2) AS total_h,
       count(DISTINCT instance_id) FILTER (WHERE left_at IS NULL AND instance_status = 'running') AS waiting
  FROM reporting.process_steps
 WHERE tenant_id = :'tenant' AND entity_type_id = :'entity_type'
 GROUP BY template, step
 ORDER BY template, step;
