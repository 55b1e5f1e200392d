"""The Synthesis and certainty page, and certainty carried to the map, the brief and the site.

The map, the brief, the Evidence by approach page and the public site must say the same thing
about a cell: they all call reviewkit.certainty.outcome_verdicts, and these tests read each
output and compare it with that function's numbers.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from streamlit.testing.v1 import AppTest

from reviewkit.briefs import build_brief, render_brief
from reviewkit.certainty import certainty_ratings, certainty_words, outcome_verdicts
from reviewkit.codebook import review_codebook
from reviewkit.evidence_map import (
    build_evidence_map,
    certainty_and_quality,
    coded_studies_for_review,
    map_table_csv,
)
from reviewkit.store import Store
from tests.templates import copy_demo_database

APPROACH = "community_governance"
RATED = (APPROACH, "empowerment_control")  # rated low and verified in the demo
UNVERIFIED = (APPROACH, "mental_health")  # rated very low, not yet verified


@pytest.fixture
def demo_url(tmp_path, monkeypatch):
    import streamlit as st

    url = copy_demo_database(tmp_path / "ui.sqlite")
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", url)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield url
    st.cache_resource.clear()


def _page(module_name: str, **params) -> AppTest:
    source = ("from reviewkit.ui import common\n"
              f"from reviewkit.ui import {module_name} as page\n"
              "common.sidebar()\npage.render()\n")
    at = AppTest.from_string(source, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    return at


def _texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [t.value for t in at.text]
                     + [c.value for c in at.caption])


def test_page_shows_count_summary_charts_and_certainty(demo_url):
    at = _page("synthesis_page", approach=RATED[0], outcome=RATED[1]).run()
    assert not at.exception, at.exception
    store = Store(demo_url)
    review = store.get_review("Developing resilient communities (demo)")
    verdict = outcome_verdicts(store, review, approach=APPROACH)[RATED]
    shown = _texts(at)
    assert verdict.count.in_words() in shown
    assert verdict.statement() in shown.replace("\\", "")
    # the team's summary is shown as text, and every chart has a download and a text version
    assert any("Only one study compared places" in t.value for t in at.text)
    labels = [b.label for b in at.get("download_button")]
    assert {"Effect direction plot (PNG)", "Effect direction plot (SVG)",
            "Harvest plot (PNG)", "Harvest plot (SVG)", "Table of every cell (CSV)"} <= set(labels)
    store.close()


def test_rating_a_cell_on_the_page_and_verifying_another(demo_url):
    at = _page("synthesis_page", approach=UNVERIFIED[0], outcome=UNVERIFIED[1]).run()
    at.button(key="synth_verify").click().run()
    assert not at.exception, at.exception
    store = Store(demo_url)
    review = store.get_review("Developing resilient communities (demo)")
    assert certainty_ratings(store, review.id)[UNVERIFIED].verified_by == "admin"
    # rate it afresh: one serious concern without a reason is refused, with one it is saved
    save = "FormSubmitter:synth_rate_grade-Save the rating"
    at.selectbox(key="synth_grade_imprecision").select("serious")
    at.selectbox(key="synth_grade_level").select("moderate")
    at.button(key=save).click().run()
    assert any("Imprecision: say why" in e.value.replace("\\", "") for e in at.error)
    at.selectbox(key="synth_grade_imprecision").select("serious")
    at.selectbox(key="synth_grade_level").select("moderate")
    at.text_input(key="synth_grade_imprecision_why").input("Few people took part")
    at.button(key=save).click().run()
    assert not at.error, [e.value for e in at.error]
    rating = certainty_ratings(store, review.id)[UNVERIFIED]
    assert (rating.level, rating.rated_by, rating.verified) == ("moderate", "admin", False)
    store.close()


def test_a_reader_without_the_right_to_code_sees_no_forms(demo_url):
    from reviewkit.accounts import add_member, create_user, set_accounts

    store = Store(demo_url)
    review = store.get_review("Developing resilient communities (demo)")
    create_user(store, "boss", role="admin", password="boss-password-1", actor="admin")
    set_accounts(store, True, actor="boss")
    create_user(store, "cara", role="commissioner", password="cara-password-1", actor="boss")
    add_member(store, review.id, "cara", role="commissioner", actor="boss")
    store.close()
    at = _page("synthesis_page", approach=RATED[0], outcome=RATED[1])
    at.session_state["auth_user"] = "cara"
    at.session_state["review_name"] = review.name
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Synthesis and certainty"
    assert not [b for b in at.button if "Save" in b.label or "Verify" in b.label]


# -- the same numbers in every output --------------------------------------------------------


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    url = copy_demo_database(tmp_path_factory.mktemp("agree") / "demo.sqlite")
    store = Store(url)
    review = store.get_review("Developing resilient communities (demo)")
    verdicts = outcome_verdicts(store, review, approach=APPROACH)
    brief = build_brief(store, review, approach=APPROACH)
    markdown = render_brief(brief, "md").decode("utf-8")
    all_verdicts, quality = certainty_and_quality(store, review)
    evidence_map = build_evidence_map(coded_studies_for_review(store, review.id),
                                      review_codebook(store, review.id),
                                      verdicts=all_verdicts, quality=quality)
    table = list(csv.DictReader(io.StringIO(map_table_csv(evidence_map).decode("utf-8"))))
    yield store, review, verdicts, brief, markdown, evidence_map, table
    store.close()


def test_brief_map_and_verdicts_agree(outputs):
    store, review, verdicts, brief, markdown, evidence_map, table = outputs
    codebook = review_codebook(store, review.id)
    blocks = {b.outcome: b for b in brief.findings}
    rows = {(r["approach"], r["outcome"]): r for r in table}
    for (approach, outcome), verdict in verdicts.items():
        if not verdict.n_studies:
            continue
        block = blocks[codebook.label("outcome", outcome)]
        assert block.certainty == verdict.statement()
        assert verdict.count.in_words() in block.certainty
        assert evidence_map.statements[(approach, outcome)] == verdict.statement()
        assert rows[(approach, outcome)]["certainty"] == (verdict.level or "not rated")
        assert rows[(approach, outcome)]["certainty_statement"] == verdict.statement()
    rated = verdicts[RATED]
    assert rated.level == "low" and certainty_words("low") in blocks[
        codebook.label("outcome", RATED[1])].certainty
    assert "How sure we are:" in markdown


def test_outcomes_without_a_rating_say_not_yet_rated(outputs):
    store, review, verdicts, brief, *_ = outputs
    codebook = review_codebook(store, review.id)
    rated = {codebook.label("outcome", o) for (_, o), v in verdicts.items() if v.rating}
    unrated = [b for b in brief.findings if b.outcome not in rated]
    assert unrated, "the demo leaves some outcomes of community governance unrated"
    assert all(b.certainty.endswith("Certainty not yet rated.") for b in unrated)
    # the demo appraises a handful of its studies (reviewkit.demo): the brief says how many
    said = [re.search(r"quality (not appraised|appraised for (\d+) of (\d+))", b.verdict)
            for b in brief.findings]
    assert all(said) and any(m.group(2) for m in said)


def test_approach_page_states_the_same_certainty(outputs, demo_url):
    _store, _review, verdicts, *_ = outputs
    at = _page("approach_page", approach=APPROACH).run()
    assert not at.exception, at.exception
    shown = _texts(at).replace("\\", "")
    for verdict in verdicts.values():
        if verdict.n_studies:
            assert verdict.statement() in shown


def test_map_colours_and_filters_by_certainty(outputs):
    from reviewkit.evidence_map import map_figure

    store, review, verdicts, _brief, _md, evidence_map, _table = outputs
    figure = map_figure(evidence_map, "certainty")
    names = {trace.name for trace in figure.data}
    assert {"Low certainty", "Very low certainty", "Moderate certainty",
            "Certainty not yet rated"} <= names
    all_verdicts, quality = certainty_and_quality(store, review)
    low_only = build_evidence_map(coded_studies_for_review(store, review.id),
                                  review_codebook(store, review.id), verdicts=all_verdicts,
                                  quality=quality, certainty_levels=["low"])
    assert set(low_only.cells) == {k for k, v in all_verdicts.items()
                                   if v.level == "low" and k in evidence_map.cells}
    unappraised = build_evidence_map(coded_studies_for_review(store, review.id),
                                     review_codebook(store, review.id), quality=quality,
                                     qualities=[""])
    assert len(unappraised.studies) == len(evidence_map.studies) - len(
        [s for s in evidence_map.studies if s.record_id in quality])


def test_an_appraised_study_carries_its_quality_everywhere(store, demo):
    from reviewkit import appraisal

    review = demo
    verdict = outcome_verdicts(store, review, approach=APPROACH)[RATED]
    # the demo appraises some studies already: take one it left, and count those it did
    appraised = set(appraisal.study_quality(store, review.id)) & set(verdict.record_ids)
    study = next(rid for rid in verdict.record_ids if rid not in appraised)
    answers = {"S1": "yes", "S2": "yes", "3.1": "yes", "3.2": "yes", "3.3": "yes",
               "3.4": "yes", "3.5": "no"}
    appraisal.appraise(store, review, study, actor="demo-reviewer-1", design="non_randomised",
                       answers=answers)
    verdict = outcome_verdicts(store, review, approach=APPROACH)[RATED]
    assert verdict.quality == (f"quality appraised for {len(appraised) + 1} of "
                               f"{verdict.n_studies} studies")
    from reviewkit.synthesis import synthesis_cell

    found = next(s for s in synthesis_cell(store, review, *RATED).studies if s.record_id == study)
    assert (found.quality.label, found.quality.shade) == ("met 4 of 5 MMAT criteria", 0)
    brief = build_brief(store, review, approach=APPROACH)
    block = next(b for b in brief.findings
                 if b.outcome == review_codebook(store, review.id).label("outcome", RATED[1]))
    assert verdict.quality in block.verdict


def test_the_briefs_verdict_counts_the_directions_the_synthesis_counts(outputs):
    """The demo records the NRP evaluation as an improvement in control (coded 'mixed'):
    the brief's strength line and its certainty line count the same directions."""
    from reviewkit.briefs.strength import evidence_strength

    store, review, verdicts, brief, *_ = outputs
    from reviewkit.briefs import approach_evidence

    evidence = approach_evidence(store, review, APPROACH)
    for (_, outcome), verdict in verdicts.items():
        found = evidence.by_outcome.get(outcome, [])
        if not verdict.n_studies or not found:
            continue
        strength = evidence_strength(found, outcome)
        assert strength.directions["positive"] == verdict.count.positive
        assert strength.directions["negative"] == verdict.count.negative
        assert strength.directions["none"] == verdict.count.no_clear
        assert strength.directions["mixed"] == verdict.count.mixed


def test_map_table_counts_the_directions_the_verdicts_count(outputs):
    """Per cell, the map CSV's direction counts less the reviews' are the verdict's count."""
    from collections import Counter

    store, review, verdicts, _brief, _md, evidence_map, table = outputs
    rows = {(r["approach"], r["outcome"]): r for r in table}
    for key, verdict in verdicts.items():
        if not verdict.n_studies or key not in evidence_map.cells:
            continue
        listed = dict(part.split(": ") for part in rows[key]["directions"].split("; "))
        reviews = Counter(s.direction_in(*key) for s in evidence_map.cells[key]
                          if s.design == "review")
        counted = {d: int(listed.get(d, 0)) - reviews[d] for d in ("positive", "negative",
                                                                 "none", "mixed")}
        assert counted == {"positive": verdict.count.positive,
                           "negative": verdict.count.negative,
                           "none": verdict.count.no_clear, "mixed": verdict.count.mixed}, key
