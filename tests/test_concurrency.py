"""Many reviewers at once: nothing lost, nothing handed out twice, conflicts only when unblinded.

Each simulated reviewer opens the database on its own (as a separate browser session or
process would) and screens the same review at the same time as the others, on a SQLite file
and on a real PostgreSQL server started by the test session.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
import types
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor

import pytest
from sqlalchemy import func, select

from reviewkit.records import Record
from reviewkit.screening.agreement import (
    conflicts_visible,
    is_blinded,
    record_statuses,
    set_blinded,
    visible_decisions,
)
from reviewkit.screening.queue import next_for, to_screen, undo_for
from reviewkit.store import Store
from reviewkit.store.schema import decisions

TA = "title_abstract"
RECORDS = 40
REVIEW = "Screened by a team"


def _team_review(url: str, reviewers: list[str], *, split: bool, required: int,
                 records: int = RECORDS) -> list[int]:
    """A review of ``records`` titles and the reviewers' accounts; returns the record ids."""
    store = Store(url)
    try:
        for name in reviewers:
            store.ensure_user(name)
        review = store.create_review(REVIEW, settings={
            "split_screening": split, "reviewers_required": required})
        store.add_import(review.id, [Record(title=f"Community resilience study {i}")
                                     for i in range(records)],
                         filename="team.ris", format="ris", sha256="c" * 64, size_bytes=1)
        return store.kept_record_ids(review.id)
    finally:
        store.close()


def _call_for(record_id: int) -> str:
    return "include" if record_id % 3 == 0 else "exclude"


def screen_until_done(url: str, reviewer: str, deadline_s: float = 120.0) -> list[int]:
    """One reviewer's session: take the next record, decide it, until nothing is left.

    Returns the records this reviewer was given, in order.
    """
    store = Store(url)
    given: list[int] = []
    try:
        review = store.get_review(REVIEW)
        ids = store.kept_record_ids(review.id)
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            pending = to_screen(store, review, TA, reviewer)
            if not pending:
                return given
            current = next_for(store, review, TA, reviewer, pending, ranked=ids)
            if current is None:  # the rest is with other reviewers just now
                time.sleep(0.01)
                continue
            given.append(current)
            store.add_decision(current, stage=TA, decision=_call_for(current), reviewer=reviewer)
        raise AssertionError(f"{reviewer} was still screening after {deadline_s} s")
    finally:
        store.close()


