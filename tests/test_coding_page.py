"""The Code studies page under AppTest on the demo review, and the coding helpers behind it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from reviewkit.codebook import (
    code_slug,
    codebook_from_upload,
    codebook_history,
    codebook_versions,
    edit_code,
    load_codebook,
    merge_review_codes,
    new_code,
    review_codebook,
    save_codebook,
    save_codebook_edit,
    split_synonyms,
    to_yaml,
)
from reviewkit.coding import (
    CODING_SCHEMES,
    Suggestion,
    code_use_counts,
    coding_queue,
    confirm_code,
    included_record_ids,
    record_codes_for_review,
    reject_code,
    store_suggestions,
    study_codes,
    suggest_for_records,
)
from reviewkit.demo import load_demo_definition
from reviewkit.errors import ReviewkitError
from reviewkit.prisma import prisma_counts
from reviewkit.progress import review_progress
from reviewkit.records import Record
from reviewkit.store import Store
from tests.templates import copy_demo_database
from tests.test_coding import WordCountModel

CODER = "coder-carol"
PAGE = ("from reviewkit.ui import common\n"
        "from reviewkit.ui import coding_page as page\n"
        "common.sidebar()\n"
        "page.render()\n")
BOOK_PAGE = PAGE.replace("coding_page", "codebook_page")


@pytest.fixture
def fresh_database(tmp_path, monkeypatch):
    import streamlit as st

    url = copy_demo_database(tmp_path / "ui.sqlite")
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", url)
    monkeypatch.setenv("REVIEWKIT_USER", CODER)
    monkeypatch.delenv("REVIEWKIT_NO_DEMO", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield url
    st.cache_resource.clear()


def _drawn(source: str, database: str):
    at = AppTest.from_string(source, default_timeout=120).run()
    assert not at.exception, at.exception
    store = Store(database)
    return at, store, store.find_review(load_demo_definition()["name"])


@pytest.fixture
def app(fresh_database):
    """The page drawn once on the demo review, plus a second handle on its database."""
    at, store, review = _drawn(PAGE, fresh_database)
    yield at, store, review
    store.close()


@pytest.fixture
def book(fresh_database):
    """The Codebook page drawn once on the demo review, and a handle on its database."""
    at, store, review = _drawn(BOOK_PAGE, fresh_database)
    yield at, store, review
    store.close()


def current_codes(store, review, record_id):
    return {(c.scheme, c.code): c
            for c in record_codes_for_review(store, review.id, None, record_id=record_id)}


def unused(store, review, record_id, scheme, how_many=1):
    have = {code for s, code in current_codes(store, review, record_id) if s == scheme}
    free = [c.code for c in review_codebook(store, review.id).scheme(scheme).codes
            if c.code not in have]
    return free[:how_many]


def shown_study(at) -> int:
    return at.session_state["code_current"]


# -- Code studies tab -------------------------------------------------------------------------------


def test_page_shows_progress_the_study_and_its_codes(app):
    at, store, review = app
    queue = coding_queue(store, review)
    assert at.title[0].value == "Code studies"
    progress = review_progress(store, review)
    counted = f"{progress.included - len(progress.to_code)} of {progress.included}"
    assert any(counted in p.text for p in at.get("progress"))
    rid = shown_study(at)
    assert rid == queue.order[0]
    record = store.get_record(rid).record
    assert record.abstract in [t.value for t in at.text]  # as plain text, never HTML
    approach = next(c for c in record_codes_for_review(store, review.id, record_id=rid)
                    if c.scheme == "approach")
    assert at.button(key=f"code_yes_{rid}_approach_{approach.code}").disabled  # confirmed


def test_confirming_and_rejecting_suggestions_are_stored_with_the_coder(app):
    at, store, review = app
    rid = shown_study(at)
    first, second = unused(store, review, rid, "approach", 2)
    [design] = unused(store, review, rid, "design")
    store_suggestions(store, review.id, rid, [Suggestion("approach", first, 0.83),
                                              Suggestion("approach", second, 0.41),
                                              Suggestion("design", design, 0.62)], "robot")
    at.run()
    shown = [m.value for m in at.markdown]
    assert any("83%" in m for m in shown) and any("41%" in m for m in shown)
    # most confident suggestion is listed first
    keys = [b.key for b in at.button if b.key.startswith(f"code_yes_{rid}_approach_")]
    assert keys.index(f"code_yes_{rid}_approach_{first}") < \
        keys.index(f"code_yes_{rid}_approach_{second}")

    at.button(key=f"code_yes_{rid}_approach_{first}").click().run()
    assert not at.exception, at.exception
    codes = current_codes(store, review, rid)
    assert (codes[("approach", first)].status, codes[("approach", first)].coder,
            codes[("approach", first)].source) == ("confirmed", CODER, "auto")
    assert any("Confirmed" in s.value for s in at.success)
    assert at.button(key=f"code_yes_{rid}_approach_{first}").disabled

    at.button(key=f"code_no_{rid}_design_{design}").click().run()
    codes = current_codes(store, review, rid)
    assert (codes[("design", design)].status, codes[("design", design)].coder) == \
        ("rejected", CODER)
    assert codes[("approach", second)].status == "suggested"  # untouched
    actions = [(e.action, e.actor) for e in store.audit_entries(review.id)]
    assert ("coding.confirm", CODER) in actions and ("coding.reject", CODER) in actions


def test_adding_a_code_the_suggestions_missed_stores_a_human_code(app):
    at, store, review = app
    rid = shown_study(at)
    [domain] = unused(store, review, rid, "domain")
    at.selectbox(key=f"code_add_{rid}_domain").set_value(domain)
    at.button(key=f"code_add_button_{rid}_domain").click().run()
    assert not at.exception, at.exception
    added = current_codes(store, review, rid)[("domain", domain)]
    assert (added.status, added.source, added.coder, added.confidence) == \
        ("confirmed", "human", CODER, None)
    assert domain not in at.selectbox(key=f"code_add_{rid}_domain").options

    # nothing chosen: a plain message, nothing stored
    before = len(record_codes_for_review(store, review.id, None))
    at.button(key=f"code_add_button_{rid}_design").click().run()
    assert any("Choose the code" in e.value for e in at.error)
    assert len(record_codes_for_review(store, review.id, None)) == before


def test_a_finding_with_its_direction_is_saved_for_a_confirmed_outcome(app):
    at, store, review = app
    rid = shown_study(at)
    outcome = next(c for c in record_codes_for_review(store, review.id, record_id=rid)
                   if c.scheme == "outcome")
    key = f"code_finding_{rid}_{outcome.code}"
    at.radio(key=f"{key}_direction").set_value("negative")
    at.text_input(key=f"{key}_text").input("Residents  felt less in control *after* the scheme")
    at.button(key=f"{key}_save").click().run()
    assert not at.exception, at.exception
    saved = current_codes(store, review, rid)[("outcome", outcome.code)]
    assert (saved.direction, saved.finding, saved.coder, saved.status) == (
        "negative", "Residents felt less in control *after* the scheme", CODER, "confirmed")
    assert at.radio(key=f"{key}_direction").value == "negative"


def test_navigation_moves_between_included_studies(app):
    at, store, review = app
    queue = coding_queue(store, review)
    first = shown_study(at)
    assert at.button(key="code_prev").disabled
    at.button(key="code_next").click().run()
    assert shown_study(at) == queue.order[1]
    assert at.selectbox(key="code_pick").value == queue.order[1]
    assert store.get_record(queue.order[1]).record.abstract in [t.value for t in at.text]
    at.button(key="code_prev").click().run()
    assert shown_study(at) == first
    at.selectbox(key="code_pick").set_value(queue.order[3]).run()
    assert shown_study(at) == queue.order[3]


def test_a_study_left_without_an_outcome_goes_first_and_counts_as_to_code(app):
    at, store, review = app
    queue = coding_queue(store, review)
    rid = queue.order[5]
    for code in [c for c in record_codes_for_review(store, review.id, record_id=rid)
                 if c.scheme == "outcome"]:
        reject_code(store, review.id, rid, "outcome", code.code, "someone")
    at.session_state["code_current"] = None
    at.run()
    assert shown_study(at) == rid
    assert at.selectbox(key="code_pick").options[0].startswith("To code")
    assert f"{len(queue) - 1} of {len(queue)}" in at.get("progress")[0].text
    assert not at.button(key="code_suggest_all").disabled


# -- Codebook page ---------------------------------------------------------------------------------


def table_with(at, column):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def history_table(at):
    return table_with(at, "What changed")


def test_adding_a_code_saves_a_new_version_with_the_change_in_the_history(book):
    at, store, review = book
    assert codebook_versions(store, review.id) == []
    at.text_input(key="cb_add_label").input("Time banking")
    at.text_area(key="cb_add_description").input("Residents swap hours of help.")
    at.text_area(key="cb_add_synonyms").input("time bank, time credits; timebanking")
    at.button(key="cb_add_save").click().run()
    assert not at.exception, at.exception
    assert [v["version"] for v in codebook_versions(store, review.id)] == [1]
    code = review_codebook(store, review.id).code("approach", "time_banking")
    assert (code.label, code.description, code.synonyms) == (
        "Time banking", "Residents swap hours of help.",
        ["time bank", "time credits", "timebanking"])
    assert any("version 1" in s.value for s in at.success)
    table = history_table(at)
    assert list(table["Version"]) == [1]
    assert table["Saved by"][0] == CODER
    assert "approach:time_banking added" in table["What changed"][0]
    assert "Time banking" in list(table_with(at, "Short name")["Label"])
    assert at.text_input(key="cb_add_label").value == ""  # the form is cleared

    # the same code again is refused and saves nothing
    at.text_input(key="cb_add_label").input("Time banking")
    at.button(key="cb_add_save").click().run()
    assert any("already has a code 'time_banking'" in e.value.replace("\\", "")
               for e in at.error)
    assert len(codebook_versions(store, review.id)) == 1


def test_renaming_a_code_keeps_the_old_label_as_a_synonym(book):
    at, store, review = book
    scheme = "outcome"
    at.selectbox(key="cb_scheme").set_value(scheme).run()
    code = review_codebook(store, review.id).scheme(scheme).codes[0]
    at.selectbox(key=f"cb_edit_pick_{scheme}").set_value(code.code).run()
    key = f"cb_edit_{scheme}_{code.code}"
    at.text_input(key=f"{key}_label").input("A clearer label")
    at.text_area(key=f"{key}_description").input("Said more plainly.")
    at.button(key=f"{key}_save").click().run()
    assert not at.exception, at.exception
    renamed = review_codebook(store, review.id).code(scheme, code.code)
    assert renamed.label == "A clearer label"
    assert renamed.description == "Said more plainly."
    assert code.label.lower() in renamed.synonyms
    assert at.text_input(key=f"{key}_label").value == "A clearer label"
    assert f"{scheme}:{code.code} label, description, synonyms changed" in \
        history_table(at)["What changed"][0]

    # saving again with nothing changed keeps the version count
    at.button(key=f"{key}_save").click().run()
    assert len(codebook_versions(store, review.id)) == 1
    assert any("Nothing changed" in i.value for i in at.info)


def test_merging_two_codes_moves_the_studies_to_the_kept_code(book):
    at, store, review = book
    uses = code_use_counts(store, review.id)
    used = sorted((n, code) for (scheme, code), n in uses.items() if scheme == "approach")
    (_, drop), (_, keep) = used[0], used[-1]
    moving = {c.record_id for c in record_codes_for_review(store, review.id)
              if (c.scheme, c.code) == ("approach", drop)}
    assert moving
    at.selectbox(key="cb_merge_keep_approach").set_value(keep)
    at.selectbox(key="cb_merge_drop_approach").set_value(drop)
    at.button(key="cb_merge_save_approach").click().run()
    assert not at.exception, at.exception

    codebook = review_codebook(store, review.id)
    assert codebook.scheme("approach").get(drop) is None
    assert [v["version"] for v in codebook_versions(store, review.id)] == [1]
    after = record_codes_for_review(store, review.id)
    assert not [c for c in after if (c.scheme, c.code) == ("approach", drop)]
    assert moving <= {c.record_id for c in after if (c.scheme, c.code) == ("approach", keep)}
    assert any("Merged" in s.value for s in at.success)
    assert f"approach:{drop} removed" in history_table(at)["What changed"][0]
    assert drop not in at.selectbox(key="cb_merge_keep_approach").options


def test_bad_yaml_upload_shows_an_error_and_saves_nothing(book):
    at, store, review = book
    at.file_uploader(key="cb_upload_0").set_value(
        ("codebook.yaml", b"schemes: [approach: {codes: [", "application/x-yaml")).run()
    assert not at.exception, at.exception
    assert any("not valid YAML" in e.value and "Nothing was saved" in e.value for e in at.error)
    assert codebook_versions(store, review.id) == []

    at.file_uploader(key="cb_upload_0").set_value(
        ("codebook.yaml", b"version: 2\nschemes:\n  approach:\n    codes: []\n",
         "application/x-yaml")).run()
    assert any("lacks the scheme" in e.value for e in at.error)
    assert codebook_versions(store, review.id) == []


def test_a_good_upload_is_previewed_then_saved_as_a_version(book):
    at, store, review = book
    edited = new_code(load_codebook(), "domain", "Digital inclusion",
                      synonyms=["online access"])
    at.file_uploader(key="cb_upload_0").set_value(
        ("codebook.yaml", to_yaml(edited).encode(), "application/x-yaml")).run()
    assert not at.error
    assert any("domain:digital_inclusion added" in m.value.replace("\\", "")
               for m in at.markdown)
    assert codebook_versions(store, review.id) == []  # nothing until confirmed
    at.button(key="cb_upload_save").click().run()
    assert [v["version"] for v in codebook_versions(store, review.id)] == [1]
    assert review_codebook(store, review.id).code("domain", "digital_inclusion").synonyms == \
        ["online access"]
    download = at.get("download_button")[0]
    assert download is not None


def test_with_accounts_on_a_commissioner_is_stopped_and_a_researcher_is_credited(
        fresh_database):
    from reviewkit import accounts

    store = Store(fresh_database)
    review = store.find_review(load_demo_definition()["name"])
    accounts.create_user(store, "boss", role="admin", password="boss-password-1", actor="admin")
    for name, role in (("cara", "commissioner"), ("maria", "researcher")):
        accounts.create_user(store, name, role=role, password=f"{name}-password-1",
                             actor="boss")
        accounts.add_member(store, review.id, name, role=role, actor="boss")
    accounts.set_accounts(store, True, actor="boss")

    at = AppTest.from_string(PAGE, default_timeout=120)
    at.session_state["auth_user"] = "cara"
    at.run()
    assert not at.exception, at.exception
    assert any("may not" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key and b.key.startswith("code_")]

    at = AppTest.from_string(PAGE, default_timeout=120)
    at.session_state["auth_user"] = "maria"
    at.run()
    assert at.title[0].value == "Code studies"
    rid = shown_study(at)
    [domain] = unused(store, review, rid, "domain")
    at.selectbox(key=f"code_add_{rid}_domain").set_value(domain)
    at.button(key=f"code_add_button_{rid}_domain").click().run()
    assert current_codes(store, review, rid)[("domain", domain)].coder == "maria"
    store.close()


# -- helpers in reviewkit.coding -------------------------------------------------------------------


def test_included_studies_agree_with_progress_and_prisma(store, demo):
    included = included_record_ids(store, demo)
    assert len(included) == review_progress(store, demo).included == prisma_counts(
        store, demo).included > 0
    queue = coding_queue(store, demo)
    assert sorted(queue.order) == sorted(included)
    assert queue.to_code == review_progress(store, demo).to_code == []
    assert queue.coded == len(included)


def test_the_queue_puts_studies_to_code_first_and_navigates(store, demo):
    included = included_record_ids(store, demo)
    a, b = included[3], included[7]
    for rid in (a, b):
        for code in record_codes_for_review(store, demo.id, record_id=rid):
            if code.scheme == "approach":
                reject_code(store, demo.id, rid, "approach", code.code, "x")
    queue = coding_queue(store, demo)
    assert queue.order[:2] == [a, b] == queue.to_code
    assert queue.to_code == review_progress(store, demo).to_code
    assert queue.neighbour(a, -1) is None and queue.neighbour(a, 1) == b
    assert queue.neighbour(queue.order[-1], 1) is None
    assert queue.neighbour(None, 1) == a
    assert queue.next_to_code() == a
    assert queue.next_to_code(a) == b and queue.next_to_code(b) == a
    assert queue.get(a).title == store.get_record(a).record.title
    confirm_code(store, demo.id, a, "approach", "social_prescribing", "x")
    assert coding_queue(store, demo).to_code == [b]
    assert coding_queue(store, demo).next_to_code(b) is None


def test_study_codes_are_grouped_by_scheme_and_ordered(store, demo):
    rid = included_record_ids(store, demo)[0]
    store_suggestions(store, demo.id, rid, [Suggestion("domain", "social_capital", 0.5),
                                            Suggestion("domain", "economic", 0.9),
                                            Suggestion("domain", "physical", 0.7)], "robot")
    reject_code(store, demo.id, rid, "domain", "economic", "x")
    grouped = study_codes(store, demo.id, rid)
    assert list(grouped)[:len(CODING_SCHEMES)] == list(CODING_SCHEMES)
    assert [(c.code, c.status) for c in grouped["domain"]] == [
        ("physical", "suggested"), ("social_capital", "suggested"), ("economic", "rejected")]
    assert all(c.record_id == rid for rows in grouped.values() for c in rows)
    assert grouped["approach"] and all(c.status == "confirmed" for c in grouped["approach"])


def test_suggestions_for_records_use_the_review_codebook_and_its_feedback(store):
    review = store.create_review("Suggesting")
    store.add_import(review.id, [
        Record(title="Canal towpath", abstract="Neighbours planted bulbs along the canal "
                                               "towpath and cleared the reed beds."),
        Record(title="Canal towpath again", abstract="Neighbours planted bulbs along the "
                                                     "canal towpath and cleared reed beds.")],
        filename="s.csv", format="csv", sha256="b" * 64, size_bytes=1)
    first, second = [s.id for s in store.list_records(review.id)]
    model = WordCountModel()
    ticks = []
    stored = suggest_for_records(store, review.id, [second], "robot", model=model,
                                 on_progress=lambda done, total: ticks.append((done, total)))
    assert ticks == [(0, 1), (1, 1)]
    before = {c.code for c in record_codes_for_review(store, review.id, "suggested")
              if c.scheme == "approach"}
    assert "green_blue_space" not in before
    assert stored == {second: len(record_codes_for_review(store, review.id, "suggested"))}

    confirm_code(store, review.id, first, "approach", "green_blue_space", "alice")
    suggest_for_records(store, review.id, [second], "robot", model=model)
    after = [c for c in record_codes_for_review(store, review.id, "suggested")
             if c.scheme == "approach"]
    assert after[0].record_id == second
    assert "green_blue_space" in {c.code for c in after}  # the correction taught it

    # a code added to the review's codebook can be suggested too
    edited = new_code(review_codebook(store, review.id), "approach", "Towpath gardening",
                      synonyms=["towpath", "reed beds"])
    save_codebook(store, review.id, edited, "alice")
    suggest_for_records(store, review.id, [second], "robot", model=model, schemes=["approach"])
    assert "towpath_gardening" in {c.code for c in record_codes_for_review(
        store, review.id, "suggested")}


def test_codebook_edits_helpers():
    book = load_codebook()
    assert code_slug("Arts & crafts") == "arts_crafts"
    with pytest.raises(ReviewkitError):
        code_slug("!!!")
    assert split_synonyms("a, b;\nc ,") == ["a", "b", "c"]
    added = new_code(book, "approach", "  Time   banking ", description="Hours  swapped",
                     synonyms=["time bank", "Time bank"])
    code = added.code("approach", "time_banking")
    assert (code.label, code.description, code.synonyms) == (
        "Time banking", "Hours swapped", ["time bank"])
    with pytest.raises(ReviewkitError, match="label"):
        new_code(book, "approach", "  ")
    with pytest.raises(ReviewkitError, match="short name"):
        new_code(book, "approach", "Fine label", slug="Bad Slug")
    with pytest.raises(ReviewkitError, match="already has"):
        new_code(added, "approach", "Time banking")

    first = book.scheme("design").codes[0]
    same = edit_code(book, "design", first.code, label=first.label,
                     description=first.description, synonyms=first.synonyms)
    assert same == book
    renamed = edit_code(book, "design", first.code, label="New name", description="d",
                        synonyms=["x"])
    assert renamed.code("design", first.code).synonyms == ["x", first.label.lower()]


def test_saving_edits_merging_and_history(store, demo):
    assert save_codebook_edit(store, demo.id, review_codebook(store, demo.id), "ann") == \
        (None, [])
    edited = new_code(review_codebook(store, demo.id), "outcome", "Civic pride")
    assert save_codebook_edit(store, demo.id, edited, "ann") == (
        1, ["outcome:civic_pride added"])
    uses = code_use_counts(store, demo.id)
    used = [code for (scheme, code), n in uses.items() if scheme == "outcome" and n]
    keep, drop = used[0], used[1]
    moving = uses[("outcome", drop)]
    version, moved = merge_review_codes(store, demo.id, "outcome", keep, drop, "bob")
    assert (version, moved) == (2, moving)
    assert ("outcome", drop) not in code_use_counts(store, demo.id)
    history = codebook_history(store, demo.id)
    assert [(h["version"], h["created_by"]) for h in history] == [(1, "ann"), (2, "bob")]
    assert history[0]["changes"] == ["outcome:civic_pride added"]
    assert f"outcome:{drop} removed" in history[1]["changes"]
    assert f"outcome:{keep} synonyms changed" in history[1]["changes"]


def test_a_merge_that_fails_half_way_leaves_codebook_and_codes_as_they_were(
        store, demo, monkeypatch):
    from reviewkit.store import codes as code_rows

    uses = code_use_counts(store, demo.id)
    keep, drop = [code for (scheme, code), n in uses.items() if scheme == "outcome" and n][:2]

    def fail(*args):
        raise RuntimeError("the disk filled up while moving the codes")

    monkeypatch.setattr(code_rows, "repoint", fail)
    with pytest.raises(RuntimeError):
        merge_review_codes(store, demo.id, "outcome", keep, drop, "bob")
    assert codebook_history(store, demo.id) == []  # no new version either
    assert code_use_counts(store, demo.id) == uses
    assert review_codebook(store, demo.id).code("outcome", drop) is not None


@pytest.mark.parametrize(("data", "message"), [
    (b"schemes: [unclosed", "not valid YAML"),
    (b"\xff\xfe\x00bad", "not UTF-8"),
    (b"just a string", "'schemes' mapping"),
    (b"schemes:\n  approach:\n    codes:\n      - label: No short name\n", "layout"),
    (b"schemes:\n  approach:\n    codes:\n      - plain text\n", "layout"),
    (b"schemes:\n  approach:\n    codes:\n      - code: Bad Code\n", "not a valid code"),
    (b"schemes:\n  approach:\n    codes: []\n", "lacks the scheme"),
])
def test_uploads_that_are_refused(data, message):
    with pytest.raises(ReviewkitError, match=message):
        codebook_from_upload(data, load_codebook())


def test_an_upload_in_the_download_layout_reads_back():
    book = load_codebook()
    assert codebook_from_upload(to_yaml(book).encode(), book) == book
    assert codebook_from_upload(b"\xef\xbb\xbf" + to_yaml(book).encode(), book) == book  # BOM


@pytest.mark.slow
def test_suggest_buttons_use_the_real_model(app):
    at, store, review = app
    queue = coding_queue(store, review)
    waiting = queue.order[:2]
    for rid in waiting:
        for code in record_codes_for_review(store, review.id, record_id=rid):
            if code.scheme == "approach":
                reject_code(store, review.id, rid, "approach", code.code, "someone")
    at.run()
    assert at.button(key="code_suggest_all").label.startswith("Suggest codes for all 2 ")
    at.button(key="code_suggest_all").click().run()
    assert not at.exception, at.exception
    assert any("2 studies" in s.value for s in at.success)
    assert "Suggested codes for 2 of 2 studies" in [p.text for p in at.get("progress")]
    suggested = record_codes_for_review(store, review.id, "suggested")
    assert {c.record_id for c in suggested} == set(waiting)
    assert all(0.4 <= c.confidence <= 1 for c in suggested)
    # the codes the lead rejected are not suggested again for the same study
    rejected = {(c.record_id, c.code) for c in record_codes_for_review(store, review.id,
                                                                       "rejected")}
    assert not rejected & {(c.record_id, c.code) for c in suggested}

    at.button(key="code_suggest_one").click().run()
    assert not at.exception, at.exception
    assert any("for 1 study" in s.value for s in at.success)
    assert shown_study(at) in waiting
    assert any("confident" in m.value for m in at.markdown)  # suggestions with a percentage
