"""Rapid-review screening: dual screening of a calibration sample, then single screening with
a random check of exclusions (Cochrane Rapid Reviews Methods Group, 2023).

How a stage runs when a review's ``screening_mode`` is ``rapid``:

1. **Calibration.**  A random sample of ``calibration_size`` records not screened yet is drawn
   (round 1).  Every reviewer who screens sees the same sample, and each sampled record needs
   two votes.  When every sampled record has two, the round closes with its figures (raw
   agreement, Cohen's kappa, Gwet's AC1); if kappa and raw agreement reach the lead's
   thresholds, calibration is over, otherwise a new sample is drawn (round 2, ...).
2. **Single screening.**  Every other record needs one vote; records are handed to one
   reviewer at a time, so the team splits them.
3. **Verification.**  Each record a single reviewer excludes is drawn for checking with
   probability ``verification_percent`` (a draw fixed by the review, stage and record, so it
   never changes once made and can be repeated); a drawn record needs a second vote from
   someone else, and is shown to the others before new records.  A disagreement is a conflict.

Nothing here runs SQL: the rounds are kept by :mod:`reviewkit.store.calibration`.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from reviewkit.review_settings import setting_value
from reviewkit.screening.agreement import cohens_kappa, gwets_ac1
from reviewkit.store import Decision, Review, Store
from reviewkit.store import calibration as rows
from reviewkit.store.calibration import CalibrationRound

CALIBRATION, SINGLE = "calibration", "single"
STAGE_WORDS = {"title_abstract": "title and abstract", "full_text": "full text"}


def rapid_mode(review: Review) -> bool:
    """Whether the review screens by calibration, then single screening with checks."""
    return setting_value(review, "screening_mode") == "rapid"


def drawn_for_checking(review_id: int, stage: str, record_id: int, percent: float) -> bool:
    """Whether a single reviewer's exclusion of this record is drawn for a second check.

    The draw is a hash of the review, stage and record, uniform on [0, 1): it is the same
    every time it is asked, and raising the percentage only adds records to those drawn.
    """
    digest = hashlib.sha256(f"{review_id}:{stage}:{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < percent / 100


@dataclass(frozen=True)
class RapidPlan:
    """Where rapid screening stands at one stage, worked out from the rounds and the votes."""

    stage: str
    phase: str  # CALIBRATION or SINGLE
    rounds: list[CalibrationRound]
    sampled: frozenset[int]  # every record in any calibration sample
    to_check: frozenset[int]  # single exclusions drawn for a check, not checked yet
    needs_two: frozenset[int] = field(default=frozenset())

    @property
    def current(self) -> CalibrationRound | None:
        """The open calibration round, if any."""
        return self.rounds[-1] if self.rounds and not self.rounds[-1].closed else None

    def votes_needed(self, record_id: int) -> int:
        return 2 if record_id in self.needs_two else 1

    def plain_words(self) -> str:
        """One sentence for the Screen page: which phase, and what it is waiting for."""
        if self.phase == CALIBRATION and self.current is not None:
            ahead = ""
            if len(self.rounds) > 1:
                last = self.rounds[-2]
                ahead = (f" Round {last.number} did not reach the thresholds ({_figures(last)}),"
                         " so a new sample was drawn.")
            return (f"Rapid review, calibration round {self.current.number}: both reviewers "
                    f"screen the same {len(self.current.sample)} randomly drawn records."
                    + ahead)
        done = [r for r in self.rounds if r.closed]
        calibrated = (f"Calibration ended in round {done[-1].number} ({_figures(done[-1])}). "
                      if done else "")
        checks = (f" {len(self.to_check)} exclusion{'s are' if len(self.to_check) != 1 else ' is'}"
                  " waiting for a second reviewer's check." if self.to_check else "")
        return (f"Rapid review: {calibrated}Each record is now screened by one reviewer, and a "
                "random share of exclusions is checked by another." + checks)


def _figures(r: CalibrationRound) -> str:
    kappa = "kappa not defined" if r.kappa is None else f"kappa {r.kappa:.2f}"
    share = r.agreed / r.records if r.records else 0
    return f"{r.agreed} of {r.records} agreed, {share:.0%}; {kappa}"


def _votes(decisions: Iterable[Decision]) -> tuple[dict[int, dict[str, str]], set[int]]:
    votes: dict[int, dict[str, str]] = {}
    resolved: set[int] = set()
    for d in decisions:
        if d.kind == "resolution":
            resolved.add(d.record_id)
        else:
            votes.setdefault(d.record_id, {})[d.reviewer] = d.decision
    return votes, resolved


def calibration_pairs(sample: Iterable[int], votes: dict[int, dict[str, str]],
                      resolved: Iterable[int] = ()) -> list[tuple[str, str]] | None:
    """The two calls on each sampled record (by the first two reviewers, by name), or None
    while some record has fewer than two votes (a record the lead settled before its second
    vote is left out)."""
    pairs, settled = [], set(resolved)
    for rid in sample:
        calls = votes.get(rid, {})
        if len(calls) < 2 and rid in settled:
            continue
        if len(calls) < 2:
            return None
        first, second = sorted(calls)[:2]
        pairs.append((calls[first], calls[second]))
    return pairs


def judge(pairs: list[tuple[str, str]], *, kappa_needed: float, agreement_needed: float
          ) -> dict:
    """A round's figures and whether they pass the thresholds."""
    agreed = sum(a == b for a, b in pairs)
    kappa = cohens_kappa(pairs)
    share = agreed / len(pairs) if pairs else 0.0
    passed = bool(pairs) and kappa is not None and kappa >= kappa_needed - 1e-9 \
        and share >= agreement_needed - 1e-9
    return {"records": len(pairs), "agreed": agreed, "kappa": kappa, "ac1": gwets_ac1(pairs),
            "passed": passed}


