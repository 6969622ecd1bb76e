"""The build steps of the table registry (pipelines/tables.py), run by pipelines/runner.py.

Each step has two modes of the same code: incremental (each daily `build_tables` run reads only the raw
files it has not read yet and rewrites only the rows of the repos they touch) and full (everything from the
whole raw layer); tests/history/test_incremental.py proves they give the same tables after every replayed
day. See `state.py` for what is kept between runs, `normalise.py` for core.revisions and core.releases,
`scoring.py` for the scores, history and paper links, `marts.py` for the monthly timelines.
"""
