-- Schema version 1: the layers and the public tables' contract (DESIGN.md, "Public tables").
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS meta;

CREATE TABLE IF NOT EXISTS core.revisions (
    repo_id VARCHAR NOT NULL,
    revision VARCHAR NOT NULL,
    repo_uid VARCHAR,
    listed_as VARCHAR,
    committed_at TIMESTAMPTZ NOT NULL,
    observed_at TIMESTAMPTZ NOT NULL,
    source VARCHAR,
    license_raw VARCHAR,
    license_name VARCHAR,
    license_link VARCHAR,
    license_tags VARCHAR[],
    gated VARCHAR,
    files VARCHAR[],
    has_weights BOOLEAN,
    weight_formats VARCHAR[],
    datasets VARCHAR[],
    arxiv_ids VARCHAR[],
    code_urls VARCHAR[],
    base_models VARCHAR[],
    base_model_relation VARCHAR,
    pipeline_tag VARCHAR,
    library_name VARCHAR,
    tags VARCHAR[],
    readme_status VARCHAR,
    card_sha256 VARCHAR,
    card_bytes BIGINT,
    card_sections VARCHAR[],
    has_model_index BOOLEAN,
    card_yaml_error VARCHAR,
    PRIMARY KEY (repo_id, revision)
);

CREATE TABLE IF NOT EXISTS core.releases (
    repo_id VARCHAR PRIMARY KEY,
    previous_ids VARCHAR[],
    org VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    created_at TIMESTAMPTZ,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,
    pipeline_tag VARCHAR,
    library_name VARCHAR,
    base_models VARCHAR[],
    base_model_relation VARCHAR,
    modality VARCHAR,
    latest_revision VARCHAR,
    revision_count BIGINT
);

CREATE TABLE IF NOT EXISTS core.quarantine (
    source VARCHAR NOT NULL,
    reference VARCHAR NOT NULL,
    repo_id VARCHAR,
    reason VARCHAR NOT NULL,
    detail VARCHAR,
    crawl_date VARCHAR
);

CREATE TABLE IF NOT EXISTS core.crawl_runs (
    run_key VARCHAR PRIMARY KEY,
    crawl_date DATE NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    endpoint VARCHAR,
    scope VARCHAR,
    status VARCHAR NOT NULL,
    pages BIGINT,
    models_listed BIGINT,
    models_new BIGINT,
    models_changed BIGINT,
    models_deleted BIGINT,
    readmes_fetched BIGINT,
    requests_api BIGINT,
    requests_resolvers BIGINT,
    bytes_total BIGINT,
    retries BIGINT,
    status_429 BIGINT,
    status_5xx BIGINT,
    seconds DOUBLE,
    watermark TIMESTAMPTZ,
    reached_watermark BOOLEAN,
    detail VARCHAR
);

CREATE TABLE IF NOT EXISTS meta.snapshots (
    version VARCHAR PRIMARY KEY,
    published_at TIMESTAMPTZ NOT NULL,
    target VARCHAR NOT NULL,
    manifest JSON NOT NULL
);

CREATE TABLE IF NOT EXISTS core.datasets (
    dataset_id VARCHAR PRIMARY KEY,
    revision VARCHAR,
    observed_at TIMESTAMPTZ NOT NULL,
    "exists" BOOLEAN NOT NULL,
    license_raw VARCHAR,
    license_name VARCHAR,
    gated VARCHAR,
    readme_status VARCHAR,
    card_bytes BIGINT
);

-- Presence checks: a repo that answered 404 (or vanished from a full listing sweep) on a crawl date.
CREATE TABLE IF NOT EXISTS core.repo_presence (
    repo_id VARCHAR NOT NULL,
    crawl_date DATE NOT NULL,
    present BOOLEAN NOT NULL,
    how VARCHAR NOT NULL
);
