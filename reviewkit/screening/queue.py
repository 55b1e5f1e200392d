"""Which record a reviewer sees next, and how far screening has come.

The prioritiser keeps the review's texts and learned ranking; after each decision it is told
the labels so far and re-ranks in a background thread, so a click never waits for training:
the next record comes from the newest ranking that is ready.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

from reviewkit.review_settings import setting_value
from reviewkit.screening.rapid import (
    CALIBRATION,
    RapidPlan,
    rapid_mode,
    rapid_order,
    rapid_pending,
    rapid_plan,
    votes_needed,
)
from reviewkit.screening.status import (
    FT,
    TA,
    included_ids,
    record_statuses,
    reviewers_required,
    stage_record_ids,
)
from reviewkit.store import Decision, Review, Store, people


def record_text(title: str, abstract: str) -> str:
    """The text the ranker reads for a record; the simulation uses the very same."""
    return f"{(title or '').strip()} {(abstract or '').strip()}".strip()


# The records screened at a stage (its home is reviewkit.screening.status).
stage_records = stage_record_ids


def labels_from(store: Store, review: Review) -> dict[int, int]:
    """Training labels: 1 for a title/abstract include by anyone, 0 for an exclude.

    Records appear in the order they were first decided (the stopping test relies on it).
    """
    return _labels(store.current_decisions(review.id, stage=TA))


def _labels(title_abstract: list[Decision]) -> dict[int, int]:
    labels: dict[int, int] = {}
    for d in title_abstract:
        if d.decision in ("include", "exclude"):
            # a resolution or any include wins: relevant records are the rare class
            labels[d.record_id] = max(labels.get(d.record_id, 0), int(d.decision == "include"))
    return labels


def found_curve(labels: list[int]) -> list[tuple[int, int]]:
    """(records screened, relevant found) after each decision: the recall curve's points.

    >>> found_curve([1, 0, 1, 0])
    [(0, 0), (1, 1), (2, 1), (3, 2), (4, 2)]
    """
    points, found = [(0, 0)], 0
    for n, label in enumerate(labels, start=1):
        found += int(label)
        points.append((n, found))
    return points


@dataclass
class Progress:
    total: int
    screened_by_me: int
    decided: int
    included: int
    conflicts: int  # reviewers disagree
    maybes: int = 0  # marked maybe by everyone who voted: open, but no disagreement


def progress(store: Store, review: Review, stage: str, reviewer: str) -> Progress:
    ids = stage_records(store, review, stage)
    decisions = store.current_decisions(review.id, stage=stage)
    statuses = record_statuses(decisions, ids,
                               reviewers_required=votes_needed(store, review, stage, ids,
                                                               decisions))
    mine = {d.record_id for d in decisions if d.reviewer == reviewer and d.kind == "vote"}
    return Progress(
        total=len(ids), screened_by_me=len(mine & set(ids)),
        decided=sum(s.state == "decided" for s in statuses.values()),
        included=sum(s.final == "include" for s in statuses.values()),
        conflicts=sum(s.state == "conflict" for s in statuses.values()),
        maybes=sum(s.state == "maybe" for s in statuses.values()))


@dataclass
class ScreeningState:
    """Everything the Screen page needs about one stage, read from the database once."""

    ids: list[int]  # the records screened at this stage
    kept_count: int  # records left after deduplication (what the stopping advice counts)
    labels: dict[int, int]  # training labels, in the order they were decided
    pending: set[int]  # what this reviewer should still screen here
    progress: Progress
    rapid: RapidPlan | None = None  # where rapid-review screening stands, in that mode


def screening_state(store: Store, review: Review, stage: str, reviewer: str) -> ScreeningState:
    """Read the records, decisions and standings of a stage in one go (two or three queries),
    giving the same answers as :func:`stage_records`, :func:`labels_from`, :func:`progress`
    and :func:`to_screen` together."""
    kept = store.kept_record_ids(review.id)
    first = store.current_decisions(review.id, stage=TA)
    if stage == TA:
        ids, decisions = kept, first
    else:
        voted = {d.record_id for d in first}
        ids = included_ids(record_statuses(
            first, [rid for rid in kept if rid in voted],
            reviewers_required=votes_needed(store, review, TA, kept, first)))
        decisions = store.current_decisions(review.id, stage=stage)
    plan = rapid_plan(store, review, stage, ids, decisions) if rapid_mode(review) else None
    required = plan.votes_needed if plan else reviewers_required(review)
    # only records someone voted on need weighing; every other one is simply unscreened
    here = set(ids)
    voted = {d.record_id for d in decisions} & here
    statuses = record_statuses(decisions, [rid for rid in ids if rid in voted],
                               reviewers_required=required)
    mine = {d.record_id for d in decisions if d.reviewer == reviewer and d.kind == "vote"}
    stats = Progress(
        total=len(ids), screened_by_me=len(mine & here),
        decided=sum(s.state == "decided" for s in statuses.values()),
        included=sum(s.final == "include" for s in statuses.values()),
        conflicts=sum(s.state == "conflict" for s in statuses.values()),
        maybes=sum(s.state == "maybe" for s in statuses.values()))
    pending = (here - voted) | {rid for rid, s in statuses.items()
                                if s.state in ("unscreened", "waiting") and reviewer not in s.votes}
    if plan is not None:
        pending = rapid_pending(plan, pending)
    return ScreeningState(ids, len(kept), _labels(first), pending, stats, plan)


# From this many records the text features (seconds of pure Python at 10,000 records) are
# made in a child process: in the server's own process that work holds the interpreter lock
# and every page run of every user waits behind it (benchmarks/ui_latency.py).
FEATURES_IN_A_PROCESS_FROM = 2000


def features_in_a_process(texts: list[str]):
    """The ranker's text features, made in a fresh child process (here if none can start).

    The child is a plain ``python -m reviewkit.screening.model`` reading the texts as JSON on
    stdin and writing the matrix as ``.npz`` on stdout. (multiprocessing's spawn was used
    before: it reruns the parent's ``__main__`` first, which in the app is the whole page
    script, so the child failed and the work came back into the server's process.)  The
    child lowers its own priority first: on a fresh server it starts as the first page is
    drawn, and the browser drawing it should not wait for it.
    """
    import io
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from scipy import sparse

    import reviewkit
    from reviewkit.screening.model import text_features

    home = str(Path(reviewkit.__file__).resolve().parents[1])  # wherever the app was started
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [home, *filter(None, [os.environ.get("PYTHONPATH")])])}
    try:
        done = subprocess.run([sys.executable, "-m", "reviewkit.screening.model"],
                              input=json.dumps(list(texts)).encode("utf-8"), env=env,
                              capture_output=True, timeout=600, check=True)
        return sparse.load_npz(io.BytesIO(done.stdout)).tocsr()
    except (OSError, ValueError, subprocess.SubprocessError):
        return text_features(texts)


class Prioritiser:
    """Ranks a review's records by how likely they are to be relevant, retraining off-thread."""

    def __init__(self, ids: list[int], texts: list[str] | Callable[[], list[str]], criteria: str,
                 *, random_state: int = 0, exploration: float = 0.0, model: str = "tfidf_svm"):
        """``texts`` are the records' texts in the order of ``ids``, or a function that reads
        them: then they are read where first needed, off the page's thread at 10,000 records
        (reading them took a fifth of a second of a fresh server's first Screen page)."""
        self.ids = list(ids)
        self._position = {rid: i for i, rid in enumerate(self.ids)}
        given = None if callable(texts) else list(texts)
        self._read_texts = texts if callable(texts) else lambda: given
        self._text_list: list[str] | None = None
        self._texts_lock = threading.Lock()
        # one ranker for the review, made by the first retraining (off-thread, so the page's
        # first run does not wait for scikit-learn to load); refits reuse its text features
        self._ranker_args = {"random_state": random_state, "exploration": exploration,
                             "criteria": criteria, "model": model}
        self._ranker = None
        self._lock = threading.Lock()
        self._order = list(self.ids)  # no criteria: the records keep their own order
        self._trained_on: dict[int, int] | None = None
        self._worker: threading.Thread | None = None
        self._pending: dict[int, int] | None = None
        if criteria.strip() and len(self.ids) >= FEATURES_IN_A_PROCESS_FROM:
            # seconds of TF-IDF at 10,000 records: made in a child process while the page
            # shows the first records in their own order, then the criteria's order takes over
            threading.Thread(target=self._rank_by_criteria_in_a_process, args=(criteria,),
                             daemon=True).start()
        elif criteria.strip():
            from reviewkit.screening.model import rank_by_criteria

            self._order = [self.ids[i] for i in rank_by_criteria(self._texts, criteria)]

    @property
    def _texts(self) -> list[str]:
        with self._texts_lock:
            if self._text_list is None:
                self._text_list = list(self._read_texts())
                if len(self._text_list) != len(self.ids):
                    raise ValueError(f"{len(self._text_list)} texts for {len(self.ids)} records")
            return self._text_list

    def _rank_by_criteria_in_a_process(self, criteria: str) -> None:
        """The order ``rank_by_criteria`` gives (TF-IDF cosine to the criteria, fitted on the
        records and the criteria together), with the features made in a child process."""
        import numpy as np

        both = features_in_a_process(self._texts + [criteria])
        scores = np.asarray((both[:-1] @ both[-1].T).todense()).ravel()
        order = [self.ids[i] for i in np.argsort(-scores, kind="stable")]
        with self._lock:
            if self._trained_on is None:  # a ranking learnt from decisions, once there, wins
                self._order = order

    def _train(self, labels: dict[int, int]) -> None:
        from reviewkit.screening.model import MODELS, Ranker

        if self._ranker is None:
            self._ranker = Ranker(**self._ranker_args)
        indexed = {self._position[rid]: y for rid, y in labels.items() if rid in self._position}
        features = None
        if (self._trained_on is None and len(self.ids) >= FEATURES_IN_A_PROCESS_FROM
                and MODELS[self._ranker.model][0] == "tfidf"):
            features = features_in_a_process(self._texts)
        order = [self.ids[i] for i in self._ranker.fit(self._texts, indexed, features=features)
                 .rank(exclude=set(indexed))]
        with self._lock:
            self._order = order + [rid for rid in labels if rid in self._position]
            self._trained_on = dict(labels)

    def _run(self) -> None:
        while True:
            with self._lock:
                labels, self._pending = self._pending, None
                if labels is None:
                    self._worker = None
                    return
            try:
                self._train(labels)
            except Exception:  # e.g. the texts could not be read just then: the page keeps the
                # order it has, and the next decision (or labels already waiting) tries again
                logging.getLogger(__name__).warning(
                    "retraining the screening order failed; the last order stays",
                    exc_info=True)

    def update(self, labels: dict[int, int], *, wait: bool = False) -> None:
        """Re-rank with these labels (needs one include and one exclude to learn from)."""
        if len(set(labels.values())) < 2 or labels == self._trained_on:
            return
        with self._lock:
            self._pending = dict(labels)
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, daemon=True)
                self._worker.start()
            worker = self._worker
        if wait and worker is not None:
            worker.join()

    @property
    def learned(self) -> bool:
        return self._trained_on is not None

    def order(self) -> list[int]:
        """Record ids, most likely relevant first (from the newest finished ranking)."""
        with self._lock:
            return list(self._order)


