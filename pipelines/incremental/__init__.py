"""The incremental build: each daily `build_tables` run reads only the raw files it has not read yet and
rewrites only the rows of the repos they touch, with the same result as the pure rebuild in
`pipelines/build.py` (which stays the reference: tests/history/test_incremental.py compares the two after
every replayed day). See `state.py` for what is kept between runs, `normalise.py` for core.revisions and
core.releases, `scoring.py` for the scores, history and paper links.
"""
