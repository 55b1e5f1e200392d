"""Rapid-review screening: calibration rounds, then single screening with checked exclusions."""

from __future__ import annotations

import pytest

from reviewkit.formats import Record
from reviewkit.prisma import prisma_counts, prisma_svg
from reviewkit.screening.agreement import cohens_kappa, gwets_ac1, record_statuses
from reviewkit.screening.queue import TA, next_for, screening_state, to_screen
from reviewkit.screening.rapid import (
    CALIBRATION,
    SINGLE,
    drawn_for_checking,
    rapid_methods_text,
    rapid_summary,
    screening_methods_text,
)


def test_kappa_and_ac1_match_the_published_irrcac_example():
    # Gwet's irrCAC package (R), vignette "Calculating Chance-corrected Agreement
    # Coefficients": table cont3x3abstractors, 100 abstracts rated by two abstractors.
    # Published there: Cohen's kappa 0.7964094, Gwet's AC1 0.8493305, agreement 0.89.
    table = {("Ectopic", "Ectopic"): 13, ("AIU", "AIU"): 20, ("AIU", "NIU"): 7,
             ("NIU", "AIU"): 4, ("NIU", "NIU"): 56}
    pairs = [pair for pair, n in table.items() for _ in range(n)]
    assert sum(a == b for a, b in pairs) / len(pairs) == 0.89
    assert cohens_kappa(pairs) == pytest.approx(0.7964094, abs=1e-7)
    assert gwets_ac1(pairs) == pytest.approx(0.8493305, abs=1e-7)


def test_the_draw_for_checking_is_fixed_and_near_its_share():
    drawn = [drawn_for_checking(7, TA, rid, 20) for rid in range(4000)]
    assert drawn == [drawn_for_checking(7, TA, rid, 20) for rid in range(4000)]
    assert 0.18 < sum(drawn) / len(drawn) < 0.22
    # raising the share only adds records
    more = [drawn_for_checking(7, TA, rid, 50) for rid in range(4000)]
    assert all(m for d, m in zip(drawn, more) if d)
    assert not any(drawn_for_checking(7, TA, rid, 0) for rid in range(500))


def test_per_record_votes_needed():
    from datetime import datetime

    from reviewkit.store import Decision

    now = datetime.now()
    votes = [Decision(1, 5, TA, "ana", "exclude", "", "", now),
             Decision(2, 6, TA, "ana", "exclude", "", "", now)]
    statuses = record_statuses(votes, [5, 6], reviewers_required=lambda rid: 2 if rid == 5 else 1)
    assert (statuses[5].state, statuses[6].state) == ("waiting", "decided")


@pytest.fixture
def rapid(store):
    for who in ("ana", "ben"):
        store.ensure_user(who)
    review = store.create_review("Rapid", settings={
        "screening_mode": "rapid", "calibration_size": 10, "calibration_kappa": 0.6,
        "calibration_agreement": 0.9, "verification_percent": 50})
    store.add_import(review.id, [Record(title=f"Rapid review record {i}") for i in range(30)],
                     filename="rapid.ris", format="ris", sha256="d" * 64, size_bytes=1)
    return review


def _vote(store, rid, who, call):
    store.add_decision(rid, stage=TA, decision=call, reviewer=who,
                       reason="Wrong population" if call == "exclude" else "")


