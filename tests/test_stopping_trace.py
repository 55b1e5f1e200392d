"""The safe_to_stop trace from running totals agrees with the advice on every prefix."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reviewkit.screening import stopping
from reviewkit.screening.stopping import stopping_advice, stopping_trace


def _ranked(n: int, k: int, seed: int) -> list[int]:
    """A ranked-looking order: relevant records dense at the top, thinning out."""
    rng = np.random.default_rng(seed)
    weight = np.exp(-np.arange(n) / (n / 6))
    hits = rng.choice(n, size=k, replace=False, p=weight / weight.sum())
    labels = np.zeros(n, dtype=int)
    labels[hits] = 1
    return labels.tolist()


@pytest.mark.parametrize("b, start, stop", [(0.0, 0, 10), (1e-9, 3, 400), (0.02, 0, 700),
                                            (0.7, 5, 9), (0.3, 4, 4)])
def test_geometric_sums_match_the_plain_sum(b, start, stop):
    plain = float(np.exp(-b * np.arange(start, stop, dtype=float)).sum())
    assert stopping._geometric(b, start, stop) == pytest.approx(plain, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("rule", ["hypergeometric", "counting", "heuristic"])
def test_trace_matches_the_advice_with_more_relevant_than_runs_tested(rule):
    # more relevant records than the exact test weighs runs for, so the cap is in play
    labels = _ranked(300, stopping.RUNS_TESTED + 20, seed=3)
    trace = stopping_trace(labels, 300, rule=rule)
    assert len(trace) == 300 and trace[-1]
    for end in [*range(20, 300, 37), 299]:
        assert trace[end - 1] == stopping_advice(labels[:end], 300, rule=rule).safe_to_stop, end


def test_rate_fit_from_totals_matches_the_decisions():
    labels = np.array(_ranked(300, 25, seed=5)[:180])
    hits = np.flatnonzero(labels)
    expected, most = stopping._rate_left(labels, 300, 0.95)
    again = stopping._rate_left_from(len(labels), len(hits), float(hits.sum()), 300, 0.95)
    assert (expected, most) == again
    # the slowest plausible fall leaves at least as many as the best fit
    assert most >= expected >= 0 and math.isfinite(most)


def test_below_target_tail_matches_scipy():
    from scipy.stats import hypergeom

    rng = np.random.default_rng(11)
    pool = rng.integers(5, 3000, size=400)
    size = np.array([rng.integers(1, p + 1) for p in pool])
    found = np.array([rng.integers(0, min(s, 30) + 1) for s in size])
    runs = {"pool": pool, "size": size, "found": found}
    for max_missed in (0, 1, 4, 17):
        relevant = found + max_missed + 1
        expected = np.where(relevant > pool, 0.0,
                            hypergeom.cdf(found, pool, np.minimum(relevant, pool), size))
        assert np.allclose(stopping._below_target_tail(runs, max_missed), expected,
                           rtol=1e-9, atol=1e-9)