def review_prioritiser(store: Store, review: Review, *, exploration: float = 0.0,
                       model: str | None = None) -> Prioritiser:
    """A prioritiser over the review's records left after deduplication, first ordered by
    how well they match its question and inclusion criteria; ``model`` defaults to the
    review's screening model setting."""
    ids = store.kept_record_ids(review.id)

    def texts() -> list[str]:  # read when the ranker first needs them, in the order of ids
        # (a record deleted in between keeps an empty text; the page's next ranker drops it)
        by_id = {rid: record_text(title, abstract)
                 for rid, title, abstract in store.kept_titles_abstracts(review.id)}
        return [by_id.get(rid, "") for rid in ids]

    criteria = "\n".join([review.question, review.inclusion_criteria])
    return Prioritiser(ids, texts, criteria, exploration=exploration,
                       model=model or setting_value(review, "screening_model"))


def next_record(candidates: set[int], *, ranked: list[int], mode: str = "ranked",
                seed: int = 0) -> int | None:
    """Pick the next record to show from ``candidates``: by ranking, or in a seeded random order."""
    if not candidates:
        return None
    if mode == "random":
        pool = sorted(candidates)
        return random.Random(seed + len(pool)).choice(pool)
    for rid in ranked:
        if rid in candidates:
            return rid
    return min(candidates)