def test_calibration_then_single_screening_with_checks(store, rapid):
    ids = store.kept_record_ids(rapid.id)
    ana = screening_state(store, rapid, TA, "ana")
    assert ana.rapid.phase == CALIBRATION and ana.rapid.current.number == 1
    first = set(ana.rapid.current.sample)
    assert len(first) == 10 and first <= set(ids)
    # both reviewers get the same sample, and only the sample
    assert ana.pending == first == screening_state(store, rapid, TA, "ben").pending
    assert to_screen(store, rapid, TA, "ben") == first

    # round 1: they disagree on 3 of 10 records -> 70% agreement, below 90%
    for n, rid in enumerate(sorted(first)):
        _vote(store, rid, "ana", "include" if n < 3 else "exclude")
        # ana's vote alone does not settle a calibration record
        assert screening_state(store, rapid, TA, "ana").progress.decided == max(0, n - 3)
        _vote(store, rid, "ben", "exclude")
    ana = screening_state(store, rapid, TA, "ana")
    closed = ana.rapid.rounds[0]
    assert (closed.records, closed.agreed, closed.passed) == (10, 7, False)
    assert closed.kappa == pytest.approx(cohens_kappa([("include", "exclude")] * 3
                                                      + [("exclude", "exclude")] * 7))
    assert ana.progress.conflicts == 3
    # a fresh sample, from records nobody screened
    assert ana.rapid.phase == CALIBRATION and ana.rapid.current.number == 2
    second = set(ana.rapid.current.sample)
    assert len(second) == 10 and not second & first and ana.pending == second

    # round 2: full agreement with two includes -> kappa 1, calibration ends
    for n, rid in enumerate(sorted(second)):
        for who in ("ana", "ben"):
            _vote(store, rid, who, "include" if n < 2 else "exclude")
    ana = screening_state(store, rapid, TA, "ana")
    assert ana.rapid.phase == SINGLE and ana.rapid.rounds[1].passed
    rest = set(ids) - first - second
    assert ana.pending == rest

    # single screening: records are handed out, one reviewer each
    calls = {}
    while True:
        handed = {}
        for who in ("ana", "ben"):
            state = screening_state(store, rapid, TA, who)
            fresh = state.pending - set(calls) - state.rapid.to_check
            handed[who] = next_for(store, rapid, TA, who, fresh, ranked=ids,
                                   rapid=state.rapid)
        if not any(handed.values()):
            break
        assert handed["ana"] != handed["ben"]  # never the same record at once
        for who, rid in handed.items():
            if rid is not None:
                calls[rid] = (who, "exclude" if rid % 4 else "include")
                _vote(store, rid, *calls[rid])
    assert set(calls) == rest
    drawn = {rid for rid, (_, call) in calls.items()
             if call == "exclude" and drawn_for_checking(rapid.id, TA, rid, 50)}
    assert drawn  # 50% of about 8 exclusions
    for who, other in (("ana", "ben"), ("ben", "ana")):
        theirs = {rid for rid in drawn if calls[rid][0] == other}
        state = screening_state(store, rapid, TA, who)
        assert state.rapid.to_check == drawn
        # each reviewer is handed the other's drawn exclusions, and nothing else
        assert state.pending == theirs
    # ben checks ana's drawn exclusions and disputes one; ana confirms all of ben's
    disputed = min(rid for rid in drawn if calls[rid][0] == "ana")
    for rid in sorted(drawn):
        checker = "ben" if calls[rid][0] == "ana" else "ana"
        _vote(store, rid, checker, "include" if rid == disputed else "exclude")
    settled = screening_state(store, rapid, TA, "ana")
    assert settled.pending == set() and settled.rapid.to_check == frozenset()
    assert settled.progress.conflicts == 3 + 1

    summary = rapid_summary(store, rapid)
    excluded = sum(call == "exclude" for _, call in calls.values())
    assert (summary.single_excluded, summary.drawn, summary.checked) == (
        excluded, len(drawn), len(drawn))
    assert (summary.confirmed, summary.disagreed, summary.then_included) == (
        len(drawn) - 1, 1, 0)
    store.add_decision(disputed, stage=TA, decision="include", reviewer="ana",
                       kind="resolution")
    summary = rapid_summary(store, rapid)
    assert summary.then_included == 1
    text = rapid_methods_text(summary)
    assert "Round 1: 10 records, agreement on 7 (70%)" in text
    assert "did not meet" in text and "Round 2: 10 records, agreement on 10 (100%)" in text
    assert f"{len(drawn)} of {excluded} exclusions were drawn" in text

    counts = prisma_counts(store, rapid)
    assert counts.awaiting_screening == 3  # the calibration conflicts, still open
    assert counts.screened == 30 - 3
    svg = prisma_svg(counts)
    assert "dual-screened: 20 (kappa 1.00)" in svg
    assert f"exclusions checked: {len(drawn)} ({len(drawn) - 1} confirmed)" in svg
    assert screening_methods_text(counts).startswith("Rapid-review screening at title")


def test_standard_reviews_are_unchanged(store, rapid):
    review = store.update_review(rapid.id, settings_update={"screening_mode": "standard"})
    state = screening_state(store, review, TA, "ana")
    assert state.rapid is None and len(state.pending) == 30
    assert rapid_summary(store, review) is None


def test_prisma_counts_as_dual_screened_only_what_both_reviewers_screened(store, rapid):
    from reviewkit.screening.rapid import rapid_prisma_lines

    # opening the Screen page draws the first calibration sample; nobody has screened it
    sample = sorted(screening_state(store, rapid, TA, "ana").rapid.current.sample)
    assert rapid_prisma_lines(rapid_summary(store, rapid))[0] == ["  dual-screened: 0"]
    _vote(store, sample[0], "ana", "exclude")
    for rid in sample[1:3]:
        for who in ("ana", "ben"):
            _vote(store, rid, who, "exclude")
    assert rapid_prisma_lines(rapid_summary(store, rapid))[0] == ["  dual-screened: 2"]