def _at_once(tabs: int, work) -> list[BaseException]:
    """Run ``work(tab)`` in ``tabs`` threads released together; return what they raised."""
    start, failures = threading.Barrier(tabs), []

    def run(tab: int) -> None:
        try:
            start.wait()
            work(tab)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(tab,)) for tab in range(tabs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def _in_threads(url: str, reviewers: list[str]) -> dict[str, list[int]]:
    given: dict[str, list[int]] = {}

    def run(tab: int) -> None:
        given[reviewers[tab]] = screen_until_done(url, reviewers[tab])

    failures = _at_once(len(reviewers), run)
    if failures:
        raise failures[0]
    return given


def _decision_rows(store: Store, review_id: int) -> list:
    with store.read() as conn:
        return list(conn.execute(select(decisions).where(decisions.c.review_id == review_id)
                                 .order_by(decisions.c.id)))


def _standing_doubles(store: Store, review_id: int) -> list:
    d = decisions
    with store.read() as conn:
        return list(conn.execute(
            select(d.c.record_id, d.c.stage, d.c.reviewer_id, d.c.kind, func.count())
            .where(d.c.review_id == review_id, d.c.superseded_at.is_(None))
            .group_by(d.c.record_id, d.c.stage, d.c.reviewer_id, d.c.kind)
            .having(func.count() > 1)))


def _check_audit_agrees(store: Store, review_id: int, rows: list) -> None:
    added = [e for e in store.audit_entries(review_id) if e.action == "decision.add"]
    assert len(added) == len(rows)
    assert sorted(e.details["decision_id"] for e in added) == sorted(r.id for r in rows)


def _check_one_holder_at_a_time(store: Store, review_id: int) -> None:
    """From the audit trail: a record is handed out again only after the last holder answered."""
    holder: dict[str, str | None] = defaultdict(lambda: None)
    for entry in reversed(store.audit_entries(review_id)):  # oldest first
        if entry.action == "screening.claim":
            assert holder[entry.entity_id] is None, \
                f"record {entry.entity_id} handed to {entry.actor} while {holder[entry.entity_id]} held it"
            holder[entry.entity_id] = entry.actor
        elif entry.action == "decision.add" and holder[entry.entity_id] == entry.actor:
            holder[entry.entity_id] = None


def _check_split_outcome(url: str, given: dict[str, list[int]], ids: list[int]) -> None:
    handed = Counter(rid for records in given.values() for rid in records)
    assert sorted(handed) == sorted(ids)
    assert set(handed.values()) == {1}, "a record was handed to two reviewers"
    store = Store(url)
    try:
        review = store.get_review(REVIEW)
        rows = _decision_rows(store, review.id)
        assert sorted(r.record_id for r in rows) == sorted(ids)  # each exactly once
        assert all(r.superseded_at is None for r in rows)
        assert _standing_doubles(store, review.id) == []
        for name, records in given.items():
            reviewer_id = store.get_user(name).id
            assert sorted(r.record_id for r in rows if r.reviewer_id == reviewer_id) == sorted(records)
            assert all(r.decision == _call_for(r.record_id) for r in rows)
        _check_audit_agrees(store, review.id, rows)
        claims = Counter(e.entity_id for e in store.audit_entries(review.id)
                         if e.action == "screening.claim")
        assert claims == Counter({str(rid): 1 for rid in ids})
        assert store.hand_outs(review.id, TA, live_only=False) == []  # every hand-out answered
    finally:
        store.close()


@pytest.mark.parametrize("reviewers", [2, 5])
def test_split_screening_threads_never_share_a_record(database_url, reviewers):
    names = [f"reviewer{i}" for i in range(1, reviewers + 1)]
    ids = _team_review(database_url, names, split=True, required=1)
    given = _in_threads(database_url, names)
    _check_split_outcome(database_url, given, ids)


def test_split_screening_processes_never_share_a_record(database_url, monkeypatch):
    names = ["ana", "ben", "cai"]
    ids = _team_review(database_url, names, split=True, required=1)
    # A spawned process first reruns the parent's __main__ script. Under pytest that can be a
    # page script an AppTest left there (it runs pages as __main__), which fails in the child;
    # multiprocessing.Pool would then start workers for ever. The workers need no __main__, and
    # ProcessPoolExecutor fails at once (BrokenProcessPool) if one dies anyway.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    with ProcessPoolExecutor(len(names), mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(screen_until_done, [database_url] * len(names), names,
                                timeout=600))
    _check_split_outcome(database_url, dict(zip(names, results)), ids)


def test_dual_screening_keeps_both_votes_on_every_record(database_url):
    names = ["ana", "ben"]
    ids = _team_review(database_url, names, split=False, required=2)
    given = _in_threads(database_url, names)
    assert {name: sorted(records) for name, records in given.items()} == \
        {name: sorted(ids) for name in names}
    store = Store(database_url)
    try:
        review = store.get_review(REVIEW)
        rows = _decision_rows(store, review.id)
        votes = Counter((r.record_id, r.reviewer_id) for r in rows)
        assert len(votes) == 2 * len(ids) and set(votes.values()) == {1}
        assert _standing_doubles(store, review.id) == []
        _check_audit_agrees(store, review.id, rows)
        statuses = record_statuses(store.current_decisions(review.id, stage=TA), ids,
                                   reviewers_required=2)
        assert {s.state for s in statuses.values()} == {"decided"}
    finally:
        store.close()


