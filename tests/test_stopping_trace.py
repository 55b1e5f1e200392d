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


def _random_runs(seed: int, n: int, most_found: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    pool = rng.integers(5, 3000, size=n)
    size = np.array([rng.integers(1, p + 1) for p in pool])
    found = np.array([rng.integers(0, min(s, most_found) + 1) for s in size])
    return {"pool": pool, "size": size, "found": found}


def _scipy_tail(runs: dict[str, np.ndarray], relevant: np.ndarray) -> np.ndarray:
    from scipy.stats import hypergeom

    pool, found = runs["pool"], runs["found"]
    return np.where(relevant > pool, 0.0,
                    hypergeom.cdf(found, pool, np.minimum(relevant, pool), runs["size"]))


def test_below_target_tail_matches_scipy():
    runs = _random_runs(11, 400, 30)
    for max_missed in (0, 1, 4, 17):
        expected = _scipy_tail(runs, runs["found"] + max_missed + 1)
        assert np.allclose(stopping._below_target_tail(runs, max_missed), expected,
                           rtol=1e-9, atol=1e-9)


def test_exact_tail_matches_scipy():
    # the lower tail the exact bound is searched with, for counts around and beyond the pool
    runs = _random_runs(12, 300, 120)
    for extra in (0, 1, 5, 60, 4000):
        relevant = runs["found"] + extra
        assert np.allclose(stopping._tail(runs, relevant), _scipy_tail(runs, relevant),
                           rtol=1e-9, atol=1e-9)


def test_poisson_and_chi_square_quantiles_match_scipy():
    from scipy.stats import chi2, poisson

    rng = np.random.default_rng(13)
    for mean in [*rng.uniform(0.001, 3, 200), *rng.uniform(3, 400, 200), 1.0, 7.0, 2500.0]:
        for q in (0.5, 0.8, 0.95, 0.99):
            assert stopping._poisson_quantile(q, mean) == int(poisson.ppf(q, mean)), (q, mean)
    for p in (0.0001, 0.2, 0.6, 0.8, 0.9, 0.99):
        assert stopping._chi_square_1_quantile(p) == pytest.approx(chi2.ppf(p, 1), rel=1e-9)


def test_random_sample_needed_matches_scipy():
    from scipy.stats import hypergeom

    for n_left, max_missed in [(1000, 4), (50, 0), (8000, 12), (300, 2), (20, 25)]:
        needed = stopping.random_sample_needed(n_left, max_missed)
        too_many = max_missed + 1
        if too_many > n_left:
            assert needed == 0
            continue
        assert hypergeom.cdf(0, n_left, too_many, needed) < 0.05
        assert needed == 1 or hypergeom.cdf(0, n_left, too_many, needed - 1) >= 0.05


def test_advice_loads_no_scipy():
    # scipy takes about a second to load on a fresh server (scipy.special half of it): the
    # Screen page's first answer, which shows the advice, must not wait for it
    import subprocess
    import sys

    code = ("import sys; from reviewkit.screening.stopping import stopping_advice as a; "
            "x = a([1, 0] * 20 + [0] * 100, 2000, rule='counting'); "
            "assert x.model is not None and x.random_needed > 0; "
            "print(any(m.startswith('scipy') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_rate_fit_matches_scipy_optimisers():
    # the golden-section fit and the bisection for the bound against scipy.optimize's
    from scipy.optimize import brentq, minimize_scalar

    for seed, (n, k, cut) in enumerate([(300, 25, 180), (2000, 60, 700), (900, 40, 880),
                                        (500, 5, 60)]):
        labels = np.array(_ranked(n, k, seed=seed)[:cut])
        hits = np.flatnonzero(labels)
        kk, hits_u = float(len(hits)), float(hits.sum())

        def ll(b, cut=cut, kk=kk, hits_u=hits_u):
            return kk * math.log(kk / stopping._geometric(b, 0, cut)) - b * hits_u - kk

        best = minimize_scalar(lambda b: -ll(b), bounds=(0.0, stopping._MAX_DECAY),
                               method="bounded", options={"xatol": 1e-9}).x
        ours = stopping._golden_max(ll, 0.0, stopping._MAX_DECAY, 1e-6)
        assert ours == pytest.approx(best, abs=2e-6)
        floor = ll(best) - stopping._chi_square_1_quantile(0.6) / 2
        if ll(0.0) < floor:
            root = brentq(lambda b, floor=floor: ll(b) - floor, 0.0, best, xtol=1e-10)
            expected_most = stopping._geometric(root, cut, n) / stopping._geometric(root, 0, cut)
            _, most = stopping._rate_left_from(cut, len(hits), hits_u, n, 0.95)
            assert most == pytest.approx(kk * expected_most, rel=1e-4)  # bisection to 1e-7
