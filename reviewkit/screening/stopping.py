"""How many relevant records are still unscreened, and whether it is safe to stop screening.

The test follows the idea of Callaghan & Müller-Hansen (2020, "Statistical stopping criteria for
automated screening in systematic reviews", Systematic Reviews 9:273): treat a run of screened
records as a sample drawn without replacement from the records that were still unscreened when
the run began, and ask how many relevant records that pool could have held for the run to turn
up as few as it did.  The hypergeometric distribution answers that exactly.

Two kinds of run are used:

* a **random sample** screened after the prioritised phase (``random_from=``): the records from
  that position on were drawn uniformly from the rest, so the test is exact;
* otherwise the **last records screened in ranked order**: the ranker puts the likeliest records
  first, so what is left is at most as rich in relevant records as the run just screened, which
  makes treating the run as a random sample conservative.  Every run that ends at the latest
  decision is tried and the most informative one is kept, as Callaghan & Müller-Hansen do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import hypergeom


@dataclass(frozen=True)
class RemainingEstimate:
    """Relevant records still unscreened: a central estimate and an upper confidence bound."""

    expected: float  # central estimate; in ranked order it leans high (see module notes)
    upper: int  # with probability ``confidence`` no more than this many are left
    confidence: float
    n_records: int
    n_screened: int
    n_found: int  # relevant records found so far
    sample_size: int  # records in the run the estimate rests on (0 when nothing is left)
    method: str  # "complete", "random sample" or "ranked run"


@dataclass(frozen=True)
class StoppingAdvice:
    """Whether stopping now reaches the recall target, said in plain words."""

    safe_to_stop: bool
    plain_words: str
    recall_target: float
    confidence: float
    p_value: float  # chance of a run this poor in relevant records if recall were below target
    max_missed: int  # relevant records that may stay unscreened with recall still on target
    estimate: RemainingEstimate


def estimate_remaining(
    decisions: Sequence[int],
    n_records: int,
    *,
    random_from: int | None = None,
    confidence: float = 0.95,
) -> RemainingEstimate:
    """Estimate how many relevant records are among those not yet screened.

    ``decisions`` are the screening decisions (1 relevant, 0 not) in the order they were made;
    ``n_records`` counts every record in the review.  ``random_from`` is the position in
    ``decisions`` from which records were drawn at random rather than by rank.

    >>> estimate_remaining([1, 1, 0, 1, 0, 0], 6).upper
    0
    """
    labels = _check(decisions, n_records, random_from)
    n_screened, n_found = len(labels), int(labels.sum())
    n_left = n_records - n_screened
    if n_left == 0:
        return RemainingEstimate(0.0, 0, confidence, n_records, n_screened, n_found, 0, "complete")
    starts = _run_starts(labels, random_from)
    runs = _runs(labels, n_records, starts)
    upper_at_start = _upper_bounds(runs, 1.0 - confidence)
    # A run's pool held ``upper_at_start`` relevant records at most; the run itself found ``k``.
    upper_now = upper_at_start - runs["found"]
    best = int(np.argmin(upper_now))
    size, found = int(runs["size"][best]), int(runs["found"][best])
    # Half a relevant record added to the run keeps a run that found none from promising zero.
    expected = (found + 0.5) / (size + 1) * n_left
    return RemainingEstimate(
        expected=float(expected),
        upper=int(min(upper_now[best], n_left)),
        confidence=confidence,
        n_records=n_records,
        n_screened=n_screened,
        n_found=n_found,
        sample_size=size,
        method="random sample" if random_from is not None else "ranked run",
    )


def stopping_advice(
    decisions: Sequence[int],
    n_records: int,
    *,
    recall_target: float = 0.95,
    confidence: float = 0.95,
    random_from: int | None = None,
) -> StoppingAdvice:
    """Say whether screening can stop with recall at or above ``recall_target``.

    Stopping is safe when the hypothesis "recall is below the target" can be rejected at
    ``1 - confidence``.

    >>> stopping_advice([1] + [0] * 9, 1000).safe_to_stop
    False
    """
    if not 0 < recall_target <= 1:
        raise ValueError(f"recall_target must lie in (0, 1], got {recall_target}")
    labels = _check(decisions, n_records, random_from)
    n_found = int(labels.sum())
    # Largest number of relevant records left unscreened that still keeps recall on target.
    max_missed = int(math.floor(n_found / recall_target - n_found + 1e-9))
    estimate = estimate_remaining(
        labels, n_records, random_from=random_from, confidence=confidence
    )
    if estimate.method == "complete":
        p_value = 0.0
    else:
        runs = _runs(labels, n_records, _run_starts(labels, random_from))
        # Smallest pool count that would put recall below target, for each run.
        below_target = runs["found"] + max_missed + 1
        p_values = _tail(runs, below_target)
        p_value = float(p_values.min())
    safe = estimate.method == "complete" or p_value < 1.0 - confidence
    return StoppingAdvice(
        safe_to_stop=safe,
        plain_words=_explain(estimate, safe, recall_target, max_missed),
        recall_target=recall_target,
        confidence=confidence,
        p_value=p_value,
        max_missed=max_missed,
        estimate=estimate,
    )


def _check(decisions: Sequence[int], n_records: int, random_from: int | None) -> np.ndarray:
    labels = np.asarray(list(decisions), dtype=int)
    if labels.size and not np.isin(labels, (0, 1)).all():
        raise ValueError("decisions must be 1 (relevant) or 0 (not relevant)")
    if len(labels) > n_records:
        raise ValueError(f"{len(labels)} decisions but only {n_records} records")
    if random_from is not None and not 0 <= random_from <= len(labels):
        raise ValueError(f"random_from={random_from} lies outside the {len(labels)} decisions")
    return labels


def _run_starts(labels: np.ndarray, random_from: int | None) -> np.ndarray:
    """Positions where the runs to test begin."""
    if random_from is not None:
        return np.array([random_from])
    # Stretching a run back over a not-relevant record only adds evidence, so the runs worth
    # testing start at the first decision or just after a relevant one.
    starts = np.concatenate([[0], np.flatnonzero(labels == 1) + 1])
    return np.unique(starts[starts < max(len(labels), 1)])


def _runs(labels: np.ndarray, n_records: int, starts: np.ndarray) -> dict[str, np.ndarray]:
    """Describe each run from ``start`` to the latest decision: pool, size and relevant found."""
    found_after = np.concatenate([np.cumsum(labels[::-1])[::-1], [0]])
    return {
        "pool": n_records - starts,
        "size": len(labels) - starts,
        "found": found_after[starts],
    }


def _tail(runs: dict[str, np.ndarray], relevant_in_pool: np.ndarray) -> np.ndarray:
    """Chance that a run finds at most what it found, were ``relevant_in_pool`` in its pool."""
    relevant = np.minimum(relevant_in_pool, runs["pool"])
    tail = hypergeom.cdf(runs["found"], runs["pool"], relevant, runs["size"])
    # More relevant records than the pool can hold is impossible, so its chance is nil.
    return np.where(relevant_in_pool > runs["pool"], 0.0, tail)


def _upper_bounds(runs: dict[str, np.ndarray], alpha: float) -> np.ndarray:
    """Largest relevant count in each run's pool not rejected at ``alpha`` (binary search)."""
    low = runs["found"].astype(np.int64)  # always possible: the run found that many
    high = (runs["pool"] - (runs["size"] - runs["found"])).astype(np.int64)
    while True:
        open_ = low < high
        if not open_.any():
            return low
        mid = np.where(open_, (low + high + 1) // 2, low)
        plausible = _tail(runs, mid) >= alpha
        low = np.where(open_ & plausible, mid, low)
        high = np.where(open_ & ~plausible, mid - 1, high)


def _explain(estimate: RemainingEstimate, safe: bool, recall_target: float, max_missed: int) -> str:
    done = (
        f"You have screened {estimate.n_screened:,} of {estimate.n_records:,} records "
        f"and found {estimate.n_found:,} relevant."
    )
    target = f"{recall_target:.0%}"
    if estimate.method == "complete":
        return f"{done} Every record has been screened, so nothing relevant is left to find."
    sure = f"{estimate.confidence:.0%}"
    left = (
        f"At most {estimate.upper:,} relevant records are likely still unscreened "
        f"({sure} confidence; best guess {estimate.expected:.1f})."
    )
    basis = (
        "This rests on the random sample you screened."
        if estimate.method == "random sample"
        else f"This rests on the last {estimate.sample_size:,} records screened in ranked order."
    )
    if safe:
        verdict = (
            f"Missing up to {max_missed:,} would still leave recall at or above {target}, "
            "so it is safe to stop."
        )
    else:
        verdict = (
            f"Recall of {target} allows missing only {max_missed:,}, so keep screening "
            "(or screen a random sample of the rest for a firmer answer)."
        )
    return f"{done} {left} {basis} {verdict}"
