"""Each record's screening status at each stage, and which studies are included.

One set of rules for every caller: the Screen page's queue, the Conflicts page, PRISMA
counts, the progress view, coding, clustering, briefs and the record list.  A record reaches
full text when title and abstract screening decided to include it; a study is included when
full-text screening decided to include it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from reviewkit.store import Decision, Review, Store

TA, FT = "title_abstract", "full_text"
STAGES = (TA, FT)

# The order a record's state is shown in, and the words used for it.
STATES = {
    "unscreened": "Not screened yet",
    "waiting": "Waiting for another reviewer",
    "conflict": "Reviewers disagree",
    "maybe": "Marked maybe: needs discussion",
    "decided": "Decided",
}


@dataclass(frozen=True)
class RecordStatus:
    """Where one record stands at one stage."""

    record_id: int
    state: str  # one of STATES
    final: str | None = None  # include | exclude | not_retrieved, once decided
    reason: str = ""  # the exclusion reason behind a final exclude
    votes: dict[str, str] = field(default_factory=dict)  # reviewer -> decision
    resolved_by: str = ""

    @property
    def included(self) -> bool:
        return self.state == "decided" and self.final == "include"


# How many agreeing votes decide a record: one number, or a function of the record id.
VotesRequired = int | Callable[[int], int]


def record_statuses(decisions: Iterable[Decision], record_ids: Iterable[int], *,
                    reviewers_required: VotesRequired = 1) -> dict[int, RecordStatus]:
    """Return each record's standing given the current decisions at one stage.

    A record is decided when ``reviewers_required`` reviewers agree (all include, all exclude,
    or all 'report not retrieved'), or when someone resolved it.  Disagreement is a conflict;
    a 'maybe' keeps the record open for discussion.  ``reviewers_required`` may also be a
    function of the record id, for reviews where some records need two votes and others one
    (rapid-review screening, :mod:`reviewkit.screening.rapid`).

    >>> from datetime import datetime
    >>> votes = [Decision(1, 7, "title_abstract", "ana", "include", "", "", datetime.now()),
    ...          Decision(2, 7, "title_abstract", "ben", "exclude", "Wrong population", "", datetime.now())]
    >>> record_statuses(votes, [7, 8], reviewers_required=2)[7].state
    'conflict'
    """
    votes: dict[int, dict[str, Decision]] = defaultdict(dict)
    resolutions: dict[int, Decision] = {}
    for d in decisions:
        if d.kind == "resolution":
            resolutions[d.record_id] = d
        else:
            votes[d.record_id][d.reviewer] = d
    out = {}
    for rid in record_ids:
        mine = votes.get(rid, {})
        calls = {reviewer: d.decision for reviewer, d in mine.items()}
        if rid in resolutions:
            settled = resolutions[rid]
            out[rid] = RecordStatus(rid, "decided", settled.decision, settled.reason, calls,
                                    resolved_by=settled.reviewer)
        elif not mine:
            out[rid] = RecordStatus(rid, "unscreened", votes=calls)
        elif "maybe" in calls.values():
            state = "conflict" if len(set(calls.values())) > 1 else "maybe"
            out[rid] = RecordStatus(rid, state, votes=calls)
        elif len(set(calls.values())) > 1:
            out[rid] = RecordStatus(rid, "conflict", votes=calls)
        elif len(mine) < (reviewers_required(rid) if callable(reviewers_required)
                          else reviewers_required):
            out[rid] = RecordStatus(rid, "waiting", votes=calls)
        else:
            decision = next(iter(calls.values()))
            reasons = sorted({d.reason for d in mine.values() if d.reason})
            out[rid] = RecordStatus(rid, "decided", decision, "; ".join(reasons), calls)
    return out


def included_ids(statuses: Mapping[int, RecordStatus]) -> list[int]:
    """The records decided 'include' among ``statuses``, in their order."""
    return [rid for rid, s in statuses.items() if s.included]


def reviewers_required(review: Review) -> int:
    """How many reviewers' agreeing votes decide a record in ``review`` (its setting)."""
    from reviewkit.review_settings import setting_value

    return int(setting_value(review, "reviewers_required"))


def votes_needed_by_stage(store: Store, review: Review
                          ) -> Callable[[str, list[int], list[Decision]], VotesRequired]:
    """The votes each record needs, asked stage by stage with the records at that stage and
    the decisions weighed there: the review's number, or per record in rapid-review mode."""
    from reviewkit.screening.rapid import votes_needed  # rapid reads agreement, which reads us

    def need(stage: str, ids: list[int], decisions: list[Decision]) -> VotesRequired:
        return votes_needed(store, review, stage, ids, decisions)

    return need


@dataclass
class ScreeningStatus:
    """Every kept record's status at each stage it has reached.

    ``stages[TA]`` holds every kept record; ``stages[FT]`` the records through to full text.
    """

    kept: list[int]
    stages: dict[str, dict[int, RecordStatus]]
    decisions: dict[str, list[Decision]] = field(default_factory=dict)  # what was weighed

    def records_at(self, stage: str) -> list[int]:
        """The records screened at ``stage``, in record order."""
        return list(self.stages[stage])

    @property
    def included(self) -> list[int]:
        """The studies finally included: decided 'include' at full text."""
        return included_ids(self.stages[FT])


def statuses_by_stage(decisions: Mapping[str, Iterable[Decision]], kept: Iterable[int], *,
                      reviewers_required: VotesRequired | Callable[..., VotesRequired] = 1,
                      stages: Iterable[str] = STAGES) -> ScreeningStatus:
    """Weigh the decisions of each stage in turn: every kept record at title and abstract,
    then the ones it included at full text (only the ``stages`` asked for, in order).

    ``reviewers_required`` is one number for every stage, or a function of (stage, records
    at that stage, its decisions) giving what :func:`record_statuses` takes there (see
    :func:`votes_needed_by_stage`).
    """
    kept = list(kept)
    ids, out, weighed = kept, {}, {}
    for stage in STAGES:
        if stage not in stages:
            break
        weighed[stage] = list(decisions.get(stage, ()))
        need = (reviewers_required(stage, ids, weighed[stage]) if callable(reviewers_required)
                else reviewers_required)
        out[stage] = record_statuses(weighed[stage], ids, reviewers_required=need)
        ids = included_ids(out[stage])
    return ScreeningStatus(kept, out, weighed)


def screening_status(store: Store, review: Review, *, upto: str = FT) -> ScreeningStatus:
    """Read a review's kept records and current decisions and weigh them, stage by stage up
    to ``upto``."""
    wanted = STAGES[:STAGES.index(upto) + 1]
    return statuses_by_stage({stage: store.current_decisions(review.id, stage=stage)
                              for stage in wanted},
                             store.kept_record_ids(review.id),
                             reviewers_required=votes_needed_by_stage(store, review),
                             stages=wanted)


def stage_record_ids(store: Store, review: Review, stage: str) -> list[int]:
    """The records screened at a stage: all kept records, or those through to full text."""
    if stage == TA:
        return store.kept_record_ids(review.id)
    return included_ids(screening_status(store, review, upto=TA).stages[TA])


def included_record_ids(store: Store, review: Review) -> list[int]:
    """The review's included studies, in record order: through title and abstract screening,
    then decided 'include' at full text."""
    return screening_status(store, review).included
