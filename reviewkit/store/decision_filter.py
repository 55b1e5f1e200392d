"""Database steps for the Records page's decision filter: one page of the records matching it.

A record's standing at a stage is worked out here in SQL with the rules of
:func:`reviewkit.screening.agreement.record_statuses` (a settling decision stands; no votes is
'unscreened'; a 'maybe' is 'maybe', or 'conflict' beside another call; different calls are a
conflict; fewer votes than needed is 'waiting'; else the agreed call), so that a filter over
tens of thousands of records reads only the page it shows.  ``tests/test_records_page.py``
checks the two agree.

Every function takes an open ``Connection`` and runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import (
    Connection,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    select,
    true,
)

from reviewkit.store.schema import decisions, record_codes, records, users

TA, FT = "title_abstract", "full_text"
_FINAL = ("include", "exclude", "not_retrieved")


@dataclass(frozen=True)
class Visibility:
    """Whose decisions count: everyone's, or (while blinded) only ``viewer``'s own votes."""

    viewer: str
    sees_all: bool = True


@dataclass(frozen=True)
class VotesNeeded:
    """Votes a record needs at one stage: ``default``, or 2 for the ids in ``two``."""

    default: int = 1
    two: Collection[int] = ()

    def expression(self):
        if self.two:
            return case((records.c.id.in_(sorted(self.two)), 2), else_=self.default)
        return literal(self.default)


def _visible(review_id: int, stage: str | None, seen: Visibility):
    """The standing decisions at ``stage`` (any stage when None) the viewer may see."""
    clauses = [decisions.c.review_id == review_id, decisions.c.superseded_at.is_(None)]
    if stage is not None:
        clauses.append(decisions.c.stage == stage)
    query = select(decisions, users.c.username).join(
        users, users.c.id == decisions.c.reviewer_id)
    if not seen.sees_all:
        clauses += [users.c.username == seen.viewer, decisions.c.kind == "vote"]
    return query.where(*clauses)


@dataclass(frozen=True)
class _Stage:
    outcome: object  # SQL expression: the record's standing (a key of decisions.OUTCOMES)
    reason_matches: object  # SQL expression: its standing's reason contains the wanted words
    joins: list


def _stage(review_id: int, stage: str, seen: Visibility, needed: VotesNeeded,
           reason: str | None) -> _Stage:
    visible = _visible(review_id, stage, seen).subquery()
    pattern = f"%{reason or ''}%"
    votes = (select(visible.c.record_id,
                    func.count(visible.c.reviewer_id).label("n"),
                    func.count(visible.c.decision.distinct()).label("calls"),
                    func.max(case((visible.c.decision == "maybe", 1), else_=0)).label("maybe"),
                    func.min(visible.c.decision).label("call"),
                    func.max(case((visible.c.reason.ilike(pattern), 1), else_=0))
                    .label("reason_hit"))
             .where(visible.c.kind == "vote").group_by(visible.c.record_id)
             .subquery(f"votes_{stage}"))
    ranked = (select(visible.c.record_id, visible.c.decision, visible.c.reason,
                     func.row_number().over(partition_by=visible.c.record_id,
                                            order_by=visible.c.id.desc()).label("latest"))
              .where(visible.c.kind == "resolution").subquery())
    settled = (select(ranked.c.record_id, ranked.c.decision, ranked.c.reason)
               .where(ranked.c.latest == 1).subquery(f"settled_{stage}"))
    outcome = case(
        (settled.c.record_id.is_not(None), settled.c.decision),
        (votes.c.record_id.is_(None), "unscreened"),
        (and_(votes.c.maybe == 1, votes.c.calls > 1), "conflict"),
        (votes.c.maybe == 1, "maybe"),
        (votes.c.calls > 1, "conflict"),
        (votes.c.n < needed.expression(), "waiting"),
        else_=votes.c.call)
    reason_matches = true() if not reason else case(
        (settled.c.record_id.is_not(None), settled.c.reason.ilike(pattern)),
        (outcome.in_(_FINAL), votes.c.reason_hit == 1),
        else_=false())
    joins = [(votes, votes.c.record_id == records.c.id),
             (settled, settled.c.record_id == records.c.id)]
    return _Stage(outcome, reason_matches, joins)


def _matching(review_id: int, *, search_clause, seen: Visibility,
              needed: dict[str, VotesNeeded], stage: str | None, decision: str | None,
              reason: str | None, reviewer: str | None, label: str | None):
    """The kept records matching the filter, as a SELECT of the records table."""
    first = _stage(review_id, TA, seen, needed[TA], reason)
    second = _stage(review_id, FT, seen, needed[FT], reason)
    reached = first.outcome == "include"
    query = select(records)
    for table, on in first.joins + second.joins:
        query = query.outerjoin(table, on)
    query = query.where(search_clause, records.c.duplicate_of.is_(None))
    if stage == FT:
        query = query.where(reached)
    if decision or reason:
        if stage == TA:
            outcome, reason_ok = first.outcome, first.reason_matches
        elif stage == FT:
            outcome, reason_ok = second.outcome, second.reason_matches
        else:  # each record's furthest stage
            outcome = case((reached, second.outcome), else_=first.outcome)
            reason_ok = case((reached, second.reason_matches), else_=first.reason_matches)
        if decision:
            query = query.where(outcome == decision)
        if reason:
            query = query.where(reason_ok)
    if reviewer:
        by = _visible(review_id, stage, seen).subquery()
        query = query.where(exists(select(by.c.id).where(by.c.record_id == records.c.id,
                                                         by.c.username == reviewer)))
    if label:
        query = query.where(exists(select(record_codes.c.id).where(
            record_codes.c.record_id == records.c.id, record_codes.c.review_id == review_id,
            record_codes.c.superseded_at.is_(None), record_codes.c.status == "confirmed",
            record_codes.c.code == label)))
    return query


def filtered_records(conn: Connection, review_id: int, *, search_clause, seen: Visibility,
                     needed: dict[str, VotesNeeded], stage: str | None = None,
                     decision: str | None = None, reason: str | None = None,
                     reviewer: str | None = None, label: str | None = None,
                     order_by: str = "id", descending: bool = False,
                     limit: int | None = None, offset: int = 0) -> tuple[int, list]:
    """Return (how many kept records match, the rows of one page of them in order).

    ``search_clause`` is the store's clause for the review's live records and the words
    searched; ``needed`` gives the votes each stage needs.  Without ``limit`` every match is
    returned (downloads).
    """
    query = _matching(review_id, search_clause=search_clause, seen=seen, needed=needed,
                      stage=stage, decision=decision, reason=reason, reviewer=reviewer,
                      label=label)
    ids = query.with_only_columns(records.c.id).subquery()
    total = conn.execute(select(func.count()).select_from(ids)).scalar_one()
    column = records.c[order_by]
    page = query.order_by(column.desc() if descending else column, records.c.id).offset(offset)
    if limit is not None:
        page = page.limit(limit)
    rows = list(conn.execute(page)) if total else []
    return total, rows

