"""The table registry: every warehouse table declared once.

One entry per table: its name (`layer.table` = the Dagster asset key `[layer, table]` = `sql/<layer>/<table>.sql`
where the table is SQL), the grain in one sentence, its key columns, whether it is keyed by repo, the build
step that writes it (pipelines/runner.py), the tables and raw captures it reads, whether a Great Expectations
suite guards it (pipelines/quality/suites.py; every core table has one; the suites run after the build's
last write, assets/checks.py), whether it is public (a Parquet file of every snapshot), and the meaning of its columns (printed
in the dataset card; every column has one).

Everything that lists tables reads this module: the snapshot's public tables, the data dictionary, the
asset specs and their checks, the build order, the scored tables. tests/test_tables.py fails when a table
is listed anywhere else, a column lacks a doc, or a core table lacks a suite.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Table:
    """One warehouse table."""

    name: str  # `layer.table`
    grain: str  # "One row per ...": the dataset card's line and the start of the asset's description
    key: tuple[str, ...]
    step: str  # the build step that writes it (pipelines/runner.py STEPS)
    reads: tuple[str, ...] = ()  # tables (`core.x`) and raw assets (`raw.x`) it is built from
    detail: str = ""  # what the asset description adds to the grain (the UI's longer text)
    by_repo: bool = False  # rows keyed by `repo_id`: built and validated repo by repo
    public: bool = False  # a file of every snapshot (the dataset's contract, DESIGN.md "Public tables")
    suite: bool = True  # guarded by a Great Expectations suite of the same name
    columns: dict[str, str] = field(default_factory=dict)  # column -> meaning (COMMON_COLUMNS fill the rest)
    # How a snapshot splits a big public table into files (pipelines/publish/snapshot.py, `table_layout`):
    # ("month", column): a file per month of that time column (rows appended over time); ("month", column,
    # table): a file per month of that column of the row's own row in that other table, joined on the other
    # table's key (a table without a date of its own: core.disclosures by its revision's commit month; the
    # column is not written to the files); ("closed", column): the rows with that end column set by its
    # month, the open rows by a hash of repo_id. None: by a hash of repo_id when the table has one.
    snapshot_split: tuple[str, ...] | None = None

    @property
    def layer(self) -> str:
        """`core` or `marts`."""
        return self.name.split(".", 1)[0]

    @property
    def short(self) -> str:
        """The table's name without its layer (the snapshot file's name)."""
        return self.name.split(".", 1)[1]

    @property
    def asset_key(self) -> list[str]:
        """The Dagster asset key."""
        return [self.layer, self.short]

    @property
    def description(self) -> str:
        """The asset's description: the grain, then the detail."""
        return f"{self.grain} {self.detail}".strip()


# Columns with the same meaning wherever they appear.
COMMON_COLUMNS: dict[str, str] = {
    "repo_id": "Hub model repository id, `org/name`.",
    "revision": "Commit sha (40 hex) of the repository revision.",
    "observed_at": "When the crawl first captured this row (UTC).",
    "license_id": "Resolved licence: SPDX id where one exists, else the Hub licence id.",
    "license_raw": "Licence exactly as declared in the card's `license` field (a list is joined with ','; a "
    "mapping is kept as compact JSON and flagged `licence_not_text` in quarantine).",
    "license_name": "The card's `license_name` (set when `license` is `other`).",
    "license_family": "Licence family: osi-permissive, osi-copyleft, open-data, responsible-ai, community, "
    "non-commercial, proprietary, unknown (a licence is declared but unmapped, in conflict or undecidable) or "
    "none (no licence declared: nothing granted); null when not recorded.",
    "gated": "Access gate on the Hub: 'false', 'auto' (click-through) or 'manual' (approval).",
    "readme_status": "Outcome of reading the card: ok, missing, gated, malformed_yaml, non_utf8, oversized or "
    "not_fetched.",
    "card_bytes": "Size of the raw card (README.md) in bytes; for an oversized card, the bytes read (the cap "
    "+ 1: the read stops there), its real size being the `size` of the raw hub_readme capture.",
    "pipeline_tag": "The Hub's task tag (e.g. text-generation).",
    "library_name": "The Hub's library tag (e.g. transformers).",
    "base_models": "Models this one derives from (card `base_model`).",
    "base_model_relation": "How it derives from its base: adapter, merge, quantized or finetune.",
    "arxiv_id": "arXiv identifier (e.g. 2307.09288).",
    "evidence": "The field or file, its value and the URL that support the judgement (a null URL where the "
    "commit id is one a hub mirror made up: no link names a commit that is not on the Hub).",
    "method": "How the judgement was reached: declared by the publisher, inferred, or unknown.",
    "rubric_version": "Version of the openness rubric (pipelines/openness/rubric.yml) that scored the row.",
    "committed_at": "The commit's date (the repo's lastModified at that revision, UTC).",
}

_HUB = ("raw.hub_listing", "raw.hub_readmes", "raw.hub_history")
_SCORE_INPUTS = (
    "core.revisions",
    "core.datasets",
    "core.papers",
    "core.release_code",
    "core.code_repos",
    "core.license_files",
)
_OSAI = "European Open Source AI Index criterion"

