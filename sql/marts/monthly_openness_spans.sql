-- The spans behind marts.monthly_openness: one per openness row, with the release's grouping values, the
-- first month it holds at a month's end (k0) and the month it stops holding (k1: the interval's end or the
-- release's deletion, uncapped). Months are integers: year * 12 + month - 1.
-- An interval [valid_from, valid_to) holds at the end of month k when valid_from < end(k) <= valid_to,
-- i.e. for k in [month(valid_from), month(valid_to)); a deleted release stops counting from the month of
-- its deletion.
SELECT o.repo_id, o.spectrum_level::VARCHAR AS spectrum_level, o.license_family, o.mof_class::VARCHAR AS mof_class,
       o.osai_score::DECIMAL(38, 18) AS osai, r.org, r.modality,
       coalesce(lower(regexp_extract(split_part(r.base_models[1], '/', 2), '^([A-Za-z]+)', 1)), '(none)')
           AS base_family,
       (year(o.valid_from AT TIME ZONE 'UTC') * 12 + month(o.valid_from AT TIME ZONE 'UTC') - 1) AS k0,
       least(coalesce(year(o.valid_to AT TIME ZONE 'UTC') * 12 + month(o.valid_to AT TIME ZONE 'UTC') - 1,
                      2147483647),
             coalesce(year(r.deleted_at AT TIME ZONE 'UTC') * 12 + month(r.deleted_at AT TIME ZONE 'UTC') - 1,
                      2147483647)) AS k1
FROM core.openness o JOIN core.releases r USING (repo_id)
