"""Rows of rapid-review screening: calibration rounds and the records sampled for each.

Every function takes an open :class:`~sqlalchemy.Connection`; the caller owns the transaction
(``with store.write() as conn`` or ``store.read()``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from reviewkit.store.schema import calibration_rounds, calibration_samples


@dataclass(frozen=True)
class CalibrationRound:
    """One calibration round as stored: its sample and, once closed, its agreement figures."""

    id: int
    number: int
    sample: tuple[int, ...]  # record ids, in the order they were drawn
    started_at: datetime
    closed_at: datetime | None = None
    records: int | None = None
    agreed: int | None = None
    kappa: float | None = None
    ac1: float | None = None
    passed: bool | None = None
    thresholds: dict | None = None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


def rounds(conn: Connection, review_id: int, stage: str) -> list[CalibrationRound]:
    """The review's calibration rounds at one stage, oldest first, each with its sample."""
    rows = list(conn.execute(
        select(calibration_rounds)
        .where(calibration_rounds.c.review_id == review_id, calibration_rounds.c.stage == stage)
        .order_by(calibration_rounds.c.number)))
    if not rows:
        return []
    samples: dict[int, list[int]] = {row.id: [] for row in rows}
    for round_id, record_id in conn.execute(
            select(calibration_samples.c.round_id, calibration_samples.c.record_id)
            .where(calibration_samples.c.round_id.in_(list(samples)))
            .order_by(calibration_samples.c.round_id, calibration_samples.c.record_id)):
        samples[round_id].append(record_id)
    return [CalibrationRound(r.id, r.number, tuple(samples[r.id]), r.started_at, r.closed_at,
                             r.records, r.agreed, r.kappa, r.ac1, r.passed, r.thresholds)
            for r in rows]


def add_round(conn: Connection, review_id: int, stage: str, number: int,
              record_ids: list[int]) -> int | None:
    """Store round ``number`` with its sample; None when that round exists already.

    Two reviewers may open the page at the same moment: the unique (review, stage, number)
    lets only one of them start the round, and the other reads it.
    """
    exists = conn.execute(select(calibration_rounds.c.id).where(
        calibration_rounds.c.review_id == review_id, calibration_rounds.c.stage == stage,
        calibration_rounds.c.number == number)).first()
    if exists is not None:
        return None
    round_id = conn.execute(calibration_rounds.insert().values(
        review_id=review_id, stage=stage, number=number, started_at=datetime.now(UTC))
    ).inserted_primary_key[0]
    if record_ids:
        conn.execute(calibration_samples.insert(),
                     [{"round_id": round_id, "record_id": rid} for rid in record_ids])
    return round_id


def close_round(conn: Connection, round_id: int, *, records: int, agreed: int,
                kappa: float | None, ac1: float | None, passed: bool,
                thresholds: dict) -> bool:
    """Keep a round's figures as they stand now; False when it was closed already."""
    result = conn.execute(calibration_rounds.update().where(
        calibration_rounds.c.id == round_id, calibration_rounds.c.closed_at.is_(None)).values(
        closed_at=datetime.now(UTC), records=records, agreed=agreed, kappa=kappa, ac1=ac1,
        passed=passed, thresholds=thresholds))
    return result.rowcount == 1
