-- Hosted access per revision (pipelines/hub/parse.py): the Hub's `inference` state and its
-- `inferenceProviderMapping` as JSON, as the capture of the revision carried them; NULL in captures made
-- before the listing asked for them.
ALTER TABLE core.revisions ADD COLUMN IF NOT EXISTS inference VARCHAR;
ALTER TABLE core.revisions ADD COLUMN IF NOT EXISTS inference_providers VARCHAR;