def _draw(review: Review, stage: str, number: int, candidates: list[int], size: int) -> list[int]:
    pool = sorted(candidates)
    return sorted(random.Random(f"{review.id}:{stage}:{number}").sample(pool, min(size, len(pool))))


def rapid_plan(store: Store, review: Review, stage: str, stage_ids: Iterable[int],
               decisions: list[Decision], *, advance: bool = True) -> RapidPlan:
    """Work out the phase at a stage.

    With ``advance`` (the Screen page), a finished round is closed and the next sample drawn
    when needed, both stored so that every reviewer sees the same rounds; without it (counts,
    PRISMA) nothing is written."""
    ids = list(stage_ids)
    votes, resolved = _votes(decisions)
    with store.read() as conn:
        rounds = rows.rounds(conn, review.id, stage)
    for _ in range(3 if advance else 0):  # at most: close a round, start the next, read it back
        changed = False
        if rounds and not rounds[-1].closed:
            pairs = calibration_pairs(rounds[-1].sample, votes, resolved)
            if pairs is not None:
                thresholds = {"kappa": setting_value(review, "calibration_kappa"),
                              "agreement": setting_value(review, "calibration_agreement")}
                figures = judge(pairs, kappa_needed=thresholds["kappa"],
                                agreement_needed=thresholds["agreement"])
                with store.write() as conn:
                    rows.close_round(conn, rounds[-1].id, thresholds=thresholds, **figures)
                changed = True
        elif not rounds or not rounds[-1].passed:
            sampled = {rid for r in rounds for rid in r.sample}
            fresh = [rid for rid in ids if rid not in votes and rid not in resolved
                     and rid not in sampled]
            if fresh:
                number = len(rounds) + 1
                sample = _draw(review, stage, number, fresh,
                               int(setting_value(review, "calibration_size")))
                try:
                    with store.write() as conn:
                        rows.add_round(conn, review.id, stage, number, sample)
                except IntegrityError:  # another reviewer started the same round just now
                    pass
                changed = True
        if not changed:
            break
        with store.read() as conn:
            rounds = rows.rounds(conn, review.id, stage)
    sampled = frozenset(rid for r in rounds for rid in r.sample)
    open_round = rounds and not rounds[-1].closed
    phase = CALIBRATION if open_round else SINGLE
    percent = float(setting_value(review, "verification_percent"))
    drawn = {rid for rid, calls in votes.items()
             if rid not in sampled and "exclude" in calls.values()
             and drawn_for_checking(review.id, stage, rid, percent)}
    to_check = frozenset(rid for rid in drawn
                         if len(votes[rid]) < 2 and rid not in resolved)
    return RapidPlan(stage, phase, rounds, sampled, to_check, frozenset(sampled | drawn))


def votes_needed(store: Store, review: Review, stage: str, stage_ids: Iterable[int],
                 decisions: list[Decision]):
    """What ``record_statuses`` needs as ``reviewers_required`` for this review and stage:
    the review's number, or per record in rapid mode."""
    if not rapid_mode(review):
        return int(setting_value(review, "reviewers_required"))
    return rapid_plan(store, review, stage, stage_ids, decisions, advance=False).votes_needed


def rapid_pending(plan: RapidPlan, pending: set[int]) -> set[int]:
    """Narrow what a reviewer should still screen to what the phase allows."""
    if plan.phase == CALIBRATION and plan.current is not None:
        return pending & set(plan.current.sample)
    return pending


def rapid_order(plan: RapidPlan, ranked: list[int]) -> list[int]:
    """Checks of exclusions first (so they are done while screening goes on), then the rest."""
    return [rid for rid in ranked if rid in plan.to_check] + \
        [rid for rid in ranked if rid not in plan.to_check]


# -- what the methods text and PRISMA report -----------------------------------------------


