"""JSON evidence of MOF component rules, assembled from per-revision fragments (see signals.py).

Values arrive already JSON-escaped (`_e_<column>`), with the revision's blob and commit URL prefixes
(`_blob`, `_commit`), so an evidence string is one concatenation per row.
"""

from __future__ import annotations

import polars as pl

from pipelines.openness.jsonexpr import HF

S = pl.col


def arr(*parts: str | pl.Expr) -> pl.Expr:
    """A JSON array from literal text and column pieces."""
    return pl.concat_str(
        [pl.lit("[")] + [pl.lit(p) if isinstance(p, str) else p for p in parts] + [pl.lit("]")]
    )


def obj_file(kind: str) -> list[str | pl.Expr]:
    """Pieces of {"file", "url"} for a repo file (url: .../blob/<revision>/<file>)."""
    e = S(f"_e_{kind}")
    return ['{"file":"', e, '","url":"', S("_blob"), e, '"}']


def file(kind: str) -> pl.Expr:
    """[{"file", "url"}] for a repo file."""
    return arr(*obj_file(kind))


def readme(field: str, value: pl.Expr | str) -> pl.Expr:
    """[{"file": "README.md", "field", "value", "url"}] for a fact read from the card."""
    return arr(
        f'{{"file":"README.md","field":"{field}","value":', value, ',"url":"', S("_blob"), 'README.md"}'
    )


def quoted(col: str) -> pl.Expr:
    """An escaped value as a JSON string."""
    return pl.concat_str([pl.lit('"'), S(f"_e_{col}"), pl.lit('"')])


def lib() -> list[str | pl.Expr]:
    """Pieces of {"field": "library_name", "value", "license", "url"}."""
    return [
        '{"field":"library_name","value":"',
        S("_e_library"),
        '","license":"',
        S("lib_license_id"),
        '","url":"',
        S("_commit"),
        '"}',
    ]


def arxiv(col: str) -> pl.Expr:
    """[{"field": "arxiv_ids", "value", "url": the arXiv abs page}]."""
    e = S(f"_e_{col}")
    return arr('{"field":"arxiv_ids","value":"', e, '","url":"https://arxiv.org/abs/', e, '"}')


def dataset(col: str) -> pl.Expr:
    """[{"field": "datasets", "value", "url": the dataset repo}]."""
    e = S(f"_e_{col}")
    return arr('{"field":"datasets","value":"', e, f'","url":"{HF}datasets/', e, '"}')


def code(col: str) -> pl.Expr:
    """[{"field": "code_urls", "value", "url"}]."""
    e = S(f"_e_{col}")
    return arr('{"field":"code_urls","value":"', e, '","url":"', e, '"}')


# Evidence of a negative (what was read on this commit and found empty), built once per revision and
# shared by the components that rest on the same fields.
ABSENT = {
    "files": ("files",),
    "arxiv": ("arxiv_ids",),
    "code": ("files", "code_urls"),
    "eval": ("model-index", "card_sections"),
    "data": ("datasets", "card_sections"),
    "datasets": ("datasets",),
    "readme": ("README.md",),
    "library": ("files", "library_name"),
}


def absent_fragments() -> list[pl.Expr]:
    """One JSON evidence string per kind of negative, per revision."""
    out = []
    for kind, fields in ABSENT.items():
        names = ",".join(f'"{f}"' for f in fields)
        out.append(
            pl.concat_str(
                [pl.lit(f'[{{"checked":[{names}],"value":null,"url":"'), S("_commit"), pl.lit('"}]')]
            ).alias(f"_absent_{kind}")
        )
    return out


def absent(kind: str) -> pl.Expr:
    """The per-revision evidence of one kind of negative (see ABSENT)."""
    return S(f"_absent_{kind}")
