-- marts.monthly_transitions: opening, closing and lateral transitions per month and dimension
-- (short-lived ones, undone within 24 hours, counted apart so that timelines are not noise).
SELECT date_trunc('month', changed_at)::DATE AS month,
       dimension,
       direction,
       count(*) FILTER (WHERE NOT short_lived) AS transitions,
       count(*) FILTER (WHERE short_lived) AS short_lived
FROM core.transitions
GROUP BY ALL
ORDER BY month, dimension, direction
