-- `openness show`: the release's transitions, oldest first, those of one commit together.
-- Parameter: $1 = repo id.
-- Every column: `reconstructed` (what the commit rests on in a recording) is absent from older snapshots.
SELECT *
FROM core.transitions
WHERE repo_id = $1
ORDER BY changed_at, to_revision, dimension
