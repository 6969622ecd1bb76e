-- marts.monthly_openness: for each month, how many releases (existing at the month's end) sit at each
-- spectrum level, licence family and MOF class, overall and by organisation, modality and base-model
-- family. A release's state at a month's end is its openness row valid then (valid_from <= end < valid_to).
WITH bounds AS (
    SELECT date_trunc('month', min(valid_from)) AS first_month, date_trunc('month', max(valid_from)) AS last_month
    FROM core.openness
),
months AS (
    SELECT unnest(generate_series(first_month, last_month, INTERVAL 1 MONTH)) AS month FROM bounds
),
state AS (
    SELECT m.month::DATE AS month, o.spectrum_level, o.license_family, o.mof_class, o.osai_score,
           r.org, r.modality,
           coalesce(lower(regexp_extract(split_part(r.base_models[1], '/', 2), '^([A-Za-z]+)', 1)), '(none)')
               AS base_family
    FROM months m
    JOIN core.openness o
      ON o.valid_from < m.month + INTERVAL 1 MONTH
     AND (o.valid_to IS NULL OR o.valid_to >= m.month + INTERVAL 1 MONTH)
    JOIN core.releases r USING (repo_id)
    WHERE r.deleted_at IS NULL OR r.deleted_at >= m.month + INTERVAL 1 MONTH
),
long AS (
    SELECT month, org, modality, base_family, 'spectrum_level' AS metric, spectrum_level::VARCHAR AS value,
           osai_score FROM state
    UNION ALL
    SELECT month, org, modality, base_family, 'license_family', license_family, osai_score FROM state
    UNION ALL
    SELECT month, org, modality, base_family, 'mof_class', mof_class::VARCHAR, osai_score FROM state
)
SELECT month,
       CASE WHEN grouping(org) = 0 THEN 'org' WHEN grouping(modality) = 0 THEN 'modality'
            WHEN grouping(base_family) = 0 THEN 'base_family' ELSE 'all' END AS breakdown,
       coalesce(org, modality, base_family, 'all') AS group_value,
       metric,
       coalesce(value, 'unknown') AS value,
       count(*) AS releases,
       avg(osai_score) AS avg_osai_score
FROM long
GROUP BY GROUPING SETS ((month, metric, value), (month, org, metric, value), (month, modality, metric, value),
                        (month, base_family, metric, value))
ORDER BY month, breakdown, group_value, metric, value
