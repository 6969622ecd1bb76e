-- One step of the rename closure of core.revisions: the listed ids that share a repository's stable `_id`
-- (repo_uid) with an id of the temporary table `frontier_ids`, among the kept parsed candidates. The build
-- repeats it until no new id appears (pipelines/incremental/normalise.py `components`): every id a renamed
-- repository was ever listed under is rebuilt together.
SELECT DISTINCT c2.listed_as FROM incr.candidates c1
JOIN incr.candidates c2 ON c1.repo_uid = c2.repo_uid
WHERE c1.keep AND c2.keep AND c1.listed_as IN (SELECT listed_id FROM frontier_ids)
