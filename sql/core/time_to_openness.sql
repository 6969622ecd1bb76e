-- core.time_to_openness: per release, the first time each openness event shows in its recorded revisions
-- (the revision's valid_from in core.openness), whether that date is exact, and the days from its weights to
-- each. A date is exact when the recorded revision just before it shows the event absent; otherwise (shown
-- from the first recorded revision on, or after a revision that leaves it unknown: files not recorded, a
-- card not read, a licence not decided) the event may have come earlier and the date is only the latest it
-- can have come. Days are computed between exact dates only. $open_families: the rubric's
-- families with open_terms = true.
WITH parts AS (
    SELECT repo_id, revision,
           -- true / false / null (unknown) per revision and event
           any_value(included) FILTER (WHERE component = 'Training code') AS training_code,
           any_value(CASE WHEN included THEN is_open ELSE included END) FILTER (WHERE component = 'Datasets')
               AS open_data,
           -- the rubric's own-paper rule (detail 1: a cited paper whose title names the model family); a
           -- cited paper not known to be its own leaves it unknown
           any_value(CASE WHEN included AND detail = 1 THEN true WHEN included = false THEN false END)
               FILTER (WHERE component = 'Research paper') AS own_paper
    FROM core.disclosures
    WHERE component IN ('Training code', 'Datasets', 'Research paper')
    GROUP BY ALL
),
states AS (
    SELECT o.repo_id, o.revision, o.valid_from AS seen_at, e.event, e.state
    FROM core.openness o
    JOIN core.revisions r USING (repo_id, revision)
    LEFT JOIN parts p USING (repo_id, revision),
    LATERAL (VALUES
        ('weights', r.has_weights),
        ('open_license', CASE WHEN o.license_family IS NULL OR o.license_family = 'unknown' THEN NULL
                              ELSE list_contains($open_families, o.license_family) END),
        ('training_code', p.training_code),
        ('open_data', p.open_data),
        ('own_paper', p.own_paper)) e(event, state)
),
firsts AS (
    SELECT repo_id, event,
           min(seen_at) FILTER (WHERE state) AS first_at,
           first(revision ORDER BY seen_at, revision) FILTER (WHERE state) AS first_revision
    FROM states
    GROUP BY ALL
),
dated AS (
    -- Exact: the recorded revision just before the first one showing the event shows it absent (false), so
    -- the event came with that first revision. Shown from the first recorded revision on, or after one that
    -- leaves it unknown, the event may have come earlier: the date is only the latest it can have come.
    SELECT f.repo_id, f.event, f.first_at, f.first_revision,
           coalesce((SELECT s.state = false FROM states s
                     WHERE s.repo_id = f.repo_id AND s.event = f.event AND s.seen_at < f.first_at
                     ORDER BY s.seen_at DESC, s.revision DESC LIMIT 1), false) AS exact
    FROM firsts f
    WHERE f.first_at IS NOT NULL
),
wide AS (
    SELECT repo_id,
           any_value(first_at) FILTER (WHERE event = 'weights') AS weights_at,
           any_value(first_revision) FILTER (WHERE event = 'weights') AS weights_revision,
           any_value(exact) FILTER (WHERE event = 'weights') AS weights_exact,
           any_value(first_at) FILTER (WHERE event = 'open_license') AS open_license_at,
           any_value(first_revision) FILTER (WHERE event = 'open_license') AS open_license_revision,
           any_value(exact) FILTER (WHERE event = 'open_license') AS open_license_exact,
           any_value(first_at) FILTER (WHERE event = 'training_code') AS training_code_at,
           any_value(first_revision) FILTER (WHERE event = 'training_code') AS training_code_revision,
           any_value(exact) FILTER (WHERE event = 'training_code') AS training_code_exact,
           any_value(first_at) FILTER (WHERE event = 'open_data') AS open_data_at,
           any_value(first_revision) FILTER (WHERE event = 'open_data') AS open_data_revision,
           any_value(exact) FILTER (WHERE event = 'open_data') AS open_data_exact,
           any_value(first_at) FILTER (WHERE event = 'own_paper') AS own_paper_at,
           any_value(first_revision) FILTER (WHERE event = 'own_paper') AS own_paper_revision,
           any_value(exact) FILTER (WHERE event = 'own_paper') AS own_paper_exact
    FROM dated
    GROUP BY repo_id
)
SELECT r.repo_id, r.org, r.created_at,
       w.weights_at, w.weights_revision, w.weights_at IS NOT NULL AND w.weights_exact AS weights_exact,
       w.open_license_at, w.open_license_revision,
       w.open_license_at IS NOT NULL AND w.open_license_exact AS open_license_exact,
       w.training_code_at, w.training_code_revision,
       w.training_code_at IS NOT NULL AND w.training_code_exact AS training_code_exact,
       w.open_data_at, w.open_data_revision, w.open_data_at IS NOT NULL AND w.open_data_exact AS open_data_exact,
       w.own_paper_at, w.own_paper_revision, w.own_paper_at IS NOT NULL AND w.own_paper_exact AS own_paper_exact,
       CASE WHEN w.weights_exact AND w.open_license_exact
            THEN round((epoch(w.open_license_at) - epoch(w.weights_at)) / 86400, 2) END AS days_to_open_license,
       CASE WHEN w.weights_exact AND w.training_code_exact
            THEN round((epoch(w.training_code_at) - epoch(w.weights_at)) / 86400, 2) END AS days_to_training_code,
       CASE WHEN w.weights_exact AND w.open_data_exact
            THEN round((epoch(w.open_data_at) - epoch(w.weights_at)) / 86400, 2) END AS days_to_open_data,
       CASE WHEN w.weights_exact AND w.own_paper_exact
            THEN round((epoch(w.own_paper_at) - epoch(w.weights_at)) / 86400, 2) END AS days_to_own_paper
FROM core.releases r
LEFT JOIN wide w USING (repo_id)
ORDER BY r.repo_id
