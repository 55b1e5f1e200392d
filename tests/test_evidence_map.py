"""Evidence and gap maps: cells, gaps, filters, figure, HTML, CSV, pictures."""

from __future__ import annotations

import csv
import importlib.util
import io
import re
import shutil

import pytest

from reviewkit.codebook import load_codebook
from reviewkit.coding import confirm_code, set_finding
from reviewkit.errors import ReviewkitError
from reviewkit.evidence_map import (
    MAP_CSV_COLUMNS,
    CodedStudy,
    build_evidence_map,
    coded_studies_for_review,
    map_figure,
    map_html,
    map_image,
    map_table_csv,
)
from reviewkit.records import Record

STUDIES = [
    CodedStudy(1, "Link workers in Halton", 2016, ["social_prescribing"],
               ["reduced_isolation", "mental_health"], "rct", "positive"),
    CodedStudy(2, "Navigators and loneliness", 2019, ["social_prescribing"],
               ["reduced_isolation"], "qualitative", "mixed"),
    CodedStudy(3, "Parks for all", 2012, ["green_blue_space"], ["health_wellbeing"],
               "cross_sectional", "none", directions={"health_wellbeing": "positive"}),
    {"record_id": 4, "title": "A retired code", "year": None, "approaches": "old_code",
     "outcomes": "health_wellbeing;mental_health", "design": "", "direction": ""},
]


@pytest.fixture(scope="module")
def codebook():
    return load_codebook()


@pytest.fixture(scope="module")
def evidence(codebook):
    return build_evidence_map(STUDIES, codebook)


def test_cells_list_studies_and_gaps_are_empty_cells(evidence, codebook):
    assert [s.record_id for s in evidence.cells[("social_prescribing", "reduced_isolation")]] == \
        [1, 2]
    assert evidence.count("social_prescribing", "mental_health") == 1
    assert evidence.count("housing", "crime_safety") == 0
    rows = len(codebook.scheme("approach").codes) + 1  # plus the retired code
    cols = len(codebook.scheme("outcome").codes)
    assert len(evidence.approaches) == rows and len(evidence.outcomes) == cols
    assert evidence.approaches[-1] == ("old_code", "old_code")
    assert len(evidence.gaps) == rows * cols - len(evidence.cells) == rows * cols - 5
    assert ("housing", "crime_safety") in evidence.gaps
    assert ("social_prescribing", "reduced_isolation") not in evidence.gaps


@pytest.mark.parametrize(("filters", "kept"), [
    ({"designs": ["rct", "qualitative"]}, [1, 2]),
    ({"years": (2015, None)}, [1, 2]),
    ({"years": (None, 2015)}, [3]),
    ({"directions": ["positive"]}, [1, 3]),
    ({"directions": ["mixed"], "designs": ["qualitative"]}, [2]),
])
def test_filters(codebook, filters, kept):
    evidence = build_evidence_map(STUDIES, codebook, **filters)
    assert [s.record_id for s in evidence.studies] == kept


def test_figure_has_one_legend_entry_per_colour_group(evidence):
    fig = map_figure(evidence, "design")
    names = [t.name for t in fig.data]
    assert names == ["Randomised controlled trial", "Cross-sectional survey",
                     "Qualitative study", "Design not recorded", "No studies (gap)"]
    bubbles = fig.data[0]
    assert list(bubbles.marker.size) == [1, 1]
    assert "Link workers in Halton (2016)" in bubbles.text[0]
    by_direction = map_figure(evidence, "direction")
    # study 3 says 'none' overall but 'positive' for its one outcome: the cell shows positive
    assert [t.name for t in by_direction.data][:-1] == ["Positive", "Mixed", "Not recorded"]
    with pytest.raises(ReviewkitError):
        map_figure(evidence, "colour")


