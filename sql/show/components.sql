-- `openness show`: the Model Openness Framework components of one revision, with their evidence.
-- Parameters: $1 = repo id, $2 = revision.
SELECT component, component_id, included, is_open, license_id, method, evidence
FROM core.disclosures
WHERE repo_id = $1 AND revision = $2
ORDER BY component_id, component
