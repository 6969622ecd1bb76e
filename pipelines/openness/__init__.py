"""The openness rubric: licence catalogue, MOF component detection, framework scorers and the spectrum.

Public API (pure functions on Polars frames; nothing here imports Dagster):
- `catalogue`: `load_catalogue()`, `resolve_licenses(revisions)`, `unmapped_licenses_report(revisions)`
- `mof`: `evaluate_mot_record(record)`, `mof_report(path)` (the Model Openness Tool's own rules)
- `components`: `detect_components(revisions, datasets, papers, *, rubric, code=None, license_files=None)`
  -> the `disclosures` table
- `scoring`: `score_revisions(revisions, disclosures, *, rubric, bases=None, code=None, license_files=None)`
  -> the `openness` table, `base_facts(revisions_latest, openness_latest=None)` -> `bases`
- `licence_rule`: `apply_licence_files(revisions, license_files)` (the effective licence of card and files)
- `code_evidence`: `release_code_signals(df, code)` (what the releases' linked code repositories show)
- `derivatives`: `link_derivatives(revisions_latest)` -> derivatives and the relicensing flag
- `rubric`: `load_rubric(path=None)`; `run`: `score_in_batches(...)`
(The scoring benchmark is `benchmarks/scoring.py`, outside the package and its code fingerprint.)
"""
