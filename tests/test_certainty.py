"""Certainty per approach × outcome: levels in plain words, reasons, rating and verifying."""

from __future__ import annotations

import pytest

from reviewkit.certainty import (
    LEVELS,
    NOT_RATED,
    certainty_ratings,
    certainty_words,
    check_concerns,
    outcome_verdicts,
    rate_certainty,
    suggested_level,
    verify_rating,
)
from reviewkit.errors import ReviewkitError

CELL = ("social_prescribing", "health_wellbeing")  # not rated in the demo
DEMO_CELL = ("community_governance", "empowerment_control")


@pytest.mark.parametrize("level, words", [
    ("high", "We are confident (high certainty)"),
    ("moderate", "We are fairly sure (moderate certainty)"),
    ("low", "We are not very sure (low certainty)"),
    ("very_low", "We are not sure (very low certainty)"),
    (None, "Certainty not yet rated"),
])
def test_each_level_in_plain_words(level, words):
    assert certainty_words(level) == words


def test_every_level_has_words_and_an_unknown_one_is_refused():
    assert len({certainty_words(level) for level in LEVELS}) == 4
    with pytest.raises(ReviewkitError, match="Unknown certainty level"):
        certainty_words("medium")


@pytest.mark.parametrize("framework, concerns, start, level", [
    ("grade", {}, "high", "high"),
    ("grade", {"risk_of_bias": "serious"}, "high", "moderate"),
    ("grade", {"risk_of_bias": "serious", "imprecision": "very_serious"}, "high", "very_low"),
    ("grade", {"inconsistency": "serious"}, "low", "very_low"),  # observational start
    ("grade", {"indirectness": "very_serious", "imprecision": "very_serious"}, "high",
     "very_low"),  # never below the bottom
    ("cerqual", {"coherence": "minor"}, "high", "high"),
    ("cerqual", {"adequacy": "moderate", "relevance": "serious"}, "high", "low"),
])
def test_suggested_level_by_hand(framework, concerns, start, level):
    assert suggested_level(framework, concerns, start=start) == level


@pytest.mark.parametrize("framework, concerns, message", [
    ("grade", {"coherence": ("minor", "x")}, "GRADE has no domain coherence"),
    ("grade", {"risk_of_bias": ("minor", "x")}, "'minor' is not a GRADE concern"),
    ("grade", {"imprecision": ("serious", "  ")}, "Imprecision: say why"),
    ("cerqual", {"adequacy": ("serious", "")}, "Adequacy of data: say why"),
    ("bayes", {}, "Unknown certainty framework"),
])
def test_concerns_need_known_domains_and_reasons(framework, concerns, message):
    with pytest.raises(ReviewkitError, match=message):
        check_concerns(framework, concerns)


def test_concerns_are_stored_for_every_domain():
    stored = check_concerns("cerqual", {"coherence": {"concern": "minor", "reason": "two  sites"}})
    assert set(stored) == {"methodological_limitations", "coherence", "adequacy", "relevance"}
    assert stored["coherence"] == {"concern": "minor", "reason": "two sites"}


def test_the_demo_rates_a_cell_and_verifies_it(store, demo):
    rating = certainty_ratings(store, demo.id)[DEMO_CELL]
    assert (rating.framework, rating.level, rating.rated_by, rating.verified_by) == (
        "grade", "low", "demo-reviewer-1", "demo-lead")
    assert all(reason.split(": ", 1)[1].startswith("serious concerns — ")
               for reason in rating.reasons())


def test_rate_then_verify_by_a_second_person(store, demo):
    review = demo
    assert outcome_verdicts(store, review, approach=CELL[0])[CELL].rating is None
    assert NOT_RATED in outcome_verdicts(store, review, approach=CELL[0])[CELL].statement()
    rate_certainty(store, review, *CELL, framework="grade", level="moderate",
                   concerns={"risk_of_bias": ("serious", "Most studies had no comparison")},
                   finding="More say over local decisions", actor="demo-reviewer-1")
    rating = certainty_ratings(store, review.id)[CELL]
    assert (rating.level, rating.rated_by, rating.verified) == ("moderate", "demo-reviewer-1", False)
    assert rating.reasons() == ["Risk of bias: serious concerns — Most studies had no comparison"]
    verdict = outcome_verdicts(store, review)[CELL]
    assert verdict.statement().endswith(
        "We are fairly sure (moderate certainty) of this (GRADE — not yet checked by a second "
        "person).")
    with pytest.raises(ReviewkitError, match="someone else must verify"):
        verify_rating(store, review, rating.id, actor="demo-reviewer-1")
    verify_rating(store, review, rating.id, actor="demo-lead")
    assert certainty_ratings(store, review.id)[CELL].verified_by == "demo-lead"
    with pytest.raises(ReviewkitError, match="verified already"):
        verify_rating(store, review, rating.id, actor="demo-reviewer-2")
    # a new rating replaces it, unverified; the old one cannot be verified any more
    rate_certainty(store, review, *CELL, framework="grade", level="low",
                   concerns={"risk_of_bias": ("serious", "No comparison"),
                             "imprecision": ("serious", "Few people")}, actor="demo-reviewer-2")
    assert certainty_ratings(store, review.id)[CELL].level == "low"
    with pytest.raises(ReviewkitError, match="replaced"):
        verify_rating(store, review, rating.id, actor="demo-reviewer-1")
    actions = [e.action for e in store.audit_entries(review.id, limit=3)]
    assert actions == ["certainty.rate", "certainty.verify", "certainty.rate"]
