"""Parsing every real arXiv response in the reference (current and classic Atom), and refusing hostile XML."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from pipelines.papers.atom import AtomError, iso_utc, parse_feed
from tests.papers.recorded import current_wrappers, legacy_feeds, needs_reference, sample_entry, wrapper

pytestmark = needs_reference
ENTRY_KEYS = {
    "arxiv_id",
    "version",
    "title",
    "abstract",
    "authors",
    "affiliations",
    "categories",
    "primary_category",
    "published",
    "updated",
    "doi",
    "journal_ref",
    "comment",
    "abs_url",
    "pdf_url",
    "license_url",
    "code_urls",
}
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def test_reference_is_complete() -> None:
    assert len(current_wrappers()) == 20
    assert len(legacy_feeds()) == 5


def _check_entries(feed_entries: list[dict], raw: str) -> None:
    assert len(feed_entries) == raw.count("<entry")  # every entry parsed, none dropped
    for entry in feed_entries:
        assert set(entry) == ENTRY_KEYS
        assert entry["title"] and "\n" not in entry["title"] and entry["title"] == entry["title"].strip()
        assert entry["authors"] and len(entry["affiliations"]) == len(entry["authors"])
        assert entry["categories"] and entry["primary_category"] in entry["categories"]
        assert ISO_Z.match(entry["published"]) and ISO_Z.match(entry["updated"])
        assert entry["published"] <= entry["updated"]
        assert isinstance(entry["version"], int) and entry["version"] >= 1
        assert entry["abs_url"].endswith(f"{entry['arxiv_id']}v{entry['version']}")
        assert entry["pdf_url"].endswith(f"/pdf/{entry['arxiv_id']}v{entry['version']}")


@pytest.mark.parametrize("path", current_wrappers(), ids=lambda p: p.name)
def test_every_current_response_parses(path: Path) -> None:
    recorded = json.loads(path.read_text(encoding="utf-8"))
    result = parse_feed(recorded["body"])
    assert result.total_results is not None and result.start_index is not None
    assert result.items_per_page is not None
    if recorded["status_code"] == 400:
        assert result.entries == [] and len(result.errors) == 1
    else:
        assert result.errors == []
        _check_entries(result.entries, recorded["body"])
    # Bytes (what the client hands over) and text parse the same.
    assert parse_feed(recorded["body"].encode("utf-8")) == result


@pytest.mark.parametrize("path", legacy_feeds(), ids=lambda p: p.name)
def test_every_classic_feed_parses(path: Path) -> None:
    raw = path.read_bytes()
    result = parse_feed(raw)
    assert result.errors == [] and result.start_index == 0 and result.items_per_page == 10
    _check_entries(result.entries, raw.decode("utf-8"))
    assert all(e["abs_url"].startswith("http://arxiv.org/abs/") for e in result.entries)


def test_single_paper_fields() -> None:
    result = parse_feed(wrapper("id_1605.08386")["body"])
    assert (result.total_results, result.start_index, result.items_per_page) == (1, 0, 100)
    (paper,) = result.entries
    assert paper == {
        "arxiv_id": "1605.08386",
        "version": 1,
        "title": "Heat-bath random walks with Markov bases",
        "abstract": paper["abstract"],
        "authors": ["Caprice Stanley", "Tobias Windisch"],
        "affiliations": [[], []],
        "categories": ["math.CO", "math.ST"],
        "primary_category": "math.CO",
        "published": "2016-05-26T17:59:46Z",
        "updated": "2016-05-26T17:59:46Z",
        "doi": None,
        "journal_ref": None,
        "comment": "20 pages, 3 figures",
        "abs_url": "https://arxiv.org/abs/1605.08386v1",
        "pdf_url": "https://arxiv.org/pdf/1605.08386v1",
        "license_url": None,
        "code_urls": [],
    }
    assert paper["abstract"].startswith("Graphs on lattice points are studied")
    assert paper["abstract"].endswith("is an expander in fixed dimension.")


def test_multi_id_feed() -> None:
    # Asked for 0808.05394,1707.08567: the first is not a real id (2008 ids have 4 digits), so the
    # recorded answer holds one entry and totalResults 1.
    result = parse_feed(wrapper("id_0808.05394_1707.08567")["body"])
    assert [e["arxiv_id"] for e in result.entries] == ["1707.08567"]
    assert result.total_results == 1
    (paper,) = result.entries
    assert len(paper["authors"]) == 34 and paper["authors"][0] == "Kees A. Schouhamer Immink"
    assert paper["comment"] == "44 pages, editors for the proceedings: Yanling Chen and A. J. Han Vinck"


def test_old_style_ids_and_affiliations() -> None:
    (astro,) = parse_feed(wrapper("id_astro-ph_0601001")["body"]).entries
    assert (astro["arxiv_id"], astro["version"]) == ("astro-ph/0601001", 1)
    assert astro["journal_ref"] == "ActaAstron.56:1-50,2006"
    assert astro["affiliations"][0] == ["Ohio State"] and astro["affiliations"][3] == [
        "Warsaw University Observatory"
    ]
    assert astro["categories"] == ["astro-ph"] and astro["primary_category"] == "astro-ph"
    (quant,) = parse_feed(wrapper("id_quant-ph_0201082v1")["body"]).entries
    assert (quant["arxiv_id"], quant["version"]) == ("quant-ph/0201082", 1)
    assert quant["categories"] == ["quant-ph", "cs.PL"]
    assert quant["abstract"].startswith("We show a representation")  # leading spaces stripped


def test_error_feed_goes_to_errors() -> None:
    recorded = wrapper("id_abc")
    assert recorded["status_code"] == 400
    result = parse_feed(recorded["body"])
    assert result.entries == []
    assert result.errors == [
        {
            "id": "https://arxiv.org/api/errors#incorrect_id_format_for_abc",
            "message": "incorrect id format for abc",
            "bad_id": "abc",
        }
    ]


def test_empty_result() -> None:
    result = parse_feed(wrapper("id_0000.0000")["body"])
    assert (result.entries, result.errors, result.total_results) == ([], [], 0)


@pytest.mark.parametrize(
    ("prefix", "start", "per_page", "count"),
    [
        ("q_testing_s0_m100", 0, 100, 100),
        ("q_testing_s10_m10", 10, 10, 10),
        ("q_testing_s9_m15", 9, 15, 15),
    ],
)
def test_search_feed_pagination(prefix: str, start: int, per_page: int, count: int) -> None:
    result = parse_feed(wrapper(prefix)["body"])
    assert (result.total_results, result.start_index, result.items_per_page) == (214881, start, per_page)
    assert len(result.entries) == count


def test_search_pages_overlap_consistently() -> None:
    # start=5,max=10 and start=9,max=15 are windows on the same ranking: entries 9..14 agree.
    five = [e["arxiv_id"] for e in parse_feed(wrapper("q_testing_s5_m10")["body"]).entries]
    nine = [e["arxiv_id"] for e in parse_feed(wrapper("q_testing_s9_m15")["body"]).entries]
    assert five[4:] == nine[:6]


def test_doi_journal_ref_and_code_links_in_current_format() -> None:
    entries = {e["arxiv_id"]: e for e in parse_feed(wrapper("q_testing_s0_m100")["body"]).entries}
    first = entries["2202.12139"]
    assert first["doi"] == "10.1109/ICSTW55395.2022.00035"
    assert first["journal_ref"].startswith("Artificial Intelligence in Software Testing @ 2022 IEEE")
    assert entries["1706.00679"]["code_urls"] == ["https://github.com/ydecastro/super-resolution-testing"]
    assert sum(bool(e["code_urls"]) for e in entries.values()) == 1


def test_classic_format_with_per_element_namespaces() -> None:
    (paper,) = parse_feed((Path(legacy_feeds()[0])).read_bytes()).entries  # id_list=1111.2011v2
    assert (paper["arxiv_id"], paper["version"]) == ("1111.2011", 2)
    assert (
        paper["title"]
        == "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert paper["doi"] == "10.1103/PhysRevB.85.115117"
    assert paper["journal_ref"] == "Phys. Rev. B 85, 115117 (2012)"
    assert paper["comment"] == "8 pages, 3 figures. Published version"
    assert paper["primary_category"] == "cond-mat.str-el"
    assert paper["categories"] == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert (paper["published"], paper["updated"]) == ("2011-11-08T18:48:36Z", "2012-04-02T12:38:54Z")
    assert paper["pdf_url"] == "http://arxiv.org/pdf/1111.2011v2"


def test_element_order_does_not_matter() -> None:
    entry = sample_entry("astro-ph/0601001")
    lines = entry.strip().splitlines()
    # Move the author block to the top and the id to the bottom.
    body = "\n".join(lines[1:-1])
    id_line = next(line for line in lines if "<id>" in line)
    authors = body[body.index("<author>") : body.rindex("</author>") + len("</author>")]
    shuffled = (
        "<entry>\n"
        + authors
        + "\n"
        + body.replace(authors, "").replace(id_line, "")
        + "\n"
        + id_line
        + "\n</entry>"
    )
    feed = '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">{}</feed>'
    assert parse_feed(feed.format(shuffled)).entries == parse_feed(feed.format(entry)).entries


def test_code_urls_are_normalised() -> None:
    entry = (
        '<entry xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">'
        "<id>http://arxiv.org/abs/2401.00001v1</id><title>T</title>"
        "<summary>Code: github.com/Acme/Trainer.git and (https://www.github.com/acme/trainer). "
        "See https://gitlab.com/grp/Proj. Not https://github.com/features/x.</summary>"
        "<arxiv:comment>https://github.com/acme/eval-suite, http://github.com/acme/trainer/tree/main</arxiv:comment>"
        "</entry>"
    )
    (paper,) = parse_feed(f'<feed xmlns="http://www.w3.org/2005/Atom">{entry}</feed>').entries
    assert paper["code_urls"] == [
        "https://github.com/acme/eval-suite",
        "https://github.com/acme/trainer",
        "https://gitlab.com/grp/proj",
    ]
    assert paper["authors"] == [] and paper["published"] is None


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE feed [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2401.00001v1</id><title>&lol9;</title></entry></feed>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2401.00001v1</id><title>&xxe;</title></entry></feed>
"""
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE feed SYSTEM "http://127.0.0.1:9/evil.dtd">
<feed xmlns="http://www.w3.org/2005/Atom"/>
"""


@pytest.mark.parametrize(
    "hostile",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, BILLION_LAUGHS.encode()],
    ids=["billion-laughs", "external-entity", "external-dtd", "billion-laughs-bytes"],
)
def test_hostile_feeds_are_refused_quickly(hostile: str | bytes) -> None:
    started = time.monotonic()
    with pytest.raises(AtomError, match="refused hostile XML"):
        parse_feed(hostile)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"not xml",
        b"<feed",
        "<html><body>Rate exceeded.</body></html>",
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>&undefined;</title></feed>',
    ],
)
def test_non_feeds_raise_atom_error(bad: str | bytes) -> None:
    with pytest.raises(AtomError):
        parse_feed(bad)


def test_iso_utc_normalises_zones() -> None:
    assert iso_utc("2016-10-09T00:00:00-04:00") == "2016-10-09T04:00:00Z"
    assert iso_utc("2021-04-20T16:07:14Z") == "2021-04-20T16:07:14Z"
    assert iso_utc("yesterday") is None and iso_utc(None) is None
