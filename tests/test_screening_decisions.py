"""Two reviewers, conflicts, kappa and PRISMA counts on a small review checked by hand."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from reviewkit.errors import ReviewkitError
from reviewkit.prisma import prisma_counts, prisma_png, prisma_svg
from reviewkit.records import Record
from reviewkit.screening.agreement import agreement, cohens_kappa, record_statuses
from reviewkit.store import Decision

TA, FT = "title_abstract", "full_text"


def _vote(rid, who, call, reason=""):
    return Decision(0, rid, TA, who, call, reason, "", datetime.now())


@pytest.mark.parametrize(("votes", "required", "state", "final"), [
    ([], 1, "unscreened", None),
    ([("ana", "include")], 1, "decided", "include"),
    ([("ana", "include")], 2, "waiting", None),
    ([("ana", "exclude"), ("ben", "exclude")], 2, "decided", "exclude"),
    ([("ana", "include"), ("ben", "exclude")], 2, "conflict", None),
    ([("ana", "maybe")], 1, "maybe", None),
    ([("ana", "maybe"), ("ben", "include")], 2, "conflict", None),
    ([("ana", "not_retrieved"), ("ben", "not_retrieved")], 2, "decided", "not_retrieved"),
])
def test_record_state_rules(votes, required, state, final):
    status = record_statuses([_vote(1, who, call) for who, call in votes], [1],
                             reviewers_required=required)[1]
    assert (status.state, status.final) == (state, final)


def test_resolution_settles_a_conflict():
    votes = [_vote(1, "ana", "include"), _vote(1, "ben", "exclude"),
             Decision(0, 1, TA, "lead", "exclude", "Wrong population", "", datetime.now(), "resolution")]
    status = record_statuses(votes, [1], reviewers_required=2)[1]
    assert (status.state, status.final, status.reason, status.resolved_by) == \
        ("decided", "exclude", "Wrong population", "lead")
    assert status.votes == {"ana": "include", "ben": "exclude"}


def test_kappa_known_values():
    assert cohens_kappa([]) is None
    assert cohens_kappa([("include", "include"), ("exclude", "exclude")]) == 1.0
    # chance-level agreement gives zero
    assert cohens_kappa([("include", "include"), ("include", "exclude"),
                         ("exclude", "include"), ("exclude", "exclude")]) == 0.0


@pytest.fixture
def hand_checked(store):
    """12 records from 3 sources, 2 merged as duplicates, screened by ana and ben (see below)."""
    review = store.create_review("Hand-checked", settings={"reviewers_required": 2})
    for source, n, sha in (("Scopus", 5, "1"), ("PubMed", 4, "2"), ("Web of Science", 3, "3")):
        store.add_import(review.id, [Record(title=f"{source} study {i}") for i in range(n)],
                         filename=f"{source}.ris", format="ris", sha256=sha * 64, size_bytes=1,
                         database_name=source)
    ids = [s.id for s in store.list_records(review.id)]
    store.save_duplicates(review.id, merges={ids[5]: ids[0], ids[9]: ids[1]}, pairs=[], actor="ana")
    r = store.kept_record_ids(review.id)
    assert len(r) == 10

    def vote(i, who, call, stage=TA, reason=""):
        store.add_decision(r[i], stage=stage, decision=call, reviewer=who, reason=reason)

    for i in range(4):  # r1-r4: both include
        vote(i, "ana", "include"), vote(i, "ben", "include")
    for i in range(4, 7):  # r5-r7: both exclude
        vote(i, "ana", "exclude", reason="Wrong population"), vote(i, "ben", "exclude", reason="Wrong population")
    vote(7, "ana", "include"), vote(7, "ben", "exclude")  # r8: conflict, resolved below
    store.add_decision(r[7], stage=TA, decision="include", reviewer="lead", kind="resolution")
    vote(8, "ana", "exclude"), vote(8, "ben", "maybe")  # r9: open conflict
    vote(9, "ana", "include")  # r10: waiting for ben
    # full text on r1-r4 and r8
    vote(0, "ana", "include", FT), vote(0, "ben", "include", FT)
    vote(1, "ana", "exclude", FT, "Wrong outcome"), vote(1, "ben", "exclude", FT, "Wrong outcome")
    vote(2, "ana", "not_retrieved", FT), vote(2, "ben", "not_retrieved", FT)
    vote(3, "ana", "exclude", FT, "Wrong study design"), vote(3, "ben", "exclude", FT, "Wrong study design")
    vote(7, "ana", "include", FT)  # r8: waiting for ben
    return store.get_review("Hand-checked")


def test_prisma_counts_match_the_hand_count(store, hand_checked):
    counts = prisma_counts(store, hand_checked)
    assert counts.identified_by_source == [("PubMed", 4), ("Scopus", 5), ("Web of Science", 3)]
    assert counts.identified == 12
    assert counts.duplicates_removed == 2
    assert (counts.screened, counts.excluded_screening, counts.awaiting_screening) == (8, 3, 2)
    assert counts.sought == 5
    assert counts.not_retrieved == 1
    assert counts.assessed == 3
    assert counts.excluded_full_text == {"Wrong outcome": 1, "Wrong study design": 1}
    assert (counts.included, counts.awaiting_full_text) == (1, 1)


def test_kappa_on_the_hand_checked_review(store, hand_checked):
    [pair] = agreement(store.current_decisions(hand_checked.id, stage=TA))
    assert (pair.first, pair.second, pair.records, pair.agreed) == ("ana", "ben", 9, 7)
    assert pair.kappa == pytest.approx(0.6)
    assert "moderate" in pair.plain_words()


def test_diagram_shows_the_counts(store, hand_checked):
    counts = prisma_counts(store, hand_checked)
    svg = prisma_svg(counts)
    for text in ("Records identified (n = 12)", "Duplicate records removed (n = 2)",
                 "Records screened (n = 8)", "Reports not retrieved (n = 1)",
                 "Wrong study design (n = 1)", "Studies included in review (n = 1)"):
        assert text in svg
    png = prisma_png(counts)
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_svg_escapes_reason_text(store):
    from reviewkit.prisma import PrismaCounts

    counts = PrismaCounts([("A & B <db>", 3)], 0, 3, 0, 0, 3, 0, 3, {"<script>": 3}, 0, 0)
    svg = prisma_svg(counts)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "A &amp; B &lt;db&gt;" in svg


def test_prisma_and_methods_report_the_review_s_stopping_rule(store, hand_checked):
    from reviewkit.screening.stopping import stopping_methods_text

    advice = prisma_counts(store, hand_checked).stopping
    assert advice.rule == "hypergeometric" and advice.recall_target == 0.95
    # Every kept record has at least one include or exclude: nothing is left to advise on.
    assert (advice.estimate.n_screened, advice.estimate.n_records) == (10, 10)
    assert advice.safe_to_stop and advice.estimate.method == "complete"
    store.update_review(hand_checked.id, actor="lead",
                        settings_update={"stop_rule": "heuristic", "stop_recall": 0.8})
    advice = prisma_counts(store, store.get_review("Hand-checked")).stopping
    assert advice.rule == "heuristic" and advice.recall_target == 0.8
    text = stopping_methods_text(advice)
    assert "SAFE procedure" in text and "recall target of 80%" in text
    assert "All 10 records were screened; 6 were judged relevant." in text


def test_diagram_names_the_rule_that_stopped_screening():
    from reviewkit.prisma import PrismaCounts
    from reviewkit.screening.stopping import stopping_advice

    decisions = [1] * 30 + [0, 1] * 10 + [0] * 1500
    stopped = stopping_advice(decisions, 2000, recall_target=0.9)
    going = stopping_advice(decisions[:60], 2000, recall_target=0.9)
    assert stopped.safe_to_stop and not going.safe_to_stop
    counts = PrismaCounts([("PubMed", 2000)], 0, len(decisions), 1490, 450, 40, 0, 40, {}, 0, 40)
    counts.stopping = stopped
    assert "stopped by the hypergeometric rule, 90% recall target" in prisma_svg(counts)
    counts.stopping = going
    assert "stopped by" not in prisma_svg(counts)


def test_the_review_settings_offer_every_stopping_rule_and_model():
    from reviewkit.review_settings import BY_NAME, parse_setting
    from reviewkit.screening.model import DEFAULT_MODEL, MODELS
    from reviewkit.screening.stopping import DEFAULT_RULE, STOPPING_RULES

    assert sorted(BY_NAME["stop_rule"].choices) == sorted(STOPPING_RULES)
    assert BY_NAME["screening_model"].choices == tuple(MODELS)
    assert BY_NAME["screening_model"].default == DEFAULT_MODEL
    assert BY_NAME["stop_rule"].default == DEFAULT_RULE
    assert parse_setting("stop_recall", "95%") == 0.95 == parse_setting("stop_recall", "0.95")
    with pytest.raises(ReviewkitError, match="counting"):
        parse_setting("stop_rule", "knee")


def test_ac1_stays_near_raw_agreement_when_includes_are_rare():
    from reviewkit.screening.agreement import gwets_ac1

    # 100 records both screened: 90 agreed excludes, 2 agreed includes, 8 split either way.
    pairs = ([("exclude", "exclude")] * 90 + [("include", "include")] * 2
             + [("include", "exclude")] * 4 + [("exclude", "include")] * 4)
    kappa, ac1 = cohens_kappa(pairs), gwets_ac1(pairs)
    # By hand: kappa = (0.92 - 0.8872) / (1 - 0.8872); AC1 with chance 2 * 0.06 * 0.94.
    assert kappa == pytest.approx((0.92 - 0.8872) / 0.1128)
    assert ac1 == pytest.approx((0.92 - 0.1128) / 0.8872)
    assert kappa < 0.3 < 0.9 < ac1
    assert gwets_ac1([("include", "include")] * 5) == 1.0 and gwets_ac1([]) is None


def test_agreement_words_give_ac1_beside_kappa(store, hand_checked):
    [pair] = agreement(store.current_decisions(hand_checked.id, stage=TA))
    # 9 shared records, 7 agreed. Votes: include 5 + 4, exclude 4 + 4, maybe 0 + 1 (of 18);
    # three labels, so chance is half the sum of q * (1 - q).
    shares = (9 / 18, 8 / 18, 1 / 18)
    chance = sum(q * (1 - q) for q in shares) / 2
    assert pair.ac1 == pytest.approx((7 / 9 - chance) / (1 - chance))
    assert f"Gwet's AC1 {pair.ac1:.2f}" in pair.plain_words()


def test_the_diagram_in_words_says_every_line_the_picture_shows(store, hand_checked):
    from html import escape

    from reviewkit.prisma import prisma_text

    counts = prisma_counts(store, hand_checked)
    stages = prisma_text(counts)
    assert [stage for stage, _ in stages] == ["Identification", "Screening", "Included"]
    words = [line for _, lines in stages for line in lines]
    drawn = re.findall(r'xml:space="preserve">([^<]*)</text>', prisma_svg(counts))
    assert [line.strip() for line in drawn] == [escape(w, quote=False) for w in words]
    assert "Studies included in review (n = 1)" in stages[2][1]
