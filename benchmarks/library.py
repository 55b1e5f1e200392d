"""Benchmark library search: build time, latency at the real size and at 10,000 entries, quality.

    python benchmarks/library.py               # everything; appends to RESULTS.md
    python benchmarks/library.py --no-save     # print only
    python benchmarks/library.py --embed-scale # embed all 10,000 scale entries for real (slow)

Quality is nDCG@10 and recall@10 on the judged queries in ``tests/data/library_queries.json``
for word (BM25), meaning (embeddings) and fused search, with both fusion methods.

The scale set is made in memory by recombining and perturbing the real entries: each synthetic
entry takes its title from one entry, its summary and body sentences from two or three others,
a place from another, and the codes of its sources with some swapped for random codebook codes;
one in ten is team-only and one in twenty pending.  Unless ``--embed-scale`` is given, its
vectors are the normalised mix of its sources' real vectors plus noise (search latency does not
depend on what the vectors are), and embedding time at 10,000 is extrapolated from embedding
a sample of the synthetic texts for real.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewkit.embeddings import embed, load_model  # noqa: E402
from reviewkit.library import LibraryEntry, LibraryIndex, Viewer, load_entries  # noqa: E402
from reviewkit.library.entries import ENTRY_SCHEMES, bundled_codebook  # noqa: E402
from reviewkit.library.quality import evaluate, read_judged_queries  # noqa: E402
from reviewkit.library.search import embedding_text  # noqa: E402

QUERIES = ROOT / "tests" / "data" / "library_queries.json"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
MODES = ("lexical", "semantic", "fused")
# Words added to the judged queries so that every timed query is new to the index (its
# query-vector cache would otherwise make repeats look faster than a first search).
VARIATIONS = ("", "project", "residents", "in the north west", "what changed", "council")


def _sentences(text: str) -> list[str]:
    return [s.strip() + "." for s in text.replace("\n", " ").split(". ") if s.strip()]


def scale_set(entries: list[LibraryEntry], size: int, *, seed: int = 7
              ) -> tuple[list[LibraryEntry], list[list[int]]]:
    """Return ``size`` synthetic entries and, for each, the real entries it was made from."""
    rng = random.Random(seed)
    codebook = bundled_codebook()
    codes_by_scheme = {scheme: [c.code for c in codebook.scheme(scheme).codes]
                       for scheme in ENTRY_SCHEMES.values()}
    made, sources = [], []
    for number in range(size):
        picked = rng.sample(range(len(entries)), rng.choice((2, 3)))
        first, others = entries[picked[0]], [entries[i] for i in picked[1:]]
        summary = _sentences(first.summary)[:2] + _sentences(others[0].summary)[:1]
        body = _sentences(first.body)
        for other in others:
            body += rng.sample(_sentences(other.body), k=min(4, len(_sentences(other.body))))
        rng.shuffle(body)
        fields = {}
        for name, scheme in ENTRY_SCHEMES.items():
            codes = list(getattr(first, name))
            if rng.random() < 0.5:
                codes[rng.randrange(len(codes))] = rng.choice(codes_by_scheme[scheme])
            fields[name] = tuple(dict.fromkeys(codes))
        where = rng.choice(entries)
        roll = rng.random()
        made.append(dataclasses.replace(
            first, id=f"scale-{number:05d}", title=f"{first.title} ({rng.randint(1, 999)})",
            summary=" ".join(summary), body=" ".join(body[:14]), place=where.place,
            local_authority=where.local_authority,
            visibility="team" if roll < 0.1 else "public",
            review_id=rng.randint(1, 20) if roll < 0.1 else None,
            status="pending" if 0.1 <= roll < 0.15 else "published", path="", **fields))
        sources.append(picked)
    return made, sources


def mixed_vectors(real: np.ndarray, sources: list[list[int]], *, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixed = np.stack([real[rows].mean(axis=0) for rows in sources])
    mixed += rng.normal(scale=0.02, size=mixed.shape).astype(np.float32)
    return (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)


def latencies(index: LibraryIndex, queries: list[str], mode: str) -> dict[str, float]:
    timings = []
    for query in queries:
        start = time.perf_counter()
        index.search(query, top=10, mode=mode, viewer=Viewer.public())
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return {"p50": statistics.median(timings),
            "p95": timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)],
            "n": len(timings)}


def timed_queries(judged, mode_number: int) -> list[str]:
    # A different set of variations per mode keeps every query string new to the index.
    words = VARIATIONS[mode_number % 2::2]
    return [f"{item.query} {extra}".strip() for extra in words for item in judged]


def run(args) -> str:
    entries = load_entries()
    judged = read_judged_queries(QUERIES)
    model = load_model()
    embed(["warm up the model"], model=model)
    lines = []

    # build at the real size: embedding, then everything else
    texts = [embedding_text(e) for e in entries]
    start = time.perf_counter()
    vectors = embed(texts, model=model)
    embed_real = time.perf_counter() - start
    start = time.perf_counter()
    index = LibraryIndex.build(entries, model=model, vectors=vectors)
    build_real = time.perf_counter() - start

    # quality, both fusion methods
    quality = {mode: evaluate(index, judged, mode=mode) for mode in MODES}
    rrf = LibraryIndex.build(entries, model=model, vectors=vectors, fusion="rrf")
    quality["fused (reciprocal rank)"] = evaluate(rrf, judged, mode="fused")
    by_kind = {}
    for kind in sorted({q.kind for q in judged}):
        subset = [q for q in judged if q.kind == kind]
        by_kind[kind] = {mode: evaluate(index, subset, mode=mode)["ndcg"] for mode in MODES}

    # scale set
    scale, sources = scale_set(entries, args.scale)
    scale_texts = [embedding_text(e) for e in scale]
    sample = scale_texts[: args.sample]
    start = time.perf_counter()
    embed(sample, model=model)
    per_text = (time.perf_counter() - start) / len(sample)
    if args.embed_scale:
        start = time.perf_counter()
        scale_vectors = embed(scale_texts, model=model)
        embed_scale = time.perf_counter() - start
        embed_note = "measured"
    else:
        scale_vectors = mixed_vectors(vectors, sources)
        embed_scale = per_text * len(scale)
        embed_note = f"extrapolated from {len(sample)} texts"
    start = time.perf_counter()
    big = LibraryIndex.build(scale, model=model, vectors=scale_vectors)
    build_scale = time.perf_counter() - start

    timing = {}
    for size, idx in ((len(entries), index), (len(scale), big)):
        for number, mode in enumerate(MODES):
            timing[(size, mode)] = latencies(idx, timed_queries(judged, number), mode)

    cpu = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    import torch

    lines.append(f"## Library search — {dt.date.today().isoformat()}\n")
    lines.append(f"Machine: {platform.machine()}, {cpu} cores, load average {load:.1f} at the "
                 f"end of the run, torch threads {torch.get_num_threads()}; Python "
                 f"{platform.python_version()}; model all-MiniLM-L6-v2 on the CPU. "
                 f"Entries embedded as title + summary. Scale set: {len(scale)} entries "
                 "recombined from the real ones (see `benchmarks/library.py`).\n")
    lines.append("**Build**\n")
    lines.append("| entries | embedding (s) | rest of the index (s) |")
    lines.append("| ---: | ---: | ---: |")
    lines.append(f"| {len(entries)} | {embed_real:.2f} | {build_real:.2f} |")
    lines.append(f"| {len(scale)} | {embed_scale:.1f} ({embed_note}) | {build_scale:.2f} |\n")
    lines.append("**Search latency** (ms per query, top 10, public viewer; every query string "
                 "new to the index, so each includes embedding the query)\n")
    lines.append("| entries | mode | queries | p50 | p95 |")
    lines.append("| ---: | --- | ---: | ---: | ---: |")
    for (size, mode), found in timing.items():
        lines.append(f"| {size} | {mode} | {found['n']} | {found['p50']:.1f} | "
                     f"{found['p95']:.1f} |")
    lines.append("")
    lines.append(f"**Quality** on {len(judged)} judged queries "
                 f"({len(entries)} entries; `tests/data/library_queries.json`)\n")
    lines.append("| search | nDCG@10 | recall@10 |")
    lines.append("| --- | ---: | ---: |")
    for name, found in quality.items():
        label = "fused (score blend, default)" if name == "fused" else name
        lines.append(f"| {label} | {found['ndcg']:.3f} | {found['recall']:.3f} |")
    lines.append("")
    lines.append("nDCG@10 by kind of query:\n")
    lines.append("| kind | queries | " + " | ".join(MODES) + " |")
    lines.append("| --- | ---: | " + " | ".join("---:" for _ in MODES) + " |")
    for kind, found in by_kind.items():
        count = sum(q.kind == kind for q in judged)
        lines.append(f"| {kind} | {count} | "
                     + " | ".join(f"{found[m]:.3f}" for m in MODES) + " |")
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10_000, help="size of the scale set")
    parser.add_argument("--sample", type=int, default=200,
                        help="scale texts embedded for real to estimate embedding time")
    parser.add_argument("--embed-scale", action="store_true",
                        help="embed the whole scale set for real")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own choice)")
    parser.add_argument("--no-save", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    report = run(args)
    print(report)
    if not args.no_save:
        if not RESULTS.exists():
            RESULTS.write_text("# Benchmark results\n", encoding="utf-8")
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write("\n" + report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
