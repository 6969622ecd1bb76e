-- marts.monthly_openness: for each month, how many releases (existing at the month's end) sit at each
-- spectrum level, licence family and MOF class, overall and by organisation, modality and base-model
-- family, and their mean OSAI score. Written from the parts the build keeps (incr.mart_parts, filled by
-- monthly_openness_parts.sql over monthly_openness_spans.sql; `mart_source` is a temporary view of all of
-- them, or of the parts a day changed): a part's count and exact decimal sum give
-- the row, so the mean does not depend on the order rows are stored or read in.
-- tests/history/monthly_openness_reference.sql states the same rule over core.openness in one query, and
-- tests/history/test_incremental.py compares the two after every replayed day.
SELECT make_date((k // 12)::INTEGER, (k % 12 + 1)::INTEGER, 1) AS month, breakdown,
       coalesce(group_raw, 'all') AS group_value, metric, coalesce(value, 'unknown') AS value, n AS releases,
       s::DOUBLE / nullif(c, 0) AS avg_osai_score
FROM mart_source WHERE n <> 0
ORDER BY month, breakdown, group_value, metric, value
