"""Moderation sees the story as it will go out, change by change; a story sent back comes again."""

from __future__ import annotations

import pytest

from reviewkit.accounts import PermissionDenied
from reviewkit.errors import ReviewkitError
from reviewkit.library import Viewer, load_entries, moderate
from reviewkit.library.contributions import (
    edit_contribution,
    moderation_queue,
    my_stories,
    withdraw_consent,
)
from reviewkit.library.personal_details import find_personal_details
from reviewkit.library.publication_diff import changes, diff_as_text, publication_diff
from reviewkit.library.story_form import (
    CONSENT_COVERS,
    CONSENT_HOW,
    StoryForm,
    StoryFormError,
    place_choices,
    resend_story,
    submit_story,
)
from reviewkit.store.schema import audit_log, library_entries

PLACES = place_choices(load_entries())
STORY = ("My neighbour Sheila Hughes runs the lunch club at the church hall. Ring her on "
         "07700 900412 if you want a seat. Nobody eats alone on a Wednesday now.")
MODERATOR = Viewer(moderator=True)


def _form(**changes) -> StoryForm:
    fields = dict(title="The lunch club", story=STORY, place="Old Swan",
                  topics=["Feeling lonely, making friends"], about="Older people",
                  years="2024", whose="a volunteer from the club", how=CONSENT_HOW[0],
                  when="2024-05-01", covers=[CONSENT_COVERS[0]])
    fields.update(changes)
    return StoryForm(**fields)


def _find(text):
    return find_personal_details(text, keep=[p.name for p in PLACES])


def _audit(store, entry_id):
    with store.read() as conn:
        return [(r.action, r.details) for r in conn.execute(
            audit_log.select().where(audit_log.c.entity == "library_entry",
                                     audit_log.c.entity_id == str(entry_id))
            .order_by(audit_log.c.id))]


def test_the_moderator_sees_each_replacement_and_each_edit_in_the_published_text(store):
    entry_id = submit_story(store, _form(), actor="pete", places=PLACES, find=_find)
    edit_contribution(store, entry_id, actor="admin",
                      body=moderation_queue(store, viewer=MODERATOR)[0].entry.body
                      .replace("Nobody eats alone", "Nobody eats on their own"),
                      note="plainer")
    (item,) = moderation_queue(store, viewer=MODERATOR)
    assert item.sent == {"title": "The lunch club", "story": STORY}
    pieces = publication_diff(item.sent["story"], item.entry.body, item.replacements)
    # the unchanged pieces and the "after" sides put together are exactly what goes out
    assert "".join(p.after for p in pieces) == item.entry.body
    assert "".join(p.before for p in pieces) == STORY
    found = [(p.kind, p.before.strip(), p.after.strip()) for p in changes(pieces)]
    assert found == [("replaced", "Sheila Hughes", "[name]"),
                     ("replaced", "07700 900412", "[phone]"),
                     ("edited", "alone", "on their own")]
    reasons = [p.why for p in changes(pieces)]
    assert all(reasons) and "moderator" in reasons[-1]
    assert diff_as_text(pieces).startswith("My neighbour [name ← Sheila Hughes] runs")
    # publishing drops the contributor's own words along with the originals
    moderate(store, entry_id, "publish", actor="admin")
    with store.read() as conn:
        row = conn.execute(library_entries.select().where(library_entries.c.id == entry_id)
                           ).first()
    assert row.sent_text is None
    assert all("original" not in r for r in row.replacements)


def test_user_text_that_looks_like_markup_stays_text_in_the_diff():
    sent = "Call **Bob** <b>now</b> [link](http://x.example)"
    pieces = publication_diff(sent, sent.replace("Bob", "[name]"),
                              [{"original": "Bob", "placeholder": "[name]", "reason": "name"}])
    assert [(p.before, p.after) for p in changes(pieces)] == [("Bob", "[name]")]
    assert "".join(p.after for p in pieces) == sent.replace("Bob", "[name]")