def test_split_dual_screening_hands_each_record_to_two_reviewers_in_turn(database_url):
    names = [f"reviewer{i}" for i in range(1, 5)]
    ids = _team_review(database_url, names, split=True, required=2, records=24)
    given = _in_threads(database_url, names)
    for records in given.values():
        assert len(records) == len(set(records))  # nobody is given a record twice
    store = Store(database_url)
    try:
        review = store.get_review(REVIEW)
        rows = _decision_rows(store, review.id)
        per_record = Counter(r.record_id for r in rows)
        assert per_record == Counter({rid: 2 for rid in ids})
        assert len({(r.record_id, r.reviewer_id) for r in rows}) == len(rows)
        assert _standing_doubles(store, review.id) == []
        _check_audit_agrees(store, review.id, rows)
        _check_one_holder_at_a_time(store, review.id)
    finally:
        store.close()


def test_two_tabs_saving_the_same_record_at_once_keep_one_standing(database_url):
    tabs, rounds = 6, 8
    ids = _team_review(database_url, ["ana"], split=False, required=1, records=rounds)
    stores = [Store(database_url) for _ in range(tabs)]
    try:
        for record_id in ids:

            def save(tab: int, record_id: int = record_id) -> None:
                stores[tab].add_decision(record_id, stage=TA, reviewer="ana",
                                         decision=("include", "exclude", "maybe")[tab % 3],
                                         note=f"tab {tab}")

            assert _at_once(tabs, save) == []
        review = stores[0].get_review(REVIEW)
        rows = _decision_rows(stores[0], review.id)
        for record_id in ids:
            mine = [r for r in rows if r.record_id == record_id]
            assert sorted(r.note for r in mine) == sorted(f"tab {t}" for t in range(tabs))
            standing = [r for r in mine if r.superseded_at is None]
            assert len(standing) == 1
            # the one left standing is the last one saved; all earlier ones were superseded
            assert standing[0].id == max(r.id for r in mine)
        assert _standing_doubles(stores[0], review.id) == []
        _check_audit_agrees(stores[0], review.id, rows)
    finally:
        for opened in stores:
            opened.close()


def test_two_tabs_undoing_at_once_withdraw_two_decisions(database_url):
    [record_id] = _team_review(database_url, ["ana"], split=False, required=1, records=1)
    store = Store(database_url)
    other = Store(database_url)
    try:
        for call in ("include", "exclude", "maybe"):
            store.add_decision(record_id, stage=TA, decision=call, reviewer="ana")
        results = []

        def undo(tab: int) -> None:
            opened = (store, other)[tab]
            results.append(opened.undo_decision(record_id, stage=TA, reviewer="ana"))

        assert _at_once(2, undo) == []
        assert sorted(r.decision for r in results) == ["exclude", "include"]
        review = store.get_review(REVIEW)
        [standing] = store.current_decisions(review.id, stage=TA)
        assert standing.decision == "include"
        undone = [e for e in store.audit_entries(review.id) if e.action == "decision.undo"]
        assert sorted(e.details["withdrawn"] for e in undone) == ["exclude", "maybe"]
    finally:
        store.close()
        other.close()


def test_a_lapsed_hand_out_goes_to_the_next_reviewer(store):
    review = store.create_review("Lapses", settings={"split_screening": True})
    store.add_import(review.id, [Record(title=f"t{i}") for i in range(3)], filename="l.ris",
                     format="ris", sha256="d" * 64, size_bytes=1)
    ids = store.kept_record_ids(review.id)
    assert store.claim_next(review.id, TA, "ana", ids) == ids[0]
    assert store.claim_next(review.id, TA, "ana", ids[::-1]) == ids[0]  # her own comes back
    assert store.claim_next(review.id, TA, "ben", ids) == ids[1]
    assert store.claim_next(review.id, TA, "cai", ids[:2]) is None  # both held
    assert store.release(review.id, TA, "ben") == 1
    assert store.claim_next(review.id, TA, "cai", ids[:2], lease_minutes=0) == ids[1]
    # cai's hand-out lapsed at once: ben may take it over
    assert store.claim_next(review.id, TA, "ben", ids[:2]) == ids[1]
    held = {h.record_id: h.reviewer for h in store.hand_outs(review.id, TA)}
    assert held == {ids[0]: "ana", ids[1]: "ben"}
    store.add_decision(ids[0], stage=TA, decision="include", reviewer="ana")
    assert ids[0] not in {h.record_id for h in store.hand_outs(review.id, TA)}
    assert store.claim_next(review.id, TA, "cai", ids[:1]) is None  # already decided