def test_html_is_one_self_contained_file(evidence):
    page = map_html(evidence, title="Resilience <map>")
    assert page.lstrip().lower().startswith("<html") or "<!doctype" in page[:50].lower()
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']https?:", page, re.IGNORECASE)
    assert len(page) > 1_000_000  # plotly.js itself is inlined
    assert "Resilience &lt;map&gt;" in page
    assert "Navigators and loneliness" in page
    assert "Colour by direction of effect" in page
    assert f"{len(evidence.gaps)} are gaps" in page


def test_csv_has_one_row_per_cell(evidence):
    text = map_table_csv(evidence).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == MAP_CSV_COLUMNS
    assert len(rows) == len(evidence.approaches) * len(evidence.outcomes)
    cell = next(r for r in rows if (r["approach"], r["outcome"]) ==
                ("social_prescribing", "reduced_isolation"))
    assert cell["studies"] == "2"
    assert cell["record_ids"] == "1;2"
    assert cell["designs"] == "qualitative: 1; rct: 1"
    assert cell["directions"] == "mixed: 1; positive: 1"
    assert cell["approach_label"] == "Social prescribing and community navigation"
    parks = next(r for r in rows if (r["approach"], r["outcome"]) ==
                 ("green_blue_space", "health_wellbeing"))
    assert parks["directions"] == "positive: 1"  # the per-outcome direction wins
    only_cells = map_table_csv(evidence, include_gaps=False).decode("utf-8")
    assert len(only_cells.strip().splitlines()) == 1 + len(evidence.cells)


def test_studies_come_from_confirmed_codes_in_the_store(store, codebook):
    review = store.create_review("Map review")
    store.add_import(review.id, [Record(title="Link workers", year=2018),
                                 Record(title="Not coded yet", year=2020)],
                     filename="m.csv", format="csv", sha256="c" * 64, size_bytes=1)
    first, second = [s.id for s in store.list_records(review.id)]
    for record_id in (first, second):
        confirm_code(store, review.id, record_id, "approach", "social_prescribing", "alice")
    confirm_code(store, review.id, first, "design", "evaluation", "alice")
    set_finding(store, review.id, first, "outcome", "reduced_isolation", "positive",
                "Loneliness fell.", "alice")
    assert coded_studies_for_review(store, review.id) == []  # coded, but not included yet
    for stage in ("title_abstract", "full_text"):
        store.add_decision(first, stage=stage, decision="include", reviewer="alice")
    store.add_decision(second, stage="title_abstract", decision="exclude", reviewer="alice")
    [study] = coded_studies_for_review(store, review.id)  # the excluded one stays off the map
    assert (study.record_id, study.title, study.year) == (first, "Link workers", 2018)
    assert (study.approaches, study.outcomes, study.design) == (
        ["social_prescribing"], ["reduced_isolation"], "evaluation")
    assert (study.direction, study.finding) == ("positive", "Loneliness fell.")
    evidence = build_evidence_map([study], codebook)
    assert evidence.count("social_prescribing", "reduced_isolation") == 1


@pytest.mark.skipif(importlib.util.find_spec("kaleido") is None or not shutil.which("chromium"),
                    reason="picture export needs the kaleido package and Chromium")
def test_png_and_svg_pictures(evidence):
    assert map_image(evidence, "png").startswith(b"\x89PNG")
    assert b"<svg" in map_image(evidence, "svg", colour_by="direction")[:500]
    with pytest.raises(ReviewkitError):
        map_image(evidence, "gif")


def test_the_map_as_a_table_counts_every_cell(evidence):
    from reviewkit.evidence_map import map_rows

    rows = map_rows(evidence)
    assert [r["Approach"] for r in rows] == [label for _, label in evidence.approaches]
    labels = dict(evidence.outcomes)
    for (approach, _), row in zip(evidence.approaches, rows, strict=True):
        assert [row[labels[o]] for o, _ in evidence.outcomes] == \
            [len(evidence.cells.get((approach, o), [])) for o, _ in evidence.outcomes]
    assert sum(v for r in rows for k, v in r.items() if k != "Approach") == \
        sum(len(s) for s in evidence.cells.values())
