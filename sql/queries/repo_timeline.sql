-- A repo's full timeline: every revision with its validity interval and where it sat on the spectrum,
-- and every transition, in time order. Parameter: $1 = repo id (e.g. 'mistralai/Mistral-7B-v0.1').
SELECT valid_from AS happened_at, 'state' AS kind, revision, NULL AS dimension, NULL AS from_value,
       license_id AS to_value, spectrum_level, mof_class, osai_score, valid_to
FROM core.openness WHERE repo_id = $1
UNION ALL
SELECT changed_at, 'transition', to_revision, dimension, from_value, to_value, NULL, NULL, NULL, NULL
FROM core.transitions WHERE repo_id = $1
ORDER BY happened_at, kind DESC, dimension
