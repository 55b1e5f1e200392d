"""One screening status for every caller: checked by hand on a small review, then against
the pages' and reports' own counts on the demo review."""

from __future__ import annotations

from datetime import datetime

import pytest

from reviewkit.clustering import included_record_ids as clustering_included
from reviewkit.coding import included_record_ids as coding_included
from reviewkit.errors import ReviewkitError
from reviewkit.prisma import prisma_counts
from reviewkit.progress import review_progress
from reviewkit.records import Record
from reviewkit.screening.queue import screening_state, stage_records
from reviewkit.screening.status import (
    FT,
    TA,
    included_record_ids,
    screening_status,
    stage_record_ids,
    statuses_by_stage,
)
from reviewkit.store import Decision

WHEN = datetime(2026, 1, 1)


def _vote(n: int, record_id: int, stage: str, reviewer: str, decision: str, *,
          kind: str = "vote", reason: str = "") -> Decision:
    return Decision(n, record_id, stage, reviewer, decision, reason, "", WHEN, kind)


def test_statuses_by_stage_follow_records_from_title_to_full_text():
    # two reviewers per record; records 1..6
    decisions = {
        TA: [_vote(1, 1, TA, "ana", "include"), _vote(2, 1, TA, "ben", "include"),
             _vote(3, 2, TA, "ana", "include"), _vote(4, 2, TA, "ben", "include"),
             _vote(5, 3, TA, "ana", "include"), _vote(6, 3, TA, "ben", "exclude"),
             _vote(7, 4, TA, "ana", "exclude"), _vote(8, 4, TA, "ben", "include"),
             _vote(9, 4, TA, "cat", "include", kind="resolution"),
             _vote(10, 5, TA, "ana", "include")],
        FT: [_vote(11, 1, FT, "ana", "include"), _vote(12, 1, FT, "ben", "include"),
             _vote(13, 2, FT, "ana", "exclude", reason="Wrong outcome"),
             _vote(14, 2, FT, "ben", "exclude", reason="Wrong outcome"),
             # a full-text vote on a record that never passed title and abstract is not weighed
             _vote(15, 3, FT, "ana", "include"), _vote(16, 3, FT, "ben", "include")],
    }
    status = statuses_by_stage(decisions, [1, 2, 3, 4, 5, 6], reviewers_required=2)
    assert {rid: s.state for rid, s in status.stages[TA].items()} == {
        1: "decided", 2: "decided", 3: "conflict", 4: "decided", 5: "waiting", 6: "unscreened"}
    assert status.stages[TA][4].resolved_by == "cat"
    assert status.records_at(FT) == [1, 2, 4]
    assert {rid: s.state for rid, s in status.stages[FT].items()} == {
        1: "decided", 2: "decided", 4: "unscreened"}
    assert status.stages[FT][2].final == "exclude" and status.stages[FT][2].reason == "Wrong outcome"
    assert status.included == [1]
    # with one reviewer per record, record 5's single include is enough
    single = statuses_by_stage(decisions, [1, 2, 3, 4, 5, 6], reviewers_required=1)
    assert single.records_at(FT) == [1, 2, 4, 5]
    # asked for the first stage only, full text is not weighed at all
    assert list(statuses_by_stage(decisions, [1, 5], stages=(TA,)).stages) == [TA]


def test_one_answer_for_every_caller_on_a_stored_review(store):
    review = store.create_review("Status", settings={"reviewers_required": 1})
    store.add_import(review.id, [Record(title=f"Study {i}", year=2020) for i in range(5)],
                     filename="a.ris", format="ris", sha256="b" * 64, size_bytes=1)
    r = store.kept_record_ids(review.id)
    for i in (0, 1, 2):
        store.add_decision(r[i], stage=TA, decision="include", reviewer="ana")
    store.add_decision(r[3], stage=TA, decision="exclude", reviewer="ana",
                       reason="Wrong population")
    store.add_decision(r[0], stage=FT, decision="include", reviewer="ana")
    store.add_decision(r[1], stage=FT, decision="exclude", reviewer="ana",
                       reason="Wrong outcome")
    assert stage_record_ids(store, review, TA) == r
    assert stage_record_ids(store, review, FT) == r[:3] == stage_records(store, review, FT)
    assert included_record_ids(store, review) == [r[0]]
    assert coding_included(store, review) == clustering_included(store, review) == [r[0]]
    assert screening_state(store, review, FT, "ana").ids == r[:3]
    counts = prisma_counts(store, review)
    assert (counts.screened, counts.sought, counts.assessed, counts.included) == (4, 3, 2, 1)
    assert counts.excluded_full_text == {"Wrong outcome": 1}
    progress = review_progress(store, review)
    assert [s.records for s in progress.stages] == [5, 3] and progress.included == 1
    status = screening_status(store, review)
    assert [d.record_id for d in status.decisions[FT]] == [r[0], r[1]]


def test_the_demo_reviews_counts_agree(store, demo):
    included = included_record_ids(store, demo)
    assert included and len(included) == prisma_counts(store, demo).included
    assert review_progress(store, demo).included == len(included)
    assert coding_included(store, demo) == clustering_included(store, demo) == included


def test_the_reviews_prioritiser_starts_from_its_question(store):
    from reviewkit.screening.queue import review_prioritiser

    review = store.create_review("Ranked", question="Does befriending reduce loneliness?")
    store.add_import(review.id, [Record(title="Crop yields under drought", year=2020),
                                 Record(title="Befriending schemes and loneliness", year=2021),
                                 Record(title="Power grid resilience", year=2019)],
                     filename="a.ris", format="ris", sha256="c" * 64, size_bytes=1)
    kept = store.kept_record_ids(review.id)
    prioritiser = review_prioritiser(store, review)
    assert sorted(prioritiser.ids) == sorted(kept)
    assert prioritiser.order()[0] == kept[1]
    assert prioritiser._ranker_args["model"] == "tfidf_svm"  # the review's setting


def test_the_store_refuses_a_full_text_exclusion_without_a_listed_reason(store):
    review = store.create_review("Reasons", settings={"exclusion_reasons": ["Wrong outcome"]})
    store.add_import(review.id, [Record(title="A study", year=2020)], filename="a.ris",
                     format="ris", sha256="d" * 64, size_bytes=1)
    [rid] = store.kept_record_ids(review.id)
    for kind in ("vote", "resolution"):  # a lead settling a conflict meets the same rule
        with pytest.raises(ReviewkitError, match="needs a reason"):
            store.add_decision(rid, stage=FT, decision="exclude", reviewer="ana", kind=kind)
        with pytest.raises(ReviewkitError, match="not one of this review's reasons"):
            store.add_decision(rid, stage=FT, decision="exclude", reviewer="ana", kind=kind,
                               reason="Wrong population")
    saved = store.add_decision(rid, stage=FT, decision="exclude", reviewer="ana",
                               reason=" wrong  OUTCOME ")
    assert saved.reason == "Wrong outcome"  # the review's own spelling is stored
    assert [(d.id, d.reason) for d in store.current_decisions(review.id, stage=FT)] == [
        (saved.id, "Wrong outcome")]
    # at title and abstract a reason stays optional
    assert store.add_decision(rid, stage=TA, decision="exclude", reviewer="ana").reason == ""
