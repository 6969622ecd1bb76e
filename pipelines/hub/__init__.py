"""hub: the Hugging Face Hub crawl (listing, READMEs, commit history, training datasets).

The shape of every source: `client` (the only network code, with the Hub's rate-limit buckets), `raw` (its
raw captures, registered with the raw store), `parse` (pure functions from captures to rows; with
`cards`, `ids` and `schema`), `step` (the runs of a crawl date with their cost accounts; `crawl`, `backfill`
and `datasets` hold their logic) and `settings` (its frozen settings).
"""
