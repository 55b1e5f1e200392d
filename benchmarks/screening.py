"""Screening prioritisation: reviewkit's ranker against ASReview's default model on SYNERGY sets.

For every labelled set and seed, both tools screen the whole set from the same two priors (one
included and one excluded record, drawn by the seed), each through its own command-line
simulation, timed end to end (process start, reading the CSV, every retrain).  Both screening
orders are scored by the same function.  ASReview runs in its own virtual environment
(``--asreview-venv``, created with ``pip install asreview`` when missing) with its default model
(ELAS u4: TF-IDF + linear SVM, balanced sample weights, maximum query) and ``--n-stop -1`` so
that, like ours, it screens every record.

The second part times one retrain of the ranker on 10,000 records made by resampling the
SYNERGY texts.  It measures speed only: duplicated texts say nothing about quality.

    python benchmarks/screening.py                       # seeds 1-5, all sets, appends RESULTS.md
    python benchmarks/screening.py --seeds 1 --no-write  # a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewkit.files import read_simulation_csv  # noqa: E402
from reviewkit.screening.model import DEFAULT_MODEL, MODELS, Ranker  # noqa: E402
from reviewkit.screening.simulation import record_texts  # noqa: E402
from reviewkit.screening.stopping import stopping_advice  # noqa: E402

DATA = Path("/work/shared/data/synergy")
RESULTS = ROOT / "benchmarks" / "RESULTS.md"


# ---- scoring: one function for both tools ----------------------------------------------------


def score_order(labels_in_order: list[int], n_prior: int) -> dict[str, float]:
    """Score a screening order given as the labels in the order records were screened.

    Returns, with the priors left out of the order as asreview-insights does:

    * ``wss95`` - WSS@95 as asreview-insights defines it: with T the largest number of includes
      whose share of all includes is at most 95 %, the number of records a random order needs
      before round(R * i / (N - 1)) reaches T, minus the number the ranking needed, over N;
    * ``wss95_cohen`` - Cohen et al. (2006): (N - n) / N - 0.05, with n the records screened
      until recall first reaches 95 %;
    * ``recall10`` - share of includes found within the first 10 % of records (floor);

    and, counting every record screened including the priors, ``n95`` and ``n100``: records
    screened until 95 % (rounded up) and all includes were found.
    """
    everything = np.asarray(labels_in_order, dtype=int)
    found_all = np.cumsum(everything)
    total_relevant = int(found_all[-1])
    n95 = int(np.searchsorted(found_all, math.ceil(0.95 * total_relevant - 1e-9)) + 1)
    n100 = int(np.searchsorted(found_all, total_relevant) + 1)

    after = everything[n_prior:]
    n, relevant = len(after), int(after.sum())
    found = np.cumsum(after)
    target = int(math.floor(0.95 * relevant + 1e-9))
    ranked_needs = int(np.searchsorted(found, target))
    random_needs = int(np.searchsorted(np.round(np.linspace(0, relevant, n)), target))
    cohen_needs = int(np.searchsorted(found, math.ceil(0.95 * relevant - 1e-9)) + 1)
    return {
        "wss95": (random_needs - ranked_needs) / n,
        "wss95_cohen": (n - cohen_needs) / n - 0.05,
        "recall10": float(found[int(math.floor(0.10 * n + 1e-9)) - 1] / relevant),
        "n95": n95,
        "n100": n100,
    }


# ---- the two simulations ---------------------------------------------------------------------


def choose_priors(labels: np.ndarray, seed: int) -> tuple[int, int]:
    """Pick one included and one excluded row by seed."""
    rng = np.random.default_rng(seed)
    return int(rng.choice(np.flatnonzero(labels == 1))), int(rng.choice(np.flatnonzero(labels == 0)))


class CachedEncoder:
    """The bundled MiniLM's vectors, made once per set (``embed_once``) and looked up by text."""

    def __init__(self, path: str | Path):
        data = np.load(path)
        self.rows = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))

    def encode(self, texts):
        return np.stack([self.rows[text] for text in texts])


