"""Benchmark reviewkit's deduplication against the labelled sets, ASySD and bib-dedupe.

    python benchmarks/dedup.py                 # labelled sets + scale runs, appends RESULTS.md
    python benchmarks/dedup.py --no-scale      # labelled sets only
    python benchmarks/dedup.py --no-bibdedupe  # skip the bib-dedupe comparison

The labelled sets are read from ``/work/shared/data/dedup`` (``--data`` to change); their
``dup_group`` column is the answer key and never reaches the engine.  bib-dedupe runs in its
own virtual environment (created on first use) in a subprocess, on the same files.  Scale sets
are built in memory by perturbing real records the way databases differ.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewkit.dedup import find_duplicates  # noqa: E402
from reviewkit.records import Record, parse_year  # noqa: E402

DATA = Path("/work/shared/data/dedup")
SETS = ("asysd_diabetes", "sra_cytology_screening", "sra_respiratory", "bibdedupe_special_cases")
BIBDEDUPE_VENV = Path("/tmp/bibdedupe-venv")
RESULTS = ROOT / "benchmarks" / "RESULTS.md"

# Published ASySD 0.4.6 figures on these sets (SUMMARY.md): sensitivity, specificity,
# precision, pairs left for manual review, seconds.
ASYSD = {
    "asysd_diabetes": (0.998, 1.000, 1.000, 23, 7.5),
    "sra_cytology_screening": (0.973, 0.999, 0.999, 29, 2.7),
    "sra_respiratory": (0.915, 1.000, 1.000, 42, 3.0),
    "bibdedupe_special_cases": (0.667, 1.000, 1.000, 1, 1.9),
}


# --- reading the labelled files -------------------------------------------------------------

_JOINED_NAMES_RE = re.compile(r"(?<=\.)(?=[A-Z])")


def split_authors(field: str) -> list[str]:
    """Split an author field the way these files write it.

    The SRA and bib-dedupe files separate names with " and "; the ASySD file runs them
    together ("Adeli K.Lewis G. F."), so a name ends where an initial's dot meets a capital.
    """
    field = field.strip()
    if not field:
        return []
    if " and " in field:
        names = field.split(" and ")
    elif ";" in field:
        names = field.split(";")
    else:
        names = _JOINED_NAMES_RE.split(field)
    return [n.strip() for n in names if n.strip()]


def read_labelled(path: Path) -> tuple[list[Record], list[str], list[str]]:
    """Return (records, record ids, answer-key groups); the groups stay in the benchmark."""
    records, ids, truth = [], [], []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            records.append(Record(
                title=row["title"], authors=split_authors(row["author"]),
                year=parse_year(row["year"]), journal=row["journal"], volume=row["volume"],
                issue=row["number"], pages=row["pages"], doi=row["doi"], isbn=row["isbn"],
                abstract=row["abstract"], source_id=row["record_id"],
            ))
            ids.append(row["record_id"])
            truth.append(row["dup_group"])
    return records, ids, truth


# --- hard negatives: distinct works that look alike -----------------------------------------

def hard_negatives(records: list[Record], truth: list[str]) -> dict[str, set[tuple[int, int]]]:
    """Return pairs (i, j) of distinct works, by the answer key, that share a normalised title,
    a first author and year, or a volume and page range: the look-alikes to keep apart."""
    from reviewkit.dedup.fields import fingerprint

    shared: dict[tuple, list[int]] = defaultdict(list)
    for i, fp in enumerate(fingerprint(r) for r in records):
        if fp.title:
            shared["title", fp.title].append(i)
        if fp.surnames and fp.year:
            shared["first author and year", fp.surnames[0], fp.year].append(i)
        if fp.volume and fp.first_page:
            shared["volume and pages", fp.volume, fp.first_page, fp.last_page].append(i)
    found: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for key, members in shared.items():
        for position, i in enumerate(members):
            for j in members[position + 1:]:
                if truth[i] != truth[j]:
                    found[key[0]].add((i, j))
    return dict(found)


def merged_hard_negatives(records: list[Record], truth: list[str], groups: list[int]) -> str:
    """Say how many hard-negative pairs the engine put in one group, per kind."""
    found = hard_negatives(records, truth)
    return ", ".join(f"{kind} {sum(groups[i] == groups[j] for i, j in pairs)} of {len(pairs)}"
                     for kind, pairs in sorted(found.items()))


# --- scoring as SUMMARY.md defines it -------------------------------------------------------

def score_clusters(predicted: list[int], truth: list[str], possible_pairs: int) -> dict:
    """Record-level sensitivity/specificity/precision and pair-level precision/recall/F1."""
    clusters: dict[int, list[int]] = defaultdict(list)
    for index, group in enumerate(predicted):
        clusters[group].append(index)
    tp = fp = 0
    for members in clusters.values():
        works = len({truth[i] for i in members})
        tp += len(members) - works
        fp += works - 1
    true_sizes = Counter(truth)
    duplicates = sum(size - 1 for size in true_sizes.values())
    uniques = len(true_sizes)
    fn = duplicates - tp
    tn = uniques - fp
    true_pairs = sum(k * (k - 1) // 2 for k in true_sizes.values())
    predicted_pairs = sum(len(m) * (len(m) - 1) // 2 for m in clusters.values())
    correct_pairs = 0
    for members in clusters.values():
        for size in Counter(truth[i] for i in members).values():
            correct_pairs += size * (size - 1) // 2
    pair_precision = correct_pairs / predicted_pairs if predicted_pairs else 1.0
    pair_recall = correct_pairs / true_pairs if true_pairs else 1.0
    f1 = (2 * pair_precision * pair_recall / (pair_precision + pair_recall)
          if pair_precision + pair_recall else 0.0)
    return {
        "records": len(truth), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "sensitivity": tp / duplicates if duplicates else 1.0,
        "specificity": tn / uniques if uniques else 1.0,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "pair_precision": pair_precision, "pair_recall": pair_recall, "pair_f1": f1,
        "manual": possible_pairs,
    }


def run_reviewkit(path: Path, repeat: int = 1) -> tuple[dict, list[Record], list[str], object]:
    """Run the engine on one labelled file; time it ``repeat`` times and keep the median."""
    records, _, truth = read_labelled(path)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = find_duplicates(records)
        times.append(time.perf_counter() - start)
    scores = score_clusters(result.group_ids(), truth, len(result.possible()))
    scores["seconds"] = statistics.median(times)
    return scores, records, truth, result


# --- bib-dedupe, in its own environment -----------------------------------------------------

_BIBDEDUPE_SCRIPT = r"""
import json, sys, time
import pandas as pd
import bib_dedupe.bib_dedupe as bd
frame = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
frame = frame.drop(columns=["dup_group"]).rename(columns={"record_id": "ID"})
frame["ENTRYTYPE"] = "article"
start = time.perf_counter()
prepared = bd.prep(frame, verbosity_level=0, cpu=2)
blocked = bd.block(prepared, verbosity_level=0, cpu=2)
matched = bd.match(blocked, verbosity_level=0, cpu=2)
clusters = bd.cluster(matched, verbosity_level=0)
seconds = time.perf_counter() - start
maybe = int((matched["duplicate_label"] == "maybe").sum()) if len(matched) else 0
print(json.dumps({"clusters": clusters, "maybe": maybe, "seconds": seconds}))
"""


def ensure_bibdedupe() -> Path | None:
    """Create the bib-dedupe virtual environment on first use; return its python."""
    python = BIBDEDUPE_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {BIBDEDUPE_VENV} and installing bib-dedupe ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(BIBDEDUPE_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "bib-dedupe"], check=True)
    probe = subprocess.run([str(python), "-c", "import bib_dedupe"], capture_output=True)
    return python if probe.returncode == 0 else None


def bibdedupe_version(python: Path) -> str:
    done = subprocess.run([str(python), "-c", "from importlib.metadata import version; "
                           "print(version('bib-dedupe'))"], capture_output=True, text=True)
    return done.stdout.strip() or "?"


def run_bibdedupe(python: Path, path: Path) -> dict:
    """Run bib-dedupe on the same file (answer key column dropped) and score its groups."""
    _, ids, truth = read_labelled(path)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(_BIBDEDUPE_SCRIPT)
    try:
        done = subprocess.run([str(python), script.name, str(path)], capture_output=True,
                              text=True, check=True)
    finally:
        os.unlink(script.name)
    output = json.loads(done.stdout.strip().splitlines()[-1])
    position = {record_id: k for k, record_id in enumerate(ids)}
    predicted = list(range(len(ids)))
    for number, cluster in enumerate(output["clusters"]):
        for record_id in cluster:
            predicted[position[str(record_id)]] = len(ids) + number
    scores = score_clusters(predicted, truth, output["maybe"])
    scores["seconds"] = output["seconds"]
    scores["groups"] = predicted
    return scores


# --- scale sets: real records, perturbed the way databases differ ---------------------------

_ABBREVIATIONS = {
    "journal": "J", "international": "Int", "american": "Am", "clinical": "Clin",
    "medicine": "Med", "medical": "Med", "research": "Res", "european": "Eur",
    "diabetes": "Diabetes", "cardiology": "Cardiol", "surgery": "Surg", "cancer": "Cancer",
    "obstetrics": "Obstet", "gynecology": "Gynecol", "respiratory": "Respir",
    "pathology": "Pathol", "british": "Br", "annals": "Ann", "review": "Rev",
}


def _initials_only(name: str) -> str:
    if "," in name:
        surname, given = name.split(",", 1)
    else:
        bits = name.split()
        surname, given = bits[0], " ".join(bits[1:])
    letters = [w[0] for w in re.split(r"[\s.\-]+", given) if w]
    return f"{surname.strip()}, {' '.join(letters)}".strip(", ")


def _perturb(record: Record, rng: random.Random) -> Record:
    """Return a copy of ``record`` styled as another database might export it."""
    copy = Record.from_dict(record.to_dict())
    title = copy.title
    choice = rng.random()
    if choice < 0.2:
        title = title.upper() if rng.random() < 0.3 else title.lower()
    elif choice < 0.4:
        title = title.title()
    if rng.random() < 0.2:
        title = title.replace(" and ", " & ")
    if rng.random() < 0.2:
        title = title.rstrip(".") + "."
    if rng.random() < 0.1:
        title = f"[{title}]"
    if rng.random() < 0.1:
        title = title.replace(":", " -", 1)
    if rng.random() < 0.05 and len(title) > 40:
        k = rng.randrange(5, len(title) - 5)
        title = title[:k] + title[k + 1:]
    copy.title = title
    if rng.random() < 0.5:
        copy.authors = [_initials_only(a) for a in copy.authors]
    if rng.random() < 0.1 and len(copy.authors) > 3:
        copy.authors = copy.authors[:3]
    if rng.random() < 0.5:
        copy.journal = " ".join(_ABBREVIATIONS.get(w.lower(), w) for w in copy.journal.split())
    if rng.random() < 0.4:
        copy.doi = ""
    elif copy.doi and rng.random() < 0.5:
        copy.doi = "https://doi.org/" + copy.doi
    if rng.random() < 0.3 and "-" in copy.pages:
        first, last = copy.pages.split("-", 1)
        common = 0
        while common < min(len(first), len(last)) - 1 and first[common] == last[common]:
            common += 1
        copy.pages = f"{first}-{last[common:]}"
    if rng.random() < 0.3:
        copy.abstract = ""
    if rng.random() < 0.05 and copy.year:
        copy.year += 1
    return copy


def _new_work(pool: list[Record], rng: random.Random, number: int) -> Record:
    """Invent a distinct work from real parts: a real title with words swapped, other authors."""
    base = rng.choice(pool)
    donor = rng.choice(pool)
    words = base.title.split()
    donor_words = donor.title.split() or ["study"]
    for _ in range(max(2, len(words) // 3)):
        if words:
            words[rng.randrange(len(words))] = rng.choice(donor_words)
    return Record(
        title=" ".join(w for w in words if w),
        authors=list(rng.choice(pool).authors),
        year=rng.randint(1990, 2024),
        journal=rng.choice(pool).journal,
        volume=str(rng.randint(1, 300)),
        pages=f"{(p := rng.randint(1, 3000))}-{p + rng.randint(2, 15)}",
        doi=f"10.{rng.randint(1000, 9999)}/synthetic.{number}" if rng.random() < 0.6 else "",
        abstract=rng.choice(pool).abstract,
    )


def _look_alike(work: Record, rng: random.Random, number: int) -> Record:
    """Invent a different work that looks like ``work``: a later part, a protocol, a re-run."""
    other = Record.from_dict(work.to_dict())
    other.doi = f"10.{rng.randint(1000, 9999)}/synthetic.{number}" if work.doi else ""
    first = rng.randint(1, 3000)
    other.pages = f"{first}-{first + rng.randint(2, 15)}"
    choice = rng.random()
    if choice < 0.3:
        other.title = f"{work.title}. Part 2"
    elif choice < 0.5:
        other.title = f"{work.title}: study protocol for a randomised controlled trial"
        other.year = (work.year or 2000) - rng.randint(1, 3)
    elif choice < 0.7:
        other.title = f"Erratum: {work.title}"
    else:
        other.year = (work.year or 2000) + rng.randint(2, 5)
        other.volume = str(rng.randint(1, 300))
    return other


def scale_set(size: int, seed: int = 7) -> tuple[list[Record], list[int]]:
    """Build ``size`` records: distinct works (one in twenty a look-alike of an earlier one:
    a part 2, its protocol, an erratum, a later paper with the same title), each imported one
    to four times and perturbed the way databases differ."""
    rng = random.Random(seed)
    pool = []
    for name in SETS[:3]:
        pool.extend(read_labelled(DATA / f"{name}.csv")[0])
    records: list[Record] = []
    truth: list[int] = []
    works: list[Record] = []
    number = 0
    while len(records) < size:
        if works and rng.random() < 0.05:
            work = _look_alike(rng.choice(works), rng, number)
        else:
            work = _new_work(pool, rng, number)
        works.append(work)
        for copy_number in range(rng.choice((1, 1, 2, 2, 3, 4))):
            if len(records) >= size:
                break
            records.append(work if copy_number == 0 else _perturb(work, rng))
            truth.append(number)
        number += 1
    order = list(range(len(records)))
    rng.shuffle(order)
    return [records[k] for k in order], [truth[k] for k in order]


def _scale_child(size: int) -> None:
    """Run in a fresh process: build the set, time the engine, print JSON with peak memory."""
    records, truth = scale_set(size)
    start, cpu_start = time.perf_counter(), time.process_time()
    result = find_duplicates(records)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scores = score_clusters(result.group_ids(), [str(t) for t in truth], len(result.possible()))
    print(json.dumps({"size": size, "seconds": seconds, "cpu": cpu, "peak_mb": peak_kib / 1024,
                      "sensitivity": scores["sensitivity"], "precision": scores["precision"],
                      "possible": len(result.possible())}))


def run_scale(size: int, repeat: int = 1) -> dict:
    """Run a scale set in fresh processes ``repeat`` times; keep the run with median time."""
    runs = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, __file__, "--scale-child", str(size)],
                              capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    runs.sort(key=lambda run: run["seconds"])
    return runs[len(runs) // 2]


# --- report ---------------------------------------------------------------------------------

def _row(name: str, tool: str, s: dict) -> str:
    return (f"| {name} | {tool} | {s['sensitivity']:.4f} | {s['specificity']:.4f} | "
            f"{s['precision']:.4f} | {s['fp']} | {s['fn']} | "
            f"{s.get('pair_precision', float('nan')):.3f} | "
            f"{s.get('pair_recall', float('nan')):.3f} | {s.get('pair_f1', float('nan')):.3f} | "
            f"{s['manual']} | {s['seconds']:.1f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--no-scale", action="store_true")
    parser.add_argument("--no-bibdedupe", action="store_true")
    parser.add_argument("--no-append", action="store_true", help="print only")
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timing runs per labelled set and for scale sets under 50,000")
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scale_child:
        _scale_child(args.scale_child)
        return

    python = None if args.no_bibdedupe else ensure_bibdedupe()
    lines = ["| set | tool | sensitivity | specificity | precision | false merges | missed | "
             "pair precision | pair recall | pair F1 | manual review | seconds |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    verdicts: list[str] = []
    hard: list[str] = []
    for name in SETS:
        path = args.data / f"{name}.csv"
        ours, records, truth, result = run_reviewkit(path, repeat=args.repeat)
        hard.append(f"- {name}, reviewkit: "
                    f"{merged_hard_negatives(records, truth, result.group_ids())}")
        lines.append(_row(name, "reviewkit", ours))
        print(lines[-1], flush=True)
        peers = [ASYSD[name][0]]
        theirs = None
        if python:
            theirs = run_bibdedupe(python, path)
            hard.append(f"  bib-dedupe: {merged_hard_negatives(records, truth, theirs['groups'])}")
            lines.append(_row(name, "bib-dedupe (same run)", theirs))
            print(lines[-1], flush=True)
            peers.append(theirs["sensitivity"])
        sens, spec, prec, manual, seconds = ASYSD[name]
        lines.append(f"| {name} | ASySD 0.4.6 (published) | {sens:.3f} | {spec:.3f} | "
                     f"{prec:.3f} | – | – | – | – | – | {manual} | {seconds:.1f} |")
        met = (ours["sensitivity"] >= max(peers) - 1e-9 and ours["fp"] == 0)
        ratio = f", {theirs['seconds'] / ours['seconds']:.0f}× faster than bib-dedupe" \
            if theirs else ""
        verdicts.append(f"- {name}: {'target met' if met else 'TARGET MISSED'} "
                        f"(sensitivity {ours['sensitivity']:.4f} vs best peer {max(peers):.4f}, "
                        f"{ours['fp']} false merges, {ours['fn']} duplicates missed{ratio})")

    scale_lines = []
    if not args.no_scale:
        scale_lines = ["| records | seconds | CPU seconds | seconds per 10k | peak memory (MB) | "
                       "sensitivity | precision | possible pairs |",
                       "|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for size in (int(s) for s in args.sizes.split(",")):
            s = run_scale(size, repeat=args.repeat if size < 50000 else 1)
            scale_lines.append(
                f"| {s['size']:,} | {s['seconds']:.1f} | {s['cpu']:.1f} | "
                f"{s['seconds'] / size * 10000:.1f} | "
                f"{s['peak_mb']:.0f} | {s['sensitivity']:.4f} | {s['precision']:.4f} | "
                f"{s['possible']} |")
            print(scale_lines[-1], flush=True)

    text = "\n".join(lines) + "\n\n" + "\n".join(verdicts)
    text += ("\n\nHard negatives (pairs of distinct works, by the answer key, sharing a title, a "
             "first author and year, or a volume and page range): how many reviewkit put in one "
             "group, of how many.\n\n" + "\n".join(hard))
    if scale_lines:
        text += ("\n\nScale: synthetic sets built in memory from the labelled records (new works "
                 "from recombined real titles, authors and journals; one in twenty a look-alike "
                 "of an earlier work; each work imported one to four times with database-style "
                 "differences). Each size runs in a fresh process; peak memory is its maximum "
                 "resident set size, records included; CPU seconds are the process's own "
                 "processor time, which other users of a shared machine barely change.\n\n" + "\n".join(scale_lines))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    text += f"\n\nLoad average when done: {load}"
    if python:
        text += f"; bib-dedupe {bibdedupe_version(python)}"
    print()
    print(text)
    if not args.no_append:
        _append(text)


def _append(table: str) -> None:
    cpu = os.cpu_count()
    section = (f"\n## Deduplication — {dt.date.today().isoformat()}\n\n"
               f"`python benchmarks/dedup.py` on {cpu} cores, Python "
               f"{sys.version.split()[0]}. Record-level figures count, per predicted group "
               f"of k records holding g true works, TP += k − g and FP += g − 1; pair-level "
               f"figures count every pair inside a group. \"manual review\" is the number of "
               f"pairs left for a person (reviewkit: possible duplicates; bib-dedupe: maybe "
               f"pairs). \"false merges\" counts records wrongly merged (FP), \"missed\" duplicates left "
               f"unmerged (FN). ASySD figures are its published ones on these sets (SUMMARY.md). "
               f"Timings are medians; the machine is shared, so compare times only within "
               f"one run.\n\n{table}\n")
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n")
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write(section)


if __name__ == "__main__":
    main()
