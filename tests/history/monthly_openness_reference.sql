-- marts.monthly_openness: for each month, how many releases (existing at the month's end) sit at each
-- spectrum level, licence family and MOF class, overall and by organisation, modality and base-model
-- family. A release's state at a month's end is its openness row valid then (valid_from <= end < valid_to).
WITH spans AS (
    -- Months as integers (year * 12 + month - 1): an interval [valid_from, valid_to) holds at the end of
    -- month k when valid_from < end(k) <= valid_to, i.e. for k in [month(valid_from), month(valid_to));
    -- a deleted release stops counting from the month of its deletion.
    SELECT o.spectrum_level, o.license_family, o.mof_class, o.osai_score, r.org, r.modality,
           coalesce(lower(regexp_extract(split_part(r.base_models[1], '/', 2), '^([A-Za-z]+)', 1)), '(none)')
               AS base_family,
           year(o.valid_from AT TIME ZONE 'UTC') * 12 + month(o.valid_from AT TIME ZONE 'UTC') - 1 AS k0,
           least(coalesce(year(o.valid_to AT TIME ZONE 'UTC') * 12 + month(o.valid_to AT TIME ZONE 'UTC') - 1,
                          last.k + 1),
                 coalesce(year(r.deleted_at AT TIME ZONE 'UTC') * 12 + month(r.deleted_at AT TIME ZONE 'UTC') - 1,
                          last.k + 1)) AS k1
    FROM core.openness o
    JOIN core.releases r USING (repo_id)
    CROSS JOIN (SELECT max(year(valid_from AT TIME ZONE 'UTC') * 12 + month(valid_from AT TIME ZONE 'UTC') - 1)
                AS k FROM core.openness) last
),
state AS (
    SELECT make_date((k // 12)::INTEGER, (k % 12 + 1)::INTEGER, 1) AS month, * EXCLUDE (k, k0, k1)
    FROM (SELECT unnest(range(k0, k1)) AS k, * FROM spans)
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
       -- An exact (decimal) sum, so the mean does not depend on the order rows are stored or read in (and the
       -- incremental build, which keeps these sums and counts, gets the same double: pipelines/incremental/marts.py).
       sum(osai_score::DECIMAL(38, 18))::DOUBLE / nullif(count(osai_score), 0) AS avg_osai_score
FROM long
GROUP BY GROUPING SETS ((month, metric, value), (month, org, metric, value), (month, modality, metric, value),
                        (month, base_family, metric, value))
ORDER BY month, breakdown, group_value, metric, value
