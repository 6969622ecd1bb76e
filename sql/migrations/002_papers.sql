-- Papers cited by releases (pipelines/papers/normalise.py: PAPERS_SCHEMA, RELEASE_PAPERS_SCHEMA).
CREATE TABLE IF NOT EXISTS core.papers (
    arxiv_id VARCHAR PRIMARY KEY,
    version BIGINT,
    title VARCHAR,
    abstract VARCHAR,
    authors VARCHAR[],
    categories VARCHAR[],
    primary_category VARCHAR,
    published TIMESTAMPTZ,
    updated TIMESTAMPTZ,
    doi VARCHAR,
    journal_ref VARCHAR,
    comment VARCHAR,
    code_urls VARCHAR[],
    project_page VARCHAR,
    license_url VARCHAR,
    is_peer_reviewed BOOLEAN,
    paper_kind VARCHAR,
    fetched_at TIMESTAMPTZ,
    status VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS core.release_papers (
    repo_id VARCHAR NOT NULL,
    arxiv_id VARCHAR NOT NULL,
    first_revision VARCHAR,
    first_cited_at TIMESTAMPTZ,
    last_revision VARCHAR,
    source VARCHAR NOT NULL,
    PRIMARY KEY (repo_id, arxiv_id)
);