def to_screen(store: Store, review: Review, stage: str, reviewer: str) -> set[int]:
    """Records this reviewer should still screen at a stage.

    That is every record not yet settled (unscreened, or waiting for another reviewer's
    vote) that this reviewer has not voted on; records in conflict go to the Conflicts page.
    """
    ids = stage_records(store, review, stage)
    decisions = store.current_decisions(review.id, stage=stage)
    plan = rapid_plan(store, review, stage, ids, decisions) if rapid_mode(review) else None
    required = plan.votes_needed if plan else reviewers_required(review)
    statuses = record_statuses(decisions, ids, reviewers_required=required)
    pending = {rid for rid, s in statuses.items()
               if s.state in ("unscreened", "waiting") and reviewer not in s.votes}
    return rapid_pending(plan, pending) if plan else pending


# How long a record handed out under split screening stays with its reviewer unanswered.
HAND_OUT_MINUTES = 30


def split_screening(review: Review) -> bool:
    """Whether the review hands each record to one reviewer at a time (its setting)."""
    return bool(setting_value(review, "split_screening"))


def screening_order(pending: set[int], *, ranked: list[int], mode: str = "ranked",
                    seed: int = 0) -> list[int]:
    """Every pending record, best first: by ranking, or shuffled with a seed."""
    if mode == "random":
        pool = sorted(pending)
        random.Random(seed + len(pool)).shuffle(pool)
        return pool
    order = [rid for rid in dict.fromkeys(ranked) if rid in pending]
    return order + sorted(pending - set(order))


