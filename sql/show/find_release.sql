-- `openness show`: the release an asked id names: the repository with that id, else the one that was
-- listed under it before a rename (the most recently seen). Parameter: $1 = the asked repo id.
SELECT repo_id
FROM core.releases
WHERE repo_id = $1 OR list_contains(previous_ids, $1)
ORDER BY repo_id = $1 DESC, last_seen DESC NULLS LAST
LIMIT 1
