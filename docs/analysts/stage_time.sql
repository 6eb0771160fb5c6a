-- Time on each stage of a pipeline: visits, mean / median / 90th percentile / total hours.
SELECT stage, department, visits, items,
       round((mean_s / 3600)::numeric, 2) AS mean_h, round((median_s / 3600)::numeric, 2) AS median_h,
       round((p90_s / 3600)::numeric, 2) AS p90_h, round((total_s / 3600)::numeric, 2) AS total_h
  FROM reporting.stage_time
 WHERE tenant_id = :'tenant' AND pipeline_id = :'pipeline'
 ORDER BY stage_sort;
