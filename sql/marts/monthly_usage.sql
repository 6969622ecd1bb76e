-- marts.monthly_usage: for each month with usage counts, the share of releases and the share of downloads
-- at each spectrum level, licence family and kind of openness (open source, open weights, other), for all
-- releases with counts and for those over the download threshold.
--
-- The download window is the Hub's `downloads`: the 30 days before the crawl date (core.release_metrics).
-- A release counts in a month with its last crawl date of that month: its downloads of that date, and its
-- openness as of the end of that day (the core.openness interval holding then). A release whose count is
-- null counts as a release and adds no downloads. `over_threshold` keeps the releases with at least 1,000
-- downloads on that date (THRESHOLD below; docs/snapshots.md). The kind: open_source when the OSI Open
-- Source AI Definition verdict is `meets`; else open_weights at spectrum level 3 or above (the rubric's open
-- weights); else other (levels 0-2), or unknown when the level could not be decided.
WITH last_of_month AS (
    SELECT repo_id, crawl_date, downloads, date_trunc('month', crawl_date)::DATE AS month
    FROM core.release_metrics
    QUALIFY row_number() OVER (PARTITION BY repo_id, date_trunc('month', crawl_date) ORDER BY crawl_date DESC) = 1
),
state AS (
    SELECT m.month, m.repo_id, coalesce(m.downloads, 0) AS downloads, m.downloads >= 1000 AS over_threshold,
           o.spectrum_level, o.license_family, o.osaid
    FROM last_of_month m
    JOIN core.openness o ON o.repo_id = m.repo_id
         AND o.valid_from < (m.crawl_date + INTERVAL 1 DAY)
         AND (o.valid_to IS NULL OR o.valid_to >= (m.crawl_date + INTERVAL 1 DAY))
),
populations AS (
    SELECT *, 'all' AS population FROM state
    UNION ALL
    SELECT *, 'over_threshold' AS population FROM state WHERE over_threshold
),
facts AS (
    SELECT month, population, repo_id, downloads, metric, value
    FROM populations,
    LATERAL (VALUES
        ('spectrum_level', coalesce(spectrum_level::VARCHAR, 'unknown')),
        ('license_family', coalesce(license_family, 'unknown')),
        ('openness_kind', CASE WHEN osaid = 'meets' THEN 'open_source'
                               WHEN spectrum_level >= 3 THEN 'open_weights'
                               WHEN spectrum_level IS NULL THEN 'unknown'
                               ELSE 'other' END)
    ) AS v(metric, value)
),
counted AS (
    SELECT month, population, metric, value, count(*) AS releases, sum(downloads)::BIGINT AS downloads
    FROM facts
    GROUP BY ALL
)
SELECT month, population, metric, value, releases, downloads,
       releases / sum(releases) OVER w AS release_share,
       downloads / nullif(sum(downloads) OVER w, 0) AS download_share
FROM counted
WINDOW w AS (PARTITION BY month, population, metric)
ORDER BY month, population, metric, value