def test_blinded_reviewers_see_no_conflicts_until_the_lead_unblinds(store):
    review = store.create_review("Blinded", actor="lead", settings={"reviewers_required": 2})
    store.add_import(review.id, [Record(title="A disputed study")], actor="lead",
                     filename="b.ris", format="ris", sha256="e" * 64, size_bytes=1)
    [rid] = store.kept_record_ids(review.id)
    store.add_decision(rid, stage=TA, decision="include", reviewer="ana")
    store.add_decision(rid, stage=TA, decision="exclude", reviewer="ben")
    votes = store.current_decisions(review.id, stage=TA)
    assert record_statuses(votes, [rid], reviewers_required=2)[rid].state == "conflict"

    assert is_blinded(review)
    assert not conflicts_visible(store, review, "ana")
    assert [(d.reviewer, d.decision) for d in visible_decisions(store, review, votes, "ana")] \
        == [("ana", "include")]
    assert conflicts_visible(store, review, "lead")  # the review's lead
    store.ensure_user("admin")
    assert conflicts_visible(store, review, "admin")  # an admin of the whole install
    assert len(visible_decisions(store, review, votes, "lead")) == 2

    unblinded = set_blinded(store, review, False, actor="lead")
    assert not is_blinded(unblinded)
    assert conflicts_visible(store, unblinded, "ana")
    assert len(visible_decisions(store, unblinded, votes, "ben")) == 2
    change = next(e for e in store.audit_entries(review.id) if e.action == "review.update")
    assert change.actor == "lead" and change.details["settings"]["new"]["blind"] is False


def test_single_reviewer_reviews_are_not_blinded(store):
    review = store.create_review("Alone")
    assert not is_blinded(review)
    assert conflicts_visible(store, review, "ana")


# -- the pages, under Streamlit's AppTest ---------------------------------------------------


@pytest.fixture
def team_app(tmp_path, monkeypatch):
    """A database with one blinded, split review that ana and ben disagree on; led by 'lead'."""
    import streamlit as st

    url = f"sqlite:///{tmp_path / 'team.sqlite'}"
    store = Store(url)
    review = store.create_review("Team review", actor="lead", settings={
        "reviewers_required": 2, "split_screening": True})
    store.add_import(review.id, [Record(title=f"Neighbourhood study {i}") for i in range(4)],
                     actor="lead", filename="t.ris", format="ris", sha256="f" * 64, size_bytes=1)
    disputed = store.kept_record_ids(review.id)[0]
    store.add_decision(disputed, stage=TA, decision="include", reviewer="ana")
    store.add_decision(disputed, stage=TA, decision="exclude", reviewer="ben")
    store.close()
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", url)
    monkeypatch.setenv("REVIEWKIT_NO_DEMO", "1")
    st.cache_resource.clear()
    yield url
    st.cache_resource.clear()


def _page_as(monkeypatch, user: str, module_name: str):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("REVIEWKIT_USER", user)
    st.cache_resource.clear()
    source = ("from reviewkit.ui import common\n"
              f"from reviewkit.ui import {module_name} as page\n"
              "common.sidebar()\n"
              "page.render()\n")
    return AppTest.from_string(source, default_timeout=120).run()


def test_conflicts_page_is_blinded_until_the_lead_unblinds(team_app, monkeypatch):
    blinded = "The review is blinded: conflicts appear when the lead unblinds it."
    at = _page_as(monkeypatch, "ana", "conflicts_page")
    assert not at.exception, at.exception
    assert [i.value for i in at.info] == [blinded]
    assert not [b for b in at.button if b.label.startswith("Settle")]

    at = _page_as(monkeypatch, "lead", "conflicts_page")
    assert not at.exception, at.exception
    assert any(h.value == "Reviewers disagree (1)" for h in at.subheader)
    next(b for b in at.button if b.label == "Unblind the review").click().run()
    assert not at.exception, at.exception
    assert not any(b.label == "Unblind the review" for b in at.button)

    at = _page_as(monkeypatch, "ana", "conflicts_page")
    assert blinded not in [i.value for i in at.info]
    assert any(h.value == "Reviewers disagree (1)" for h in at.subheader)


