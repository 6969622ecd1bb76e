"""papers: arXiv and Hugging Face paper metadata for the papers that model releases cite (see docs/papers.md).

Modules: `ids` (id grammar), `atom` (feed parsing), `arxiv` and `hf_papers` (the only network code),
`normalise` (pure functions to the `papers` and `release_papers` frames and the refresh list).
"""
