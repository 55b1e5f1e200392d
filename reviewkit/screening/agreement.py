"""From reviewers' votes to each record's standing: agreed, waiting, in conflict, or resolved.

Pure functions over the decisions the store returns, so that the Screening page, the
conflicts view, the PRISMA counts and the CLI all read one set of rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations

from sqlalchemy import select

from reviewkit.review_settings import setting_value
from reviewkit.store import Decision, Review, Store
from reviewkit.store.schema import review_members, users

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


def record_statuses(decisions: Iterable[Decision], record_ids: Iterable[int], *,
                    reviewers_required: int | Callable[[int], int] = 1
                    ) -> dict[int, RecordStatus]:
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


def cohens_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa for two raters' labels on the same items (None when undefined).

    >>> round(cohens_kappa([("include", "include"), ("exclude", "exclude"),
    ...                     ("include", "exclude"), ("exclude", "exclude")]), 3)
    0.5
    """
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(a == b for a, b in pairs) / n
    labels = {x for pair in pairs for x in pair}
    expected = sum((sum(a == lab for a, _ in pairs) / n) * (sum(b == lab for _, b in pairs) / n)
                   for lab in labels)
    if expected == 1:
        return 1.0 if observed == 1 else None
    return (observed - expected) / (1 - expected)


def gwets_ac1(pairs: list[tuple[str, str]]) -> float | None:
    """Gwet's AC1 for two raters' labels on the same items (None without items).

    Kappa's chance agreement grows as one label dominates, so two reviewers who agree on
    nearly every record of a screening with few includes can still get a low kappa.  AC1
    counts chance agreement from how far the labels are from an even split, which keeps it
    near the raw agreement there (Gwet 2008).

    >>> round(gwets_ac1([("include", "include"), ("exclude", "exclude"),
    ...                  ("include", "exclude"), ("exclude", "exclude")]), 3)
    0.529
    """
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(a == b for a, b in pairs) / n
    # The categories are those used; when only one was, its opposite was possible too.
    labels = {x for pair in pairs for x in pair}
    if len(labels) == 1:
        labels |= {"include", "exclude"} if labels <= {"include", "exclude"} else {None}
    shares = [(sum(a == lab for a, _ in pairs) + sum(b == lab for _, b in pairs)) / (2 * n)
              for lab in labels]
    chance = sum(q * (1 - q) for q in shares) / (len(labels) - 1)
    return (observed - chance) / (1 - chance)


@dataclass(frozen=True)
class Agreement:
    first: str
    second: str
    records: int  # screened by both
    agreed: int
    kappa: float | None
    ac1: float | None = None  # Gwet's AC1 on the same records

    def plain_words(self) -> str:
        """Say what the kappa means, using the usual Landis and Koch bands."""
        if self.kappa is None:
            return "Not enough shared records to judge agreement."
        bands = [(0.8, "almost perfect"), (0.6, "substantial"), (0.4, "moderate"),
                 (0.2, "fair"), (0.0, "slight")]
        word = next((w for limit, w in bands if round(self.kappa, 2) > limit), "poor")
        ac1 = f"; Gwet's AC1 {self.ac1:.2f}" if self.ac1 is not None else ""
        return (f"{self.first} and {self.second} agreed on {self.agreed} of {self.records} "
                f"records they both screened: kappa {self.kappa:.2f} ({word} agreement){ac1}.")


def agreement(decisions: Iterable[Decision]) -> list[Agreement]:
    """Pairwise agreement between every two reviewers, on the records both voted on."""
    by_reviewer: dict[str, dict[int, str]] = defaultdict(dict)
    for d in decisions:
        if d.kind == "vote":
            by_reviewer[d.reviewer][d.record_id] = d.decision
    out = []
    for first, second in combinations(sorted(by_reviewer), 2):
        shared = sorted(set(by_reviewer[first]) & set(by_reviewer[second]))
        pairs = [(by_reviewer[first][r], by_reviewer[second][r]) for r in shared]
        out.append(Agreement(first, second, len(pairs), sum(a == b for a, b in pairs),
                             cohens_kappa(pairs), gwets_ac1(pairs)))
    return out


# -- blinding -----------------------------------------------------------------------------
#
# With two reviewers per record, each votes without seeing the other's calls: the review is
# blinded by default, and only its lead (or an admin) sees the other votes and the conflicts
# until the lead unblinds it.


def is_blinded(review: Review) -> bool:
    """Whether reviewers see only their own votes (default: when two votes per record are needed)."""
    return bool(setting_value(review, "blind"))


def is_review_lead(store: Store, review_id: int, username: str) -> bool:
    """An admin of the whole install, or a member whose role in this review is admin (its lead)."""
    with store.read() as conn:
        role = conn.execute(select(users.c.role).where(users.c.username == username)).scalar()
        if role is None:
            return False
        if role == "admin":
            return True
        membership = conn.execute(
            select(review_members.c.role).join(users, users.c.id == review_members.c.user_id)
            .where(review_members.c.review_id == review_id, users.c.username == username)
        ).scalar()
    return membership == "admin"


def conflicts_visible(store: Store, review: Review, username: str) -> bool:
    """Whether ``username`` may see other reviewers' votes and the conflicts in this review."""
    return not is_blinded(review) or is_review_lead(store, review.id, username)


def visible_decisions(store: Store, review: Review, decisions: Iterable[Decision],
                      username: str) -> list[Decision]:
    """The decisions ``username`` may see: all of them, or only their own votes while blinded."""
    if conflicts_visible(store, review, username):
        return list(decisions)
    return [d for d in decisions if d.reviewer == username and d.kind == "vote"]


def set_blinded(store: Store, review: Review, blinded: bool, *, actor: str) -> Review:
    """Blind or unblind a review (the change is logged with who made it)."""
    return store.update_review(review.id, actor=actor, settings_update={"blind": bool(blinded)})
