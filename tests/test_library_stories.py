"""A resident's story from the plain form to the library and out again when consent goes."""

from __future__ import annotations

import re

import pytest
import textstat
from sqlalchemy import select

from reviewkit.accounts import PermissionDenied
from reviewkit.errors import ReviewkitError
from reviewkit.library import (
    LibraryIndex,
    Viewer,
    entries_for_codes,
    library_entries,
    load_entries,
    moderate,
    viewer_for,
)
from reviewkit.library.contributions import (
    edit_contribution,
    moderation_queue,
    my_stories,
    withdraw_consent,
)
from reviewkit.library.personal_details import find_personal_details
from reviewkit.library.reading import readable_body, readable_source
from reviewkit.library.story_form import (
    CONSENT_COVERS,
    CONSENT_HOW,
    ERRORS,
    OTHER_PLACE,
    PAGE_WORDS,
    WORDS,
    StoryForm,
    StoryFormError,
    check_story_form,
    load_story_draft,
    place_choices,
    save_story_draft,
    submit_story,
)
from reviewkit.store.schema import library_entries as library_table

PLACES = place_choices(load_entries())
STORY = ("My neighbour Sheila started a knit and natter group at the church hall after her "
         "husband died. Ring her on 07700 900412 if you want to come. Now twenty of us meet "
         "every Tuesday and nobody sits alone at home.")


def _form(**changes) -> StoryForm:
    fields = dict(title="Knitting got us out of the house", story=STORY, place="Old Swan",
                  topics=["Feeling lonely, making friends"], about="Older people",
                  years="2024", whose="a retired nurse from the estate", how=CONSENT_HOW[0],
                  when="2024-05-01", covers=[CONSENT_COVERS[0]])
    fields.update(changes)
    return StoryForm(**fields)


def _index(store) -> LibraryIndex:
    return LibraryIndex.build(library_entries(store), semantic=False)


def test_the_library_offers_its_own_places_with_their_councils():
    names = {p.name: p.council for p in PLACES}
    assert names["Old Swan"] == "Liverpool"
    assert not any(name.lower().startswith("not named") for name in names)


def test_an_empty_form_says_what_to_fix_in_plain_words_by_field():
    problems = check_story_form(StoryForm(when=""), places=PLACES)
    assert set(problems) >= {"title", "story", "place", "topics", "about", "years", "whose",
                             "how", "when"}
    for message in problems.values():
        assert not re.search(r"local_authority|population|domains|'body'|_", message)


def test_consent_must_cover_the_library_and_not_be_in_the_future():
    problems = check_story_form(_form(covers=["Quote it in reports"], when="2999-01-01"),
                                places=PLACES)
    assert problems["covers"] == ERRORS["covers_library"]
    assert problems["when"] == ERRORS["when_future"]
    other = check_story_form(_form(place=OTHER_PLACE), places=PLACES)
    assert other == {"other_place": ERRORS["other_place"]}


def test_a_story_is_sent_anonymised_with_every_field_filled_in(store):
    new_id = submit_story(store, _form(), actor="pete", places=PLACES)
    (item,) = moderation_queue(store, viewer=Viewer(moderator=True))
    entry = item.entry
    assert entry.db_id == new_id and entry.status == "pending"
    assert "Sheila" not in entry.body and "07700" not in entry.body
    assert "[name]" in entry.body and "[phone]" in entry.body
    assert entry.place == "Old Swan" and entry.local_authority == "Liverpool"
    assert entry.approaches == ("volunteering_peer_support",)
    assert entry.outcomes == ("reduced_isolation",) and entry.domains == ("social_connectivity",)
    assert entry.population == "Older people"
    assert entry.summary.startswith("My neighbour [name] started")
    assert "seed document" not in entry.source and "pete" not in entry.source
    assert {(r["original"], r["placeholder"]) for r in item.replacements} == {
        ("Sheila", "[name]"), ("07700 900412", "[phone]")}
    assert all(r["reason"] for r in item.replacements)
    assert item.contributor == "pete"
    assert item.consent["how"] == CONSENT_HOW[0] and item.consent["when"] == "2024-05-01"
    assert item.consent["review_date"] == "2025-05-01"
    assert item.consent["purposes"] == [CONSENT_COVERS[0]]
    assert [s.words for s in my_stories(store, "pete")] == ["waiting"]


