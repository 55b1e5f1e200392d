"""The stopping benchmark's held-out-review analysis reads what the shipped rule reads, and never
lets the review it holds out take part in the choice it is then read under."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from benchmarks import stopping as bench  # noqa: E402
from reviewkit.screening.stopping import first_safe_position  # noqa: E402


def _ranked(n: int, k: int, seed: int) -> np.ndarray:
    """A ranked-looking order: relevant records dense at the top, thinning out."""
    rng = np.random.default_rng(seed)
    weight = np.exp(-np.arange(n) / (n / 6))
    labels = np.zeros(n, dtype=int)
    labels[rng.choice(n, size=k, replace=False, p=weight / weight.sum())] = 1
    return labels


@pytest.mark.parametrize("n, k, seed", [(300, 20, 1), (500, 60, 2), (200, 8, 3)])
def test_the_family_at_the_shipped_setting_stops_where_the_shipped_rule_does(n, k, seed):
    labels = _ranked(n, k, seed)
    stops = bench.family_stops(labels, 0.95)
    shipped = first_safe_position(labels, n, rule="counting") or n
    assert stops[bench.CURRENT] == shipped
    # and a floor only ever holds the model back
    rate, quantile, _ = bench.CURRENT
    later = [stops[(rate, quantile, floor)] for floor in bench.SEARCH_FLOOR]
    assert later == sorted(later)


def test_poisson_cdf_matches_scipy():
    upto = np.array([0, 1, 4, 10, 0])
    mean = np.array([0.05, 2.5, 3.9, 7.0, np.nan])
    expected = stats.poisson.cdf(upto, np.nan_to_num(mean))
    expected[-1] = 1.0  # no model: nothing to fear
    assert bench.poisson_cdf(upto, mean) == pytest.approx(expected, rel=1e-12)


def _run(name: str, results: dict) -> dict:
    return {"set": name, "family": {setting: {"reached": reached, "effort": effort}
                                    for setting, (reached, effort) in results.items()}}


CAUTIOUS, BOLD = (0.95, 0.95, 0.4), (0.5, 0.5, 0.0)


def test_the_choice_never_reads_the_review_held_out():
    others = [_run("a", {CAUTIOUS: (True, 2.0), BOLD: (True, 1.1)}),
              _run("b", {CAUTIOUS: (True, 1.8), BOLD: (True, 1.2)})]
    held = _run("c", {CAUTIOUS: (True, 1.9), BOLD: (False, 0.7)})
    assert bench.choose_on_others([*others, held], "c") == BOLD
    # whatever the held-out review's own figures, the choice is the same
    flipped = _run("c", {CAUTIOUS: (False, 9.0), BOLD: (True, 0.1)})
    assert bench.choose_on_others([*others, flipped], "c") == BOLD


def test_the_choice_needs_each_other_review_reliable():
    runs = [_run("a", {CAUTIOUS: (True, 2.0), BOLD: (True, 1.0)}),
            _run("b", {CAUTIOUS: (True, 2.0), BOLD: (False, 0.8)}),
            _run("c", {CAUTIOUS: (True, 2.0), BOLD: (True, 1.0)})]
    assert bench.choose_on_others(runs, "c") == CAUTIOUS
    never = [_run(name, {CAUTIOUS: (False, 1.0)}) for name in "abc"]
    assert bench.choose_on_others(never, "c") is None
