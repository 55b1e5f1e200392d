"""Update rounds: keep a review alive by re-running its searches.

A review's first searches are round 0.  Starting an update round (:func:`start_update_round`)
opens round 1, then 2, ...; every import from then on belongs to the newest round.  After
deduplication (which always keeps the earlier, screened record of a group, so no decision is
lost) the records new in a round are the kept records whose import belongs to it: what the
Screen page offers by default, what PRISMA's flow diagram for updated reviews counts as
"new", and what the evidence map and briefs call "new since <date>".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from reviewkit.errors import ReviewkitError
from reviewkit.store import DEFAULT_USER, Review, Store
from reviewkit.store.rounds import (
    current_round_number,
    imports_per_round,
    insert_round,
    load_rounds,
    record_round_numbers,
)

__all__ = ["Round", "RoundChanges", "changes_since_last_round", "current_round", "list_rounds",
           "new_record_ids", "record_rounds", "start_update_round"]


@dataclass(frozen=True)
class Round:
    """One version of the review: 0 is the first, then one per update round."""

    number: int
    label: str
    started_at: datetime
    started_by: str = ""
    note: str = ""

    @property
    def name(self) -> str:
        """Return how people call the round ("First version", "Update 1: March 2025")."""
        base = "First version" if self.number == 0 else f"Update {self.number}"
        return f"{base}: {self.label}" if self.label else base

    @property
    def in_text(self) -> str:
        """Return the name as it reads inside a sentence ("update 1: March 2025")."""
        return self.name[0].lower() + self.name[1:]


def list_rounds(store: Store, review: Review) -> list[Round]:
    """Return every round of the review, the first version (round 0) first."""
    with store.read() as conn:
        rows = load_rounds(conn, review.id)
    first = Round(0, "", review.created_at)
    return [first] + [Round(r.number, r.label, r.started_at, r.starter, r.note) for r in rows]


def current_round(store: Store, review: Review) -> Round:
    """Return the newest round: the one new imports join."""
    return list_rounds(store, review)[-1]


def start_update_round(store: Store, review: Review, *, actor: str = DEFAULT_USER,
                       label: str = "", note: str = "") -> Round:
    """Open the next update round; imports from now on belong to it.

    Refused while the newest round has no imports yet (an empty round reports nothing), and
    when someone else opened the same round at the same moment.
    """
    label, note = label.strip(), note.strip()
    if "\x00" in label + note:
        raise ReviewkitError("The round's label or note holds a NUL character; remove it.")
    actor_id = store.ensure_user(actor).id
    try:
        with store.write() as conn:
            number = current_round_number(conn, review.id)
            if not imports_per_round(conn, review.id).get(number):
                what = "the review's first searches" if number == 0 else f"update {number}'s"
                raise ReviewkitError(f"Import {what} before starting an update round: round "
                                     f"{number} has no imports yet.")
            now = datetime.now(UTC)
            round_id = insert_round(conn, review_id=review.id, number=number + 1, label=label,
                                    note=note, actor_id=actor_id, now=now)
            store.audit(conn, actor_id=actor_id, action="round.start", entity="review_round",
                        entity_id=round_id, review_id=review.id,
                        details={"round": f"update {number + 1}", "label": label})
    except IntegrityError as exc:
        raise ReviewkitError("Someone else started an update round at the same moment; "
                             "reload to see it.") from exc
    return current_round(store, review)


def record_rounds(store: Store, review: Review) -> dict[int, int]:
    """Return, for each live record of the review, the round it was imported in."""
    with store.read() as conn:
        return record_round_numbers(conn, review.id)


def new_record_ids(store: Store, review: Review, number: int | None = None) -> set[int]:
    """Return the kept records (after deduplication) first imported in round ``number``
    (default: the newest round)."""
    if number is None:
        number = current_round(store, review).number
    rounds = record_rounds(store, review)
    return {rid for rid in store.kept_record_ids(review.id) if rounds.get(rid, 0) == number}


@dataclass(frozen=True)
class RoundChanges:
    """What the newest update round added to the evidence: new studies and the cells they
    reach (approach × outcome), some of which were empty before."""

    round: Round
    new_studies: list  # record ids of coded studies first imported in the round
    changed_cells: list[tuple[str, str]]
    new_cells: list[tuple[str, str]]  # changed cells that held no study before the round

    def plain_words(self) -> str:
        """Say it in one sentence: 'New since 1 March 2025 (update 1): 4 studies, 2 cells changed.'"""
        studies = len(self.new_studies)
        cells = len(self.changed_cells)
        said = (f"New since {self.round.started_at:%d %B %Y} ({self.round.in_text}): "
                f"{studies} {'study' if studies == 1 else 'studies'}, {cells} "
                f"{'cell' if cells == 1 else 'cells'} changed")
        if self.new_cells:
            said += f" ({len(self.new_cells)} filled for the first time)"
        return said + "."


def changes_since_last_round(store: Store, review: Review, studies: list
                             ) -> RoundChanges | None:
    """Compare the coded ``studies`` (CodedStudy rows) with the evidence before the newest
    round; None while the review has had no update round."""
    newest = current_round(store, review)
    if not newest.number:
        return None
    rounds = record_rounds(store, review)
    new = [s for s in studies if rounds.get(int(s.record_id), 0) == newest.number]
    new_ids = {s.record_id for s in new}

    def cells_of(group) -> set[tuple[str, str]]:
        return {(a, o) for s in group for a in s.approaches for o in s.outcomes}

    before = cells_of(s for s in studies if s.record_id not in new_ids)
    changed = sorted(cells_of(new))
    return RoundChanges(newest, [s.record_id for s in new], changed,
                        [cell for cell in changed if cell not in before])
