"""The Local stories page under AppTest: the moderator's marked-up text, and a story sent again."""

from __future__ import annotations

import os

import pytest
from streamlit.testing.v1 import AppTest

from reviewkit.library import load_entries, moderate
from reviewkit.library.contributions import moderation_queue, my_stories
from reviewkit.library.story_form import (
    CONSENT_COVERS,
    CONSENT_HOW,
    StoryForm,
    place_choices,
    submit_story,
)
from reviewkit.library.visibility import Viewer
from reviewkit.store import Store
from tests.templates import copy_demo_database

STORY = ("Ask **Sheila** <b>at</b> the hall [here](http://x.example) about the lunch club. "
         "Nobody eats alone on a Wednesday now.")


@pytest.fixture
def database(tmp_path, monkeypatch):
    import streamlit as st

    url = copy_demo_database(tmp_path / "ui.sqlite")
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", url)
    st.cache_resource.clear()
    yield url
    st.cache_resource.clear()


def _find(text):
    start = text.find("Sheila")
    from reviewkit.library.anonymise import Flag

    return [Flag("name", "Sheila", start, start + 6, "A common first name.")] if start >= 0 \
        else []


def _send(url: str) -> int:
    store = Store(url)
    form = StoryForm(title="Lunch club", story=STORY, place="Old Swan",
                     topics=["Feeling lonely, making friends"], about="Older people",
                     years="2024", whose="a volunteer", how=CONSENT_HOW[0], when="2024-05-01",
                     covers=[CONSENT_COVERS[0]])
    entry_id = submit_story(store, form, actor=os.environ.get("REVIEWKIT_USER", "admin"),
                            places=place_choices(load_entries()), find=_find)
    store.close()
    return entry_id


def _page() -> AppTest:
    return AppTest.from_string(
        "from reviewkit.ui import common\n"
        "from reviewkit.ui import library_page as page\n"
        "common.sidebar()\n"
        "page.render()\n", default_timeout=120)


def test_the_moderator_sees_the_published_text_with_each_change_marked_as_text(database):
    _send(database)
    at = _page().run()
    assert not at.exception, at.exception
    shown = [m.value for m in at.markdown]
    body = next(v for v in shown if "lunch club" in v and "Wednesday" in v)
    # the change is marked: the detail struck out, the placeholder in bold, a number
    assert "~~Sheila~~ **\\[name\\]** (1)" in body
    # the storyteller's own markup is escaped, so it shows as typed, never as a link or bold
    assert "\\*\\*" in body and "\\[here\\]" in body and "**Sheila**" not in body
    assert any(v.startswith("**What changed, and why**") for v in shown)
    assert "\\(1\\) “Sheila” → \\[name\\]\\: A common first name\\." in shown


def test_a_story_sent_back_is_changed_on_the_page_and_sent_again(database):
    entry_id = _send(database)
    store = Store(database)
    moderate(store, entry_id, "send_back", actor="admin", note="Say which hall.")
    at = _page().run()
    assert not at.exception, at.exception
    box = at.text_area(key=f"resend-{entry_id}-story")
    assert box.value == STORY  # the sender's own words come back to them
    box.input(STORY + " It is the hall on the corner.").run()
    at.button(key=f"resend-{entry_id}-send").click().run()
    assert not at.exception, at.exception
    assert [s.words for s in my_stories(store, "admin")] == ["waiting"]
    (item,) = moderation_queue(store, viewer=Viewer(moderator=True))
    assert item.entry.body.endswith("It is the hall on the corner.")
    assert "Sheila" not in item.entry.body and item.sent_back_before == "Say which hall."
    store.close()