def embed_once(path: Path, cache: Path) -> tuple[Path, float]:
    """Embed a set's texts with the bundled model once; return the vectors' file and seconds."""
    from reviewkit.embeddings import embed

    target = cache / f"{path.stem}-minilm.npz"
    if target.exists():
        return target, float(np.load(target)["seconds"])
    texts = record_texts(read_simulation_csv(path))
    start = time.perf_counter()
    vectors = embed(texts)
    seconds = time.perf_counter() - start
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(target, texts=np.array(texts), vectors=vectors, seconds=seconds)
    return target, seconds


def run_ours(path: Path, ids: list[str], priors: tuple[int, int], seed: int, tmp: Path,
             model: str = "tfidf_svm", vectors: Path | None = None):
    """Simulate with reviewkit in a fresh process; return row order and wall seconds.

    MiniLM models read the set's vectors from ``vectors`` (made once by :func:`embed_once`), so
    their wall time leaves out embedding, which is reported apart.
    """
    output = tmp / "ours.csv"
    code = (
        "import sys; from reviewkit.files import simulate_csv; "
        "encoder = None\n"
        "if sys.argv[7]:\n"
        f"    sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); from screening import CachedEncoder; "
        "encoder = CachedEncoder(sys.argv[7])\n"
        "simulate_csv(sys.argv[1], sys.argv[2], prior_included=[sys.argv[3]], "
        "prior_excluded=[sys.argv[4]], seed=int(sys.argv[5]), model=sys.argv[6], encoder=encoder)"
    )
    args = [str(path), str(output), ids[priors[0]], ids[priors[1]], str(seed), model,
            str(vectors or "")]
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    row_of = {record_id: row for row, record_id in enumerate(ids)}
    order = pd.read_csv(output, dtype=str)["record_id"].map(row_of).tolist()
    return order, wall


def ensure_asreview(venv: Path) -> Path:
    """Return ASReview's command, creating its virtual environment when missing."""
    command = venv / "bin" / "asreview"
    if not command.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "asreview"], check=True)
    return command


def run_asreview(command: Path, path: Path, priors: tuple[int, int], seed: int, tmp: Path):
    """Simulate with ASReview's default model; return row order and wall seconds."""
    project = tmp / "asreview.asreview"
    args = [str(command), "simulate", str(path), "--prior-idx", *map(str, priors)]
    args += ["--seed", str(seed), "--n-stop", "-1", "-o", str(project)]
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    wall = time.perf_counter() - start
    with zipfile.ZipFile(project) as archive:
        archive.extract("results.db", tmp)
    with sqlite3.connect(tmp / "results.db") as db:
        # ASReview numbers records by row, from 0, and logs decisions in screening order.
        order = [row for (row,) in db.execute("SELECT record_id FROM results ORDER BY rowid")]
    return order, wall


def asreview_version(command: Path) -> str:
    done = subprocess.run([str(command), "--version"], capture_output=True, text=True)
    return (done.stdout or done.stderr).strip().split()[-1]


# ---- retrain time at scale -------------------------------------------------------------------


def retrain_timing(paths: list[Path], n_records: int = 10_000, repeats: int = 5) -> list[dict]:
    """Time fit + rank on ``n_records`` resampled texts with several numbers of decisions."""
    frames = [read_simulation_csv(path) for path in paths]
    texts = sum((record_texts(frame) for frame in frames), [])
    labels = np.concatenate([frame["label_included"].to_numpy() for frame in frames])
    rng = np.random.default_rng(0)
    pick = rng.choice(len(texts), n_records, replace=True)
    big_texts = [texts[i] for i in pick]
    big_labels = labels[pick]
    rows = []
    ranker = Ranker(random_state=0)
    start = time.perf_counter()
    ranker.fit(big_texts, {0: int(big_labels[0]), 1: 1 - int(big_labels[0])})
    rows.append({"what": "first fit (TF-IDF of all texts + classifier)", "seconds": [time.perf_counter() - start]})
    for n_labelled in (100, 1_000, 5_000, 9_000):
        screened = rng.choice(n_records, n_labelled, replace=False)
        decisions = {int(i): int(big_labels[i]) for i in screened}
        decisions[int(np.flatnonzero(big_labels == 1)[0])] = 1
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            ranker.fit(big_texts, decisions).rank()
            times.append(time.perf_counter() - start)
        rows.append({"what": f"retrain + re-rank, {n_labelled:,} decisions", "seconds": times})
    decisions_in_order = [int(big_labels[i]) for i in rng.permutation(n_records)[:9_000]]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        stopping_advice(decisions_in_order, n_records)
        times.append(time.perf_counter() - start)
    rows.append({"what": "stopping advice, 9,000 decisions", "seconds": times})
    return rows


