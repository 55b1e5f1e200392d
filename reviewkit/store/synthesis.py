"""Rows of synthesis without meta-analysis and of certainty ratings (schema version 5).

Functions here take an open ``Connection`` (the caller owns the transaction) and only read or
write rows; the rules (which directions, levels and domains exist, who may verify) live in
``reviewkit.synthesis`` and ``reviewkit.certainty``.  A change never rewrites a judgement: the
standing row is marked superseded and a new one added, and every change writes an audit line.
Rows of deleted records are left out of every read and come back when the record is restored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.orm import aliased

from reviewkit.store import Store
from reviewkit.store.rows import live
from reviewkit.store.schema import (
    certainty_ratings,
    effect_directions,
    records,
    synthesis_cell_studies,
    synthesis_cells,
    users,
)


@dataclass(frozen=True)
class DirectionRow:
    """One study's direction of effect for one approach and outcome, as stored."""

    id: int
    record_id: int
    approach: str
    outcome: str
    direction: str
    sample_size: int | None
    design: str
    note: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class CellRow:
    """A synthesis cell as stored: grouping, its reason, the team's summary and its studies."""

    id: int
    approach: str
    outcome: str
    grouping: str
    grouping_reason: str
    summary: str
    written_by: str
    written_at: datetime
    record_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class RatingRow:
    """A certainty rating as stored."""

    id: int
    approach: str
    outcome: str
    framework: str
    level: str
    finding: str
    concerns: dict
    rated_by: str
    rated_at: datetime
    verified_by: str | None
    verified_at: datetime | None


# -- effect directions ----------------------------------------------------------------------


def _live_directions(review_id: int):
    return (effect_directions.c.review_id == review_id,
            effect_directions.c.superseded_at.is_(None))


def current_directions(conn: Connection, review_id: int, *, approach: str | None = None,
                       outcome: str | None = None) -> list[DirectionRow]:
    """The standing directions of a review (of one cell when approach and outcome are given)."""
    e = effect_directions
    query = (select(e, users.c.username).join(users, users.c.id == e.c.recorded_by)
             .join(records, records.c.id == e.c.record_id)
             .where(*_live_directions(review_id), live(records))
             .order_by(e.c.approach, e.c.outcome, e.c.record_id))
    if approach is not None:
        query = query.where(e.c.approach == approach)
    if outcome is not None:
        query = query.where(e.c.outcome == outcome)
    return [DirectionRow(r.id, r.record_id, r.approach, r.outcome, r.direction, r.sample_size,
                         r.design, r.note, r.username, r.recorded_at) for r in conn.execute(query)]


def _supersede_direction(conn: Connection, review_id: int, record_id: int, approach: str,
                         outcome: str, now: datetime) -> int | None:
    e = effect_directions
    where = (*_live_directions(review_id), e.c.record_id == record_id,
             e.c.approach == approach, e.c.outcome == outcome)
    old = conn.execute(select(e.c.id).where(*where)).scalar()
    if old is not None:
        conn.execute(e.update().where(*where).values(superseded_at=now))
    return old


def save_direction(conn: Connection, review_id: int, record_id: int, approach: str,
                   outcome: str, *, direction: str, sample_size: int | None, design: str,
                   note: str, actor_id: int, now: datetime) -> int:
    """Store a study's direction for a cell (replacing its standing one); return the new id."""
    replaced = _supersede_direction(conn, review_id, record_id, approach, outcome, now)
    new_id = conn.execute(effect_directions.insert().values(
        review_id=review_id, record_id=record_id, approach=approach, outcome=outcome,
        direction=direction, sample_size=sample_size, design=design, note=note,
        recorded_by=actor_id, recorded_at=now)).inserted_primary_key[0]
    Store.audit(conn, actor_id=actor_id, action="synthesis.direction", entity="effect_direction",
                entity_id=new_id, review_id=review_id,
                details={"record_id": record_id, "approach": approach, "outcome": outcome,
                         "direction": direction, "sample_size": sample_size, "design": design,
                         "note": note, "replaced": replaced is not None})
    return new_id


def clear_direction(conn: Connection, review_id: int, record_id: int, approach: str,
                    outcome: str, *, actor_id: int, now: datetime) -> bool:
    """Withdraw a study's direction for a cell (kept in the history); False when none stood."""
    replaced = _supersede_direction(conn, review_id, record_id, approach, outcome, now)
    if replaced is None:
        return False
    Store.audit(conn, actor_id=actor_id, action="synthesis.direction_clear",
                entity="effect_direction", entity_id=replaced, review_id=review_id,
                details={"record_id": record_id, "approach": approach, "outcome": outcome})
    return True


def _supersede_cell_row(conn: Connection, table, review_id: int, approach: str, outcome: str,
                        now: datetime) -> int | None:
    """Mark the standing row of an approach × outcome cell superseded; return its id."""
    where = (table.c.review_id == review_id, table.c.approach == approach,
             table.c.outcome == outcome, table.c.superseded_at.is_(None))
    replaced = conn.execute(select(table.c.id).where(*where)).scalar()
    if replaced is not None:
        conn.execute(table.update().where(*where).values(superseded_at=now))
    return replaced


# -- synthesis cells ------------------------------------------------------------------------


