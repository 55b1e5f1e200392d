"""Synthesis without meta-analysis: stored directions, cells, counts, charts and their tables."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest

from reviewkit.accounts import PermissionDenied, add_member, create_user, set_accounts
from reviewkit.coding import included_record_ids
from reviewkit.errors import ReviewkitError
from reviewkit.store import Store
from reviewkit.synthesis import (
    DirectionCount,
    StudyDirection,
    SynthesisCell,
    cell_text,
    clear_direction,
    direction_table_csv,
    effect_direction_plot,
    harvest_plot,
    harvest_text,
    read_direction_csv,
    record_direction,
    sign_test_p,
    synthesis_cell,
    synthesis_cells,
    write_cell,
)
from tests.templates import copy_demo_database

CELL = ("community_governance", "empowerment_control")


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """One copy of the demo review for the read-mostly tests of this module."""
    url = copy_demo_database(tmp_path_factory.mktemp("synth") / "demo.sqlite")
    store = Store(url)
    yield store, store.get_review("Developing resilient communities (demo)")
    store.close()


def _study(rid, direction, *, design="cross_sectional", size=None):
    return StudyDirection(rid, f"Study {rid}", 2020, design, direction, size, "", "synthesis")


# -- hand-checked counts ------------------------------------------------------------------


@pytest.mark.parametrize("directions, words", [
    (["positive"] * 4 + ["negative"], "4 of 5 studies found improvement (1 worsening)"),
    (["positive", "positive", "no_clear", "mixed", "negative"],
     "2 of 5 studies found improvement (1 worsening, 1 no clear effect, 1 mixed results)"),
    (["negative", "negative", "negative"], "All 3 studies found worsening"),
    (["no_clear"], "The one study found no clear effect"),
    ([], "No primary study recorded a direction of effect"),
])
def test_vote_count_in_plain_words(directions, words):
    cell = SynthesisCell(*CELL, [_study(i, d) for i, d in enumerate(directions)])
    assert cell.count.in_words() == words


def test_reviews_are_listed_but_not_counted():
    cell = SynthesisCell(*CELL, [_study(1, "positive"), _study(2, "negative", design="review"),
                                 _study(3, "positive", design="review")])
    assert cell.count == DirectionCount(1, 0, 0, 0)
    assert cell.count.in_words() == "The one study found improvement"


def test_sign_test_matches_a_hand_count_and_scipy():
    # 4 better, 1 worse: P(X<=1) for n=5 is 6/32, two-sided 12/32 = 0.375
    assert sign_test_p(4, 1) == pytest.approx(0.375)
    assert DirectionCount(4, 1, 3, 0).sign_test_p == pytest.approx(0.375)
    # 9 of 9: 2/512
    assert DirectionCount(9, 0, 0, 0).sign_test_p == pytest.approx(2 / 512)
    assert "unlikely to be chance" in DirectionCount(9, 0, 0, 0).sign_test_words()
    assert "could be chance" in DirectionCount(4, 1, 0, 0).sign_test_words()
    assert DirectionCount(0, 0, 2, 1).sign_test_p is None


# -- stored directions and cells ------------------------------------------------------------


def test_demo_cell_reads_coded_directions(demo_store):
    store, review = demo_store
    cell = synthesis_cell(store, review, *CELL)
    assert cell.studies, "the demo codes studies for community governance and control"
    assert {s.source for s in cell.studies} <= {"coding", "synthesis"}
    primary = [s for s in cell.studies if not s.review]
    assert cell.count.total == len(primary)
    # by hand from corpora/demo/screening.csv and the demo's synthesis: N37 improvement (the
    # NRP survey, recorded here), C29 improvement, N14 worsening, C11 and C41 no clear effect,
    # N13 mixed; N04 and N12 are reviews, listed but not counted
    assert cell.count == DirectionCount(positive=2, negative=1, no_clear=2, mixed=1)
    assert sum(s.review for s in cell.studies) == 2
    nrp = next(s for s in cell.studies if s.sample_size == 3000)
    assert (nrp.direction, nrp.source, nrp.size_band) == ("positive", "synthesis", "large")


def test_recording_a_direction_replaces_the_coded_one_and_is_audited(store, demo):
    review = demo
    cell = synthesis_cell(store, review, *CELL)
    study = next(s for s in cell.studies if not s.review)
    record_direction(store, review, study.record_id, *CELL, direction="negative",
                     sample_size="1,204", note="Fell in the survey", actor="admin")
    again = synthesis_cell(store, review, *CELL)
    changed = next(s for s in again.studies if s.record_id == study.record_id)
    assert (changed.direction, changed.sample_size, changed.source) == ("negative", 1204, "synthesis")
    assert changed.size_band == "large"
    assert again.count.negative == cell.count.negative + (study.direction != "negative")
    entry = store.audit_entries(review.id, limit=1)[0]
    assert entry.action == "synthesis.direction"
    assert entry.details["record_id"] == study.record_id
    assert clear_direction(store, review, study.record_id, *CELL, actor="admin")
    back = next(s for s in synthesis_cell(store, review, *CELL).studies
                if s.record_id == study.record_id)
    assert back.source == "coding"


@pytest.mark.parametrize("kwargs, message", [
    ({"direction": "better"}, "Unknown direction"),
    ({"direction": "positive", "sample_size": "lots"}, "not a whole number"),
    ({"direction": "positive", "sample_size": -3}, "cannot be negative"),
])
def test_bad_direction_input_is_refused_by_name(demo_store, kwargs, message):
    store, review = demo_store
    rid = included_record_ids(store, review)[0]
    with pytest.raises(ReviewkitError, match=message):
        record_direction(store, review, rid, *CELL, actor="admin", **kwargs)


def test_only_included_studies_and_known_codes(demo_store):
    store, review = demo_store
    included = set(included_record_ids(store, review))
    other = next(s.id for s in store.list_records(review.id) if s.id not in included)
    with pytest.raises(ReviewkitError, match="not an included study"):
        record_direction(store, review, other, *CELL, direction="positive", actor="admin")
    with pytest.raises(ReviewkitError, match="no code"):
        record_direction(store, review, min(included), "no_such_approach", CELL[1],
                         direction="positive", actor="admin")


def test_cell_summary_with_grouping_reason_and_studies(store, demo):
    review = demo
    ids = [s.record_id for s in synthesis_cell(store, review, *CELL).studies][:2]
    with pytest.raises(ReviewkitError, match="grouping reason"):
        write_cell(store, review, *CELL, grouping="By setting", grouping_reason="",
                   summary="", record_ids=[], actor="admin")
    with pytest.raises(ReviewkitError, match="Name the studies"):
        write_cell(store, review, *CELL, grouping="", grouping_reason="",
                   summary="Some text", record_ids=[], actor="admin")
    write_cell(store, review, *CELL, grouping="Neighbourhood programmes apart from reviews",
               grouping_reason="Reviews summarise others", summary="<b>Most</b> gained.",
               record_ids=ids, actor="admin")
    cell = synthesis_cell(store, review, *CELL)
    assert cell.summary == "<b>Most</b> gained." and cell.summary_record_ids == ids
    assert cell.grouping_reason == "Reviews summarise others"


def test_researcher_outside_the_team_may_not_record(store, demo):
    review = demo
    create_user(store, "lead", role="admin", password="lead-password-1", actor="admin")
    set_accounts(store, True, actor="lead")
    create_user(store, "stranger", role="researcher", actor="lead")
    create_user(store, "teller", role="commissioner", actor="lead")
    add_member(store, review.id, "teller", role="commissioner", actor="lead")
    rid = included_record_ids(store, review)[0]
    for who in ("stranger", "teller"):
        with pytest.raises(PermissionDenied):
            record_direction(store, review, rid, *CELL, direction="positive", actor=who)


# -- exports: the charts and their text alternatives ---------------------------------------------


@pytest.fixture(scope="module")
def demo_cells(demo_store):
    store, review = demo_store
    return [c for (a, _), c in synthesis_cells(store, review, approach=CELL[0]).items()]


def test_effect_direction_plot_png_and_svg_parse(demo_cells):
    from PIL import Image

    png = effect_direction_plot(demo_cells, "png")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] > 300 and image.size[1] > 150
    svg = effect_direction_plot(demo_cells, "svg")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    with pytest.raises(ReviewkitError, match="png or svg"):
        effect_direction_plot(demo_cells, "gif")


def test_harvest_plot_png_and_svg_and_text(demo_cells):
    from PIL import Image

    assert Image.open(io.BytesIO(harvest_plot(demo_cells, "png"))).format == "PNG"
    assert ET.fromstring(harvest_plot(demo_cells, "svg")).tag.endswith("svg")
    text = harvest_text(demo_cells)
    for cell in demo_cells:
        for s in cell.studies:
            assert str(s.record_id) in text


def test_table_csv_round_trips_and_text_alternative(demo_cells):
    rows = read_direction_csv(direction_table_csv(demo_cells))
    assert len(rows) == sum(len(c.studies) for c in demo_cells)
    first = demo_cells[0]
    assert rows[0]["record_id"] == str(first.studies[0].record_id)
    text = cell_text(first, approach_label="A", outcome_label="B")
    assert text.startswith(f"A → B: {first.count.in_words()}.")
    assert len(text.splitlines()) == 2 + len(first.studies)


def test_a_deleted_record_leaves_the_synthesis_and_comes_back(store, demo):
    from reviewkit import trash

    review = demo
    study = next(s for s in synthesis_cell(store, review, *CELL).studies if not s.review)
    record_direction(store, review, study.record_id, *CELL, direction="mixed", actor="admin")
    write_cell(store, review, *CELL, grouping="", grouping_reason="", summary="Text",
               record_ids=[study.record_id], actor="admin")
    trash.delete_record(store, study.record_id, actor="admin")
    cell = synthesis_cell(store, review, *CELL)
    assert study.record_id not in {s.record_id for s in cell.studies}
    assert cell.summary_record_ids == []
    trash.restore_record(store, study.record_id, actor="admin")
    cell = synthesis_cell(store, review, *CELL)
    back = next(s for s in cell.studies if s.record_id == study.record_id)
    assert (back.direction, back.source) == ("mixed", "synthesis")
    assert cell.summary_record_ids == [study.record_id]


def test_command_line_writes_the_table_and_plots(tmp_path):
    from tests.test_cli import run_cli

    url = copy_demo_database(tmp_path / "demo.sqlite")
    done = run_cli("--database", url, "synthesis", "--review",
                   "Developing resilient communities (demo)", "--approach", CELL[0],
                   "--output", "d.csv", "--plot", "edp.svg", "--harvest", "h.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Empowerment and control over decisions: 2 of 6 studies found improvement" in done.stdout
    assert "We are not very sure (low certainty)" in done.stdout
    rows = read_direction_csv((tmp_path / "d.csv").read_bytes())
    assert rows and {r["approach"] for r in rows} == {"Community governance and co-production"}
    assert ET.fromstring((tmp_path / "edp.svg").read_bytes()).tag.endswith("svg")
    assert (tmp_path / "h.png").read_bytes().startswith(b"\x89PNG")
    refused = run_cli("--database", url, "synthesis", "--review",
                      "Developing resilient communities (demo)", "--approach", "nope",
                      "--output", "x.csv", cwd=tmp_path)
    assert refused.returncode == 1 and "no code 'nope'" in refused.stderr


def test_the_database_keeps_one_standing_direction_per_study_and_cell(store, demo):
    """Two saves at the same instant cannot both leave a direction standing."""
    from datetime import UTC, datetime

    from sqlalchemy.exc import IntegrityError

    from reviewkit.store.schema import effect_directions

    review = demo
    rid = included_record_ids(store, review)[0]
    record_direction(store, review, rid, *CELL, direction="positive", actor="admin")
    row = {"review_id": review.id, "record_id": rid, "approach": CELL[0], "outcome": CELL[1],
           "direction": "negative", "recorded_by": store.ensure_user("admin").id,
           "recorded_at": datetime.now(UTC)}
    with pytest.raises(IntegrityError), store.write() as conn:
        conn.execute(effect_directions.insert().values(**row))
    with store.write() as conn:  # a superseded row beside it is fine
        conn.execute(effect_directions.insert().values(**row, superseded_at=datetime.now(UTC)))