def test_screening_page_hands_out_records_when_split(team_app, monkeypatch):
    at = _page_as(monkeypatch, "cai", "screening_page")
    assert not at.exception, at.exception
    assert any("Screening is split between 4 reviewers" in c.value for c in at.caption)
    store = Store(team_app)
    try:
        review = store.get_review("Team review")
        [held] = store.hand_outs(review.id, TA)
        assert held.reviewer == "cai"
        assert at.subheader[0].value == store.get_record(held.record_id).record.title
        next(b for b in at.button if b.label == "Include").click().run()
        assert not at.exception, at.exception
        [vote] = [d for d in store.current_decisions(review.id, stage=TA) if d.reviewer == "cai"]
        assert vote.record_id == held.record_id
        [now_held] = store.hand_outs(review.id, TA)
        assert now_held.reviewer == "cai" and now_held.record_id != held.record_id
        # undo: the first record is back on screen and handed to cai again, not to anyone else
        next(b for b in at.button if b.label == "Undo").click().run()
        assert not at.exception, at.exception
        assert at.subheader[0].value == store.get_record(held.record_id).record.title
        mine = {h.record_id for h in store.hand_outs(review.id, TA) if h.reviewer == "cai"}
        assert mine == {held.record_id, now_held.record_id}
        assert not [d for d in store.current_decisions(review.id, stage=TA) if d.reviewer == "cai"]
    finally:
        store.close()


def test_undo_under_split_screening_hands_the_record_back_in_the_same_step(database_url):
    ids = _team_review(database_url, ["ana", "ben"], split=True, required=1, records=3)
    store = Store(database_url)
    try:
        review = store.get_review(REVIEW)
        first = next_for(store, review, TA, "ana", to_screen(store, review, TA, "ana"), ranked=ids)
        assert first == ids[0]
        store.add_decision(first, stage=TA, decision="exclude", reviewer="ana")
        assert not store.hand_outs(review.id, TA)  # the answer ended the hand-out
        assert undo_for(store, review, TA, "ana", first)
        assert [(h.record_id, h.reviewer) for h in store.hand_outs(review.id, TA)] == [
            (first, "ana")]
        # ben, asking next with the same ranking, is given the second record, not the first
        pending = to_screen(store, review, TA, "ben")
        assert first in pending
        assert next_for(store, review, TA, "ben", pending, ranked=ids) == ids[1]
        claims = [e for e in store.audit_entries(review.id) if e.action == "screening.claim"
                  and e.details.get("after_undo")]
        assert [(c.actor, c.entity_id) for c in claims] == [("ana", str(first))]
        # an undo that restores an earlier call leaves the record answered: nothing handed out
        store.add_decision(first, stage=TA, decision="exclude", reviewer="ana")
        store.add_decision(first, stage=TA, decision="include", reviewer="ana")
        assert undo_for(store, review, TA, "ana", first)
        assert first not in {h.record_id for h in store.hand_outs(review.id, TA)}
    finally:
        store.close()


def test_undo_leaves_a_record_with_the_reviewer_who_holds_it_now(database_url):
    """Two votes per record: after ana's vote ben is handed the record; ana's undo is kept,
    but the record stays with ben."""
    ids = _team_review(database_url, ["ana", "ben"], split=True, required=2, records=2)
    store = Store(database_url)
    try:
        review = store.get_review(REVIEW)
        assert next_for(store, review, TA, "ana", {ids[0]}, ranked=ids) == ids[0]
        store.add_decision(ids[0], stage=TA, decision="include", reviewer="ana")
        assert next_for(store, review, TA, "ben", {ids[0]}, ranked=ids) == ids[0]
        assert not undo_for(store, review, TA, "ana", ids[0])
        assert not [d for d in store.current_decisions(review.id, stage=TA) if d.reviewer == "ana"]
        assert [(h.record_id, h.reviewer) for h in store.hand_outs(review.id, TA)] == [
            (ids[0], "ben")]
        # without split screening an undo simply shows the record again
        store.update_review(review.id, actor="ana", settings_update={"split_screening": False})
        store.add_decision(ids[1], stage=TA, decision="include", reviewer="ana")
        assert undo_for(store, review, TA, "ana", ids[1])
        assert [h.record_id for h in store.hand_outs(review.id, TA)] == [ids[0]]
    finally:
        store.close()