def next_for(store: Store, review: Review, stage: str, reviewer: str, pending: set[int], *,
             ranked: list[int], mode: str = "ranked", seed: int = 0,
             rapid: RapidPlan | None = None) -> int | None:
    """The record to show this reviewer next.

    With split screening it comes through a hand-out, so no two reviewers get the same record
    at the same time; otherwise it is simply the best of ``pending``.  In rapid mode
    (``rapid``, from :func:`screening_state`) the calibration sample goes to everyone, while
    single screening is always split, with checks of exclusions first.
    """
    if rapid is not None:
        if rapid.phase == CALIBRATION:
            return next_record(pending, ranked=ranked, mode=mode, seed=seed)
        order = rapid_order(rapid, screening_order(pending, ranked=ranked, mode=mode, seed=seed))
        return store.claim_next(review.id, stage, reviewer, order,
                                lease_minutes=HAND_OUT_MINUTES, votes_needed=2)
    if not split_screening(review):
        return next_record(pending, ranked=ranked, mode=mode, seed=seed)
    return store.claim_next(review.id, stage, reviewer,
                            screening_order(pending, ranked=ranked, mode=mode, seed=seed),
                            lease_minutes=HAND_OUT_MINUTES, votes_needed=reviewers_required(review))


def undo_for(store: Store, review: Review, stage: str, reviewer: str, record_id: int) -> bool:
    """Withdraw ``reviewer``'s latest decision on a record; True when the record is theirs to
    decide again.

    With split screening the record is handed back to them in the same transaction as the
    undo, so nobody else is handed it meanwhile; if another reviewer holds it just now (their
    hand-out came after this decision), it stays with them and this returns False.
    """
    now = store.review_by_id(review.id)  # the settings as they stand now
    split = split_screening(now) or rapid_mode(now)
    restored = store.undo_decision(record_id, stage=stage, reviewer=reviewer,
                                   hold_minutes=HAND_OUT_MINUTES if split else None)
    if not split or restored is not None:
        return True
    return any(h.record_id == record_id and h.reviewer == reviewer
               for h in store.hand_outs(review.id, stage))


def screening_team(store: Store, review: Review) -> list[str]:
    """Who shares the screening: the review's members who screen, anyone who has voted, and
    anyone holding a record just now."""
    with store.read() as conn:
        members = people.member_names(conn, review.id, ("admin", "researcher"))
    voters = {d.reviewer for stage in (TA, FT)
              for d in store.current_decisions(review.id, stage=stage) if d.kind == "vote"}
    holders = {h.reviewer for stage in (TA, FT) for h in store.hand_outs(review.id, stage)}
    return sorted(members | voters | holders)
