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

The test is a guarantee, and on ranked runs a cautious one: it cannot know that the ranker keeps
getting better at putting relevant records first.  The **counting-process estimate** uses that
knowledge, after Sneyd & Stevenson (2021, "Modelling stopping criteria for search results using
Poisson processes", EMNLP): relevant records turn up as a Poisson process whose rate falls with
the position in the screening order.  Sneyd & Stevenson fit a power law to a fixed ranking; an
active learner instead finds relevant records at a steady rate until they run out, and a power
law then predicted ten to fifty times too many left on the tuning runs of
``benchmarks/stopping.py``.  So the rate is modelled as ``a * exp(-b * t)``, fitted by maximum
likelihood to every decision so far.  (Fitting only the latest quarter stopped sooner on the
tuning sets but failed on a further set, whose last relevant records came long after the
others; the whole history did not.)  The records left are expected to hold the rate summed
over the positions still to come; the upper bound takes the slowest fall the decisions do not
rule out (a one-sided profile-likelihood bound on ``b`` at :data:`RATE_CONFIDENCE`) and then
the Poisson upper quantile of that count.  It is a model, not a guarantee, which is why the advice also says how many
records drawn at random from the rest would settle the question with the exact test.

Each stopping rule (:data:`STOPPING_RULES`) reads the same decisions:

* ``hypergeometric`` - stop when the test above rejects "recall is below the target";
* ``counting`` - stop when the counting-process upper bound leaves recall on target (or the
  test already does);
* ``heuristic`` - the rule of thumb of ASReview's SAFE procedure (Boetje & van de Schoot 2024)
  without its random training sample: at least 10 % of the records screened, at least twice
  as many records screened as relevant ones found, and the last 50 decisions all "not
  relevant".  It carries no confidence; it is offered because reviews report it.

With a random sample screened at the end (``random_from=``) every rule rests on the exact test
of that sample: a sample drawn at random needs no model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# No scipy here: the advice is on the Screen page's first answer, and on a fresh server loading
# scipy.special took about half a second of it (scipy.stats a second).  The distributions needed
# are short sums of log-factorials (``math.lgamma``); the tests check them against scipy.stats.


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


STOPPING_RULES = {
    "counting": "counting-process estimate of the relevant records left (Sneyd & Stevenson "
                "2021), or the hypergeometric test when that is already met",
    "hypergeometric": "hypergeometric test that recall is below the target (Callaghan & "
                      "Müller-Hansen 2020)",
    "heuristic": "rule of thumb after ASReview's SAFE procedure: 10% of records screened, twice "
                 "as many screened as found relevant, and the last 50 not relevant",
}
DEFAULT_RULE = "hypergeometric"
# The heuristic's numbers, as the SAFE procedure states them.
HEURISTIC_MIN_SHARE, HEURISTIC_RUN = 0.10, 50
# The counting-process model is neither offered nor used to stop before this much is known:
# a rate fitted to one or two relevant records, or a handful of decisions, says nothing.
# (A floor for sense, chosen before any benchmark, not tuned on one.)
MODEL_MIN_FOUND, MODEL_MIN_DECIDED = 3, 20


@dataclass(frozen=True)
class StoppingAdvice:
    """Whether stopping now reaches the recall target, said in plain words."""

    safe_to_stop: bool
    plain_words: str
    recall_target: float
    confidence: float
    p_value: float  # chance of a run this poor in relevant records if recall were below target
    max_missed: int  # relevant records that may stay unscreened with recall still on target
    estimate: RemainingEstimate  # the hypergeometric bound: a guarantee, no model
    rule: str = DEFAULT_RULE
    model: RemainingEstimate | None = None  # counting-process estimate (None: nothing to fit)
    random_needed: int = 0  # random records that, all not relevant, would pass the exact test


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


def estimate_remaining_by_rate(
    decisions: Sequence[int], n_records: int, *, confidence: float = 0.95
) -> RemainingEstimate | None:
    """Estimate the relevant records left from the rate at which relevant ones turned up.

    Fits the counting-process model in the module notes to the decisions in screening order;
    returns ``None`` while no record has been judged relevant (there is no rate to fit).

    >>> estimate_remaining_by_rate([0] * 50, 2000) is None
    True
    """
    labels = _check(decisions, n_records, None)
    n_screened, n_found = len(labels), int(labels.sum())
    n_left = n_records - n_screened
    if n_left == 0:
        return RemainingEstimate(0.0, 0, confidence, n_records, n_screened, n_found, 0, "complete")
    if n_found == 0:
        return None
    expected, most = _rate_left(labels, n_records, confidence)
    upper = _poisson_quantile(confidence, most) if most > 0 else 0
    return RemainingEstimate(
        expected=float(expected),
        upper=min(upper, n_left),
        confidence=confidence,
        n_records=n_records,
        n_screened=n_screened,
        n_found=n_found,
        sample_size=n_screened,
        method="counting process",
    )


def stopping_advice(
    decisions: Sequence[int],
    n_records: int,
    *,
    recall_target: float = 0.95,
    confidence: float = 0.95,
    random_from: int | None = None,
    rule: str = DEFAULT_RULE,
) -> StoppingAdvice:
    """Say whether screening can stop with recall at or above ``recall_target`` under ``rule``.

    The hypergeometric rule stops when the hypothesis "recall is below the target" can be
    rejected at ``1 - confidence``; see :data:`STOPPING_RULES` for the others.

    >>> stopping_advice([1] + [0] * 9, 1000).safe_to_stop
    False
    """
    check_stopping_choice(rule, recall_target)
    labels = _check(decisions, n_records, random_from)
    n_found = int(labels.sum())
    max_missed = _max_missed(n_found, recall_target)
    estimate = estimate_remaining(
        labels, n_records, random_from=random_from, confidence=confidence
    )
    p_value = 0.0 if estimate.method == "complete" else _p_value(labels, n_records, random_from,
                                                                 max_missed)
    proven = estimate.method == "complete" or p_value < 1.0 - confidence
    model = None
    if random_from is None and estimate.method != "complete" and _enough_to_fit(labels):
        model = estimate_remaining_by_rate(labels, n_records, confidence=confidence)
    if rule == "counting" and random_from is None:
        safe = proven or (model is not None and model.upper <= max_missed)
    elif rule == "heuristic" and random_from is None:
        safe = proven or _heuristic_met(labels, n_records)
    else:
        safe = proven
    needed = 0 if proven else random_sample_needed(
        n_records - len(labels), max_missed, confidence=confidence
    )
    return StoppingAdvice(
        safe_to_stop=safe,
        plain_words=_explain(estimate, model, safe, recall_target, max_missed, rule, needed),
        recall_target=recall_target,
        confidence=confidence,
        p_value=p_value,
        max_missed=max_missed,
        estimate=estimate,
        rule=rule,
        model=model,
        random_needed=needed,
    )


def stopping_trace(
    decisions: Sequence[int],
    n_records: int,
    *,
    recall_target: float = 0.95,
    confidence: float = 0.95,
    rule: str = DEFAULT_RULE,
) -> list[bool]:
    """Return the advice after each decision in turn: ``True`` where it says stopping is safe.

    The same answer as :func:`stopping_advice` on every prefix, without the words.

    >>> stopping_trace([1, 0, 0], 3)
    [False, False, True]
    """
    return list(_safe_after_each(decisions, n_records, recall_target, confidence, rule))


def first_safe_position(
    decisions: Sequence[int],
    n_records: int,
    *,
    recall_target: float = 0.95,
    confidence: float = 0.95,
    rule: str = DEFAULT_RULE,
) -> int | None:
    """Return how many decisions had been made when the advice first said stop (``None``: never).

    >>> first_safe_position([1, 0, 0], 3)
    3
    """
    steps = _safe_after_each(decisions, n_records, recall_target, confidence, rule)
    return next((count for count, safe in enumerate(steps, start=1) if safe), None)


def _safe_after_each(decisions, n_records, recall_target, confidence, rule):
    """The advice after each decision, from running totals: no step rereads the decisions.

    Per decision the exact test weighs one run per relevant record found so far (numbers kept
    as running totals), and the counting model is fitted from three numbers (records, relevant
    found, the sum of their positions), so the whole trace costs what the decisions do, times
    the relevant records found, instead of the square of the decisions.
    """
    check_stopping_choice(rule, recall_target)
    labels = _check(decisions, n_records, None)
    found = np.concatenate([[0], np.cumsum(labels)])  # found[e]: relevant in the first e
    alpha = 1.0 - confidence
    starts: list[int] = [0]  # runs worth testing: from the top, or just after a relevant one
    hits_u, last_hit = 0.0, -1
    for end in range(1, len(labels) + 1):
        if labels[end - 1]:
            hits_u += end - 1
            last_hit = end - 1
        k = int(found[end])
        max_missed = _max_missed(k, recall_target)
        if end == n_records:
            safe = True
        else:
            begin = np.asarray(starts)
            in_run = found[end] - found[begin]
            runs = {"pool": n_records - begin, "size": end - begin, "found": in_run}
            safe = float(_below_target_tail(runs, max_missed).min()) < alpha
        if not safe and rule == "counting" and end >= MODEL_MIN_DECIDED and k >= MODEL_MIN_FOUND:
            safe = _model_stops_at(end, k, hits_u, n_records, confidence, max_missed)
        elif not safe and rule == "heuristic":
            safe = _heuristic_counts(end, k, end - 1 - last_hit, n_records)
        if labels[end - 1] and end < len(labels):
            starts.append(end)
            if len(starts) > RUNS_TESTED + 1:
                del starts[1]  # the oldest run after a relevant record; the top one stays
        yield bool(safe)


def random_sample_needed(n_left: int, max_missed: int, *, confidence: float = 0.95) -> int:
    """Count the records to draw at random from the ``n_left`` unscreened ones to prove recall.

    If none of them turns out relevant, the exact test then rejects "more than ``max_missed``
    relevant records are left" at ``1 - confidence``.

    >>> random_sample_needed(1000, 4, confidence=0.95)
    450
    """
    too_many = max_missed + 1
    if too_many > n_left:
        return 0
    alpha = 1.0 - confidence

    def passes(size: int) -> bool:
        # the chance that ``size`` records drawn from ``n_left`` miss all ``too_many``
        # relevant ones: C(n_left - too_many, size) / C(n_left, size)
        rest = n_left - too_many
        log_miss = (math.lgamma(rest + 1) - math.lgamma(rest - size + 1)
                    - math.lgamma(n_left + 1) + math.lgamma(n_left - size + 1))
        return math.exp(log_miss) < alpha

    low, high = 1, n_left - too_many + 1  # at ``high`` the sample must have found one
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if passes(mid) else (mid + 1, high)
    return low


def check_stopping_choice(rule: str, recall_target: float) -> None:
    """Raise ``ValueError`` naming the choices when ``rule`` or ``recall_target`` is not valid."""
    if rule not in STOPPING_RULES:
        raise ValueError(f"unknown stopping rule {rule!r}; choose one of "
                         f"{', '.join(STOPPING_RULES)}")
    if not 0 < recall_target <= 1:
        raise ValueError(f"recall_target must lie in (0, 1], got {recall_target}")


def _max_missed(n_found: int, recall_target: float) -> int:
    """Largest number of relevant records left unscreened that still keeps recall on target."""
    return int(math.floor(n_found / recall_target - n_found + 1e-9))


def _p_value(labels: np.ndarray, n_records: int, random_from: int | None, max_missed: int) -> float:
    """Smallest chance, over the runs tested, of so few relevant were recall below target."""
    if len(labels) == n_records:
        return 0.0
    runs = _runs(labels, n_records, _run_starts(labels, random_from))
    return float(_below_target_tail(runs, max_missed).min())


def _enough_to_fit(labels: np.ndarray) -> bool:
    """Whether enough is known for the counting-process model to mean anything."""
    return len(labels) >= MODEL_MIN_DECIDED and int(labels.sum()) >= MODEL_MIN_FOUND


def _model_stops_at(n: int, k: int, hits_u: float, n_records: int, confidence: float,
                    max_missed: int) -> bool:
    _, most = _rate_left_from(n, k, hits_u, n_records, confidence)
    return _poisson_quantile(confidence, most) <= max_missed


def _heuristic_met(labels: np.ndarray, n_records: int) -> bool:
    hits = np.flatnonzero(labels)
    since = len(labels) - 1 - (int(hits[-1]) if len(hits) else -1)
    return _heuristic_counts(len(labels), len(hits), since, n_records)


def _heuristic_counts(n: int, found: int, not_relevant_run: int, n_records: int) -> bool:
    """The SAFE-style rule from counts: ``not_relevant_run`` decisions since the last relevant."""
    return (
        n >= HEURISTIC_MIN_SHARE * n_records
        and n >= 2 * found
        and n >= HEURISTIC_RUN
        and not_relevant_run >= HEURISTIC_RUN
    )


# The steepest fall of the rate allowed, per record (a 63 % drop from one record to the next).
_MAX_DECAY = 1.0
# The slowest fall of the rate the upper bound allows is the one-sided profile-likelihood bound
# at this confidence (or the advice's own, if lower); the count left under it then gets the
# Poisson upper quantile at the advice's confidence.  Chosen on the tuning runs of
# benchmarks/stopping.py: 0.95 for both (the first version) reached the recall target in every
# tuning run at a mean effort of 1.88x the oracle, 0.8 in every one at 1.67x, 0.7 missed in 2 of 15.
# Laxer settings stop sooner on some reviews, but chosen on three reviews they did not carry
# over to the fourth (benchmarks/stopping.py holds each review out in turn), so none is used.
RATE_CONFIDENCE = 0.8
# The exact test weighs the run from the first decision and the runs that begin just after
# each of the latest relevant records, at most this many: testing fewer runs only makes the
# test more cautious, and keeps the cost of a decision from growing with the relevant found.
# (On 8 benchmark orders, checked every third decision, the most telling run was among the
# latest 3 in 1,994 of 2,020 checks and never further back than 31, except the first one.)
RUNS_TESTED = 50


def _geometric(b: float, start: int, stop: int) -> float:
    """Sum of exp(-b u) for u from ``start`` to ``stop - 1``, in closed form."""
    if stop <= start:
        return 0.0
    if b <= 0.0:
        return float(stop - start)
    # exp(-b start) (1 - exp(-b m)) / (1 - exp(-b)), with expm1 for small b
    return math.exp(-b * start) * math.expm1(-b * (stop - start)) / math.expm1(-b)


def _rate_left(labels: np.ndarray, n_records: int, confidence: float) -> tuple[float, float]:
    """Fit a falling rate to the decisions; return the expected count left and the most.

    "The most" is the count left under the slowest fall within the one-sided ``confidence``
    profile-likelihood bound.  Needs at least one relevant record among ``labels``.
    """
    positions = np.flatnonzero(labels)
    return _rate_left_from(len(labels), len(positions), float(positions.sum()), n_records,
                           confidence)


def _rate_left_from(n: int, k: int, hits_u: float, n_records: int,
                    confidence: float) -> tuple[float, float]:
    """:func:`_rate_left` from ``n`` decisions, ``k`` relevant and the sum of their positions
    (0-based): the rate's sums over positions are geometric series, so no fit reads the
    decisions themselves."""
    k = float(k)

    def log_likelihood(b: float) -> float:
        # With ``a`` at its best for this ``b`` (k / sum of exp(-b u)) the likelihood is:
        return k * math.log(k / _geometric(b, 0, n)) - b * hits_u - k

    def left(b: float) -> float:
        return k * _geometric(b, n, n_records) / _geometric(b, 0, n)

    best = _golden_max(log_likelihood, 0.0, _MAX_DECAY, 1e-6)
    floor = log_likelihood(best) - _chi_square_1_quantile(2 * min(confidence, RATE_CONFIDENCE) - 1) / 2
    if log_likelihood(0.0) >= floor:
        slowest = 0.0
    else:
        # the profile likelihood is concave in ``b`` (minus k log of a sum of exponentials,
        # minus a line), so it rises through ``floor`` once between 0 and the best fit
        low, high = 0.0, best
        while high - low > 1e-7:
            mid = (low + high) / 2
            low, high = (low, mid) if log_likelihood(mid) >= floor else (mid, high)
        slowest = (low + high) / 2
    return left(best), left(slowest)


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
    after = np.flatnonzero(labels == 1) + 1
    after = after[after < len(labels)][-RUNS_TESTED:]
    return np.unique(np.concatenate([[0], after]).astype(int))


def _runs(labels: np.ndarray, n_records: int, starts: np.ndarray) -> dict[str, np.ndarray]:
    """Describe each run from ``start`` to the latest decision: pool, size and relevant found."""
    found_after = np.concatenate([np.cumsum(labels[::-1])[::-1], [0]])
    return {
        "pool": n_records - starts,
        "size": len(labels) - starts,
        "found": found_after[starts],
    }


def _below_target_tail(runs: dict[str, np.ndarray], max_missed: int) -> np.ndarray:
    """:func:`_tail` at the smallest pool count that puts recall below target, per run.

    That count is the run's own finds plus ``max_missed + 1``, so the chance of finding more
    than the run did is a sum of at most ``max_missed + 1`` hypergeometric terms, taken here
    from log-gamma values.  (scipy's ``hypergeom.cdf`` gives the same numbers, but its cost
    grows with the pool, which made a trace over every decision grow with its square; the
    two agree to 1e-9 in ``tests/test_stopping_trace.py``.)
    """
    found = np.asarray(runs["found"], dtype=np.int64)
    pool = np.asarray(runs["pool"], dtype=np.int64)
    size = np.asarray(runs["size"], dtype=np.int64)
    relevant = found + max_missed + 1
    impossible = relevant > pool
    relevant = np.minimum(relevant, pool)
    x = found[:, None] + 1 + np.arange(max_missed + 1)[None, :]  # finds above the run's
    rest = pool - relevant
    valid = (x <= np.minimum(relevant, size)[:, None]) & (size[:, None] - x <= rest[:, None])
    terms = _log_terms(relevant, rest, pool, size, x, valid)
    upper = np.where(valid, np.exp(terms), 0.0).sum(axis=1)
    return np.where(impossible, 0.0, np.clip(1.0 - upper, 0.0, 1.0))


def _tail(runs: dict[str, np.ndarray], relevant_in_pool: np.ndarray) -> np.ndarray:
    """Chance that a run finds at most what it found, were ``relevant_in_pool`` in its pool.

    The hypergeometric distribution's lower tail, summed from log-factorials (one term per
    count the run could have found, up to its own); it agrees with ``scipy.stats.hypergeom``
    to 1e-9 in ``tests/test_stopping_trace.py``.
    """
    found = np.asarray(runs["found"], dtype=np.int64)
    pool = np.asarray(runs["pool"], dtype=np.int64)
    size = np.asarray(runs["size"], dtype=np.int64)
    wanted = np.asarray(relevant_in_pool, dtype=np.int64)
    relevant = np.minimum(wanted, pool)
    rest = pool - relevant
    x = np.arange(int(found.max(initial=0)) + 1)[None, :]
    valid = ((x <= found[:, None]) & (x <= relevant[:, None]) & (x <= size[:, None])
             & (size[:, None] - x <= rest[:, None]))
    terms = _log_terms(relevant, rest, pool, size, x, valid)
    tail = np.where(valid, np.exp(terms), 0.0).sum(axis=1)
    # More relevant records than the pool can hold is impossible, so its chance is nil.
    return np.where(wanted > pool, 0.0, np.clip(tail, 0.0, 1.0))


def _log_terms(relevant, rest, pool, size, x, valid) -> np.ndarray:
    """log P(X = x) for X hypergeometric (``relevant`` of ``pool`` drawn ``size`` times), one
    row per run and one column per ``x``; 0 where not ``valid`` (those are never used)."""
    table = _log_factorials(int(pool.max(initial=0)))

    def log_choose(n, k):
        n, k = np.broadcast_arrays(n, k)
        ok = valid & (k >= 0) & (k <= n)
        n, k = np.where(ok, n, 0), np.where(ok, k, 0)
        return table[n] - table[k] - table[n - k]

    return np.where(valid, log_choose(relevant[:, None], x)
                    + log_choose(rest[:, None], size[:, None] - x)
                    - (table[pool] - table[size] - table[pool - size])[:, None], 0.0)


_LOG_FACTORIALS = np.zeros(1)


def _log_factorials(n: int) -> np.ndarray:
    """log(k!) for k from 0 to at least ``n`` (``math.lgamma``; the table is kept and grown)."""
    global _LOG_FACTORIALS
    if len(_LOG_FACTORIALS) <= n:
        _LOG_FACTORIALS = np.array([math.lgamma(k + 1.0) for k in range(max(n + 1, 1024))])
    return _LOG_FACTORIALS


def _poisson_quantile(q: float, mean: float) -> int:
    """Smallest count ``k`` with P(X <= k) >= ``q`` for X Poisson with ``mean``: scipy.stats'
    ``poisson.ppf`` (they agree in the tests), from the probabilities summed in turn."""
    if mean <= 0:
        return 0
    reach = int(mean + 12 * math.sqrt(mean) + 30)
    k = np.arange(reach + 1)
    cdf = np.cumsum(np.exp(k * math.log(mean) - mean - _log_factorials(reach)[: reach + 1]))
    return int(np.searchsorted(cdf, q - 1e-12 * q))


def _chi_square_1_quantile(p: float) -> float:
    """The ``p`` quantile of the chi-square distribution with one degree of freedom: the
    square of a standard normal's ``(1 + p) / 2`` quantile."""
    from statistics import NormalDist

    return NormalDist().inv_cdf((1 + p) / 2) ** 2


def _golden_max(f, low: float, high: float, tolerance: float) -> float:
    """Where the concave function ``f`` is highest on [``low``, ``high``] (golden-section
    search, to ``tolerance``)."""
    ratio = (math.sqrt(5) - 1) / 2
    a, b = low + (1 - ratio) * (high - low), low + ratio * (high - low)
    fa, fb = f(a), f(b)
    while high - low > tolerance:
        if fa >= fb:
            high, b, fb = b, a, fa
            a = low + (1 - ratio) * (high - low)
            fa = f(a)
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = f(b)
    return (low + high) / 2  # at an end of the range, the bracket closes on that end


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


def _model_figures(model: RemainingEstimate, exact: RemainingEstimate) -> tuple[int, int]:
    """Best guess and upper bound to report: the exact bound holds too, so never report more."""
    most = min(model.upper, exact.upper)
    return min(round(model.expected), most), most


def _explain(
    estimate: RemainingEstimate,
    model: RemainingEstimate | None,
    safe: bool,
    recall_target: float,
    max_missed: int,
    rule: str,
    random_needed: int,
) -> str:
    # Counts include and exclude decisions only: a record marked maybe is not decided yet.
    done = (
        f"{estimate.n_screened:,} of {estimate.n_records:,} records have been decided "
        f"(included or excluded; maybes not counted), {estimate.n_found:,} of them relevant."
    )
    target = f"{recall_target:.0%}"
    if estimate.method == "complete":
        return f"{done} Every record has been decided, so nothing relevant is left to find."
    sure = f"{estimate.confidence:.0%}"
    parts = [done]
    if model is not None:
        guess, most = _model_figures(model, estimate)
        parts.append(
            f"From the rate at which relevant records have been turning up, we estimate "
            f"{guess:,} relevant records are left (up to {most:,}, {sure} confidence)."
        )
    elif estimate.method == "ranked run":
        parts.append(
            "It is too early to estimate from the rate at which relevant records turn up how "
            f"many are left: that needs at least {MODEL_MIN_DECIDED} records decided and "
            f"{MODEL_MIN_FOUND} found relevant."
        )
    basis = (
        "the random sample you screened"
        if estimate.method == "random sample"
        else f"the last {estimate.sample_size:,} records screened in ranked order"
    )
    parts.append(
        f"Without a model, the exact test on {basis} says at most {estimate.upper:,} are left."
    )
    parts.append(f"A recall of {target} lets at most {max_missed:,} relevant records be missed."
                 if max_missed else f"With {estimate.n_found:,} relevant found, a recall of "
                 f"{target} lets no relevant record be missed yet.")
    if random_needed:
        parts.append(
            f"Screening about {random_needed:,} more records drawn at random from the rest "
            f"would, if none of them is relevant, let us say with {sure} confidence that recall "
            f"is at least {target}."
        )
    name = {"counting": "counting-process", "hypergeometric": "exact-test",
            "heuristic": "rule-of-thumb"}[rule]
    if safe:
        parts.append(f"By the {name} rule it is safe to stop.")
    else:
        parts.append(f"By the {name} rule, keep screening.")
    return " ".join(parts)


def stopping_methods_text(advice: StoppingAdvice) -> str:
    """Write the stopping rule and the evidence at the stop as a paragraph for a methods section.

    >>> print(stopping_methods_text(stopping_advice([1, 0, 0], 3)).split(". ")[0])
    Title and abstract screening was prioritised by active learning in reviewkit
    """
    e = advice.estimate
    target, sure = f"{advice.recall_target:.0%}", f"{advice.confidence:.0%}"
    rule = STOPPING_RULES[advice.rule]
    parts = [
        "Title and abstract screening was prioritised by active learning in reviewkit. "
        f"Stopping rule: {rule}, with a recall target of {target} at {sure} confidence."
    ]
    if e.method == "complete":
        parts.append(f"All {e.n_records:,} records were screened; {e.n_found:,} were judged "
                     "relevant.")
        return " ".join(parts)
    share = e.n_screened / e.n_records
    state = "Screening stopped after" if advice.safe_to_stop else "So far screening has covered"
    parts.append(f"{state} {e.n_screened:,} of {e.n_records:,} records ({share:.0%}), "
                 f"with {e.n_found:,} judged relevant; a recall of {target} allows "
                 f"{advice.max_missed:,} relevant records to be missed.")
    if advice.model is not None:
        guess, most = _model_figures(advice.model, e)
        parts.append(f"A counting-process model of the rate at which relevant records were found "
                     f"estimated {guess:,} relevant records left (upper bound {most:,}).")
    basis = "a random sample of the remaining records" if e.method == "random sample" else \
        "the last records screened in ranked order"
    parts.append(f"The hypergeometric test on {basis} gave p = {advice.p_value:.3f} for the "
                 f"hypothesis that recall was below {target} (upper bound {e.upper:,} relevant "
                 "records left).")
    if advice.safe_to_stop and advice.random_needed:
        parts.append("The stop rests on the model, not on a statistical guarantee: screening "
                     f"{advice.random_needed:,} further randomly drawn records without finding a "
                     "relevant one would have given that guarantee.")
    if not advice.safe_to_stop:
        parts.append("The rule did not yet advise stopping.")
    return " ".join(parts)
