-- Time per value of a list field (e.g. a company's status): visits and hours, a visit still open up to now.
SELECT value_label AS value, count(*) AS visits,
       round((sum(coalesce(duration_s, extract(epoch FROM now() - entered_at))) / 3600)::numeric, 2) AS total_h
  FROM reporting.field_visits
 WHERE tenant_id = :'tenant' AND entity_type_id = :'entity_type' AND field = :'field'
 GROUP BY value_label
 ORDER BY value_label;
