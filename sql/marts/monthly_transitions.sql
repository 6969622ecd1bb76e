-- marts.monthly_transitions: opening, closing, lateral and to_unknown transitions per month and dimension
-- (short-lived ones, undone within 24 hours, counted apart so that timelines are not noise). A change to
-- unknown is one row of core.transitions per revision (dimension 'dimensions'), so one here too; a
-- release's set-up is no transition (docs/history.md, "First observation and changes to unknown").
SELECT date_trunc('month', changed_at)::DATE AS month,
       dimension,
       direction,
       count(*) FILTER (WHERE NOT short_lived) AS transitions,
       count(*) FILTER (WHERE short_lived) AS short_lived
FROM core.transitions
GROUP BY ALL
ORDER BY month, dimension, direction
