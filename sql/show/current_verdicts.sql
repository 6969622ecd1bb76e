-- `openness show`: the verdicts in force, the openness row without an end to its validity (the latest
-- scored revision); the newest one should a release have none open. Parameter: $1 = repo id.
SELECT *
FROM core.openness
WHERE repo_id = $1
ORDER BY valid_to IS NULL DESC, valid_from DESC NULLS LAST
LIMIT 1
