-- Which rows rest on a hub mirror's reconstruction (pipelines/incremental/reconstructions.py): one row per
-- model repo, revision or file of a revision that the mirror's mirror.json `reconstructions` lists, by kind.
CREATE TABLE IF NOT EXISTS core.reconstructions (
    repo_id VARCHAR NOT NULL,
    revision VARCHAR,
    file VARCHAR,
    kind VARCHAR NOT NULL,
    why VARCHAR
);
-- A creation date the recording only bounds is not stated as a fact: core.releases.created_at is NULL for
-- a repo whose createdAt is a `createdAt-upper-bound` reconstruction, and `existed_by` keeps the bound.
ALTER TABLE core.releases ADD COLUMN IF NOT EXISTS existed_by TIMESTAMPTZ;
