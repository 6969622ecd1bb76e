-- The share of releases (existing at each month's end) whose weights are downloadable, by month.
WITH months AS (
    SELECT unnest(generate_series(date_trunc('month', min(valid_from)), date_trunc('month', max(valid_from)),
                                  INTERVAL 1 MONTH)) AS month
    FROM core.openness
),
state AS (
    SELECT m.month, o.repo_id, v.has_weights
    FROM months m
    JOIN core.openness o ON o.valid_from < m.month + INTERVAL 1 MONTH
                        AND (o.valid_to IS NULL OR o.valid_to >= m.month + INTERVAL 1 MONTH)
    JOIN core.revisions v USING (repo_id, revision)
)
SELECT month::DATE AS month, count(*) AS releases, count(*) FILTER (WHERE has_weights) AS with_weights,
       round(count(*) FILTER (WHERE has_weights) / count(*), 4) AS share_with_weights
FROM state
GROUP BY month
ORDER BY month