def test_a_bad_form_stores_nothing(store):
    with pytest.raises(StoryFormError) as caught:
        submit_story(store, _form(title="", topics=[]), actor="pete", places=PLACES)
    assert set(caught.value.problems) == {"title", "topics"}
    assert my_stories(store, "pete") == []


def test_a_draft_is_kept_per_person(store):
    save_story_draft(store, "pete", _form(title="Half done"))
    assert load_story_draft(store, "pete").title == "Half done"
    assert load_story_draft(store, "maria") is None


def _no_find(text):
    return []


def test_send_back_and_reject_need_a_reason_the_contributor_sees(store):
    first = submit_story(store, _form(), actor="pete", places=PLACES, find=_no_find)
    second = submit_story(store, _form(title="Another one"), actor="pete", places=PLACES,
                          find=_no_find)
    with pytest.raises(ReviewkitError):
        moderate(store, first, "send_back", actor="admin")
    moderate(store, first, "send_back", actor="admin", note="Please say which year.")
    moderate(store, second, "reject", actor="admin", note="No consent form.")
    words = {s.db_id: s.words for s in my_stories(store, "pete")}
    assert words == {first: "sent back: Please say which year.",
                     second: "not published: No consent form."}


def test_a_team_lead_moderates_their_team_and_nobody_else_can(store):
    review = store.create_review("Loneliness review", actor="lead")
    store.create_review("Other review", actor="outsider")
    story = submit_story(store, _form(audience="team"), actor="lead", places=PLACES,
                         review_id=review.id, find=_no_find)
    assert [i.entry.db_id for i in moderation_queue(store, viewer=viewer_for(store, "lead"))] \
        == [story]
    assert moderation_queue(store, viewer=viewer_for(store, "outsider")) == []
    with pytest.raises(PermissionDenied):
        moderate(store, story, "publish", actor="outsider")
    moderate(store, story, "publish", actor="lead")
    assert [s.words for s in my_stories(store, "lead")] == ["published"]


def test_publishing_drops_the_originals_of_what_was_replaced(store):
    story = submit_story(store, _form(), actor="pete", places=PLACES)
    edit_contribution(store, story, actor="admin", body=STORY.replace("Sheila", "[name]")
                      .replace("07700 900412", "[phone]") + " Tea is free.")
    moderate(store, story, "publish", actor="admin")
    with store.read() as conn:
        replacements = conn.execute(select(library_table.c.replacements)).scalar()
    assert replacements and all("original" not in r for r in replacements)
    assert "Sheila" not in str(replacements)


def test_withdrawing_consent_takes_the_story_out_of_everything_at_once(store):
    story = submit_story(store, _form(), actor="pete", places=PLACES, find=_no_find)
    edit_contribution(store, story, actor="admin", body=STORY + " Knitting saved me.")
    moderate(store, story, "publish", actor="admin")
    index = _index(store)
    hits = index.search("knit and natter in Old Swan", top=5, viewer=Viewer.public())
    assert hits[0].entry.db_id == story
    paired = entries_for_codes(["volunteering_peer_support"], ["reduced_isolation"],
                               viewer=Viewer.public(), entries=library_entries(store), top=50)
    assert story in {e.db_id for e, _ in paired}
    before = store.library_version()

    with pytest.raises(PermissionDenied):
        withdraw_consent(store, story, actor="someone-else")
    withdraw_consent(store, story, actor="pete")

    assert store.library_version() > before
    with store.read() as conn:
        row = conn.execute(select(library_table)).one()
    assert row.status == "withdrawn" and row.body == "" and "Sheila" not in str(row)
    assert all(e.db_id != story for e in library_entries(store)
               if e.status in ("published", "pending"))
    index = _index(store)
    assert all(h.entry.db_id != story for h in index.search(
        "knit and natter in Old Swan", top=100, viewer=Viewer(moderator=True)))
    paired = entries_for_codes(["volunteering_peer_support"], ["reduced_isolation"],
                               viewer=Viewer(moderator=True), entries=library_entries(store),
                               top=50)
    assert story not in {e.db_id for e, _ in paired}
    lines = [a for a in store.audit_entries() if a.entity == "library_entry"]
    assert lines[0].action == "library.withdraw"
    assert "Sheila" not in str([a.details for a in lines])
    assert "knit" not in str([a.details for a in lines]).lower()
    assert [s.words for s in my_stories(store, "pete")] == ["withdrawn"]


