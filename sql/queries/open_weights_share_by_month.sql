-- The share of releases (existing at each month's end) with open weights, by month. "Open weights" is the
-- rubric's: spectrum level 3 or above (weights downloadable under an OSI-approved or open-data licence,
-- docs/rubric.md), as in the report and the dataset card. Beside it, the releases whose weights are
-- downloadable at all (weight files in the repo, whatever the licence).
WITH months AS (
    SELECT unnest(generate_series(date_trunc('month', min(valid_from)), date_trunc('month', max(valid_from)),
                                  INTERVAL 1 MONTH)) AS month
    FROM core.openness
),
state AS (
    SELECT m.month, o.repo_id, o.spectrum_level, v.has_weights
    FROM months m
    JOIN core.openness o ON o.valid_from < m.month + INTERVAL 1 MONTH
                        AND (o.valid_to IS NULL OR o.valid_to >= m.month + INTERVAL 1 MONTH)
    JOIN core.revisions v USING (repo_id, revision)
)
SELECT month::DATE AS month, count(*) AS releases, count(*) FILTER (WHERE has_weights) AS with_weights,
       round(count(*) FILTER (WHERE has_weights) / count(*), 4) AS share_with_weights,
       count(*) FILTER (WHERE spectrum_level >= 3) AS open_weights,
       round(count(*) FILTER (WHERE spectrum_level >= 3) / count(*), 4) AS share_open_weights
FROM state
GROUP BY month
ORDER BY month
