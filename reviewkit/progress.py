"""The lead researcher's view of a review: each stage's progress, who screened what, what waits."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from reviewkit.coding import record_codes_for_review
from reviewkit.screening.status import STAGES, screening_status
from reviewkit.store import Review, Store

STAGE_NAMES = {"title_abstract": "Title and abstract", "full_text": "Full text"}  # in STAGES order


@dataclass
class StageProgress:
    stage: str
    records: int
    decided: int
    conflicts: int  # reviewers disagree
    maybes: int  # marked maybe, with no disagreement
    waiting: int  # still needing a vote
    by_reviewer: dict[str, int]


@dataclass
class ReviewProgress:
    stages: list[StageProgress]
    included: int
    to_code: list[int]  # included records without a confirmed approach and outcome
    possible_duplicates: int


def review_progress(store: Store, review: Review) -> ReviewProgress:
    """Gather every stage's counts, per-reviewer work, conflicts and coding still to do."""
    status = screening_status(store, review)
    stages = []
    for stage in STAGES:
        statuses = status.stages[stage]
        states = Counter(s.state for s in statuses.values())
        stages.append(StageProgress(
            stage=stage, records=len(statuses), decided=states["decided"],
            conflicts=states["conflict"], maybes=states["maybe"],
            waiting=states["unscreened"] + states["waiting"],
            by_reviewer=dict(Counter(d.reviewer for d in status.decisions[stage]
                                     if d.kind == "vote"))))
    included = status.included
    coded: dict[int, set[str]] = {}
    for row in record_codes_for_review(store, review.id, status="confirmed"):
        coded.setdefault(row.record_id, set()).add(row.scheme)
    to_code = [rid for rid in included if not {"approach", "outcome"} <= coded.get(rid, set())]
    return ReviewProgress(stages=stages, included=len(included), to_code=to_code,
                          possible_duplicates=len(store.duplicate_pairs(review.id, status="possible")))