def test_settings_changed_at_once_by_several_people_are_all_kept(database_url):
    """Each tab changes a different setting at the same moment; no change overwrites another."""
    tabs, rounds = 6, 5
    _team_review(database_url, ["ana"], split=False, required=2, records=1)
    stores = [Store(database_url) for _ in range(tabs)]
    try:
        review = stores[0].get_review(REVIEW)
        for round_no in range(rounds):

            def change(tab: int, round_no: int = round_no) -> None:
                if tab == 0:
                    set_blinded(stores[tab], review, round_no % 2 == 0, actor="ana")
                else:
                    stores[tab].update_review(review.id, actor="ana",
                                              settings_update={f"tab_{tab}": round_no})

            assert _at_once(tabs, change) == []
            settings = stores[0].review_by_id(review.id).settings
            assert {f"tab_{t}": settings.get(f"tab_{t}") for t in range(1, tabs)} == {
                f"tab_{t}": round_no for t in range(1, tabs)}
            assert settings["blind"] is (round_no % 2 == 0)
            assert settings["reviewers_required"] == 2  # set before, touched by nobody
        updates = [e for e in stores[0].audit_entries(review.id) if e.action == "review.update"]
        assert len(updates) >= tabs * rounds
    finally:
        for opened in stores:
            opened.close()


def test_library_changes_at_once_each_move_the_stored_version(database_url):
    """Library edits committed together never share a version number (no lost update), so an
    app that cached the index between them still sees the later change."""
    from datetime import date

    from reviewkit.library import Consent, add_contribution
    from reviewkit.library.contributions import edit_contribution

    tabs, rounds = 5, 3
    stores = [Store(database_url) for _ in range(tabs)]
    try:
        consent = Consent(who="A resident", when=date(2024, 5, 1), purposes=["publish"],
                          given_by="signed form")
        ids = [add_contribution(stores[0], front_matter={
            "title": f"Story {n}", "type": "case study", "place": "Anytown",
            "local_authority": "Halton", "years": "2024", "summary": "A story.",
            "attribution": "A resident", "visibility": "public",
            "approaches": ["volunteering_peer_support"], "outcomes": ["reduced_isolation"],
            "domains": ["social_connectivity"], "population": "Residents"}, body="What happened.", consent=consent, actor="admin")
            for n in range(tabs)]
        for round_no in range(rounds):
            before = stores[0].library_version()

            def edit(tab: int, round_no: int = round_no) -> None:
                edit_contribution(stores[tab], ids[tab], actor="admin",
                                  body=f"What happened, take {round_no}.")

            assert _at_once(tabs, edit) == []
            assert stores[0].library_version() == before + tabs
    finally:
        for opened in stores:
            opened.close()


def test_two_admins_demoting_each_other_at_once_leave_one_admin(database_url):
    """Each of the two last admins demotes the other at the same moment, again and again: one
    demotion is refused every time, so an admin who can log in always remains."""
    from reviewkit import accounts
    from reviewkit.errors import ReviewkitError
    from reviewkit.store.schema import users

    setup = Store(database_url)
    for name in ("ada", "bob"):
        accounts.create_user(setup, name, role="admin", password=f"{name}-password-1",
                             actor="admin")
    accounts.set_accounts(setup, True, actor="ada")
    stores = [Store(database_url) for _ in range(2)]
    pairs = [("ada", "bob"), ("bob", "ada")]
    try:
        for _ in range(11):
            with setup.write() as conn:
                conn.execute(users.update().where(users.c.username.in_(["ada", "bob"]))
                             .values(role="admin"))
            failures = _at_once(2, lambda tab: accounts.set_role(
                stores[tab], pairs[tab][1], "researcher", actor=pairs[tab][0]))
            admins = [u.username for u, has_password, off in accounts.list_users(setup)
                      if u.role == "admin" and has_password and not off]
            assert len(admins) == 1, admins
            assert len(failures) == 1 and isinstance(failures[0], ReviewkitError), failures
    finally:
        for opened in [setup, *stores]:
            opened.close()


