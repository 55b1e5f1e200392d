"""Contributed entries: checked whole, stored pending with consent, moderated, audited."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from reviewkit.errors import NotFoundError, ReviewkitError
from reviewkit.library import (
    Consent,
    ContributionError,
    LibraryIndex,
    Viewer,
    add_contribution,
    library_entries,
    moderate,
    pending_contributions,
    stored_entries,
    viewer_for,
)
from reviewkit.store.schema import library_entries as library_table

FORM = {
    "title": "Knit and natter in Anytown",
    "type": "lived-experience story",
    "place": "Anytown",
    "local_authority": "Halton",
    "years": "2024",
    "approaches": ["volunteering_peer_support"],
    "outcomes": ["reduced_isolation"],
    "domains": ["social_connectivity"],
    "population": "Older residents who live alone",
    "summary": "A weekly knitting group helps people who live alone meet others.",
    "attribution": "Group member, Anytown",
    "visibility": "public",
}
BODY = "## What happened\n\nA weekly group meets in the library to knit and chat about zither."
CONSENT = Consent(who="Group member", when=date(2024, 5, 1),
                  purposes=["publish in the library"], given_by="the member, signed form")


def _count(store) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(library_table)).scalar()


def test_a_contribution_is_stored_pending_with_its_consent(store):
    new_id = add_contribution(store, front_matter=FORM, body=BODY, consent=CONSENT,
                              actor="facilitator")
    (entry,) = stored_entries(store)
    assert entry.db_id == new_id
    assert entry.id == "knit-and-natter-in-anytown"
    assert entry.status == "pending" and entry.consent == "consent recorded"
    assert entry.source == "Contributed to reviewkit by facilitator"
    with store.read() as conn:
        consent = conn.execute(select(library_table.c.consent)).scalar()
    assert consent["who"] == "Group member" and consent["when"] == "2024-05-01"
    assert consent["purposes"] == ["publish in the library"]
    assert consent["recorded_by"] == "facilitator"
    (audit,) = [a for a in store.audit_entries() if a.action == "library.contribute"]
    assert audit.actor == "facilitator" and audit.entity_id == str(new_id)


def test_a_contribution_cannot_publish_itself(store):
    add_contribution(store, front_matter=dict(FORM, status="published"), body=BODY,
                     consent=CONSENT, actor="facilitator")
    assert [e.status for e in stored_entries(store)] == ["pending"]


def test_a_half_filled_form_lists_everything_missing_and_stores_nothing(store):
    half = {"title": "Half a story", "type": "story", "approaches": ["volunteering"]}
    with pytest.raises(ContributionError) as raised:
        add_contribution(store, front_matter=half, body="  ",
                         consent=Consent(who="", when="someday", purposes=[], given_by=""),
                         actor="facilitator")
    problems = "\n".join(raised.value.problems)
    for field in ("place", "local_authority", "years", "outcomes", "domains", "population",
                  "summary", "attribution", "visibility"):
        assert f"'{field}' is missing" in problems
    assert "'type' is 'story'" in problems
    assert "'approaches' has 'volunteering'" in problems
    assert "'body' is missing" in problems
    assert "whose account" in problems and "who gave consent" in problems
    assert "what the consent covers" in problems and "YYYY-MM-DD" in problems
    assert _count(store) == 0
    assert not [a for a in store.audit_entries() if a.action.startswith("library.")]


def test_consent_dated_in_the_future_is_refused(store):
    later = Consent(who="x", when=date.today() + timedelta(days=3), purposes=["library"],
                    given_by="x")
    with pytest.raises(ContributionError, match="in the future"):
        add_contribution(store, front_matter=FORM, body=BODY, consent=later, actor="a")


def test_a_team_entry_needs_an_existing_team(store):
    with pytest.raises(ContributionError, match="which review team"):
        add_contribution(store, front_matter=dict(FORM, visibility="team"), body=BODY,
                         consent=CONSENT, actor="a")
    with pytest.raises(ContributionError, match="no review with id 999"):
        add_contribution(store, front_matter=dict(FORM, visibility="team"), body=BODY,
                         consent=CONSENT, actor="a", review_id=999)
    assert _count(store) == 0


def test_slugs_never_clash(store, tmp_path):
    (tmp_path / "knit-and-natter-in-anytown.md").write_text("taken", encoding="utf-8")
    first = add_contribution(store, front_matter=FORM, body=BODY, consent=CONSENT, actor="a",
                             folder=tmp_path)
    second = add_contribution(store, front_matter=FORM, body=BODY, consent=CONSENT, actor="a",
                              folder=tmp_path)
    slugs = {e.db_id: e.id for e in stored_entries(store)}
    assert slugs == {first: "knit-and-natter-in-anytown-2",
                     second: "knit-and-natter-in-anytown-3"}


def test_personal_details_are_counted_in_the_audit_but_never_copied(store):
    body = BODY + " My name is Doreen Walsh, ring 07700 900123."
    add_contribution(store, front_matter=FORM, body=body, consent=CONSENT, actor="a")
    (audit,) = [a for a in store.audit_entries() if a.action == "library.contribute"]
    assert audit.details["personal_detail_flags"] == {"name": 1, "phone": 1}
    assert "Doreen" not in str(audit.details)


def _search_ids(store, viewer):
    index = LibraryIndex.build(library_entries(store), semantic=False)
    return {hit.entry.id for hit in index.search("zither knit natter", top=100, viewer=viewer)}


def test_moderation_publishes_to_the_right_viewers(store):
    new_id = add_contribution(store, front_matter=FORM, body=BODY, consent=CONSENT,
                              actor="facilitator")
    slug = "knit-and-natter-in-anytown"
    assert slug not in _search_ids(store, Viewer.public())
    assert slug in _search_ids(store, Viewer(moderator=True))
    assert [e.id for e in pending_contributions(store, viewer=Viewer(moderator=True))] == [slug]
    assert pending_contributions(store, viewer=Viewer.public()) == []

    published = moderate(store, new_id, "publish", actor="admin", note="consent checked")
    assert published.status == "published"
    assert slug in _search_ids(store, Viewer.public())
    (audit,) = [a for a in store.audit_entries() if a.action == "library.publish"]
    assert audit.actor == "admin" and audit.details["note"] == "consent checked"
    with pytest.raises(ReviewkitError, match="already published"):
        moderate(store, new_id, "reject", actor="admin")


def test_a_rejected_contribution_shows_to_nobody(store):
    new_id = add_contribution(store, front_matter=FORM, body=BODY, consent=CONSENT, actor="a")
    moderate(store, new_id, "reject", actor="admin", note="no consent form")
    assert "knit-and-natter-in-anytown" not in _search_ids(store, Viewer(moderator=True))
    assert stored_entries(store) == []
    actions = [a.action for a in store.audit_entries() if a.action.startswith("library.")]
    assert actions == ["library.reject", "library.contribute"]


def test_moderation_checks_its_input(store):
    with pytest.raises(ReviewkitError, match="'publish', 'send_back' or 'reject'"):
        moderate(store, 1, "approve", actor="admin")
    with pytest.raises(NotFoundError):
        moderate(store, 12345, "publish", actor="admin")


def test_a_published_team_entry_shows_to_its_team_only(store):
    review = store.create_review("Loneliness review", actor="lead")
    store.create_review("Other review", actor="outsider")
    new_id = add_contribution(store, front_matter=dict(FORM, visibility="team"), body=BODY,
                              consent=CONSENT, actor="lead", review_id=review.id)
    moderate(store, new_id, "publish", actor="lead")
    team = viewer_for(store, "lead")
    assert review.id in team.team_review_ids
    slug = "knit-and-natter-in-anytown"
    assert slug in _search_ids(store, team)
    assert slug not in _search_ids(store, viewer_for(store, "outsider"))
    assert slug not in _search_ids(store, Viewer.public())
    assert slug not in _search_ids(store, Viewer(moderator=True))


def test_viewer_for_an_unknown_user_is_the_public(store):
    assert viewer_for(store, "nobody") == Viewer.public()
    store.ensure_user("admin")
    assert viewer_for(store, "admin").moderator


def test_every_library_change_reaches_a_second_running_app(database_url):
    """App A caches its index by the stored library version; changes made by app B reach it."""
    from reviewkit.library.contributions import edit_contribution
    from reviewkit.store import Store
    from reviewkit.trash import delete_story, restore_story

    app_a, app_b = Store(database_url), Store(database_url)
    cache: dict[int, set[str]] = {}

    def public_ids_seen_by_a() -> set[str]:
        version = app_a.library_version()
        if version not in cache:
            cache[version] = _search_ids(app_a, Viewer.public())
        return cache[version]

    try:
        slug = "knit-and-natter-in-anytown"
        assert slug not in public_ids_seen_by_a()
        new_id = add_contribution(app_b, front_matter=FORM, body=BODY, consent=CONSENT,
                                  actor="facilitator")
        moderate(app_b, new_id, "publish", actor="admin")
        assert slug in public_ids_seen_by_a()
        delete_story(app_b, new_id, actor="admin")
        assert slug not in public_ids_seen_by_a()
        restore_story(app_b, new_id, actor="admin")
        assert slug in public_ids_seen_by_a()
        before = app_a.library_version()
        edit_contribution(app_b, new_id, actor="admin", body=BODY + " Now with tea.")
        assert app_a.library_version() > before
    finally:
        app_a.close()
        app_b.close()
