"""The Import page's search record and update round controls, under Streamlit's AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from reviewkit.rounds import current_round
from reviewkit.search_record import search_records
from reviewkit.store import Store
from tests.templates import copy_demo_database


@pytest.fixture
def demo_url(tmp_path, monkeypatch):
    import streamlit as st

    url = copy_demo_database(tmp_path / "ui.sqlite")
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", url)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield url
    st.cache_resource.clear()


def _import():
    from reviewkit.ui import common, import_page

    common.sidebar()
    import_page.render()


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_edit_a_search_record_and_start_an_update_round(demo_url):
    at = AppTest.from_function(_import, default_timeout=60).run()
    assert not at.exception
    store = Store(demo_url)
    review = store.list_reviews()[0]
    first = search_records(store, review.id)[0]
    assert first.platform == "Scopus (Elsevier)"  # the demo's own record
    at.text_input(key=f"limits-edit-{first.import_id}").input("English; 2000 onwards")
    at = _button(at, "Save the search record").click().run()
    assert not at.exception
    assert any(s.value.startswith("Search record of scopus") and s.value.endswith("saved.")
               for s in at.success)
    assert search_records(store, review.id)[0].limits == "English; 2000 onwards"
    assert store.audit_entries(review.id)[0].action == "search_record.update"

    at.text_input(key="round_label").input("March 2025")
    at = _button(at, "Start an update round").click().run()
    assert not at.exception
    assert current_round(store, review).name == "Update 1: March 2025"
    at = at.run()
    assert any("New imports belong to" in i.value and "March 2025" in i.value
               for i in at.info)
    store.close()