def test_the_same_file_imported_twice_at_once_is_stored_once(database_url):
    from reviewkit.errors import DuplicateImportError
    from reviewkit.importing import import_file
    from reviewkit.trash import delete_import

    data = "".join(f"TY  - JOUR\nTI  - Neighbourhood study {i}\nER  - \n\n"
                   for i in range(30)).encode()
    stores = [Store(database_url) for _ in range(3)]
    try:
        review = stores[0].create_review("Imported at once")
        for _ in range(6):
            failures = _at_once(3, lambda tab: import_file(stores[tab], review, data,
                                                           "scopus.ris", actor="admin"))
            live = stores[0].list_batches(review.id)
            assert len(live) == 1, live
            assert len(failures) == 2 and all(isinstance(f, DuplicateImportError)
                                              for f in failures), failures
            assert stores[0].count_records(review.id) == 30
            delete_import(stores[0], live[0].id, actor="admin")
    finally:
        for opened in stores:
            opened.close()


def _twin_review(store: Store, name: str, twins: int = 6) -> list[tuple[int, int]]:
    """A review of ``twins`` pairs of identical records; returns the pairs' ids."""
    review = store.create_review(name)
    titles = [f"Community gardens and loneliness in older adults, cohort {i}"
              for i in range(twins)]
    store.add_import(review.id, [Record(title=t, year=2020, doi=f"10.1/x{i}",
                                        authors=["Smith, J."]) for i, t in enumerate(titles)],
                     filename="a.ris", format="ris", sha256="a" * 64, size_bytes=1)
    store.add_import(review.id, [Record(title=t, year=2020, doi=f"10.1/x{i}",
                                        authors=["Smith, J."]) for i, t in enumerate(titles)],
                     filename="b.ris", format="ris", sha256="b" * 64, size_bytes=1)
    ids = store.kept_record_ids(review.id)
    return list(zip(ids[:twins], ids[twins:], strict=True))


def test_a_record_decided_after_dedup_looked_is_not_merged_away(database_url):
    """The interleaving itself: dedup reads who is screened, a decision lands, dedup writes."""
    store = Store(database_url)
    try:
        (first, second), *_ = _twin_review(store, "Decided meanwhile", twins=1)
        review = store.get_review("Decided meanwhile")
        assert store.records_with_decisions(review.id) == set()  # what dedup saw
        store.add_decision(second, stage=TA, decision="include", reviewer="ana")
        made = store.save_duplicates(review.id, merges={second: first}, pairs=[], actor="ana")
        assert made == {}
        assert store.get_record(second).duplicate_of is None
    finally:
        store.close()


def test_decisions_saved_while_dedup_merges_never_lose_a_screened_record(database_url):
    from reviewkit.review_dedup import deduplicate_review

    stores = [Store(database_url) for _ in range(2)]
    try:
        for round_no in range(4):
            twins = _twin_review(stores[0], f"Race {round_no}")
            review = stores[0].get_review(f"Race {round_no}")

            def work(tab: int, review=review, twins=twins) -> None:
                if tab == 0:
                    deduplicate_review(stores[0], review, actor="ana")
                else:
                    for _, second in twins:
                        stores[1].add_decision(second, stage=TA, decision="include",
                                               reviewer="bo")

            assert _at_once(2, work) == []
            decided = stores[0].records_with_decisions(review.id)
            merged_away = [rid for rid in decided if stores[0].get_record(rid).duplicate_of]
            assert merged_away == []
    finally:
        for opened in stores:
            opened.close()