# ---- report ----------------------------------------------------------------------------------

METRICS = [
    ("recall10", "recall@10%", "{:.3f}"),
    ("wss95", "WSS@95 (insights)", "{:.3f}"),
    ("wss95_cohen", "WSS@95 (Cohen)", "{:.3f}"),
    ("n95", "n to 95%", "{:.0f}"),
    ("n100", "n to 100%", "{:.0f}"),
    ("wall", "wall s", "{:.1f}"),
]


def mean_sd(values: list[float], fmt: str) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{fmt.format(statistics.mean(values))} ± {fmt.format(sd)}"


def report(results: dict, seeds: list[int]) -> list[str]:
    lines = [
        "| set | records | incl. | metric | reviewkit | ASReview | ratio ours/ASReview |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    summary = {key: ([], []) for key, _, _ in METRICS}
    for name, runs in results.items():
        for key, label, fmt in METRICS:
            ours = [run["ours"][key] for run in runs["runs"]]
            theirs = [run["asreview"][key] for run in runs["runs"]]
            summary[key][0].append(statistics.mean(ours))
            summary[key][1].append(statistics.mean(theirs))
            ratio = statistics.mean(ours) / statistics.mean(theirs)
            lines.append(
                f"| {name} | {runs['records']} | {runs['included']} | {label} | "
                f"{mean_sd(ours, fmt)} | {mean_sd(theirs, fmt)} | {ratio:.3f} |"
            )
    for key, label, fmt in METRICS:
        ours, theirs = summary[key]
        better = sum(
            (o >= t) if key in ("recall10", "wss95", "wss95_cohen") else (o <= t)
            for o, t in zip(ours, theirs, strict=True)
        )
        lines.append(
            f"| **mean of sets** | | | {label} | {fmt.format(statistics.mean(ours))} | "
            f"{fmt.format(statistics.mean(theirs))} | "
            f"{statistics.mean(ours) / statistics.mean(theirs):.3f} "
            f"(ours as good or better on {better}/{len(ours)} sets) |"
        )
    return lines


def model_report(results: dict, others: list[str], embedding_seconds: dict) -> list[str]:
    """One row per set and model (and ASReview), then the mean over sets, best WSS@95 first."""
    names = [DEFAULT_MODEL, *others, "asreview"]

    def key(name: str) -> str:
        return "ours" if name == DEFAULT_MODEL else name

    lines = ["| set | model | " + " | ".join(label for _, label, _ in METRICS) + " |",
             "|---|---|" + "---:|" * len(METRICS)]
    means: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    for set_name, runs in results.items():
        for name in names:
            cells = []
            for metric, _, fmt in METRICS:
                value = statistics.mean(run[key(name)][metric] for run in runs["runs"])
                means[name].setdefault(metric, []).append(value)
                cells.append(fmt.format(value))
            lines.append(f"| {set_name} | {name} | " + " | ".join(cells) + " |")
    ranked = sorted(names, key=lambda name: -statistics.mean(means[name]["wss95"]))
    for name in ranked:
        cells = [fmt.format(statistics.mean(means[name][metric])) for metric, _, fmt in METRICS]
        best = [set_name for i, set_name in enumerate(results)
                if means[name]["wss95"][i] >= max(means[n]["wss95"][i] for n in names) - 1e-12]
        lines.append(f"| **mean of sets** | {name} (best WSS@95 on {len(best)}/{len(results)}) | "
                     + " | ".join(cells) + " |")
    if embedding_seconds:
        lines += ["", "MiniLM embedding, once per set: " + ", ".join(
            f"{name} {seconds:.0f} s" for name, seconds in embedding_seconds.items()) + "."]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--asreview-venv", type=Path, default=Path("/tmp/asreview-venv"))
    parser.add_argument("--no-write", action="store_true", help="print only, leave RESULTS.md")
    parser.add_argument("--skip-scale", action="store_true", help="skip the 10k retrain timing")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS),
                        help="reviewkit models to run (default: every one)")
    parser.add_argument("--embeddings", type=Path, default=Path("/tmp/reviewkit-embeddings"),
                        help="folder for each set's MiniLM vectors (made once, reused)")
    args = parser.parse_args(argv)

    paths = sorted(args.data.glob("*.csv"), key=lambda p: p.stat().st_size)
    command = ensure_asreview(args.asreview_venv)
    others = [model for model in args.models if model != DEFAULT_MODEL]
    results: dict = {}
    embedding_seconds: dict[str, float] = {}
    for path in paths:
        frame = read_simulation_csv(path)
        ids = frame["record_id"].tolist()
        labels = frame["label_included"].to_numpy()
        vectors = None
        if any(model.startswith("minilm") for model in others):
            vectors, embedding_seconds[path.stem] = embed_once(path, args.embeddings)
        runs = []
        for seed in args.seeds:
            priors = choose_priors(labels, seed)
            orders = {}
            with tempfile.TemporaryDirectory() as tmp:
                orders["ours"] = run_ours(path, ids, priors, seed, Path(tmp))
                orders["asreview"] = run_asreview(command, path, priors, seed, Path(tmp))
                for model in others:
                    orders[model] = run_ours(path, ids, priors, seed, Path(tmp), model, vectors)
            for order, _ in orders.values():
                if sorted(order) != list(range(len(ids))) or order[:2] != list(priors):
                    raise RuntimeError(f"{path.name} seed {seed}: incomplete screening order")
            run = {"seed": seed, "priors": priors} | {
                name: score_order(labels[order].tolist(), 2) | {"wall": wall}
                for name, (order, wall) in orders.items()
            }
            runs.append(run)
            print(path.stem, seed, json.dumps({k: run[k] for k in orders}), flush=True)
        results[path.stem] = {"records": len(ids), "included": int(labels.sum()), "runs": runs}

    table = report(results, args.seeds)
    models = model_report(results, others, embedding_seconds) if others else []
    scale = [] if args.skip_scale else retrain_timing(paths)
    scale_lines = ["| step (10,000 resampled records) | median s | max s |", "|---|---:|---:|"]
    scale_lines += [
        f"| {row['what']} | {statistics.median(row['seconds']):.3f} | {max(row['seconds']):.3f} |"
        for row in scale
    ]
    print("\n".join(table))
    print("\n".join(models))
    if scale:
        print("\n".join(scale_lines))
    if args.no_write:
        return
    section = [
        "",
        f"## Screening prioritisation — {dt.date.today().isoformat()}",
        "",
        f"`python benchmarks/screening.py` on {platform.python_version()}, {os.cpu_count()} cores "
        f"(shared machine). reviewkit `Ranker` (TF-IDF words + word pairs, linear SVM, relevant "
        f"decisions weighted up, unscreened records as weak negatives, retrained after every "
        f"decision) against ASReview {asreview_version(command)} default model (ELAS u4), each "
        f"through its own CLI simulation from the same priors (1 included + 1 excluded, drawn by "
        f"seed), seeds {', '.join(map(str, args.seeds))}, every record screened by both "
        f"(ASReview with `--n-stop -1`). Mean ± sd over seeds. WSS@95 (insights) follows "
        f"asreview-insights (priors left out, 95 % rounded down to whole includes); WSS@95 "
        f"(Cohen) is Cohen et al. 2006, (N − n)/N − 0.05 at the first point recall ≥ 95 %, "
        f"priors left out; recall@10% leaves the priors out; n to 95 %/100 % count every "
        f"record screened, priors included; wall s is one process end to end (start-up, CSV, "
        f"every retrain).",
        "",
        *table,
    ]
    if models:
        section += [
            "",
            "Every reviewkit model on the same priors and seeds, in the same run (ASReview "
            "repeated for reference; `ours` above is tfidf_svm). MiniLM models read vectors "
            "made once per set by the bundled model; their wall s leaves that out (embedding "
            "time per set is listed under the table). Mean over seeds, then over sets:",
            "",
            *models,
        ]
    if scale:
        section += [
            "",
            "Retrain time on 10,000 records resampled from the SYNERGY texts (speed only, "
            "no quality claim; median of 5):",
            "",
            *scale_lines,
        ]
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n")
    with RESULTS.open("a") as handle:
        handle.write("\n".join(section) + "\n")


if __name__ == "__main__":
    main()
