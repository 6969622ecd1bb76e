-- marts.time_to_openness_summary: per breakdown (all, release month, organisation), group and event: the
-- releases, those whose weights and whose event show in a recorded revision, those with an exact interval
-- between the two (core.time_to_openness: both dates exact), and the median and mean of those intervals in
-- days (negative: the event came first, e.g. an open licence before the weights).
WITH timed AS (
    SELECT repo_id, org, created_at, weights_at, e.event, e.event_at, e.days
    FROM core.time_to_openness,
         LATERAL (VALUES ('open_license', open_license_at, days_to_open_license),
                         ('training_code', training_code_at, days_to_training_code),
                         ('open_data', open_data_at, days_to_open_data),
                         ('own_paper', own_paper_at, days_to_own_paper)) e(event, event_at, days)
),
grouped AS (
    SELECT 'all' AS breakdown, 'all' AS group_value, * FROM timed
    UNION ALL
    SELECT 'release_month', strftime(date_trunc('month', created_at), '%Y-%m'), * FROM timed
    WHERE created_at IS NOT NULL
    UNION ALL
    SELECT 'org', org, * FROM timed
)
SELECT breakdown, group_value, event,
       count(*) AS releases,
       count(weights_at) AS with_weights,
       count(event_at) AS seen,
       count(days) AS timed,
       median(days) AS median_days,
       round(avg(days), 2) AS mean_days
FROM grouped
GROUP BY ALL
ORDER BY breakdown, group_value, event
