"""papers: arXiv and Hugging Face paper metadata for the papers that model releases cite (see docs/papers.md).

The shape of every source: `client` (the only network code: arXiv and the Hub papers API), `raw` (its raw
captures, registered with the raw store), `parse` (pure functions to the `papers` and `release_papers`
frames and the refresh list; with `ids`, the id grammar, and `atom`, feed parsing), `step` (the run of a crawl
date with its cost account) and `settings` (its frozen settings).
"""
