"""Decisions taken away: filters, changing a past call, CSV/XLSX/RIS export and read-back."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from reviewkit.coding import confirm_code
from reviewkit.decisions import (
    DecisionFilter,
    change_decision,
    export_decisions,
    read_decision_notes,
    review_decisions,
)
from reviewkit.errors import ReviewkitError
from reviewkit.formats import read_ris
from reviewkit.importing import import_file
from reviewkit.records import Record
from reviewkit.review_settings import change_settings, exclusion_reasons
from reviewkit.store.schema import decisions as decision_table

TA, FT = "title_abstract", "full_text"
FORMATS = Path("/work/shared/data/formats")


@pytest.fixture
def screened(store):
    """Six records: two included at full text by ana and ben, one excluded there, two
    excluded at title and abstract, one in conflict; the first coded 'social_prescribing'."""
    review = store.create_review("Screened", settings={"reviewers_required": 2, "blind": False})
    titles = ['=HYPERLINK("http://x","click")', "Link workers and loneliness", "Green space",
              "Crop yields", "Power grid resilience", "Befriending schemes"]
    store.add_import(review.id, [Record(title=t, year=2020, authors=["Smith, A."])
                                 for t in titles], filename="a.ris", format="ris",
                     sha256="a" * 64, size_bytes=1)
    r = store.kept_record_ids(review.id)
    for who in ("ana", "ben"):
        for i in (0, 1, 2):
            store.add_decision(r[i], stage=TA, decision="include", reviewer=who)
        store.add_decision(r[3], stage=TA, decision="exclude", reviewer=who,
                           reason="Wrong population")
        store.add_decision(r[4], stage=TA, decision="exclude", reviewer=who,
                           reason="Wrong setting", note="infrastructure only")
        for i in (0, 1):
            store.add_decision(r[i], stage=FT, decision="include", reviewer=who)
        store.add_decision(r[2], stage=FT, decision="exclude", reviewer=who,
                           reason="Wrong outcome")
    store.add_decision(r[5], stage=TA, decision="include", reviewer="ana")
    store.add_decision(r[5], stage=TA, decision="exclude", reviewer="ben", reason="Duplicate")
    confirm_code(store, review.id, r[1], "approach", "social_prescribing", actor="ana")
    return review, r


def _ids(store, review, **where):
    return [i.record_id for i in review_decisions(store, review, "lead",
                                                  DecisionFilter(**where))]


def test_filters_by_stage_decision_reason_reviewer_and_label(store, screened):
    review, r = screened
    assert _ids(store, review) == r
    assert _ids(store, review, stage=FT) == r[:3]
    assert _ids(store, review, decision="include") == r[:2]
    assert _ids(store, review, stage=TA, decision="exclude") == r[3:5]
    assert _ids(store, review, decision="conflict") == [r[5]]
    assert _ids(store, review, reason="wrong outcome") == [r[2]]
    assert _ids(store, review, reviewer="ben", stage=TA) == r
    assert _ids(store, review, label="social_prescribing") == [r[1]]
    assert _ids(store, review, search="befriending") == [r[5]]
    item = review_decisions(store, review, "lead", DecisionFilter(reason="setting"))[0]
    assert item.notes() == ("ana (title and abstract): infrastructure only; "
                            "ben (title and abstract): infrastructure only")


def test_a_blinded_reviewer_sees_only_their_own_votes(store, screened):
    review, r = screened
    review = change_settings(store, review, {"blind": "on"}, actor="admin")
    mine = review_decisions(store, review, "ana")
    assert {d.reviewer for i in mine for d in i.decisions} == {"ana"}
    # ana's own vote alone cannot settle a record needing two reviewers
    assert mine[0].outcome() == "waiting"


def test_changing_a_past_decision_keeps_the_history(store, screened):
    review, r = screened
    change_decision(store, r[3], stage=TA, decision="include", actor="ana")
    change_decision(store, r[3], stage=TA, decision="include", actor="ben")
    assert r[3] in _ids(store, review, stage=TA, decision="include")
    with store.read() as conn:
        history = conn.execute(decision_table.select().where(
            decision_table.c.record_id == r[3])).all()
    assert len(history) == 4 and sum(row.superseded_at is None for row in history) == 2
    change_decision(store, r[5], stage=TA, decision="exclude", actor="lead", settle=True,
                    reason="Duplicate")
    assert r[5] in _ids(store, review, decision="exclude")
    with pytest.raises(ReviewkitError, match="needs a reason"):
        change_decision(store, r[0], stage=FT, decision="exclude", actor="ana")


def test_csv_and_xlsx_carry_decisions_with_formulas_defused(store, screened):
    from openpyxl import load_workbook

    review, r = screened
    items = review_decisions(store, review, "lead")
    rows = list(csv.DictReader(io.StringIO(export_decisions(items, "csv").decode("utf-8-sig"))))
    assert [int(x["record_id"]) for x in rows] == r
    assert rows[0]["title"] == "'=HYPERLINK(\"http://x\",\"click\")"
    assert (rows[2]["stage"], rows[2]["decision"], rows[2]["reason"]) == \
        ("full_text", "exclude", "Wrong outcome")
    assert rows[2]["title_abstract_decision"] == "include"
    assert rows[5]["title_abstract_votes"] == "ana=include; ben=exclude"
    assert rows[1]["labels"] == "social_prescribing"
    sheet = load_workbook(io.BytesIO(export_decisions(items, "xlsx"))).active
    assert sheet.cell(2, 2).value == '=HYPERLINK("http://x","click")'
    assert sheet.cell(2, 2).data_type == "s" and sheet.cell(2, 2).quotePrefix
    header = [c.value for c in sheet[1]]
    assert sheet.cell(4, header.index("reason") + 1).value == "Wrong outcome"


def test_ris_with_decisions_reimports_into_another_review(store, screened):
    review, r = screened
    items = review_decisions(store, review, "lead")
    data = export_decisions(items, "ris")
    text = data.decode("utf-8")
    assert "N1  - ASReview_relevant" in text and "N1  - ASReview_irrelevant" in text
    assert 'RAYYAN-INCLUSION: {"ana"=>"Excluded", "ben"=>"Excluded"}' in text
    assert "RAYYAN-EXCLUSION-REASONS: Wrong outcome" in text

    other = store.create_review("Second", settings={"exclusion_reasons": ["Off topic"]})
    batch = import_file(store, other, data, "screened.ris", actor="maria")
    assert batch.record_count == 6 and batch.decisions_imported == 9
    again = review_decisions(store, other, "maria")
    assert [(i.stage, i.outcome(), i.reason()) for i in again] == [
        (FT, "include", ""), (FT, "include", ""), (FT, "exclude", "Wrong outcome"),
        (TA, "exclude", "Wrong population"), (TA, "exclude", "Wrong setting"),
        (TA, "maybe", "")]
    assert exclusion_reasons(store.get_review("Second")) == ["Off topic", "Wrong outcome"]
    assert "ana include, ben exclude" in again[5].decisions[0].note
    # the decision notes are taken off the records, so a second export does not repeat them
    assert all("RAYYAN" not in i.stored.record.notes for i in again)
    # without decisions the same file comes in as plain records
    third = store.create_review("Third")
    plain = import_file(store, third, data, "screened.ris", actor="maria", decisions=False)
    assert plain.decisions_imported == 0
    assert store.current_decisions(third.id, stage=TA) == []


RAYYAN_AND_ASREVIEW = """TY  - JOUR
TI  - Social prescribing for loneliness
AU  - Smith, A.
N1  - RAYYAN-INCLUSION: {"Kofi"=>"Excluded", "Ana"=>"Excluded"} | RAYYAN-LABELS: pilot | RAYYAN-EXCLUSION-REASONS: wrong population,foreign language
ER  -

