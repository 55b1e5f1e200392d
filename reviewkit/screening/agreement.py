"""How far reviewers agree, and who may see whose votes (blinding).

Each record's standing (agreed, waiting, in conflict, resolved) is worked out in
:mod:`reviewkit.screening.status`; its names are re-exported here for existing callers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from reviewkit.review_settings import setting_value
from reviewkit.screening.status import STATES, RecordStatus, record_statuses
from reviewkit.store import Decision, Review, Store, people

__all__ = ["STATES", "Agreement", "RecordStatus", "agreement", "cohens_kappa",
           "conflicts_visible", "gwets_ac1", "is_blinded", "is_review_lead", "record_statuses",
           "set_blinded", "visible_decisions"]


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
        role = people.user_role(conn, username)
        if role is None:
            return False
        return role == "admin" or people.member_role_by_name(conn, review_id, username) == "admin"


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
