-- `openness show`: candidates for "did you mean" when an id names no release: the same id in another
-- case, the same organisation or name, or a few edits away (difflib ranks them after).
-- Parameters: $1 = the asked id in lower case, $2 = its organisation, $3 = its name (both lower case).
SELECT repo_id
FROM core.releases
WHERE lower(repo_id) = $1
   OR lower(org) = $2
   OR lower(name) = $3
   OR levenshtein(lower(repo_id), $1) <= greatest(2, length($1) // 4)
LIMIT 1000
