-- `openness show`: the release's row. Parameter: $1 = repo id.
SELECT * FROM core.releases WHERE repo_id = $1
