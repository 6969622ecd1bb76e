-- core.releases: one row per model repo, derived from core.revisions and the listing captures.
-- Registered frames: `listing_seen` (repo_id, crawl_date, created_at): every listing sighting, ids already
-- mapped to the current id of renamed repos.
-- A repo whose listed createdAt a hub mirror only bounds (core.reconstructions kind createdAt-upper-bound, a
-- repo-level fact: the first recorded revision, not the creation) has no created_at; `existed_by` keeps the
-- listed date, which the repo existed by in either case.
WITH latest AS (
    SELECT *
    FROM core.revisions
    QUALIFY row_number() OVER (PARTITION BY repo_id ORDER BY committed_at DESC, revision DESC) = 1
),
seen AS (
    SELECT repo_id,
           min(crawl_date)::TIMESTAMPTZ AS first_listed,
           max(crawl_date)::TIMESTAMPTZ AS last_listed,
           min(created_at) AS created_at
    FROM listing_seen
    GROUP BY repo_id
),
counts AS (
    SELECT repo_id, count(*) AS revision_count, min(observed_at) AS first_observed,
           list_sort(list_distinct(list(listed_as) FILTER (WHERE listed_as <> repo_id))) AS previous_ids
    FROM core.revisions GROUP BY repo_id
),
gone AS (
    -- Deleted: a failed presence check after the last time the repo was seen.
    SELECT p.repo_id, min(p.crawl_date)::TIMESTAMPTZ AS deleted_at
    FROM core.repo_presence p
    LEFT JOIN (SELECT repo_id, max(crawl_date) AS last_listed FROM listing_seen GROUP BY repo_id) l USING (repo_id)
    WHERE NOT p.present AND (l.last_listed IS NULL OR p.crawl_date > l.last_listed)
    GROUP BY p.repo_id
)
SELECT
    l.repo_id,
    coalesce(c.previous_ids, []) AS previous_ids,
    split_part(l.repo_id, '/', 1) AS org,
    split_part(l.repo_id, '/', 2) AS name,
    CASE WHEN b.repo_id IS NULL THEN s.created_at END AS created_at,
    s.created_at AS existed_by,
    least(c.first_observed, coalesce(s.first_listed, c.first_observed)) AS first_seen,
    greatest(coalesce(s.last_listed, c.first_observed), c.first_observed) AS last_seen,
    g.deleted_at,
    l.pipeline_tag,
    l.library_name,
    l.base_models,
    l.base_model_relation,
    CASE
        WHEN l.pipeline_tag IS NULL THEN 'unknown'
        WHEN l.pipeline_tag IN ('text-generation', 'text2text-generation', 'fill-mask', 'text-classification',
             'token-classification', 'question-answering', 'summarization', 'translation', 'sentence-similarity',
             'feature-extraction', 'zero-shot-classification', 'table-question-answering', 'conversational',
             'text-ranking') THEN 'text'
        WHEN l.pipeline_tag IN ('text-to-image', 'image-classification', 'object-detection', 'image-segmentation',
             'image-to-image', 'unconditional-image-generation', 'depth-estimation', 'zero-shot-image-classification',
             'image-feature-extraction', 'mask-generation', 'zero-shot-object-detection') THEN 'image'
        WHEN l.pipeline_tag IN ('automatic-speech-recognition', 'text-to-speech', 'audio-classification',
             'audio-to-audio', 'text-to-audio', 'voice-activity-detection') THEN 'audio'
        WHEN l.pipeline_tag IN ('text-to-video', 'video-classification', 'image-to-video') THEN 'video'
        WHEN l.pipeline_tag IN ('image-to-text', 'image-text-to-text', 'visual-question-answering',
             'document-question-answering', 'any-to-any', 'audio-text-to-text', 'video-text-to-text') THEN 'multimodal'
        WHEN l.pipeline_tag LIKE 'tabular-%' OR l.pipeline_tag = 'time-series-forecasting' THEN 'tabular'
        ELSE 'other'
    END AS modality,
    l.revision AS latest_revision,
    c.revision_count
FROM latest l
JOIN counts c USING (repo_id)
LEFT JOIN seen s USING (repo_id)
LEFT JOIN gone g USING (repo_id)
LEFT JOIN (SELECT DISTINCT repo_id FROM core.reconstructions
           WHERE kind = 'createdAt-upper-bound' AND revision IS NULL) b USING (repo_id)
ORDER BY l.repo_id
