"""Stopping rules on SYNERGY sets: how often each reaches the recall target, and at what effort.

For every labelled set and seed, reviewkit's ranker screens the whole set from two priors drawn
by the seed (as ``benchmarks/screening.py`` does); the screening orders are cached, since a rule
only reads the order.  Each rule then reads the decisions one by one and says where it would
first stop.  Per rule and set:

* **reliability** - share of runs whose recall at the stop reached the target;
* **effort** - records screened at the stop over the records the ranking needed to reach the
  target (1.0 is an oracle that knows when the target is reached; ``N / needed`` is screening
  everything).

Rules, all in the same run: reviewkit's ``hypergeometric``, ``counting`` and ``heuristic`` rules
(:mod:`reviewkit.screening.stopping`), and buscarpy (Callaghan & Müller-Hansen's own package)
``calculate_h0`` stopping at p < 1 - confidence, with its default unbiased urn and with a
biased urn (``bias=2``: relevant records assumed twice as likely to be drawn; a fixed
assumption, not tuned), buscarpy's own model-based relaxation.

The counting rule's model and its rate bound were chosen on the tuning runs only, seeds 1-5 of
Donners_2021, van_der_Valk_2021 and Meijboom_2021: first a power law (too cautious), then an
exponential fitted to the latest quarter of the decisions (chosen on the first two sets; it then
failed on Meijboom_2021, which had been held out), then the exponential fitted to every
decision; its rate bound RATE_CONFIDENCE went from 0.95 to 0.8 (the least cautious setting with
no miss on the tuning runs).  A later search on the same runs (rate bound 0.5-0.95, Poisson
quantile level 0.5-0.95, three other models; RESULTS.md, 2026-12-07) found nothing better than
a tie, so the rule is unchanged.  The row "before" is the rule's first version (rate bound
0.95), in the same run.  Those tuning runs are reported apart, and so are the two kinds of
held-out run:

* **held out, seen before** - seeds 6-30 of the tuning sets and Jeyaraman_2020 seeds 1-8: not
  used to choose, but their figures had been read in an earlier round;
* **fresh held out** - seeds from :data:`FRESH_FROM` on (31-50, Jeyaraman_2020 9-14): screened
  after the rule was last changed and first read in the round of 2026-12-07 (eighth session).

Held-out seeds of the same reviews are weak evidence, because a review's runs differ little
from seed to seed.  So the run also holds each review out in turn: a declared family of the
counting rule's settings is searched on the other three reviews and the choice is read on the
fourth (``held_out_lines``), beside a check of how confident the fitted model itself was where
it mattered (``calibration``).

Jeyaraman_2020 takes minutes a seed to screen, so its seeds stop at :data:`MAX_SEED`
(``--max-seed NAME=N`` changes that).

    python benchmarks/stopping.py                      # seeds 1-50, appends RESULTS.md
    python benchmarks/stopping.py --seeds 1 2 --no-write
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from screening import choose_priors  # noqa: E402

from reviewkit.files import read_simulation_csv  # noqa: E402
from reviewkit.screening import stopping  # noqa: E402
from reviewkit.screening.simulation import record_texts, simulate  # noqa: E402
from reviewkit.screening.stopping import first_safe_position  # noqa: E402

DATA = Path("/work/shared/data/synergy")
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
TUNING_SETS = ("Donners_2021", "van_der_Valk_2021", "Meijboom_2021")
TUNING_SEEDS = (1, 2, 3, 4, 5)
# Runs from these seeds on are fresh held out (first read after the last search's choice).
FRESH_FROM = {"Donners_2021": 31, "van_der_Valk_2021": 31, "Meijboom_2021": 31,
              "Jeyaraman_2020": 9}
# Largest seed run per set by default (screening Jeyaraman_2020 once takes minutes).
MAX_SEED = {"Jeyaraman_2020": 14}
OUR_RULES = ("hypergeometric", "counting", "heuristic")


def screening_order(path: Path, seed: int, cache: Path, model: str = "tfidf_svm") -> list[int]:
    """Return the rows of ``path`` in the order the ranker screens them (cached per seed)."""
    cached = cache / f"{path.stem}-{model}-{seed}.json"
    if cached.exists():
        return json.loads(cached.read_text())["rows"]
    frame = read_simulation_csv(path)
    ids = frame["record_id"].tolist()
    labels = frame["label_included"].to_numpy()
    included, excluded = choose_priors(labels, seed)
    start = time.perf_counter()
    order = simulate(ids, record_texts(frame), labels.tolist(), prior_included=[ids[included]],
                     prior_excluded=[ids[excluded]], seed=seed)
    row_of = {record_id: row for row, record_id in enumerate(ids)}
    rows = [row_of[record_id] for record_id in order]
    cache.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps({"rows": rows, "seconds": time.perf_counter() - start}))
    return rows


def buscar_stop(labels: np.ndarray, target: float, confidence: float, bias: float = 1.0) -> int:
    """First position where buscarpy rejects "recall below target" (every record if never).

    The biased urn is slow (a Wallenius cdf per run), so it is tried every ``STRIDE`` records
    and the stride before the first rejection is then searched record by record.
    """
    from buscarpy import calculate_h0

    n_records = len(labels)

    def rejects(end: int) -> bool:
        return calculate_h0(labels[:end], n_records, recall_target=target,
                            bias=bias) < 1.0 - confidence

    step = 1 if bias == 1 else STRIDE
    for end in range(step, n_records, step):
        if rejects(end):
            earlier = range(max(1, end - step + 1), end)
            return next((e for e in earlier if rejects(e)), end)
    return n_records


STRIDE = 10
BIAS = 2.0  # buscarpy's biased urn: relevant records assumed twice as likely to be drawn


def score_stop(labels: np.ndarray, stop: int, target: float) -> tuple[bool, float]:
    """Say whether recall at ``stop`` reached ``target``, and the effort against the oracle."""
    found = np.cumsum(labels)
    return bool(found[stop - 1] >= target * found[-1] - 1e-9), stop / score_needed(labels, target)


def evaluate(labels: np.ndarray, target: float, confidence: float) -> dict[str, dict]:
    """Stop every rule on one screening order; return reliability flag, effort and seconds."""
    results = {}
    for rule in OUR_RULES:
        start = time.perf_counter()
        stop = first_safe_position(labels, len(labels), recall_target=target,
                                   confidence=confidence, rule=rule) or len(labels)
        results[rule] = (stop, time.perf_counter() - start)
    # the counting rule as it stood before this round's levels were chosen, in the same run
    chosen = {name: getattr(stopping, name) for name in BEFORE_SETTINGS}
    try:
        for name, value in BEFORE_SETTINGS.items():
            setattr(stopping, name, value)
        start = time.perf_counter()
        stop = first_safe_position(labels, len(labels), recall_target=target,
                                   confidence=confidence, rule="counting") or len(labels)
        results[BEFORE] = (stop, time.perf_counter() - start)
    finally:
        for name, value in chosen.items():
            setattr(stopping, name, value)
    for name, bias in (("buscarpy", 1.0), ("buscarpy biased", BIAS)):
        start = time.perf_counter()
        results[name] = (buscar_stop(labels, target, confidence, bias), time.perf_counter() - start)
    return {
        rule: dict(zip(("reached", "effort"), score_stop(labels, stop, target), strict=True))
        | {"stop": stop, "seconds": seconds}
        for rule, (stop, seconds) in results.items()
    }


# ---- the counting rule's family, with each review held out in turn ----------------------------
#
# Seeds move little here: the ranker starts from one included and one excluded record, and from
# then on orders a review almost the same way whatever the seed (the last table of
# ``held_out_lines``), so the runs of one review are close to one curve repeated.  Held-out
# seeds of a review used to choose are therefore weak evidence.  This part asks the stronger question: choose the counting
# rule's settings on three reviews, then read the fourth.  The family is declared here, before
# any run of this analysis, and is not tuned by it:
SEARCH_RATE = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)  # rate bound (0.5: the best fit itself)
SEARCH_QUANTILE = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)  # Poisson quantile level of the count left
SEARCH_FLOOR = (0.0, 0.1, 0.2, 0.3, 0.4)  # share of records screened before the model may stop
CURRENT = (stopping.RATE_CONFIDENCE, 0.95, 0.0)  # the rule as shipped (quantile = confidence)
# The choice on the other reviews: the least effort among settings that reach the target in at
# least this share of each other review's runs.
CHOICE_RELIABILITY = 0.95
EFFORT_PROBE = 1.5  # the effort target: where the calibration check reads the model


def model_counts(labels: np.ndarray, rate_bound: float) -> np.ndarray:
    """The counting model's "most left" after each decision at ``rate_bound`` (nan: not used).

    The same numbers the shipped rule computes (``stopping._rate_left_from``), with its rate
    bound swapped for ``rate_bound`` while they are read.
    """
    n_records = len(labels)
    found = np.cumsum(labels)
    hits_u = np.cumsum(np.where(labels == 1, np.arange(n_records), 0))
    most = np.full(n_records, np.nan)
    shipped = stopping.RATE_CONFIDENCE
    stopping.RATE_CONFIDENCE = rate_bound
    try:
        for end in range(stopping.MODEL_MIN_DECIDED, n_records):
            k = int(found[end - 1])
            if k >= stopping.MODEL_MIN_FOUND:
                most[end - 1] = stopping._rate_left_from(end, k, float(hits_u[end - 1]),
                                                         n_records, 0.95)[1]
    finally:
        stopping.RATE_CONFIDENCE = shipped
    return most


def poisson_cdf(upto: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """P(X <= ``upto``) for X Poisson(``mean``), element by element (1 where mean <= 0)."""
    upto = np.asarray(upto, dtype=np.int64)
    mean = np.where(np.isnan(mean), 0.0, np.asarray(mean, dtype=float))
    total = np.zeros(len(mean))
    term = np.exp(-mean)
    for j in range(int(upto.max(initial=0)) + 1):
        if j:
            term = term * mean / j
        total += np.where(j <= upto, term, 0.0)
    return np.where(mean <= 0, 1.0, total)


def family_stops(labels: np.ndarray, target: float) -> dict[tuple, int]:
    """Where the counting rule with each setting of the family first says stop.

    As shipped, the rule stops when the exact test does or when the Poisson ``quantile`` of the
    model's count left (at the rate bound) is within the misses the target allows; the floor
    keeps the model from stopping before that share of records is screened (the exact test is
    never held back).  ``stopping._poisson_quantile(q, m) <= k`` is ``P(X <= k) >= q``.
    """
    n_records = len(labels)
    exact = np.asarray(stopping.stopping_trace(labels, n_records, recall_target=target,
                                               rule="hypergeometric"))
    exact_at = int(np.argmax(exact)) + 1 if exact.any() else n_records
    found = np.cumsum(labels)
    allowed = np.array([stopping._max_missed(int(k), target) for k in found])
    stops = {}
    for rate in SEARCH_RATE:
        most = model_counts(labels, rate)
        usable = ~np.isnan(most)
        sure = poisson_cdf(allowed, most)
        for quantile in SEARCH_QUANTILE:
            says = usable & (sure >= quantile - 1e-12 * quantile)
            for floor in SEARCH_FLOOR:
                ok = np.flatnonzero(says & (np.arange(1, n_records + 1) >= floor * n_records))
                model_at = int(ok[0]) + 1 if len(ok) else n_records
                stops[(rate, quantile, floor)] = min(exact_at, model_at)
    return stops


def calibration(labels: np.ndarray, target: float) -> dict[str, float]:
    """The fitted model's own confidence that recall is on target, where it matters.

    * ``before``: the highest it reached at any decision before the ranking reached the target
      (stopping there would have missed it);
    * ``probe``: at ``EFFORT_PROBE`` times the records the ranking needed (where a rule must stop
      to meet the effort target), with the central estimate and the true count left there.
    """
    n_records = len(labels)
    found = np.cumsum(labels)
    total = int(found[-1])
    allowed = np.array([stopping._max_missed(int(k), target) for k in found])
    expected = model_counts(labels, 0.5)  # the rate bound at 0.5 is the best fit itself
    sure = np.where(np.isnan(expected), 0.0, poisson_cdf(allowed, expected))
    needed = score_needed(labels, target)
    probe = min(n_records, math.ceil(EFFORT_PROBE * needed)) - 1
    return {
        "before": float(sure[: needed - 1].max(initial=0.0)),
        "probe": float(sure[probe]) if probe < n_records - 1 else 1.0,
        "probe_expected": float(np.nan_to_num(expected[probe])),
        "probe_left": total - int(found[probe]),
    }


def score_needed(labels: np.ndarray, target: float) -> int:
    """Records the ranking needed to reach ``target`` (the oracle's stop)."""
    found = np.cumsum(labels)
    return int(np.searchsorted(found, math.ceil(target * found[-1] - 1e-9)) + 1)


def choose_on_others(runs: list[dict], held_out: str) -> tuple | None:
    """The family's setting chosen without ``held_out``'s runs (``None``: none qualifies).

    Least mean effort over the other reviews' runs among settings reaching the target in at
    least :data:`CHOICE_RELIABILITY` of each other review's runs; ties go to the more cautious
    setting (higher rate bound, quantile and floor).
    """
    others = [run for run in runs if run["set"] != held_out]
    names = sorted({run["set"] for run in others})
    best = None
    for setting in runs[0]["family"]:
        reliable = all(
            statistics.mean(run["family"][setting]["reached"] for run in others
                            if run["set"] == name) >= CHOICE_RELIABILITY
            for name in names)
        if not reliable:
            continue
        effort = statistics.mean(run["family"][setting]["effort"] for run in others)
        key = (effort, tuple(-value for value in setting))
        if best is None or key < best[0]:
            best = (key, setting)
    return None if best is None else best[1]


def held_out_lines(runs: list[dict], target: float) -> list[str]:
    """Tables: the family chosen on three reviews and read on the fourth; the calibration check;
    how much the runs of one review differ."""
    names = sorted({run["set"] for run in runs})

    def figures(setting, chosen):
        reached = [run["family"][setting]["reached"] for run in chosen]
        effort = [run["family"][setting]["effort"] for run in chosen]
        return statistics.mean(reached), statistics.mean(effort)

    lines = ["**Each review held out in turn: the counting rule's settings chosen on the other "
             f"{len(names) - 1}**", "",
             "| review held out | runs | chosen on the others (rate bound, quantile, floor) | "
             "effort on the others | held-out reliability | held-out mean effort | the rule as "
             "shipped there |", "|---|---:|---|---:|---:|---:|---|"]
    for name in names:
        setting = choose_on_others(runs, name)
        own = [run for run in runs if run["set"] == name]
        shipped = "{:.1%} at {:.2f}×".format(*figures(CURRENT, own))
        if setting is None:
            lines.append(f"| {name} | {len(own)} | none qualifies | | | | {shipped} |")
            continue
        rest = [run for run in runs if run["set"] != name]
        reached, effort = figures(setting, own)
        lines.append(f"| {name} | {len(own)} | {setting[0]:g}, {setting[1]:g}, {setting[2]:g} | "
                     f"{figures(setting, rest)[1]:.2f}× | {reached:.1%} | {effort:.2f}× | "
                     f"{shipped} |")
    cheapest = choose_on_others(runs, "")
    if cheapest is not None:
        reached, effort = figures(cheapest, runs)
        lines += ["", f"Chosen on all {len(names)} reviews at once (fitted to them, so not "
                  f"evidence): rate bound {cheapest[0]:g}, quantile {cheapest[1]:g}, floor "
                  f"{cheapest[2]:g}: {reached:.1%} of runs at {effort:.2f}×; per review "
                  + ", ".join("{} {:.0%}/{:.2f}×".format(
                      name, *figures(cheapest, [run for run in runs if run["set"] == name]))
                      for name in names) + "."]
    lines += ["", "**The fitted model's own confidence that recall is on target** (mean over "
              "runs; Poisson with the best-fit count left)", "",
              "| review | runs | highest before the ranking reached the target: mean (max) | "
              f"at {EFFORT_PROBE:g}× the records it needed: mean (min) | its estimate left "
              "there | truly left there |", "|---|---:|---:|---:|---:|---:|"]
    for name in names:
        own = [run["calibration"] for run in runs if run["set"] == name]
        before = [c["before"] for c in own]
        probe = [c["probe"] for c in own]
        lines.append(
            f"| {name} | {len(own)} | {statistics.mean(before):.3f} ({max(before):.3f}) | "
            f"{statistics.mean(probe):.3f} ({min(probe):.3f}) | "
            f"{statistics.mean(c['probe_expected'] for c in own):.2f} | "
            f"{statistics.mean(c['probe_left'] for c in own):.2f} |")
    lines += ["", "**How much the runs of one review differ** (records the ranking needed to "
              "reach the target; where the last relevant record came)", "",
              "| review | runs | needed: min–max | median | last relevant: min–max |",
              "|---|---:|---|---:|---|"]
    for name in names:
        own = [run for run in runs if run["set"] == name]
        needed = sorted(run["needed"] for run in own)
        last = sorted(run["last"] for run in own)
        lines.append(f"| {name} | {len(own)} | {needed[0]}–{needed[-1]} | "
                     f"{statistics.median(needed):g} | {last[0]}–{last[-1]} |")
    return lines


BEFORE_SETTINGS = {"RATE_CONFIDENCE": 0.95}
BEFORE = "counting, 0.95 rate bound (first version)"
RULES = (*OUR_RULES, BEFORE, "buscarpy", "buscarpy biased")


def table(runs: list[dict], heading: str) -> list[str]:
    lines = [f"**{heading}**", "", "| set | runs | rule | reliability | mean effort | max effort "
             "| mean stop (% of records) | s per run |", "|---|---:|---|---:|---:|---:|---:|---:|"]
    names = sorted({run["set"] for run in runs})
    for name in [*names, None]:
        chosen = [run for run in runs if name is None or run["set"] == name]
        if not chosen:
            continue
        for rule in RULES:
            reached = [run[rule]["reached"] for run in chosen]
            effort = [run[rule]["effort"] for run in chosen]
            share = [run[rule]["stop"] / run["records"] for run in chosen]
            seconds = [run[rule]["seconds"] for run in chosen]
            label = f"**all {len({run['set'] for run in chosen})} sets**" if name is None else name
            lines.append(
                f"| {label} | {len(chosen)} | {rule} | {statistics.mean(reached):.1%} | "
                f"{statistics.mean(effort):.2f} | {max(effort):.2f} | "
                f"{statistics.mean(share):.1%} | {statistics.mean(seconds):.2f} |"
            )
    return lines


def run_one(path: Path, seed: int, cache: Path, target: float, confidence: float,
            family: bool = False) -> dict:
    """Screen one set from one seed's priors (or read the cached order) and stop every rule
    (with ``family``, also every setting of the counting rule's family)."""
    all_labels = read_simulation_csv(path)["label_included"].to_numpy()
    labels = all_labels[screening_order(path, seed, cache)]
    run = {"set": path.stem, "seed": seed, "records": len(labels),
           "needed": score_needed(labels, target), "last": int(np.flatnonzero(labels)[-1]) + 1}
    run |= evaluate(labels, target, confidence)
    if family:
        run["family"] = {
            setting: dict(zip(("reached", "effort"), score_stop(labels, stop, target),
                              strict=True))
            for setting, stop in family_stops(labels, target).items()}
        run["calibration"] = calibration(labels, target)
    return run


def kind(run: dict) -> str:
    """Which group a run belongs to: "tuning", "seen" (held out, read before) or "fresh"."""
    if run["set"] in TUNING_SETS and run["seed"] in TUNING_SEEDS:
        return "tuning"
    return "fresh" if run["seed"] >= FRESH_FROM.get(run["set"], math.inf) else "seen"


def _seed_ranges(runs: list[dict]) -> str:
    """Say which seeds of which sets the runs cover, briefly (``Donners_2021 21-30``)."""
    parts = []
    for name in dict.fromkeys(run["set"] for run in runs):
        seeds = sorted(run["seed"] for run in runs if run["set"] == name)
        spans, begin = [], seeds[0]
        for before, after in zip(seeds, [*seeds[1:], None], strict=True):
            if after != before + 1:
                spans.append(f"{begin}-{before}" if before > begin else f"{begin}")
                begin = after
        parts.append(f"{name} {', '.join(spans)}")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 51)))
    parser.add_argument("--sets", nargs="+", metavar="NAME", help="only these sets (file stems)")
    parser.add_argument("--max-seed", nargs="+", default=[f"{k}={v}" for k, v in MAX_SEED.items()],
                        metavar="NAME=N", help="largest seed to run for a set (default: "
                        + ", ".join(f"{k}={v}" for k, v in MAX_SEED.items()) + "; 'none' for no cap)")
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/reviewkit-stopping-cache"),
                        help="folder for the screening orders (reused between runs)")
    parser.add_argument("--cached-only", action="store_true",
                        help="skip set/seed pairs whose screening order is not cached yet")
    parser.add_argument("--jobs", type=int, default=1, help="runs evaluated at once (processes)")
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md")
    parser.add_argument("--no-held-out", action="store_true",
                        help="skip the counting rule's family with each review held out in turn")
    args = parser.parse_args(argv)
    caps = {} if args.max_seed == ["none"] else {
        name: int(top) for name, top in (item.split("=") for item in args.max_seed)}

    paths = sorted(args.data.glob("*.csv"), key=lambda p: p.stat().st_size)
    todo = [
        (path, seed) for path in paths if not args.sets or path.stem in args.sets
        for seed in args.seeds
        if seed <= caps.get(path.stem, seed)
        and (not args.cached_only or (args.cache / f"{path.stem}-tfidf_svm-{seed}.json").exists())
    ]
    runs = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_one, path, seed, args.cache, args.target, args.confidence,
                               not args.no_held_out)
                   for path, seed in todo]
        for future in as_completed(futures):
            run = future.result()
            runs.append(run)
            print(run["set"], run["seed"], json.dumps({rule: run[rule] for rule in RULES}),
                  flush=True)
    order = {path.stem: rank for rank, path in enumerate(paths)}
    runs.sort(key=lambda run: (order[run["set"]], run["seed"]))

    groups = {group: [run for run in runs if kind(run) == group]
              for group in ("fresh", "seen", "tuning")}
    headings = {
        "fresh": "Fresh held out ({}; screened after the rule was last changed, first read "
                 "in this round)",
        "seen": "Held out, seen before ({}; not used to choose, but read in an earlier round)",
        "tuning": "Tuning runs ({}; the counting rule's model and levels were chosen on these; "
                  "not evidence)",
    }
    lines = []
    for group, chosen in groups.items():
        if chosen:
            lines += [""] if lines else []
            lines += table(chosen, headings[group].format(_seed_ranges(chosen)))
    if not args.no_held_out and len({run["set"] for run in runs}) > 1:
        lines += ["", *held_out_lines(runs, args.target)]
    print("\n".join(lines))
    if args.no_write:
        return
    section = [
        "",
        f"## Stopping rules — {dt.date.today().isoformat()}",
        "",
        f"`python benchmarks/stopping.py` on {platform.python_version()}, {os.cpu_count()} cores "
        f"(shared machine). reviewkit's ranker screens each SYNERGY set from two priors drawn "
        f"by seed ({_seed_ranges(runs)}); each rule reads the same "
        f"orders. Target recall {args.target:.0%}, confidence {args.confidence:.0%}. "
        f"Reliability = share of runs with recall at the stop ≥ target; effort = records "
        f"screened at the stop / records the ranking needed to reach the target. buscarpy = "
        f"Callaghan & Müller-Hansen's `calculate_h0` (unbiased urn) after every record; "
        f"buscarpy biased = the same with bias={BIAS:g} (Wallenius urn; every {STRIDE} records, "
        f"then record by record); "
        f"heuristic = SAFE-style rule of thumb (10% screened, 2x screened/found, 50 not "
        f"relevant in a row; no random training sample). The counting rule's model and its "
        f"rate bound (RATE_CONFIDENCE = {stopping.RATE_CONFIDENCE:g}, the Poisson quantile at "
        f"the advice's confidence; the row 'before' is the same rule with its first rate bound, "
        f"{BEFORE_SETTINGS['RATE_CONFIDENCE']:g}) were chosen on {', '.join(TUNING_SETS)} seeds "
        f"{TUNING_SEEDS[0]}-{TUNING_SEEDS[-1]} (reported apart). Held out, seen before: "
        f"not used to choose, but read in an earlier round. Fresh held out: screened after the "
        f"rule was last changed, first read in the round of 2026-12-07. The exact test weighs at most the "
        f"{stopping.RUNS_TESTED} latest runs after a relevant record plus the run from the top."
        + ("" if args.no_held_out else
           f" Each review held out in turn: the counting rule's family (rate bound "
           f"{'/'.join(f'{v:g}' for v in SEARCH_RATE)} × Poisson quantile "
           f"{'/'.join(f'{v:g}' for v in SEARCH_QUANTILE)} × floor, the share of records "
           f"screened before the model may stop, {'/'.join(f'{v:g}' for v in SEARCH_FLOOR)}; "
           f"the shipped rule is {CURRENT[0]:g}, {CURRENT[1]:g}, {CURRENT[2]:g}) is searched on "
           f"the other reviews' runs for the least mean effort reaching the target in "
           f"≥ {CHOICE_RELIABILITY:.0%} of each one's runs, then read on the review held out."),
        "",
        *lines,
    ]
    with RESULTS.open("a") as handle:
        handle.write("\n".join(section) + "\n")


if __name__ == "__main__":
    main()