TY  - JOUR
TI  - Community connectors
N1  - Export Date: 17 January 2022
N1  - ASReview_relevant
ER  -

TY  - JOUR
TI  - Never screened
N1  - ASReview_not_seen
ER  -
"""


def test_rayyan_and_asreview_notes_are_read_as_decisions():
    first, second, third = read_ris(RAYYAN_AND_ASREVIEW)
    rayyan = read_decision_notes(first)
    assert [(c.stage, c.decision, c.reason, c.reviewer) for c in rayyan] == [
        (TA, "exclude", "wrong population", "Kofi"), (TA, "exclude", "wrong population", "Ana")]
    assert first.notes == ""
    asreview = read_decision_notes(second)
    assert [(c.stage, c.decision) for c in asreview] == [(TA, "include")]
    assert second.notes == "Export Date: 17 January 2022" and "N1" not in second.extra
    assert read_decision_notes(third) == []


def test_a_real_export_keeps_its_decisions_through_ris(store):
    path = FORMATS / "scopus_ris_revtools_1.ris"
    if not path.exists():
        pytest.skip(f"{path} is absent: the real exports live in ../shared/data/formats/")
    review = store.create_review("Real")
    import_file(store, review, path.read_bytes(), path.name, actor="ana")
    ids = store.kept_record_ids(review.id)
    for n, rid in enumerate(ids):
        store.add_decision(rid, stage=TA, decision="include" if n % 3 else "exclude",
                           reviewer="ana", note=f"note {n}")
    store.add_decision(ids[1], stage=FT, decision="exclude", reviewer="ana",
                       reason="Wrong study design")
    data = export_decisions(review_decisions(store, review, "ana"), "ris")
    other = store.create_review("Real again")
    import_file(store, other, data, "again.ris", actor="ana")
    before = [(i.stored.record.title, i.stage, i.outcome(), i.reason())
              for i in review_decisions(store, review, "ana")]
    after = [(i.stored.record.title, i.stage, i.outcome(), i.reason())
             for i in review_decisions(store, other, "ana")]
    assert len(after) == len(ids) > 1 and after == before


def test_records_page_filters_and_downloads_the_included_studies(tmp_path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tests.templates import copy_demo_database

    # the demo review the app would build on first start, copied from the session's template
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", copy_demo_database(tmp_path / "ui.sqlite"))
    st.cache_resource.clear()
    source = ("from reviewkit.ui import common, records_page\n"
              "common.sidebar()\nrecords_page.render()\n")
    at = AppTest.from_string(source, default_timeout=120).run()
    assert not at.exception, at.exception
    at.selectbox(key="records_stage").set_value("full_text").run()
    at.selectbox(key="records_decision").set_value("include").run()
    assert not at.exception, at.exception
    count = int(next(c.value for c in at.caption if "records match" in c.value).split()[0])
    table = at.dataframe[0].value
    assert 0 < count == len(table) and set(table["Decision"]) == {"Included"}
    at.radio(key="records_format").set_value("CSV with decisions").run()
    next(b for b in at.button if b.label == "Prepare download").click().run()
    assert not at.exception, at.exception
    data = at.session_state["export"][1]
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == count and {r["decision"] for r in rows} == {"include"}
    st.cache_resource.clear()


def test_the_screen_pages_single_read_matches_the_separate_ones(store, screened):
    from reviewkit.screening.queue import (
        labels_from,
        progress,
        screening_state,
        stage_records,
        to_screen,
    )

    review, r = screened
    store.add_decision(r[0], stage=TA, decision="maybe", reviewer="cat")
    for stage in (TA, FT):
        for who in ("ana", "ben", "cat", "dan"):
            state = screening_state(store, review, stage, who)
            assert state.ids == stage_records(store, review, stage)
            assert state.labels == labels_from(store, review)
            assert list(state.labels) == list(labels_from(store, review))  # decision order
            assert state.progress == progress(store, review, stage, who)
            assert state.pending == to_screen(store, review, stage, who)
            assert state.kept_count == len(r)