def test_sent_back_story_is_changed_by_its_sender_and_comes_back_to_moderation(store):
    entry_id = submit_story(store, _form(), actor="pete", places=PLACES, find=_find)
    moderate(store, entry_id, "send_back", actor="admin", note="Please say what day it meets.")
    (mine,) = my_stories(store, "pete")
    assert mine.words == "sent back: Please say what day it meets."
    assert mine.sent["story"] == STORY  # their own words, details and all, to edit
    assert moderation_queue(store, viewer=MODERATOR) == []

    changed = mine.sent["story"] + " We meet at noon. Text Dawn Whitfield on 07911 123456."
    with pytest.raises(PermissionDenied):
        resend_story(store, entry_id, actor="someone-else", title="x", story=changed,
                     places=PLACES, find=_find)
    with pytest.raises(StoryFormError) as caught:
        resend_story(store, entry_id, actor="pete", title=" ", story=changed, places=PLACES,
                     find=_find)
    assert set(caught.value.problems) == {"title"}
    resend_story(store, entry_id, actor="pete", title="The Wednesday lunch club",
                 story=changed, places=PLACES, find=_find)

    (item,) = moderation_queue(store, viewer=MODERATOR)
    assert item.entry.db_id == entry_id and item.entry.status == "pending"
    assert item.sent_back_before == "Please say what day it meets."
    assert item.entry.title == "The Wednesday lunch club"
    assert "Dawn" not in item.entry.body and "07911" not in item.entry.body
    assert "We meet at noon." in item.entry.body
    assert {r["original"] for r in item.replacements} >= {"Sheila Hughes", "Dawn Whitfield",
                                                           "07911 123456"}
    assert [s.words for s in my_stories(store, "pete")] == ["waiting"]
    with pytest.raises(ReviewkitError):  # only a story that was sent back can be sent again
        resend_story(store, entry_id, actor="pete", title="Again", story=changed,
                     places=PLACES, find=_find)

    actions = [a for a, _ in _audit(store, entry_id)]
    assert actions == ["library.contribute", "library.send_back", "library.resend"]
    resent = _audit(store, entry_id)[-1][1]
    assert resent["personal_detail_flags"]["name"] >= 2
    assert "Dawn" not in str(resent) and "noon" not in str(resent)

    moderate(store, entry_id, "publish", actor="admin")
    assert [s.words for s in my_stories(store, "pete")] == ["published"]


def test_withdrawing_a_sent_back_story_forgets_the_senders_words(store):
    entry_id = submit_story(store, _form(), actor="pete", places=PLACES, find=_find)
    moderate(store, entry_id, "send_back", actor="admin", note="Too short.")
    withdraw_consent(store, entry_id, actor="pete")
    with store.read() as conn:
        row = conn.execute(library_entries.select().where(library_entries.c.id == entry_id)
                           ).first()
    assert row.sent_text is None and row.body == "" and "Sheila" not in str(row.replacements)
    assert my_stories(store, "pete")[0].sent is None


class _Letters:
    """A stand-in sentence model: counts of letters, enough to fill the resolver's cache."""

    name = "letters-for-withdrawal-test"

    def encode(self, texts, **_):
        import numpy as np

        return np.array([[t.lower().count(c) + 0.1 for c in "abcdefghij"] for t in texts],
                        dtype=np.float32)


def test_withdrawal_also_empties_the_approach_resolvers_cache(store):
    from reviewkit import approach_search
    from reviewkit.codebook import load_codebook
    from reviewkit.library import library_entries as all_entries

    entry_id = submit_story(store, _form(), actor="pete", places=PLACES, find=_find)
    moderate(store, entry_id, "publish", actor="admin")
    story = next(e for e in all_entries(store) if e.db_id == entry_id)
    approach_search.build_approach_index(load_codebook(), entries=[story], model=_Letters())
    cached = {text for _, text in approach_search._VECTORS}
    assert any(text.startswith("The lunch club.") for text in cached)
    withdraw_consent(store, entry_id, actor="pete")
    cached = {text for _, text in approach_search._VECTORS}
    assert not any("lunch club" in text.lower() and "[name]" in text for text in cached)
