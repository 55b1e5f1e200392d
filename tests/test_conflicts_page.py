"""The Conflicts page under AppTest: disagreements apart from records a reviewer marked maybe."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from reviewkit.records import Record
from reviewkit.store import Store

TA = "title_abstract"


@pytest.fixture
def two_reviewer_app(tmp_path, monkeypatch):
    """A review needing two votes: one record ana and ben disagree on, one only ana marked maybe,
    one both included."""
    import streamlit as st

    url = f"sqlite:///{tmp_path / 'conflicts.sqlite'}"
    store = Store(url)
    review = store.create_review("Two reviewers", actor="admin",
                                 settings={"reviewers_required": 2, "blind": False})
    titles = ["Disputed walking groups", "Undecided allotment study", "Agreed garden trial"]
    store.add_import(review.id, [Record(title=t, year=2020) for t in titles], actor="admin",
                     filename="t.ris", format="ris", sha256="c" * 64, size_bytes=1)
    disputed, undecided, agreed = store.kept_record_ids(review.id)
    store.add_decision(disputed, stage=TA, decision="include", reviewer="ana")
    store.add_decision(disputed, stage=TA, decision="exclude", reviewer="ben",
                       reason="Wrong population")
    store.add_decision(undecided, stage=TA, decision="maybe", reviewer="ana")
    for who in ("ana", "ben"):
        store.add_decision(agreed, stage=TA, decision="include", reviewer=who)
    store.close()
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", url)
    monkeypatch.setenv("REVIEWKIT_NO_DEMO", "1")
    st.cache_resource.clear()
    yield url
    st.cache_resource.clear()


def _conflicts_page():
    source = ("from reviewkit.ui import common\n"
              "from reviewkit.ui import conflicts_page as page\n"
              "common.sidebar()\n"
              "page.render()\n")
    return AppTest.from_string(source, default_timeout=120).run()


def test_a_lone_maybe_is_listed_to_discuss_not_as_a_conflict(two_reviewer_app):
    at = _conflicts_page()
    assert not at.exception, at.exception
    headings = [h.value for h in at.subheader]
    assert "Reviewers disagree (1)" in headings
    assert "Marked maybe: to discuss (1)" in headings
    text = [m.value for m in at.markdown]
    order = [h for h in headings if h.startswith(("Reviewers", "Marked"))]
    assert order == ["Reviewers disagree (1)", "Marked maybe: to discuss (1)"]
    assert sum("Disputed walking groups" in t for t in text) == 1
    assert sum("Undecided allotment study" in t for t in text) == 1
    assert not any("Agreed garden trial" in t for t in text)


def test_settling_the_only_conflict_leaves_the_maybe_to_discuss(two_reviewer_app):
    at = _conflicts_page()
    # the first 'Settle as include' belongs to the disagreement, listed first
    next(b for b in at.button if b.label == "Settle as include").click().run()
    assert not at.exception, at.exception
    headings = [h.value for h in at.subheader]
    assert "Reviewers disagree (0)" in headings
    assert any("No conflicts" in s.value for s in at.success)
    assert "Marked maybe: to discuss (1)" in headings
    assert any("Undecided allotment study" in m.value for m in at.markdown)

