-- `openness show`: the release's transitions, oldest first, those of one commit together.
-- Parameter: $1 = repo id.
SELECT changed_at, dimension, from_value, to_value, direction, short_lived, from_revision, to_revision,
       evidence_url
FROM core.transitions
WHERE repo_id = $1
ORDER BY changed_at, to_revision, dimension
