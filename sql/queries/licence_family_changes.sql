-- Releases that changed licence family in a period, with the commit that did it.
-- Parameters: $1 = period start, $2 = period end (timestamps or dates, end exclusive).
SELECT repo_id, changed_at, from_value AS family_before, to_value AS family_after, direction,
       short_lived, to_revision, evidence_url
FROM core.transitions
WHERE dimension = 'license_family'
  AND changed_at >= $1 AND changed_at < $2
ORDER BY changed_at, repo_id