def current_cells(conn: Connection, review_id: int, *, approach: str | None = None,
                  outcome: str | None = None) -> list[CellRow]:
    """The standing synthesis cells of a review, each with the (live) studies it rests on."""
    c = synthesis_cells
    query = (select(c, users.c.username).join(users, users.c.id == c.c.written_by)
             .where(c.c.review_id == review_id, c.c.superseded_at.is_(None))
             .order_by(c.c.approach, c.c.outcome))
    if approach is not None:
        query = query.where(c.c.approach == approach)
    if outcome is not None:
        query = query.where(c.c.outcome == outcome)
    rows = conn.execute(query).all()
    studies: dict[int, list[int]] = {}
    if rows:
        s = synthesis_cell_studies
        for link in conn.execute(
                select(s.c.cell_id, s.c.record_id).join(records, records.c.id == s.c.record_id)
                .where(s.c.cell_id.in_([r.id for r in rows]), live(records))
                .order_by(s.c.id)):
            studies.setdefault(link.cell_id, []).append(link.record_id)
    return [CellRow(r.id, r.approach, r.outcome, r.grouping, r.grouping_reason, r.summary,
                    r.username, r.written_at, studies.get(r.id, [])) for r in rows]


def save_cell(conn: Connection, review_id: int, approach: str, outcome: str, *, grouping: str,
              grouping_reason: str, summary: str, record_ids: list[int], actor_id: int,
              now: datetime) -> int:
    """Store a cell's grouping, reason, summary and studies (replacing the standing one)."""
    replaced = _supersede_cell_row(conn, synthesis_cells, review_id, approach, outcome, now)
    new_id = conn.execute(synthesis_cells.insert().values(
        review_id=review_id, approach=approach, outcome=outcome, grouping=grouping,
        grouping_reason=grouping_reason, summary=summary, written_by=actor_id,
        written_at=now)).inserted_primary_key[0]
    if record_ids:
        conn.execute(synthesis_cell_studies.insert(),
                     [{"cell_id": new_id, "record_id": rid} for rid in record_ids])
    Store.audit(conn, actor_id=actor_id, action="synthesis.cell", entity="synthesis_cell",
                entity_id=new_id, review_id=review_id,
                details={"approach": approach, "outcome": outcome, "grouping": grouping,
                         "grouping_reason": grouping_reason, "summary": summary,
                         "studies": list(record_ids), "replaced": replaced is not None})
    return new_id


# -- certainty ratings ----------------------------------------------------------------------


def current_ratings(conn: Connection, review_id: int, *, approach: str | None = None,
                    outcome: str | None = None) -> list[RatingRow]:
    """The standing certainty ratings of a review (one per approach and outcome at most)."""
    r = certainty_ratings
    rater, verifier = aliased(users), aliased(users)
    query = (select(r, rater.c.username.label("rater"), verifier.c.username.label("verifier"))
             .join(rater, rater.c.id == r.c.rated_by)
             .outerjoin(verifier, verifier.c.id == r.c.verified_by)
             .where(r.c.review_id == review_id, r.c.superseded_at.is_(None))
             .order_by(r.c.approach, r.c.outcome))
    if approach is not None:
        query = query.where(r.c.approach == approach)
    if outcome is not None:
        query = query.where(r.c.outcome == outcome)
    return [RatingRow(x.id, x.approach, x.outcome, x.framework, x.level, x.finding,
                      dict(x.concerns or {}), x.rater, x.rated_at, x.verifier, x.verified_at)
            for x in conn.execute(query)]


def save_rating(conn: Connection, review_id: int, approach: str, outcome: str, *,
                framework: str, level: str, finding: str, concerns: dict, actor_id: int,
                now: datetime) -> int:
    """Store a rating for a cell, unverified (replacing the standing one); return its id."""
    replaced = _supersede_cell_row(conn, certainty_ratings, review_id, approach, outcome, now)
    new_id = conn.execute(certainty_ratings.insert().values(
        review_id=review_id, approach=approach, outcome=outcome, framework=framework,
        level=level, finding=finding, concerns=concerns, rated_by=actor_id,
        rated_at=now)).inserted_primary_key[0]
    Store.audit(conn, actor_id=actor_id, action="certainty.rate", entity="certainty_rating",
                entity_id=new_id, review_id=review_id,
                details={"approach": approach, "outcome": outcome, "framework": framework,
                         "level": level, "finding": finding, "concerns": concerns,
                         "replaced": replaced is not None})
    return new_id


def rating_row(conn: Connection, rating_id: int):
    """The stored row of a rating (any state), or None."""
    return conn.execute(select(certainty_ratings).where(certainty_ratings.c.id == rating_id)
                        ).first()


def mark_verified(conn: Connection, review_id: int, rating_id: int, *, actor_id: int,
                  now: datetime) -> None:
    """Record that a second person checked the rating and agrees with it."""
    r = certainty_ratings
    conn.execute(r.update().where(r.c.id == rating_id).values(verified_by=actor_id,
                                                              verified_at=now))
    row = rating_row(conn, rating_id)
    Store.audit(conn, actor_id=actor_id, action="certainty.verify", entity="certainty_rating",
                entity_id=rating_id, review_id=review_id,
                details={"approach": row.approach, "outcome": row.outcome, "level": row.level})


def live_record_ids(conn: Connection, review_id: int, record_ids: list[int]) -> set[int]:
    """Those of ``record_ids`` that are live records of the review."""
    if not record_ids:
        return set()
    return set(conn.execute(select(records.c.id).where(
        records.c.id.in_(record_ids), records.c.review_id == review_id,
        live(records))).scalars())
