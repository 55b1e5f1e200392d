"""The Extract and Appraise pages under AppTest on the demo review."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from reviewkit import appraisal, extraction
from reviewkit.demo import load_demo_definition
from reviewkit.screening.status import included_record_ids
from reviewkit.store import Store
from tests.templates import copy_demo_database

EXTRACTOR, VERIFIER = "ana-extracts", "ben-verifies"


def _page(module: str) -> str:
    return ("from reviewkit.ui import common\n"
            f"from reviewkit.ui import {module} as page\n"
            "common.sidebar()\n"
            "page.render()\n")


@pytest.fixture
def database(tmp_path, monkeypatch):
    import streamlit as st

    url = copy_demo_database(tmp_path / "ui.sqlite")
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", url)
    monkeypatch.delenv("REVIEWKIT_NO_DEMO", raising=False)
    st.cache_resource.clear()
    store = Store(url)
    yield store, store.find_review(load_demo_definition()["name"])
    store.close()
    st.cache_resource.clear()


def _as(monkeypatch, who: str, module: str) -> AppTest:
    monkeypatch.setenv("REVIEWKIT_USER", who)
    at = AppTest.from_string(_page(module), default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def test_extract_a_study_then_a_second_person_verifies_it(database, monkeypatch):
    store, review = database
    at = _as(monkeypatch, EXTRACTOR, "extract_page")
    assert at.title[0].value == "Extract"
    study = at.session_state["extract_pick"]
    at.text_area(key=f"ex_{study}_setting").input("Nine neighbourhoods, **North West**")
    at.text_input(key=f"ex_{study}_sample_size").input("3000")
    at.button[0].click().run()  # the form's save button comes first
    assert not at.exception, at.exception
    saved = extraction.study_extraction(store, review, study)
    assert saved.values[("setting", "")] == {EXTRACTOR: "Nine neighbourhoods, **North West**"}
    assert saved.values[("sample_size", "")] == {EXTRACTOR: 3000}
    at.button(key=f"done_{study}").click().run()
    assert extraction.study_extraction(store, review, study).status == "done"
    at = _as(monkeypatch, VERIFIER, "extract_page")
    at.button(key=f"verify_{study}").click().run()
    assert not at.exception, at.exception
    done = extraction.study_extraction(store, review, study)
    assert done.status == "verified" and done.verified_by == [VERIFIER]
    assert any("Verified" in s.value for s in at.success)


def test_appraise_a_study_with_mmat_and_see_the_chart(database, monkeypatch):
    store, review = database
    at = _as(monkeypatch, EXTRACTOR, "appraise_page")
    assert at.title[0].value == "Appraise"
    study = at.session_state["appraise_pick"]
    at.selectbox(key=f"design_{study}_mmat").set_value("qualitative").run()
    prefix = f"ap_{study}_mmat_qualitative_study"
    for key, answer in {"S1": "yes", "S2": "yes", "1.1": "yes", "1.2": "no",
                        "1.3": "cant_tell", "1.4": "yes", "1.5": "yes"}.items():
        at.radio(key=f"{prefix}_{key}").set_value(answer)
    at.button[0].click().run()
    assert not at.exception, at.exception
    quality = appraisal.study_quality(store, review.id)[study]
    assert (quality.met, quality.label, quality.verified) == (3, "met 3 of 5 MMAT criteria", False)
    at = _as(monkeypatch, VERIFIER, "appraise_page")
    at.button(key="appraise_verify").click().run()
    assert appraisal.study_quality(store, review.id)[study].verified
    assert len(at.get("image")) == 1  # the traffic-light chart


def test_a_commissioner_is_stopped_at_the_door(database, monkeypatch):
    store, review = database
    store.ensure_user("cara", role="commissioner")
    for module in ("extract_page", "appraise_page"):
        at = _as(monkeypatch, "cara", module)
        assert "may not extract data" in at.warning[0].value
        assert included_record_ids(store, review)  # the studies are there; cara cannot see them
        assert not at.title


def test_the_lead_adds_a_question_and_others_only_read_the_form(database, monkeypatch):
    store, review = database
    at = _as(monkeypatch, EXTRACTOR, "extract_page")
    assert any("Only the review's lead changes the form" in c.value for c in at.caption)
    at = _as(monkeypatch, "admin", "extract_page")
    at.text_input(key="form_key").input("delivered_by")
    at.text_input(key="form_label").input("Delivered by *whom*")
    at.selectbox(key="form_kind").set_value("multi_choice")
    at.text_area(key="form_options").input("volunteers\npaid staff\nresidents")
    at.button(key="form_add").click().run()
    assert not at.exception, at.exception
    form = extraction.review_form(store, review.id)
    added = form.get("delivered_by")
    assert (added.label, added.kind, added.options) == (
        "Delivered by *whom*", "multi_choice", ("volunteers", "paid staff", "residents"))
    assert form.version == 1


def test_two_extractions_that_differ_are_reconciled_on_the_page(database, monkeypatch):
    store, review = database
    form = extraction.review_form(store, review.id)
    extraction.save_form(store, review, extraction.Form(form.fields, "reconcile"), actor="admin")
    study = included_record_ids(store, review)[0]
    for who, size in ((EXTRACTOR, "120"), (VERIFIER, "112")):
        extraction.enter_values(store, review, study, {"sample_size": size}, actor=who)
        extraction.mark_done(store, review, study, actor=who)
    at = _as(monkeypatch, "admin", "extract_page")
    assert any("Differs: Number of participants" in m.value for m in at.markdown)
    at.text_input(key=f"agree_{study}_0").input("116")
    at.button(key=f"agree_go_{study}_0").click().run()
    assert not at.exception, at.exception
    settled = extraction.study_extraction(store, review, study)
    assert settled.status == "verified" and settled.final[("sample_size", "")] == 116


def test_a_study_is_appraised_for_one_outcome(database, monkeypatch):
    store, review = database
    at = _as(monkeypatch, EXTRACTOR, "appraise_page")
    study = at.session_state["appraise_pick"]
    outcome = extraction.study_outcomes(store, review, study)[0]
    at.selectbox(key=f"appraise_outcome_{study}").set_value(outcome).run()
    design = at.selectbox(key=f"design_{study}_mmat").value
    prefix = f"ap_{study}_mmat_{design}_{outcome}_"
    radios = [r for r in at.radio if r.key.startswith(prefix)]
    assert len(radios) == 7
    for radio in radios:
        radio.set_value("yes")
    at.button[0].click().run()
    assert not at.exception, at.exception
    finals = appraisal.final_appraisals(store, review)
    [(place, quality)] = [(k, q) for k, q in finals.items() if k[0] == study]
    assert place == (study, "mmat", outcome) and quality.label == "met 5 of 5 MMAT criteria"
    assert appraisal.study_quality(store, review.id)[study].outcome == outcome  # none for the whole study


def test_the_lead_writes_a_tool_on_the_page_and_appraises_with_it(database, monkeypatch):
    store, review = database
    at = _as(monkeypatch, "admin", "appraise_page")
    at.text_input(key="tool_name").input("Fit to <Halton>")
    at.text_area(key="tool_questions").input("Is the setting like ours?\nWere residents involved?")
    at.button(key="tool_save").click().run()
    assert not at.exception, at.exception
    assert any("Choose it under Tool" in s.value for s in at.success)
    tools = appraisal.review_tools(store, review.id)
    assert [c.text for c in tools["own_fit_to_halton"].design("any").criteria] == [
        "Is the setting like ours?", "Were residents involved?"]
    at.selectbox(key="appraise_tool").set_value("own_fit_to_halton").run()
    assert not at.exception, at.exception
    study = at.session_state["appraise_pick"]
    radios = [r for r in at.radio if r.key.startswith(f"ap_{study}_own_fit_to_halton_any_study_")]
    assert len(radios) == 2  # no screening questions in a tool of one's own