def test_results_count_every_match_and_a_place_in_the_query_comes_first():
    index = LibraryIndex.build(load_entries(), semantic=False)
    hits, total = index.search_counted("residents", top=3, viewer=Viewer.public())
    assert len(hits) == 3 and total > 3
    parsed = index.parse("loneliness in Old Swan")
    assert parsed.places == ("old swan",) and "old" not in parsed.terms
    hits, total = index.search_counted("loneliness in Old Swan", top=5, viewer=Viewer.public())
    assert "reduced_isolation" in hits[0].entry.outcomes  # not Old Swan's air pollution
    hits, _ = index.search_counted("schools in Old Swan", top=5, viewer=Viewer.public())
    assert hits[0].entry.place == "Old Swan"
    elsewhere, _ = index.search_counted("schools", top=5, viewer=Viewer.public())
    assert elsewhere[0].entry.place != "Old Swan"
    only_place, count = index.search_counted("Old Swan", top=50, viewer=Viewer.public())
    assert count == len(only_place) and {h.entry.place for h in only_place} == {"Old Swan"}


def test_sources_and_references_read_as_titles_not_ids():
    entries = load_entries()
    titles = {e.id: e.title for e in entries}
    for entry in entries:
        shown = readable_source(entry.source) + readable_body(entry.body, titles)
        assert "seed document" not in shown
        assert not re.search(r"`[a-z0-9]+(?:-[a-z0-9]+)+`", shown), entry.id
    body = readable_body("See `nrp-old-swan-liverpool` too.", titles)
    assert body == f"See “{titles['nrp-old-swan-liverpool']}” too."


@pytest.mark.parametrize(("name", "texts"), [
    ("form words", WORDS), ("form errors", ERRORS), ("library page words", PAGE_WORDS)])
def test_the_form_its_messages_and_the_page_are_easy_to_read(name, texts):
    # "en-GB" makes textstat count syllables with Pyphen's British hyphenation dictionary;
    # plain "en" would download the CMU dictionary through NLTK at run time.
    textstat.set_lang("en-GB")
    text = " ".join(t if t.rstrip().endswith((".", "?", ":")) else t + "." for t in texts.values())
    grade = textstat.flesch_kincaid_grade(text)
    assert grade <= 6, f"{name}: grade {grade}"


def test_the_finder_keeps_the_place_the_story_is_about():
    flags = find_personal_details("We met in Old Swan, Liverpool, with Sheila.",
                                  keep=["Old Swan", "Liverpool"])
    assert [f.text for f in flags] == ["Sheila"]



def test_withdrawing_drops_the_story_from_the_vector_cache(store, tmp_path, monkeypatch):
    from reviewkit.library.search import embedding_text
    from reviewkit.library.vectors import VectorCache

    monkeypatch.setenv("REVIEWKIT_DATA_DIR", str(tmp_path))
    story = submit_story(store, _form(), actor="pete", places=PLACES, find=_no_find)
    (entry,) = [e for e in library_entries(store) if e.db_id == story]
    cache = VectorCache()
    cache.embed([embedding_text(entry), "another text"], model=_FakeModel())
    cache.save()
    withdraw_consent(store, story, actor="pete")
    after = VectorCache()
    after._load()
    assert sum(len(rows) for rows in after._rows.values()) == 1


class _FakeModel:
    """Anything with ``encode``: two numbers per text."""

    def encode(self, texts, **kwargs):
        import numpy as np

        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)
