-- Derivatives (fine-tunes, quantisations, merges) that declare a more permissive licence family than
-- their base model, with both licences: a relicensing signal worth a look.
SELECT repo_id, base_model, license_id, license_family, base_license_id, base_license_family, evidence
FROM core.derivatives
WHERE relicensed_more_permissively
ORDER BY repo_id
