"""Quality appraisal: MMAT paths worked by hand, verification and consensus, chart and exports."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from openpyxl import load_workbook

from reviewkit import appraisal, extraction
from reviewkit.accounts import PermissionDenied
from reviewkit.appraisal import MMAT, SR_CHECKLIST, judge
from reviewkit.errors import ReviewkitError

FIRST, SECOND = "maria", "tom"
YES_SCREEN = {"S1": "yes", "S2": "yes"}


def test_mmat_asks_two_screening_questions_then_five_per_design():
    assert [c.key for c in MMAT.screening] == ["S1", "S2"]
    assert [d.key for d in MMAT.designs] == ["qualitative", "randomised", "non_randomised",
                                             "descriptive", "mixed_methods"]
    for number, design in enumerate(MMAT.designs, start=1):
        assert [c.key for c in design.criteria] == [f"{number}.{i}" for i in range(1, 6)]
        assert all(c.text.endswith("?") and c.help for c in design.criteria)
    assert len(SR_CHECKLIST.design("review").criteria) == 13


# Worked by hand: each row's answers, what they add up to and the words a reader sees.
@pytest.mark.parametrize("design, answers, met, label", [
    ("qualitative", {"1.1": "yes", "1.2": "yes", "1.3": "yes", "1.4": "cant_tell", "1.5": "no"},
     3, "met 3 of 5 MMAT criteria"),
    ("randomised", {"2.1": "yes", "2.2": "yes", "2.3": "yes", "2.4": "yes", "2.5": "yes"},
     5, "met 5 of 5 MMAT criteria"),
    ("non_randomised", {"3.1": "cant_tell", "3.2": "yes", "3.3": "no", "3.4": "yes"},
     2, "met 2 of 5 MMAT criteria"),
    ("descriptive", {"4.1": "no", "4.2": "no", "4.3": "no", "4.4": "no", "4.5": "no"},
     0, "met 0 of 5 MMAT criteria"),
    # another design's answers never count: only 5.1 and 5.5 belong to mixed methods
    ("mixed_methods", {"5.1": "yes", "5.5": "yes", "1.1": "yes", "3.4": "yes"},
     2, "met 2 of 5 MMAT criteria"),
])
def test_each_design_counts_only_its_own_criteria(design, answers, met, label):
    result = judge(MMAT, design, {**YES_SCREEN, **answers})
    assert (result.met, result.total, result.label, result.screening_passed) == (
        met, 5, label, True)


@pytest.mark.parametrize("screen, said", [
    ({"S1": "no", "S2": "yes"}, "did not pass MMAT screening (S1 no)"),
    ({"S1": "yes", "S2": "cant_tell"}, "did not pass MMAT screening (S2 can't tell)"),
    ({"S1": "yes"}, "did not pass MMAT screening (S2 not answered)"),
])
def test_a_screening_no_or_cant_tell_stops_the_appraisal(screen, said):
    result = judge(MMAT, "qualitative", {**screen, "1.1": "yes", "1.2": "yes"})
    assert result.screening_passed is False and result.label == said
    assert result.met == 2  # what was answered is still there to read


def test_answers_the_tool_does_not_ask_are_refused_by_name():
    with pytest.raises(ReviewkitError, match="asks no question '2.1' of a qualitative study"):
        appraisal.check_answers(MMAT, "qualitative", {"2.1": "yes"})
    with pytest.raises(ReviewkitError, match="must be yes, no or cant_tell, not 'maybe'"):
        appraisal.check_answers(MMAT, "qualitative", {"1.1": "maybe"})


def test_one_appraises_and_a_second_verifies(untouched):
    store, review, ids = untouched
    answers = {**YES_SCREEN, "3.1": "yes", "3.2": "yes", "3.3": "cant_tell", "3.4": "yes",
               "3.5": "no"}
    result = appraisal.appraise(store, review, ids[0], actor=FIRST, design="non_randomised",
                                answers=answers, notes={"3.5": "fidelity not reported"})
    assert result.label == "met 3 of 5 MMAT criteria"
    quality = appraisal.study_quality(store, review.id)[ids[0]]
    assert (quality.met, quality.total, quality.verified) == (3, 5, False)
    assert quality.notes == {"3.5": "fidelity not reported"}
    with pytest.raises(ReviewkitError, match="maria appraised this study: a second person"):
        appraisal.verify_appraisal(store, review, ids[0], actor=FIRST)
    assert appraisal.verify_appraisal(store, review, ids[0], actor=SECOND) == FIRST
    quality = appraisal.study_quality(store, review.id)[ids[0]]
    assert quality.verified and quality.verified_by == SECOND
    assert quality.design_label == "Quantitative non-randomised"
    lines = [e for e in store.audit_entries(review.id) if e.action.startswith("appraisal.")
             and e.entity_id == str(ids[0])]
    assert [(e.action, e.actor) for e in lines] == [("appraisal.verify", SECOND),
                                                     ("appraisal.appraisal", FIRST)]
    assert lines[1].details["answers"] == answers
    assert lines[1].details["summary"] == "met 3 of 5 MMAT criteria"


def test_two_appraise_and_agree(untouched):
    store, review, ids = untouched
    study = ids[1]
    base = {**YES_SCREEN, "1.1": "yes", "1.2": "yes", "1.3": "yes", "1.4": "yes", "1.5": "yes"}
    appraisal.appraise(store, review, study, actor=FIRST, design="qualitative", answers=base)
    appraisal.appraise(store, review, study, actor=SECOND, design="qualitative",
                       answers={**base, "1.4": "cant_tell"})
    found = appraisal.differences(store, review.id, study)
    assert found == [appraisal.AppraisalDifference("1.4", {FIRST: "yes", SECOND: "cant_tell"})]
    appraisal.agree_appraisal(store, review, study, actor=FIRST, design="qualitative",
                              answers={**base, "1.4": "cant_tell"}, overall="Sound, thin quotes")
    quality = appraisal.study_quality(store, review.id)[study]
    assert (quality.met, quality.verified, quality.overall) == (4, True, "Sound, thin quotes")
    assert quality.appraisers == (FIRST, SECOND)


def test_study_quality_prefers_the_study_level_mmat_appraisal(untouched):
    store, review, ids = untouched
    study = ids[2]
    appraisal.appraise(store, review, study, actor=FIRST, design="descriptive", outcome="anxiety",
                       answers={**YES_SCREEN, "4.1": "yes"})
    appraisal.appraise(store, review, study, actor=FIRST, design="descriptive",
                       outcome="influence", answers={**YES_SCREEN, "4.1": "yes", "4.2": "yes"})
    # only per outcome: the cautious reading, the one meeting fewest criteria
    assert appraisal.study_quality(store, review.id)[study].outcome == "anxiety"
    appraisal.appraise(store, review, study, actor=FIRST, design="descriptive",
                       answers={**YES_SCREEN, "4.1": "yes", "4.2": "yes", "4.3": "yes"})
    chosen = appraisal.study_quality(store, review.id)[study]
    assert (chosen.outcome, chosen.met, chosen.label) == ("", 3, "met 3 of 5 MMAT criteria")


def test_the_lead_writes_a_custom_tool_and_a_commissioner_may_not_appraise(untouched):
    store, review, ids = untouched
    tool = appraisal.simple_tool("local_fit", "Fit to Cheshire and Merseyside",
                                 ["Is the setting like ours?", "Were residents involved?", ""])
    with pytest.raises(PermissionDenied, match="maria \\(researcher\\) may not change"):
        appraisal.save_custom_tool(store, review, tool, actor=FIRST)
    saved = appraisal.save_custom_tool(store, review, tool, actor="admin")
    assert [c.key for c in saved.design("any").criteria] == ["Q1", "Q2"]
    assert set(appraisal.review_tools(store, review.id)) == {"mmat", "sr_checklist", "local_fit"}
    result = appraisal.appraise(store, review, ids[0], actor=FIRST, tool="local_fit",
                                design="any", answers={"Q1": "yes", "Q2": "no"})
    assert result.label == "met 1 of 2 Fit to Cheshire and Merseyside criteria"
    store.ensure_user("cara", role="commissioner")
    with pytest.raises(PermissionDenied, match="cara \\(commissioner\\) may not extract data"):
        appraisal.appraise(store, review, ids[0], actor="cara", design="qualitative",
                           answers=YES_SCREEN)
    with pytest.raises(ReviewkitError, match="is a built-in tool"):
        appraisal.save_custom_tool(store, review, appraisal.simple_tool("mmat", "Mine", ["Q?"]),
                                   actor="admin")


def _two_appraised(store, review, ids):
    appraisal.appraise(store, review, ids[0], actor=FIRST, design="mixed_methods", answers={
        **YES_SCREEN, "5.1": "yes", "5.2": "yes", "5.3": "cant_tell", "5.4": "no", "5.5": "yes"})
    appraisal.verify_appraisal(store, review, ids[0], actor=SECOND)
    appraisal.appraise(store, review, ids[1], actor=FIRST, design="qualitative",
                       answers={"S1": "yes", "S2": "no"}, overall="=cmd|' /C calc'!A0")


def test_the_traffic_light_chart_as_png_and_svg(untouched):
    store, review, ids = untouched
    _two_appraised(store, review, ids)
    png = appraisal.traffic_light(store, review, fmt="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    svg = appraisal.traffic_light(store, review, fmt="svg")
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    # the chart says the answers in symbols as well as colours, and which rows await a check
    words = svg.decode()
    for symbol in ("+", "−", "?"):
        assert f"<!-- {symbol} -->" in words
    assert "<!-- 3/5 -->" in words and "<!-- 0/5 * -->" in words
    with pytest.raises(ReviewkitError, match="png or an svg"):
        appraisal.traffic_light(store, review, fmt="gif")


def test_summary_exports_read_back(untouched):
    store, review, ids = untouched
    _two_appraised(store, review, ids)
    header, body = appraisal.summary_table(store, review)
    ours = {ids[0], ids[1]}
    assert len([row for row in body if row[0] not in ours]) == 3  # the demo's MMAT appraisals
    body = [row for row in body if row[0] in ours]
    assert header[:8] == ["record_id", "study", "year", "tool", "design", "criteria_met",
                          "criteria_total", "summary"]
    assert [row[7] for row in body] == ["met 3 of 5 MMAT criteria",
                                        "did not pass MMAT screening (S2 no)"]
    rows = list(csv.reader(io.StringIO(appraisal.export_csv(store, review).decode("utf-8-sig"))))
    assert rows[0] == header
    rows = [r for r in rows[1:] if int(r[0]) in ours]
    assert [r[:8] for r in rows] == [[str(c) for c in row[:8]] for row in body]
    assert rows[1][header.index("overall")] == "'=cmd|' /C calc'!A0"
    sheet = load_workbook(io.BytesIO(appraisal.export_xlsx(store, review)))["Appraisal"]
    back = [[("" if c is None else c) for c in row] for row in sheet.iter_rows(values_only=True)]
    assert back[0] == header and [row for row in back[1:] if row[0] in ours] == body


def test_the_demo_review_carries_appraisals_and_extractions_from_the_sources(demo_on_sqlite):
    store, review, _ids = demo_on_sqlite
    quality = appraisal.study_quality(store, review.id)
    by_title = {store.get_record(rid).record.title[:40]: q for rid, q in quality.items()}
    nrp = next(q for title, q in by_title.items() if title.startswith("Neighbourhood Resilience"))
    assert (nrp.label, nrp.design, nrp.verified) == ("met 4 of 5 MMAT criteria", "mixed_methods",
                                                     True)
    assert sorted(q.tool for q in quality.values()) == ["mmat", "mmat", "mmat", "sr_checklist"]
    assert sum(not q.verified for q in quality.values()) == 1  # one waits for a second person
    studies = extraction.study_extractions(store, review)
    result = studies[nrp.record_id].final[("result", "empowerment_control")]
    assert "+7.5 points" in result and "1.6 to 13.5" in result
    assert extraction.progress(studies)["verified"] == 3


def test_the_audit_page_says_each_appraisal_in_words(untouched):
    from reviewkit.audit import describe

    store, review, ids = untouched
    _two_appraised(store, review, ids)
    said = [describe(e) for e in store.audit_entries(review.id)
            if e.action.startswith("appraisal.") and e.entity_id in {str(i) for i in ids[:2]}]
    assert said == [
        f"maria appraised record {ids[1]} with mmat: did not pass MMAT screening (S2 no)",
        f"tom verified maria's mmat appraisal of record {ids[0]}",
        f"maria appraised record {ids[0]} with mmat: met 3 of 5 MMAT criteria"]