TABLES: tuple[Table, ...] = (
    Table(
        "core.revisions",
        "One row per observed commit (revision) of a model repository, with the facts read from it.",
        key=("repo_id", "revision"),
        step="revisions",
        reads=_HUB,
        detail="Licence as declared, gating, files and weights, datasets, papers, code links and card facts. "
        "Unparseable inputs go to core.quarantine.",
        by_repo=True,
        public=True,
        snapshot_split=("month", "committed_at"),
        columns={
            "repo_uid": "The Hub's stable internal id of the repository (unchanged by renames); made up by a hub "
            "mirror where `reconstructions` has a synthetic-_id row for the repo.",
            "listed_as": "The repository id the revision was captured under (differs from repo_id after a "
            "rename).",
            "source": "How the revision was captured: listing (daily crawl) or backfill (commit history).",
            "license_link": "The card's `license_link`.",
            "license_tags": "The Hub's `license:*` tags, without the prefix.",
            "files": "File paths in the revision (the siblings' rfilename).",
            "has_weights": "Whether the revision contains model weight files.",
            "weight_formats": "Weight file formats: safetensors, pytorch, gguf, onnx, tensorflow, flax or other.",
            "datasets": "Training datasets named by the card (`datasets` field and `dataset:*` tags); a name "
            "that is not a dataset id is kept and flagged `invalid_dataset_id` in quarantine.",
            "arxiv_ids": "arXiv papers cited (`arxiv:*` tags, arXiv and Hub paper links in the card), without "
            "version; a tag or link that is not an arXiv id is left out and flagged `invalid_arxiv_id`.",
            "code_urls": "Code repositories linked from the card (github.com, gitlab.com).",
            "tags": "All Hub tags of the revision.",
            "card_sha256": "sha256 of the raw card: its content address in the raw layer (null if none).",
            "card_sections": "Lower-cased Markdown headings of the card.",
            "has_model_index": "Whether the card declares evaluation results (model-index).",
            "card_yaml_error": "Why the card's YAML header could not be parsed, if it could not.",
            "inference": "The Hub's `inference` state when the revision was captured: warm (served by at "
            "least one inference provider) or cold; null where the capture did not carry it (before "
            "2026-12-07, or a commit read from the history, which the Hub answers with today's state).",
            "inference_providers": "The Hub's `inferenceProviderMapping` when the revision was captured, as "
            "a JSON list of {provider, status, task} sorted by provider (status live or staging); '[]' when "
            "no provider serves it, null where the capture did not carry it.",
        },
    ),
    Table(
        "core.quarantine",
        "One row per raw capture that could not be parsed, or per data defect of a stored revision (a "
        "mistyped arXiv id, a mapping as licence, a self or circular base model): its source, reference, "
        "reason and detail.",
        key=("source", "reference"),
        step="revisions",
        reads=_HUB,
        detail="Nothing is dropped silently: every reason is listed in docs/quality.md, which also says which "
        "defects are flagged here while the rest publishes and which block.",
        columns={
            "source": "The raw capture or check that held it (e.g. hub_listing, hub_readme, hub_card, "
            "hub_base_models).",
            "reference": "Which input it was: the raw capture's reference or the affected revision or value.",
            "reason": "Why it was held: one of the reasons listed in docs/quality.md, Quarantine (e.g. "
            "malformed_yaml, invalid_arxiv_id).",
            "detail": "The parser's message or the offending value.",
            "crawl_date": "The crawl date of the capture (null for a defect of a stored value).",
        },
    ),
    Table(
        "core.releases",
        "One row per model repository on the Hugging Face Hub that the crawl has seen.",
        key=("repo_id",),
        step="releases",
        reads=("core.revisions", "raw.hub_listing"),
        detail="Organisation, creation and first/last seen dates, task, library, base models and modality, with "
        "its latest revision (sql/core/releases.sql).",
        by_repo=True,
        public=True,
        columns={
            "previous_ids": "Ids the repository was listed under before a rename, oldest first.",
            "org": "Owner (user or organisation) part of the repo id.",
            "name": "Name part of the repo id.",
            "created_at": "When the repository was created on the Hub (UTC); null when the data came from a hub "
            "mirror that only bounds it (a createdAt-upper-bound row of `reconstructions`: the date of the first "
            "revision it recorded, not of the creation).",
            "existed_by": "A time the repository existed by (UTC): the creation date as listed, which is "
            "created_at where that is known and otherwise the upper bound the mirror recorded.",
            "first_seen": "First crawl or backfilled commit that saw the repository (UTC).",
            "last_seen": "Last crawl that listed the repository (UTC).",
            "deleted_at": "When the repository was found deleted; null while it exists.",
            "pipeline_tag": "The Hub's task tag of the latest revision.",
            "library_name": "The Hub's library tag of the latest revision.",
            "modality": "Derived from the task tag: text, image, audio, video, multimodal, tabular, other or "
            "unknown.",
            "latest_revision": "Commit sha of the newest observed revision.",
            "revision_count": "Number of observed revisions (rows in `revisions`).",
        },
    ),
    Table(
        "core.reconstructions",
        "One row per model repository, revision or file of a revision that the warehouse holds and that the "
        "hub mirror it was crawled from says it reconstructed, by kind of reconstruction.",
        key=("repo_id", "revision", "file", "kind"),
        step="releases",
        reads=("core.revisions", "raw.hub_listing"),
        detail='From the mirror\'s mirror.json `reconstructions` (docs/mirror.md, "Provenance"), which the listing '
        "step keeps in raw hub_reconstructions; the union of every list captured, rebuilt whole each build "
        "(pipelines/incremental/reconstructions.py). Join on repo_id (a repo-level row: revision null) or on "
        "(repo_id, revision) to see which rows of revisions, releases, openness or transitions rest on a "
        "reconstruction. Empty for data crawled from the live Hub.",
        public=True,
        columns={
            "revision": "The commit the reconstruction affects, a row of `revisions`; null for a repo-level "
            "fact (its creation date, database id, commit authors).",
            "file": "The file of that revision the reconstruction affects (e.g. README.md); null when it "
            "affects the whole revision or repo.",
            "kind": "What the mirror reconstructed (its mirror.json `kind`): e.g. synthetic-commit-id (a commit "
            "id not on the Hub), readme-from-card-data, info-from-card, siblings-unknown, createdAt-upper-bound "
            "(the creation date is only bounded: `releases.created_at` is null).",
            "why": "The mirror's own explanation of the kind.",
        },
    ),
    Table(
        "core.repo_presence",
        "One row per presence check of a repository on a crawl date: present or not, and how it was found.",
        key=("repo_id", "crawl_date"),
        step="releases",
        reads=("raw.hub_listing",),
        detail="A repo that answered 404, or vanished from a full listing sweep, is recorded here; "
        "core.releases takes its deletion date from these rows.",
        by_repo=True,
        columns={
            "crawl_date": "The crawl date of the check.",
            "present": "Whether the repository existed on the Hub at the check.",
            "how": "How it was known: commits_404 (its commit history answered 404), or sweep_present / "
            "sweep_404 (missing from a complete listing, then asked for by id: found, or 404).",
        },
    ),
    Table(
        "core.release_metrics",
        "One row per release and crawl date on which the Hub's listing gave its usage counts.",
        key=("repo_id", "crawl_date"),
        step="releases",
        reads=("core.revisions", "core.releases", "raw.hub_listing"),
        detail="Downloads (the Hub's 30-day count), all-time downloads, likes and trending score, from the "
        "listing's `expand` fields (no request of their own): the day's changed models, the most-downloaded "
        "page and the weekly full listing (pipelines/incremental/metrics.py).",
        by_repo=True,
        public=True,
        columns={
            "crawl_date": "The crawl date whose listing gave the counts (the newest capture of that date).",
            "downloads": "The Hub's `downloads`: downloads over the 30 days before the crawl; null when not "
            "given.",
            "downloads_all_time": "The Hub's `downloadsAllTime`; null when not given (listings before "
            "2026-12-07 did not ask for it).",
            "likes": "The Hub's `likes` (users who liked the repository) at the crawl; null when not given.",
            "trending_score": "The Hub's `trendingScore` at the crawl (its recent-likes ranking); null when "
            "not given (listings before 2026-12-07 did not ask for it).",
        },
    ),
    Table(
        "core.crawl_runs",
        "One row per crawl step and crawl date: what it covered and what it cost (a step run again for a date, "
        "e.g. after a kill, adds its cost to the same row; `detail` counts the attempts).",
        key=("run_key",),
        step="crawl_runs",
        reads=(*_HUB, "raw.hub_datasets", "raw.papers"),
        detail="Requests per rate-limit bucket, bytes, 429s, 5xx, seconds, models listed, new and changed.",
        public=True,
        columns={
            "run_key": "Unique key of the crawl run (its newest attempt).",
            "crawl_date": "The daily partition the run crawled.",
            "started_at": "When the run (its first attempt) started (UTC).",
            "finished_at": "When the run (its newest attempt) finished (UTC).",
            "endpoint": "The Hub endpoint crawled (the real Hub or a mirror).",
            "scope": "What the run covered (e.g. a shard of repo ids, or a backfill).",
            "status": "Outcome of the run.",
            "pages": "Listing pages read.",
            "models_listed": "Models seen in the listing.",
            "models_new": "Models not seen before.",
            "models_changed": "Models whose commit changed.",
            "models_deleted": "Models found deleted.",
            "readmes_fetched": "Cards (README.md) fetched.",
            "requests_api": "Requests counted against the Hub's API rate-limit bucket.",
            "requests_resolvers": "Requests counted against the Hub's file-resolution bucket.",
            "bytes_total": "Bytes received.",
            "retries": "Requests sent again after a 429, a 5xx or a broken connection.",
            "status_429": "Responses with HTTP 429 (rate limited).",
            "status_5xx": "Responses with an HTTP 5xx status.",
            "seconds": "Wall-clock duration in seconds (of all its attempts).",
            "watermark": "The lastModified the listing was read back to.",
            "reached_watermark": "Whether the listing reached the watermark (false: the run stopped early).",
            "detail": "Free-text notes on the run.",
        },
    ),
    Table(
        "core.datasets",
        "One row per dataset repository named by a model card, as observed on the Hub.",
        key=("dataset_id",),
        step="datasets",
        reads=("raw.hub_datasets",),
        detail="Whether it exists (unknown where the source did not record datasets), its licence as "
        "declared, gating and card presence (latest capture).",
        public=True,
        columns={
            "dataset_id": "Hub dataset repository id, `org/name`.",
            "revision": "Commit sha of the dataset repository when observed.",
            "exists": "Whether the dataset repository exists on the Hub; null (unknown) where the source did "
            "not record datasets (a hub mirror without dataset repos), false only where the Hub said it does "
            "not exist.",
        },
    ),
    Table(
        "core.papers",
        "One row per arXiv paper cited by a model card or a Hub paper page.",
        key=("arxiv_id",),
        step="papers",
        reads=("raw.papers", "core.revisions", "core.releases"),
        detail="Title, authors, dates, DOI, journal ref, code links, peer-reviewed or preprint.",
        public=True,
        columns={
            "version": "Latest arXiv version number of the paper.",
            "title": "Paper title.",
            "abstract": "The paper's abstract as arXiv gives it.",
            "authors": "Author names.",
            "categories": "arXiv subject categories.",
            "primary_category": "arXiv primary subject category.",
            "published": "First version's date on arXiv.",
            "updated": "Latest version's date on arXiv.",
            "doi": "DOI, where arXiv records one.",
            "journal_ref": "Journal reference, where arXiv records one.",
            "comment": "The authors' arXiv comment (pages, venue, ...).",
            "code_urls": "Code repositories linked from the abstract, comment or Hub paper page.",
            "project_page": "Project page linked from the Hub paper page, if any.",
            "license_url": "The licence arXiv records for the paper, as a URL.",
            "is_peer_reviewed": "Whether a journal reference or DOI shows the paper was published after review.",
            "paper_kind": "peer_reviewed or preprint.",
            "fetched_at": "When arXiv was asked for the paper (UTC).",
            "status": "Outcome of the lookup: found, not_found (arXiv has no such paper), unrecorded (the "
            "source was a recording that does not hold the paper: unknown, not absent from arXiv), invalid "
            "or error (arXiv was asked and gave no usable answer yet; asked again on the next crawl).",
        },
    ),
    Table(
        "core.release_papers",
        "One row per (model repository, paper) citation.",
        key=("repo_id", "arxiv_id"),
        step="papers",
        reads=("core.revisions",),
        detail="With the first and last revision that cite it and whether a tag or a card link did.",
        by_repo=True,
        public=True,
        columns={
            "first_revision": "The first revision whose card cites the paper.",
            "first_cited_at": "The commit date of that revision (UTC).",
            "last_revision": "The newest revision whose card cites the paper.",
            "source": "Where the citation was found: tag (an `arxiv:` Hub tag) or card_link (only the card text).",
        },
    ),
    Table(
        "core.license_files",
        "One row per licence or use-policy file blob of a repository: a code repository's (GitHub) or a model "
        "or dataset repository's (the Hub).",
        key=("host", "repo", "path", "blob_sha"),
        step="code",
        reads=("raw.code_repos", "raw.hub_history", "raw.hub_datasets"),
        detail="What the licence detector (ScanCode) identified in it, with its score, coverage and matched rules; "
        "a blob is identified once.",
        public=True,
        columns={
            "host": "Where the file lives: github (a code repository) or hub (a model or dataset repository).",
            "repo": "The repository: `owner/name` on GitHub, or the Hub repository id (a dataset's as "
            "`datasets/<id>`).",
            "path": "The file's path in the repository.",
            "blob_sha": "Git blob sha of the file's content (the same text has the same sha).",
            "revision": "The commit the file was read at (on the Hub: the first revision this blob was seen at "
            "under this path).",
            "file_kind": "licence (a licence text) or policy (a use policy: names no licence).",
            "license_id": "The licence the file shows, as a catalogue id (several joined with ','), or unknown "
            "(nothing matched well enough: see reason).",
            "license_family": "Family of that licence (the most restrictive one when there are several).",
            "score": "The detector's lowest score among the matches kept (0-100).",
            "coverage": "Share of the file's words covered by the matches kept (0-1).",
            "scancode_keys": "ScanCode licence keys matched (comma-separated).",
            "matched_rules": "ScanCode rule identifiers matched (comma-separated): the evidence.",
            "reason": "Why the licence is unknown, when it is.",
            "observed_at": "When the file was captured (UTC).",
        },
    ),
    Table(
        "core.code_repos",
        "One row per code repository (GitHub) that a release's card or a cited paper names, in its latest state.",
        key=("repo",),
        step="code",
        reads=("raw.code_repos", "core.license_files"),
        detail="Its licence (from its licence files, else GitHub's detection), whether it is archived or a fork, and "
        "whether its tree shows training, preprocessing, evaluation and inference code, with the paths.",
        public=True,
        columns={
            "repo": "GitHub repository, `owner/name` (lower-case), as the card or paper names it.",
            "full_name": "The repository's name as GitHub answered (differs after a move).",
            "status": "ok, moved, gone (404 or 451: history kept), empty (409) or not_modified.",
            "license_source": "Where license_id comes from: files (its licence files) or github (GitHub's own "
            "detection, when no licence file was identified).",
            "github_license": "GitHub's own licence detection (SPDX id or GitHub key).",
            "file_license": "The licence its licence files show (catalogue ids).",
            "archived": "Whether the repository is archived.",
            "fork": "Whether the repository is a fork.",
            "parent": "The repository it was forked from.",
            "default_branch": "Its default branch.",
            "created_at": "When the repository was created (GitHub).",
            "pushed_at": "When it was last pushed to (GitHub).",
            "head_sha": "The default branch's head commit whose tree was read.",
            "training_code": "Whether the tree has pretraining or fine-tuning code or run configs (null: tree unknown).",
            "preprocessing_code": "Whether the tree has data preprocessing code (null: tree unknown).",
            "evaluation_code": "Whether the tree has evaluation code (null: tree unknown).",
            "inference_code": "Whether the tree has inference code (null: tree unknown).",
        },
    ),
    Table(
        "core.code_license_history",
        "One row per commit that changed a code repository's licence files.",
        key=("repo", "commit_sha"),
        step="code",
        reads=("raw.code_repos", "core.license_files"),
        detail="The licence files after the commit and the licence they show: a code licence change, dated, with "
        "its commit as evidence.",
        public=True,
        columns={
            "repo": "GitHub repository, `owner/name`.",
            "commit_sha": "The commit that changed a licence file.",
            "committed_at": "The commit's date (ISO 8601, as GitHub gives it).",
            "files": "The licence files after the commit: JSON {path: blob sha}.",
            "changed_paths": "The licence files the commit changed.",
            "message": "The commit message's first line.",
        },
    ),
    Table(
        "core.release_code",
        "One row per (model repository, code repository) link.",
        key=("repo_id", "code_repo", "linked_via"),
        step="code",
        reads=("core.revisions", "core.releases", "core.release_papers", "core.papers"),
        detail="Whether the latest card or a cited paper names it, and its role: the release's own code, or a "
        "supporting library many releases link (a documented rule, docs/code.md).",
        by_repo=True,
        public=True,
        columns={
            "code_repo": "GitHub repository, `owner/name`.",
            "linked_via": "card (the release's latest card links it) or paper (a paper the card cites does).",
            "role": "release_code (the publisher's own repository), supporting_library (a general library or "
            "tool) or third_party (someone else's code: says nothing of the release's own code).",
        },
    ),
    Table(
        "core.licenses",
        "One row per licence identifier seen on the Hub, mapped to SPDX and to a licence family.",
        key=("id",),
        step="scores",
        reads=("core.revisions",),
        detail="Hub ids and common license_name values: SPDX id, family, OSI approval, commercial use, MOT "
        "openness and the source of the mapping.",
        public=True,
        columns={
            "id": "Hub licence id or a common `license_name` value.",
            "spdx_id": "SPDX identifier where one exists.",
            "name": "Licence name.",
            "family": "Licence family (see `license_family`).",
            "osi_approved": "Whether the OSI approved the licence (null for a family of licences).",
            "commercial_use": "Whether commercial use is allowed: yes, no or capped.",
            "mot_open": "Whether the Model Openness Tool counts the licence as open.",
            "source": "Where the mapping comes from (SPDX list, Hub docs, licence text).",
            "note": "Remarks on the mapping.",
        },
    ),
    Table(
        "core.disclosures",
        "One row per revision and Model Openness Framework component: is it released, under which licence, "
        "is that licence open, and the evidence.",
        key=("repo_id", "revision", "component"),
        step="scores",
        reads=_SCORE_INPUTS,
        detail="All 17 components, with the evidence (field or file, value, URL) and the method.",
        by_repo=True,
        public=True,
        # No date of its own: by the commit month of its revision, so a day's new revisions add to the newest
        # month's file and the older months' files are carried over.
        snapshot_split=("month", "committed_at", "core.revisions"),
        columns={
            "component": "Model Openness Framework component (one of its 17, e.g. Model parameters (Final)).",
            "component_id": "The component's id in the Model Openness Tool.",
            "included": "Whether the component is released with the model.",
            "license_id": "Licence the component is released under.",
            "is_open": "Whether that licence is open for this component type, as the Model Openness Tool "
            "decides.",
            "detail": "Refinement code used by the framework verdicts (e.g. 1: the research paper is the "
            "release's own; the card is comprehensive; every named dataset has a card); 0 when none applies.",
        },
    ),
    Table(
        "core.openness",
        "One row per revision: its place under every framework and on the 0-5 openness spectrum, valid from "
        "that commit until the next.",
        key=("repo_id", "revision"),
        step="scores",
        reads=_SCORE_INPUTS,
        detail="MOF class and progress, the European Open Source AI Index criteria and score, the OSAID "
        "verdict, Solaiman's release level, the spectrum level 0-5, the licence family and rubric version, "
        "with evidence, as validity intervals (valid_from, valid_to).",
        by_repo=True,
        public=True,
        snapshot_split=("closed", "valid_to"),
        columns={
            "mof_class": "Model Openness Framework class: 3 (Open Model), 2 (Open Tooling), 1 (Open Science), "
            "0 none.",
            "mof_class_label": "The MOF class as the Model Openness Tool names it (Unclassified for 0).",
            "mof_progress_1": "Percentage of Class I (Open Science) met, as the Model Openness Tool computes it.",
            "mof_progress_2": "Percentage of Class II (Open Tooling) met, as the Model Openness Tool computes "
            "it.",
            "mof_progress_3": "Percentage of Class III (Open Model) met, as the Model Openness Tool computes it.",
            "osai_datasources_basemodel": f"{_OSAI} 'Base Model Data': open, partial, closed or null (unknown).",
            "osai_datasources_endmodel": f"{_OSAI} 'End User Model Data': open, partial, closed or null (unknown).",
            "osai_weights_basemodel": f"{_OSAI} 'Base Model Weights': open, partial, closed or null (unknown).",
            "osai_weights_endmodel": f"{_OSAI} 'End User Model Weights': open, partial, closed or null (unknown).",
            "osai_trainingcode": f"{_OSAI} 'Training Code': open, partial, closed or null (unknown).",
            "osai_code": f"{_OSAI} 'Code Documentation': open, partial, closed or null (unknown).",
            "osai_hardware_architecture": f"{_OSAI} 'Hardware Architecture': open, partial, closed or null (unknown).",
            "osai_preprint": f"{_OSAI} 'Preprint': open, partial, closed or null (unknown).",
            "osai_paper": f"{_OSAI} 'Paper' (peer-reviewed): open, partial, closed or null (unknown).",
            "osai_modelcard": f"{_OSAI} 'Modelcard': open, partial, closed or null (unknown).",
            "osai_datasheet": f"{_OSAI} 'Datasheet': open, partial, closed or null (unknown).",
            "osai_licenses": f"{_OSAI} 'Licenses': open, partial, closed or null (unknown).",
            "osai_score": "European Open Source AI Index score (0-1) over the criteria that could be decided.",
            "osai_decided": "How many of the Index's criteria could be decided from the evidence.",
            "osaid": "OSI Open Source AI Definition 1.0 verdict: meets, fails or undetermined.",
            "osaid_unmet": "The OSAID requirements the revision does not meet.",
            "release_level": "Solaiman's release gradient: fully_closed, gradual, hosted, api, downloadable, "
            "fully_open (api: no weight files, served by a live inference provider; the mapping is in the "
            "evidence); null when the file list is unknown.",
            "spectrum_level": "Ordinal openness summary 0 (no weights) to 5 (weights, code and data open); null "
            "if undecidable.",
            "license_status": "How the effective licence resolved: mapped, unmapped, conflict (card and tags "
            "disagree) or missing (neither the card nor a licence file names one).",
            "declared_license_id": "The licence the model card declares (card YAML or license:* tags), as "
            "resolved against the catalogue; null when the card declares none.",
            "declared_license_family": "Family of the card's licence; none when the card declares none.",
            "file_license_id": "The licence the revision's licence files give (LICENSE, MODEL_LICENSE ...; "
            "several joined with ',', 'unknown' for a file not identified); null when none was read.",
            "file_license_family": "Family of the licence files' licence: the most restrictive of the files.",
            "inherited_license_id": "The licence of the base model (its latest scored revision), shown beside; "
            "null without a base model or when the base is not in the warehouse.",
            "license_source": "Where the effective licence (license_id, license_family) comes from: card or "
            "files (docs/rubric.md); null when neither declares one.",
            "license_conflict": "Whether the card's licence and the licence files disagree (true / false); "
            "null when either side names no licence.",
            "license_conflict_evidence": "When they disagree: both sides with their evidence and which one the "
            "effective licence takes (JSON).",
            "valid_from": "Start of the validity interval: when this revision's scoring took effect.",
            "valid_to": "End of the validity interval (the next revision); null while current.",
        },
    ),
    Table(
        "core.transitions",
        "One row per change of an openness dimension of a repository between two revisions, and one per "
        "revision that turns known dimensions unknown.",
        key=("repo_id", "dimension", "to_revision"),
        step="scores",
        reads=_SCORE_INPUTS,
        detail="Date, before, after, direction (opening, closing, lateral, to_unknown), commits and evidence "
        "URL; changes undone within 24 hours are flagged short-lived. A release's set-up (its first commits) "
        "is its first observation, not a change (docs/history.md).",
        by_repo=True,
        public=True,
        snapshot_split=("month", "changed_at"),
        columns={
            "changed_at": "When the change happened (the commit date of `to_revision`).",
            "dimension": "What changed: e.g. license_family, spectrum_level, mof_class, osaid, release_level; "
            "'dimensions' for a change to unknown.",
            "from_value": "The dimension's last known value before the change (for license_id, license_family "
            "and declared_license_id, none = no licence declared); for a change to unknown, the dimensions that "
            "became unknown (comma-separated).",
            "to_value": "Value after the change (as from_value); null for a change to unknown.",
            "direction": "opening or closing along the dimension's openness order, else lateral; to_unknown: "
            "known dimensions became unknown (e.g. a README that turned gated), one row per revision.",
            "from_revision": "The revision before the one that made the change.",
            "to_revision": "Commit that made the change.",
            "evidence_url": "URL of the commit or file that shows the change; null when `to_revision` is a "
            "commit id a mirror reconstructed (it does not exist on the Hub).",
            "short_lived": "Whether the change was undone within 24 hours (counted apart in the timelines).",
            "reconstructed": "When the data came from a hub mirror: the kinds of reconstruction (its mirror.json "
            "`reconstructions`, e.g. synthetic-commit-id, readme-from-card-data) that `to_revision`'s captured "
            "answers rest on, comma-separated; null when they rest on none (always null for the live Hub).",
        },
    ),
    Table(
        "core.derivatives",
        "One row per (derivative, named base model): both licences and whether the derivative declares a "
        "more permissive licence family than its base.",
        key=("repo_id", "base_model"),
        step="scores",
        reads=("core.revisions",),
        detail="From each repository's latest revision; the relicensing flag compares the rubric's family "
        "ranks (sql/queries/relicensed_derivatives.sql lists the relicensed ones).",
        by_repo=True,
        public=True,
        columns={
            "base_model": "A base model the derivative's card names (`base_model`), as written there.",
            "base_in_warehouse": "Whether the base model is a repository the warehouse holds (its licence is "
            "then known).",
            "base_license_id": "Resolved licence of the base model's latest revision; null when the base is not "
            "in the warehouse.",
            "base_license_family": "Licence family of the base model (see `license_family`).",
            "license_id": "Resolved licence of the derivative's latest revision.",
            "license_family": "Licence family of the derivative's licence.",
            "relicensed_more_permissively": "Whether the derivative's licence family ranks as more permissive "
            "than its base's (rubric.yml families' rank); null when either family is unranked or the base is not "
            "in the warehouse.",
            "license_changed": "Whether the derivative's licence id differs from its base's; null when the base "
            "is not in the warehouse.",
            "evidence": "Both licences with their families, ranks and commit URLs (JSON).",
        },
    ),
    Table(
        "core.time_to_openness",
        "One row per release: the first time its weights, an open licence, training code, open training data "
        "and its own paper show in its recorded revisions, whether each date is exact, and the days from the "
        "weights to each.",
        key=("repo_id",),
        step="marts",
        reads=("core.openness", "core.revisions", "core.disclosures", "core.releases"),
        detail="Rebuilt whole each run from the scored revisions (sql/core/time_to_openness.sql). A date is the "
        "valid_from of the first revision that shows the event (null: no recorded revision shows it). It is "
        "exact when the recorded revision just before shows the event absent; shown from the first recorded "
        "revision on, or after a revision that leaves it unknown, the event may have come earlier.",
        public=True,
        columns={
            "org": "Owner (user or organisation) part of the repo id.",
            "created_at": "When the release was created (core.releases.created_at; null where a hub mirror only "
            "bounds it).",
            "weights_at": "First revision with weight files (core.revisions.has_weights).",
            "weights_revision": "That revision's commit id.",
            "weights_exact": "Whether weights_at is exact (the revision before it has a recorded file list "
            "without weights); false: the weights may have come earlier.",
            "open_license_at": "First revision whose effective licence family has open terms in the rubric "
            "(osi-permissive, osi-copyleft, open-data).",
            "open_license_revision": "That revision's commit id.",
            "open_license_exact": "Whether open_license_at is exact (the revision before it has a decided "
            "licence that is not open, or none).",
            "training_code_at": "First revision whose MOF Training code component is included.",
            "training_code_revision": "That revision's commit id.",
            "training_code_exact": "Whether training_code_at is exact (the revision before it shows no "
            "training code).",
            "open_data_at": "First revision whose MOF Datasets component is included under open terms.",
            "open_data_revision": "That revision's commit id.",
            "open_data_exact": "Whether open_data_at is exact (the revision before it shows no open "
            "training data).",
            "own_paper_at": "First revision that cites the model's own paper (the rubric's own-paper rule).",
            "own_paper_revision": "That revision's commit id.",
            "own_paper_exact": "Whether own_paper_at is exact (the revision before it cites no paper).",
            "days_to_open_license": "Days from weights_at to open_license_at when both are exact (negative: "
            "the licence was open before the weights came); null otherwise.",
            "days_to_training_code": "Days from weights_at to training_code_at (as days_to_open_license).",
            "days_to_open_data": "Days from weights_at to open_data_at (as days_to_open_license).",
            "days_to_own_paper": "Days from weights_at to own_paper_at (as days_to_open_license).",
        },
    ),
    Table(
        "marts.time_to_openness_summary",
        "One row per breakdown (all, release month, organisation), group and event: releases, those whose "
        "weights and event show, those with an exact interval, and the median and mean days from weights to "
        "the event.",
        key=("breakdown", "group_value", "event"),
        step="marts",
        reads=("core.time_to_openness",),
        columns={
            "breakdown": "How releases are grouped: all, release_month (month of created_at, releases whose "
            "creation date is known) or org.",
            "group_value": "The group within the breakdown ('all' for the breakdown all; YYYY-MM for "
            "release_month).",
            "event": "open_license, training_code, open_data or own_paper (see core.time_to_openness).",
            "releases": "Releases of the group.",
            "with_weights": "Of those, releases whose weights show in a recorded revision.",
            "seen": "Releases whose event shows in a recorded revision.",
            "timed": "Releases with an exact interval from weights to the event (both dates exact).",
            "median_days": "Median of those intervals in days (null when none is timed).",
            "mean_days": "Mean of those intervals in days (null when none is timed).",
        },
    ),
    Table(
        "marts.monthly_openness",
        "One row per month, breakdown (all, organisation, modality, base-model family), group, metric "
        "(spectrum level, licence family, MOF class) and value: releases at that value at the month's end, "
        "and their mean European Open Source AI Index score.",
        key=("month", "breakdown", "group_value", "metric", "value"),
        step="marts",
        reads=("core.openness", "core.releases"),
        columns={
            "month": "First day of the month; the counts are the state at the month's end.",
            "breakdown": "How releases are grouped: all, org (organisation), modality or base_family (base-model "
            "family).",
            "group_value": "The group within the breakdown (e.g. an organisation); 'all' for the breakdown all.",
            "metric": "What is counted: spectrum_level, license_family or mof_class.",
            "value": "The metric's value: for license_family as in core.openness (a family, unknown, or none: no "
            "licence declared); 'unknown' for a spectrum level or MOF class that could not be decided.",
            "releases": "Releases (existing at the month's end) at that value.",
            "avg_osai_score": "Their mean European Open Source AI Index score (0-1), over those with a score.",
        },
    ),
    Table(
        "marts.monthly_usage",
        "One row per month, population (all releases with usage counts, or those over the download "
        "threshold), metric (spectrum level, licence family, kind of openness) and value: the share of "
        "releases and the share of downloads at that value.",
        key=("month", "population", "metric", "value"),
        step="marts",
        reads=("core.release_metrics", "core.openness"),
        detail="Downloads are the Hub's 30-day count as of the crawl date: each release counts with its last "
        "crawl date of the month and its openness at the end of that day (sql/marts/monthly_usage.sql).",
        columns={
            "month": "First day of the month of the crawl dates.",
            "population": "all (every release with usage counts that month) or over_threshold (those with at "
            "least 1,000 downloads in the 30 days before their crawl date).",
            "metric": "What is counted: spectrum_level, license_family or openness_kind (open_source: OSAID "
            "meets; open_weights: spectrum level 3 or above otherwise; other: levels 0-2; unknown).",
            "value": "The metric's value ('unknown' where it could not be decided).",
            "releases": "Releases at that value.",
            "downloads": "Their downloads: the sum of the Hub's 30-day counts as of their crawl dates (a null "
            "count adds none).",
            "release_share": "releases / all releases of the month and population (0-1).",
            "download_share": "downloads / all downloads of the month and population (0-1); null when they "
            "total 0.",
        },
    ),
    Table(
        "marts.monthly_transitions",
        "One row per month, dimension and direction: opening, closing, lateral and to-unknown transitions, "
        "short-lived ones counted apart.",
        key=("month", "dimension", "direction"),
        step="marts",
        reads=("core.transitions",),
        columns={
            "month": "First day of the month of the changes.",
            "dimension": "The openness dimension that changed (see transitions' `dimension`).",
            "direction": "opening, closing, lateral or to_unknown (see transitions' `direction`).",
            "transitions": "Changes that lasted (short-lived ones left out).",
            "short_lived": "Changes undone within 24 hours, counted apart (not in `transitions`).",
        },
    ),
)

BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    """A registered table by `layer.table` or, for core tables, by its short name."""
    found = BY_NAME.get(name) or BY_NAME.get(f"core.{name}")
    if found is None:
        raise KeyError(f"no table {name!r} in the registry (pipelines/tables.py)")
    return found


def public_tables() -> dict[str, str]:
    """Snapshot file name -> warehouse table, for every public table."""
    return {t.short: t.name for t in TABLES if t.public}


def tables_of_step(step: str) -> list[Table]:
    """The tables one build step writes, in registry order."""
    return [t for t in TABLES if t.step == step]


def steps() -> list[str]:
    """The build steps in the order they run (the registry's order: a step never reads a later one)."""
    return list(dict.fromkeys(t.step for t in TABLES))


def column_doc(table_short: str, column: str) -> str | None:
    """The meaning of a column of a table (by its short name): the table's own, else the common one."""
    entry = BY_NAME.get(f"core.{table_short}") or BY_NAME.get(f"marts.{table_short}")
    own = entry.columns if entry else {}
    return own.get(column) or COMMON_COLUMNS.get(column)
