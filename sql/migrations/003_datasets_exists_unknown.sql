-- core.datasets."exists" may be unknown: NULL where the source did not record datasets (a hub mirror
-- answering 404 with X-Mirror-Unrecorded, raw status 'unrecorded'); false only where the Hub said the
-- dataset does not exist (pipelines/hub/datasets.py: build_datasets).
ALTER TABLE core.datasets ALTER COLUMN "exists" DROP NOT NULL;
