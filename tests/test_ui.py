"""Each page under Streamlit's AppTest, on a real database holding the demo review."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from reviewkit.demo import load_demo_definition
from tests.templates import copy_demo_database


@pytest.fixture(autouse=True)
def fresh_database(tmp_path, monkeypatch):
    import streamlit as st

    # the demo review the app would build on first start, copied from the session's template
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", copy_demo_database(tmp_path / "ui.sqlite"))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()


def _overview():
    from reviewkit.ui import common, overview

    common.sidebar()
    overview.render()


def _records():
    from reviewkit.ui import common, records_page

    common.sidebar()
    records_page.render()


def _import():
    from reviewkit.ui import common, import_page

    common.sidebar()
    import_page.render()


def test_app_opens_on_the_demo_review(tmp_path, monkeypatch):
    # the one test that starts on an empty database, so the app builds the demo review itself
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", f"sqlite:///{tmp_path / 'first-start.sqlite'}")
    at = AppTest.from_file("../reviewkit/ui/app_script.py", default_timeout=60).run()
    assert not at.exception
    demo_name = load_demo_definition()["name"]
    assert at.sidebar.selectbox[0].value == demo_name
    assert at.title[0].value == "Overview"
    identified = {m.label: m.value for m in at.metric}
    assert int(identified["Records identified"]) > 50
    assert int(identified["Files imported"]) >= 3


def test_overview_refuses_a_review_without_a_name():
    at = AppTest.from_function(_overview, default_timeout=60).run()
    at.text_area[2].input("Adults living in the study neighbourhoods")  # criteria only
    at.button[0].click().run()
    assert "Give the review a name" in at.error[0].value
    names_before = at.sidebar.selectbox[0].options

    at.text_input[0].input("Green space and wellbeing")
    at.button[0].click().run()
    assert not at.exception
    assert "Green space and wellbeing" in at.sidebar.selectbox[0].options
    assert len(at.sidebar.selectbox[0].options) == len(names_before) + 1
    assert at.sidebar.selectbox[0].value == "Green space and wellbeing"


def test_records_page_searches_and_shows_a_record():
    at = AppTest.from_function(_records, default_timeout=60).run()
    assert not at.exception
    caption = next(c.value for c in at.caption if "records match" in c.value)
    total = int(caption.split()[0])
    at.text_input[0].input("resilience").run()
    caption = next(c.value for c in at.caption if "records match" in c.value)
    matching = int(caption.split()[0])
    assert 0 < matching < total
    titles = at.dataframe[0].value["Title"].str.lower()
    assert len(titles) == matching


def test_import_page_without_upload_explains_what_it_reads():
    at = AppTest.from_function(_import, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Import search results"
    assert any("EndNote XML" in m.value for m in at.markdown)
    # the browser's own hint ("… MB per file") says the import limit the label states
    uploader = at.get("file_uploader")[0].proto
    assert "up to 40 MB each" in uploader.label
    assert uploader.max_upload_size_mb == 40


def _page(module_name: str):
    """An AppTest script that draws one page with the sidebar, as the app does."""
    source = (
        "from reviewkit.ui import common\n"
        f"from reviewkit.ui import {module_name} as page\n"
        "common.sidebar()\n"
        "page.render()\n")
    return AppTest.from_string(source, default_timeout=120)


@pytest.mark.parametrize(("module_name", "title"), [
    ("dedup_page", "Find duplicates"),
    ("screening_page", "Screen"),
    ("conflicts_page", "Conflicts and agreement"),
    ("prisma_page", "PRISMA 2020 flow diagram"),
    ("evidence_map_page", "Evidence map"),
    ("approach_page", "Evidence by approach"),
    ("library_page", "Local stories"),
    ("coding_page", "Code studies"),
    ("synthesis_page", "Synthesis and certainty"),
    ("codebook_page", "Codebook"),
    ("clusters_page", "Clusters"),
    ("team_page", "Team"),
    ("audit_page", "Audit trail"),
    ("backup_page", "Backup and move"),
    ("publish_page", "Publish the public site"),
])
def test_every_page_opens_on_the_demo_review(module_name, title):
    at = _page(module_name).run()
    assert not at.exception, at.exception
    assert at.title[0].value == title


def test_evidence_by_approach_resolves_everyday_words_and_keeps_them_in_the_address():
    at = _page("approach_page").run()
    at.text_input(key="approach_query").input("help with money worries").run()
    assert not at.exception, at.exception
    assert at.header[0].value == "Debt advice, credit unions and financial inclusion"
    choices = at.radio[0]
    assert choices.value == "financial_inclusion" and len(choices.options) == 3
    assert "matched" in choices.options[0] and "money" in choices.options[0]
    studies = next(m for m in at.metric if m.label == "Included studies")
    assert int(studies.value) >= 1
    assert at.query_params["approach"] == "financial_inclusion"
    assert at.query_params["q"] == "help with money worries"
    assert at.query_params["review"] == str(_demo_id())
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download the brief (Word)", "Download the brief (PDF)",
                      "Download the brief (Markdown)"]


def test_a_link_with_an_approach_opens_that_view():
    at = _page("approach_page")
    at.query_params["approach"] = "green_blue_space"
    at.query_params["review"] = str(_demo_id())
    at.run()
    assert not at.exception, at.exception
    assert at.header[0].value == "Green and blue space"


def test_nothing_close_still_shows_the_nearest():
    at = _page("approach_page").run()
    at.text_input(key="approach_query").input("quantum chromodynamics").run()
    assert not at.exception, at.exception
    assert "Nothing is close to what you typed" in at.info[0].value
    assert len(at.radio[0].options) == 3  # the nearest are still offered


def _demo_id() -> int:
    from reviewkit.demo import ensure_demo_review
    from reviewkit.store import Store

    return ensure_demo_review(Store()).id


def test_screening_page_shows_a_record_and_records_a_decision():
    at = _page("screening_page").run()
    assert not at.exception, at.exception
    first = at.subheader[0].value
    include = next(b for b in at.button if b.label == "Include")
    include.click().run()
    assert not at.exception, at.exception
    assert at.subheader[0].value != first


def test_team_page_saves_nothing_when_the_new_password_is_too_short():
    import os

    from reviewkit.store import Store

    at = _page("team_page").run()
    assert not at.exception, at.exception
    form_box = next(s for s in at.selectbox if s.label == "Account")
    form_box.select("demo-reviewer-1")
    next(s for s in at.selectbox if s.label == "New role").select("commissioner")
    next(t for t in at.text_input if t.label.startswith("New password")).input("short")
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert not at.exception, at.exception
    assert any("Nothing was changed" in e.value for e in at.error)
    user = Store(os.environ["REVIEWKIT_DATABASE_URL"]).get_user("demo-reviewer-1")
    assert user.role == "researcher"  # the role change in the same form was not saved either


def test_switching_review_drops_what_was_prepared_for_the_other():
    """A Records download prepared in one review is not offered after switching review."""
    import os

    from reviewkit.store import Store

    at = _page("records_page").run()
    assert not at.exception, at.exception
    Store(os.environ["REVIEWKIT_DATABASE_URL"]).create_review("Another review")
    at.run()
    next(b for b in at.button if b.label == "Prepare download").click().run()
    assert not at.exception, at.exception
    assert "export" in at.session_state
    at.sidebar.selectbox[0].select("Another review").run()
    assert not at.exception, at.exception
    assert "export" not in at.session_state
    assert at.session_state["review_name"] == "Another review"


def test_the_front_page_box_opens_the_evidence_for_a_typed_phrase():
    at = AppTest.from_file("../reviewkit/ui/app_script.py", default_timeout=120).run()
    at.text_input(key="front_search").input("somewhere for kids to play").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Evidence by approach"
    assert at.header[0].value == "Green and blue space"
    assert at.query_params["q"] == "somewhere for kids to play"
    assert "Download the brief (PDF)" in [b.label for b in at.get("download_button")]


def test_a_link_to_a_map_cell_opens_that_cell():
    at = _page("evidence_map_page")
    at.query_params["review"] = str(_demo_id())
    at.query_params["approach"] = "social_prescribing"
    at.query_params["outcome"] = "health_wellbeing"
    at.run()
    assert not at.exception, at.exception
    assert any("Social prescribing" in s.value and "Health and wellbeing" in s.value
               for s in at.subheader)


def test_the_publish_page_builds_the_site_as_a_zip():
    import os

    from reviewkit.publish import public_entries
    from reviewkit.store import Store

    shown = len(public_entries(Store(os.environ["REVIEWKIT_DATABASE_URL"])))
    at = _page("publish_page").run()
    assert f"the {shown} published, public stories" in at.markdown[0].value
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("The site is ready")


def test_a_solo_maybe_is_not_a_conflict_and_the_advice_waits_to_estimate():
    import os
    from pathlib import Path

    from reviewkit.importing import import_file
    from reviewkit.store import Store

    store = Store(os.environ["REVIEWKIT_DATABASE_URL"])
    review = store.create_review("Solo review")  # one reviewer a record, as a new review has
    for name in ("scopus.ris", "pubmed.nbib", "web_of_science.ris", "ovid_medline.ris"):
        data = (Path(__file__).parent / "data" / "formats" / name).read_bytes()
        import_file(store, review, data, name, actor="admin")
    at = _page("screening_page")
    at.session_state["next_review"] = "Solo review"
    at.run()
    total = len(store.kept_record_ids(review.id))
    assert any(c.value.startswith(f"Record 1 of {total} ·") for c in at.caption)
    for label in ("Include", "Exclude", "Maybe", "Exclude"):
        next(b for b in at.button if b.label == label).click().run()
        assert not at.exception, at.exception
    line = at.get("progress")[0].proto.text
    assert "0 conflicts" in line and "1 marked maybe" in line, line
    advice = next(i.value for i in at.info if "decided" in i.value)
    assert "too early to estimate" in advice and "relevant records are left (up to" not in advice
    screened = int(line.split("You have screened ")[1].split(" of")[0])
    decided = int(advice.split(" of ")[0])
    assert screened == decided + 1  # the maybe is screened but not decided
    # the caption gives the place in the screening, not the database id
    assert any(c.value.startswith(f"Record 5 of {total} ·") for c in at.caption)


def test_a_new_empty_review_does_not_become_the_default_and_publish_names_its_review():
    import os

    from reviewkit.store import Store

    Store(os.environ["REVIEWKIT_DATABASE_URL"]).create_review("AAA new and empty")
    demo_name = load_demo_definition()["name"]
    at = _page("approach_page")
    at.query_params["q"] = "help with money worries"  # an address naming no review
    at.run()
    assert not at.exception, at.exception
    assert at.sidebar.selectbox[0].value == demo_name
    assert at.query_params["review"] == str(_demo_id())

    at = _page("publish_page").run()
    assert not at.exception, at.exception
    picker = next(s for s in at.selectbox if s.label.startswith("Review whose evidence"))
    assert picker.value == _demo_id()
    assert f"the review **{demo_name.split(' (')[0]}" in at.markdown[0].value
    other = next(o for o in picker.options if o.startswith("AAA new and empty"))
    picker.select_index(picker.options.index(other)).run()
    assert not at.exception, at.exception
    assert "the review **AAA new and empty**" in at.markdown[0].value


def test_the_dedup_page_says_when_duplicates_were_not_looked_for_since_an_import():
    import os
    from pathlib import Path

    from reviewkit.importing import import_file
    from reviewkit.store import Store

    store = Store(os.environ["REVIEWKIT_DATABASE_URL"])
    review = store.create_review("Fresh imports")
    folder = Path(__file__).parent / "data" / "formats"
    import_file(store, review, (folder / "scopus.ris").read_bytes(), "scopus.ris", actor="admin")
    at = _page("dedup_page")
    at.session_state["next_review"] = "Fresh imports"
    at.run()
    assert not at.exception, at.exception
    assert "have not been looked for yet" in at.warning[0].value
    assert "Find duplicates" in at.warning[0].value
    next(b for b in at.button if b.label == "Find duplicates").click().run()
    assert not at.exception, at.exception
    assert not at.warning
    import_file(store, review, (folder / "pubmed.nbib").read_bytes(), "pubmed.nbib",
                actor="admin")
    at.run()
    assert "not been looked for since the last import" in at.warning[0].value
    assert store.dedup_state(store.create_review("Nothing yet").id) == "empty"


def test_charts_come_with_their_numbers_in_words_and_tables():
    at = _page("prisma_page").run()
    assert not at.exception, at.exception
    words = at.expander[0].markdown[0].value
    assert at.expander[0].label == "The diagram in words"
    assert re.search(r"\*\*Included\*\*: Studies included in review \\\(n = \d+\\\)", words)
    at = _page("screening_page").run()
    at.toggle(key="screen_curve").set_value(True).run()
    assert not at.exception, at.exception
    curve = at.table[0].value
    assert list(curve.columns) == ["Records screened", "Relevant found"]
    assert curve["Records screened"].iloc[0] == 0 and curve["Relevant found"].is_monotonic_increasing
    at = _page("evidence_map_page").run()
    grid = at.table[0].value
    assert grid.index.name == "Approach" and grid.to_numpy().sum() > 20


def test_the_evidence_by_approach_wording_reads_at_grade_six_or_below():
    import textstat

    from reviewkit.ui.approach_page import WORDS

    at = _page("approach_page")
    at.query_params["q"] = "help with money worries"
    at.run()
    assert not at.exception, at.exception
    shown = " ".join(str(getattr(e, "value", "")) for kind in ("title", "markdown", "subheader")
                     for e in at.get(kind))
    assert all(WORDS[k] in shown for k in ("title", "intro", "link_why", "what_found", "local"))
    textstat.set_lang("en-GB")  # Pyphen's dictionary; plain "en" downloads one through NLTK
    text = " ".join(w if w.rstrip().endswith((".", "?", ":")) else w + "." for w in WORDS.values())
    assert textstat.flesch_kincaid_grade(text) <= 6