@dataclass(frozen=True)
class RapidSummary:
    """Calibration rounds and the check of single exclusions, for methods and PRISMA."""

    stage: str
    rounds: list[CalibrationRound]
    percent: float  # share of single exclusions drawn for a check
    single_excluded: int  # records excluded by one reviewer outside the samples
    drawn: int  # of which drawn for a check
    checked: int  # of which a second reviewer has voted on (or the lead settled)
    confirmed: int  # second reviewer also excluded
    disagreed: int  # second reviewer did not: a conflict
    then_included: int  # of the disagreements, settled as include
    dual_open: int = 0  # records of an open calibration round both reviewers have screened

    @property
    def calibrated(self) -> CalibrationRound | None:
        passed = [r for r in self.rounds if r.passed]
        return passed[-1] if passed else None


def rapid_summary(store: Store, review: Review, stage: str = "title_abstract"
                  ) -> RapidSummary | None:
    """What rapid screening did at a stage; None when the review never used it there."""
    with store.read() as conn:
        rounds = rows.rounds(conn, review.id, stage)
    if not rounds and not rapid_mode(review):
        return None
    sampled = {rid for r in rounds for rid in r.sample}
    percent = float(setting_value(review, "verification_percent"))
    decisions = store.current_decisions(review.id, stage=stage)
    votes, _ = _votes(d for d in decisions if d.kind == "vote")
    settled = {d.record_id: d.decision for d in decisions if d.kind == "resolution"}
    excluded = {rid: calls for rid, calls in votes.items()
                if rid not in sampled and "exclude" in calls.values()}
    drawn = {rid: calls for rid, calls in excluded.items()
             if drawn_for_checking(review.id, stage, rid, percent)}
    checked = {rid: calls for rid, calls in drawn.items() if len(calls) >= 2 or rid in settled}
    confirmed = sum(set(calls.values()) == {"exclude"} for calls in checked.values())
    disagreed = [rid for rid, calls in checked.items() if set(calls.values()) != {"exclude"}]
    dual_open = sum(len(votes.get(rid, {})) >= 2 for r in rounds if not r.closed
                    for rid in r.sample)
    return RapidSummary(stage, rounds, percent, len(excluded), len(drawn), len(checked),
                        confirmed, len(disagreed),
                        sum(settled.get(rid) == "include" for rid in disagreed), dual_open)


def rapid_methods_text(summary: RapidSummary) -> str:
    """A paragraph for the methods section: calibration, single screening and its check."""
    stage = STAGE_WORDS.get(summary.stage, summary.stage)
    parts = [f"Rapid-review screening at {stage}: two reviewers independently screened a "
             "random calibration sample before single screening."]
    for r in summary.rounds:
        if not r.closed:
            parts.append(f"Calibration round {r.number} ({len(r.sample)} records) was still "
                         "under way.")
            continue
        need = r.thresholds or {}
        verdict = "met" if r.passed else "did not meet"
        ac1 = f", Gwet's AC1 {r.ac1:.2f}" if r.ac1 is not None else ""
        kappa = "undefined" if r.kappa is None else f"{r.kappa:.2f}"
        parts.append(
            f"Round {r.number}: {r.records} records, agreement on {r.agreed} "
            f"({r.agreed / max(r.records, 1):.0%}), Cohen's kappa {kappa}{ac1}; this {verdict} "
            f"the thresholds set in advance (kappa at least {need.get('kappa', 0):g}, raw "
            f"agreement at least {need.get('agreement', 0):.0%}).")
    if summary.calibrated is None:
        parts.append("Calibration had not yet reached the thresholds.")
    parts.append(
        f"The remaining records were screened by one reviewer each; {summary.percent:g}% of "
        "single-reviewer exclusions, drawn at random, were checked by a second reviewer: "
        f"{summary.drawn} of {summary.single_excluded} exclusions were drawn, {summary.checked} "
        f"checked, {summary.confirmed} confirmed and {summary.disagreed} disputed"
        + (f" ({summary.then_included} of them then included after discussion)."
           if summary.disagreed else "."))
    return " ".join(parts)


def rapid_prisma_lines(summary: RapidSummary | None) -> tuple[list[str], list[str]]:
    """Short lines for the PRISMA diagram: under 'records screened' and 'records excluded'."""
    if summary is None:
        return [], []
    # screened by both: a closed round's records, and so far those of the open round (its
    # whole sample counted before anyone had screened it)
    dual = sum(r.records or 0 for r in summary.rounds if r.closed) + summary.dual_open
    last = summary.calibrated or (summary.rounds[-1] if summary.rounds else None)
    kappa = f" (kappa {last.kappa:.2f})" if last is not None and last.kappa is not None else ""
    return ([f"  dual-screened: {dual}{kappa}"],
            [f"  exclusions checked: {summary.checked} ({summary.confirmed} confirmed)"])


def screening_methods_text(counts) -> str:
    """The methods paragraph the PRISMA page offers: the rapid-review screening (if used)
    and the stopping rule with the evidence at the stop (``counts`` from ``prisma_counts``)."""
    from reviewkit.screening.stopping import stopping_methods_text

    parts = []
    if counts.rapid is not None:
        parts.append(rapid_methods_text(counts.rapid))
    if counts.stopping is not None:
        parts.append(stopping_methods_text(counts.stopping))
    return "\n\n".join(parts)
