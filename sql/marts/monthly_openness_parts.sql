-- The signed parts of marts.monthly_openness contributed by the spans in the temporary view `mart_input`
-- (rows of monthly_openness_spans.sql), over the months k in [lo, hi) of each span: lo = $lo_min when
-- given, else the span's first month k0; hi = least(k1, $cap). A part is (month, breakdown, group, metric,
-- value) with the release count n, the exact sum s of OSAI scores and their count c, times $sign (+1 to
-- add spans, -1 to take them away). Counts and decimal sums add up, so the mart can be kept by difference.
WITH bounded AS (
    SELECT *, coalesce($lo_min, k0) AS lo, least(k1, $cap) AS hi FROM mart_input
), months AS (
    SELECT unnest(range(lo::BIGINT, hi::BIGINT)) AS k, * FROM bounded WHERE hi > lo
), long AS (
    SELECT k, org, modality, base_family, 'spectrum_level' AS metric, spectrum_level AS value, osai FROM months
    UNION ALL SELECT k, org, modality, base_family, 'license_family', license_family, osai FROM months
    UNION ALL SELECT k, org, modality, base_family, 'mof_class', mof_class, osai FROM months
), keyed AS (
    SELECT k, 'all' AS breakdown, NULL::VARCHAR AS group_raw, metric, value, osai FROM long
    UNION ALL SELECT k, 'org', org, metric, value, osai FROM long
    UNION ALL SELECT k, 'modality', modality, metric, value, osai FROM long
    UNION ALL SELECT k, 'base_family', base_family, metric, value, osai FROM long
)
SELECT k::INTEGER AS k, breakdown, group_raw, metric, value, $sign * count(*) AS n,
       ($sign * coalesce(sum(osai), 0))::DECIMAL(38, 18) AS s, $sign * count(osai) AS c
FROM keyed GROUP BY ALL
