"""Benchmark topic clustering: does it find which review a study came from, and how fast is it?

    python benchmarks/clustering.py              # quality + 10k-abstract timing, appends RESULTS.md
    python benchmarks/clustering.py --scale 0    # quality only
    python benchmarks/clustering.py --no-save    # print only

Quality: the included studies of the four SYNERGY review sets (read from
``/work/shared/data/synergy``, never copied) are mixed and clustered blind; adjusted Rand index
and NMI against the review each came from, for reviewkit (MiniLM embeddings + k-means,
silhouette-chosen k) and a TF-IDF + k-means baseline, both at k = 4 and with k chosen
automatically, over five seeds in the same run.  Then every mix of 2, 3 or 4 of the reviews,
and all 3,040 records: how often an automatic k finds the number of reviews mixed, with the
earlier rule (k judged in all 384 dimensions) beside today's.

Speed: N abstracts (all records of the four sets, repeated with a marker to reach N) are
stored in a fresh SQLite review; cold = embed everything and write the cache, then cluster;
cached = a new connection reads the vectors back and clusters (median of three).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from reviewkit.clustering import (  # noqa: E402
    DEFAULT_K_RANGE,
    FAST_ABOVE,
    choose_k,
    cluster_model,
    cluster_records,
    review_texts,
)
from reviewkit.embedding_cache import embeddings_for_records, model_name  # noqa: E402
from reviewkit.embeddings import (  # noqa: E402
    embed,
    load_fast_model,
    load_model,
    load_torch_model,
)
from reviewkit.records import Record  # noqa: E402
from reviewkit.store import Store  # noqa: E402

DATA = Path("/work/shared/data/synergy")
SETS = ("Donners_2021", "van_der_Valk_2021", "Meijboom_2021", "Jeyaraman_2020")
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
SEEDS = range(5)


def read_sets(included_only: bool) -> pd.DataFrame:
    frames = []
    for name in SETS:
        frame = pd.read_csv(DATA / f"{name}.csv")
        if included_only:
            frame = frame[frame.label_included == 1]
        frames.append(frame.assign(review=name))
    data = pd.concat(frames, ignore_index=True)
    data["text"] = (data.title.fillna("") + "\n" + data.abstract.fillna("")).str.strip()
    return data


def tfidf_kmeans(texts: list[str], k: int | None, seed: int) -> tuple[np.ndarray, int]:
    """The baseline: TF-IDF + k-means; k by silhouette over the same range when None."""
    matrix = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2).fit_transform(texts)
    if k is None:
        scores = {}
        for candidate in range(DEFAULT_K_RANGE[0], DEFAULT_K_RANGE[1] + 1):
            labels = KMeans(candidate, n_init=3, random_state=seed).fit_predict(matrix)
            scores[candidate] = silhouette_score(matrix, labels, metric="cosine")
        k = max(scores, key=scores.get)
    return KMeans(k, n_init=10, random_state=seed).fit_predict(matrix), k


def throughput(texts: list[str], models: dict) -> dict[str, float]:
    """Abstracts per second for each model on the same texts, alternating (median of 3)."""
    rates: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(3):
        for name, model in models.items():
            start = time.perf_counter()
            embed(texts, model=model)
            rates[name].append(len(texts) / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


FULL_METHOD = "reviewkit (MiniLM + k-means)"
FAST_METHOD = "reviewkit, large-review profile (int8, 128 tokens)"


def quality(model) -> tuple[list[str], float, int, dict[str, np.ndarray]]:
    data = read_sets(included_only=True)
    texts, truth = data.text.tolist(), data.review.to_numpy()
    start = time.perf_counter()
    vectors = {FULL_METHOD: embed(texts, model=model)}
    rate = len(texts) / (time.perf_counter() - start)
    vectors[FAST_METHOD] = embed(texts, model=load_fast_model())
    rows = []
    for method in (*vectors, "TF-IDF + k-means baseline"):
        for k in (4, None):
            ari, nmi, ks, secs = [], [], [], []
            for seed in SEEDS:
                start = time.perf_counter()
                if method.startswith("reviewkit"):
                    found = cluster_records(texts, embeddings=vectors[method], k=k,
                                            random_state=seed)
                    labels, chosen = np.array(found.labels), found.k
                else:
                    labels, chosen = tfidf_kmeans(texts, k, seed)
                secs.append(time.perf_counter() - start)
                ari.append(adjusted_rand_score(truth, labels))
                nmi.append(normalized_mutual_info_score(truth, labels))
                ks.append(chosen)
            rows.append(f"| {method} | {'4 (fixed)' if k else 'auto'} | "
                        f"{statistics.mean(ari):.3f} ± {statistics.pstdev(ari):.3f} | "
                        f"{statistics.mean(nmi):.3f} ± {statistics.pstdev(nmi):.3f} | "
                        f"{', '.join(str(c) for c in sorted(set(ks)))} | "
                        f"{statistics.median(secs):.2f} |")
    sizes = data.review.value_counts().reindex(list(SETS)).tolist()
    lines = [f"Quality: {len(texts)} included studies from {len(SETS)} reviews "
             f"({', '.join(f'{s} {n}' for s, n in zip(SETS, sizes, strict=True))}), "
             f"mean ± sd over seeds {SEEDS.start}–{SEEDS.stop - 1}; auto k searched "
             f"{DEFAULT_K_RANGE[0]}–{DEFAULT_K_RANGE[1]} by silhouette (reviewkit: in the "
             "embeddings' 20 main directions; baseline: cosine on TF-IDF). "
             "Clustering time excludes embedding.", "",
             "| method | k | ARI | NMI | k chosen | cluster s (median) |",
             "|---|---|---:|---:|---|---:|", *rows, ""]
    return lines, rate, len(texts), vectors


EARLIER_RULE = "k judged in all 384 dimensions (the earlier rule)"


def _auto(texts, vectors, seed: int, *, earlier: bool) -> tuple[np.ndarray, int]:
    """reviewkit with k chosen automatically: today's rule, or the earlier one."""
    k = choose_k(vectors, random_state=seed, dimensions=None)[0] if earlier else None
    found = cluster_records(texts, embeddings=vectors, k=k, random_state=seed)
    return np.array(found.labels), found.k


def auto_k(vectors: dict[str, np.ndarray]) -> list[str]:
    """Does an automatic k find how many reviews were mixed?  Every mix of 2, 3 and 4 reviews.

    Then all 3,040 records of the four sets (included or not) with the large-review profile.
    """
    data = read_sets(included_only=True)
    texts, truth = np.array(data.text.tolist(), dtype=object), data.review.to_numpy()
    methods = {}
    for name in (FULL_METHOD, FAST_METHOD):
        for earlier in (False, True):
            label = f"{name}, {EARLIER_RULE}" if earlier else name
            methods[label] = (lambda t, v, seed, e=earlier: _auto(t, v, seed, earlier=e), name)
    methods["TF-IDF + k-means baseline"] = (lambda t, v, seed: tfidf_kmeans(list(t), None, seed),
                                            None)
    mixes = [m for r in (2, 3, 4) for m in itertools.combinations(SETS, r)]
    scores: dict[str, list[tuple[float, bool]]] = {m: [] for m in methods}
    start = time.perf_counter()
    for mix in mixes:
        keep = np.isin(truth, mix)
        for label, (run, source) in methods.items():
            for seed in SEEDS:
                found, k = run(list(texts[keep]), vectors[source][keep] if source else None, seed)
                scores[label].append((adjusted_rand_score(truth[keep], found), k == len(mix)))
    rows = [f"| {label} | {statistics.mean(a for a, _ in got):.3f} | "
            f"{statistics.mean(hit for _, hit in got):.0%} |" for label, got in scores.items()]
    lines = [f"Automatic k on every mix of 2, 3 or 4 of the reviews' included studies ({len(mixes)} "
             f"mixes × {len(SEEDS)} seeds; {time.perf_counter() - start:.0f} s): mean ARI, and how "
             "often k equalled the number of reviews mixed. reviewkit now chooses k by the "
             "silhouette in the embeddings' 20 main directions (PCA).", "",
             "| method | mean ARI | k right |", "|---|---:|---:|", *rows, ""]
    everything = read_sets(included_only=False)
    texts, truth = everything.text.tolist(), everything.review.to_numpy()
    profile = embed(texts, model=load_fast_model())
    rows = []
    for label, run in ((FAST_METHOD, lambda seed: _auto(texts, profile, seed, earlier=False)),
                       (f"{FAST_METHOD}, {EARLIER_RULE}",
                        lambda seed: _auto(texts, profile, seed, earlier=True)),
                       ("TF-IDF + k-means baseline", lambda seed: tfidf_kmeans(texts, None, seed))):
        got = [run(seed) for seed in SEEDS]
        aris = [adjusted_rand_score(truth, found) for found, _k in got]
        rows.append(f"| {label} | {statistics.mean(aris):.3f} ± {statistics.pstdev(aris):.3f} | "
                    f"{', '.join(str(k) for k in sorted({k for _f, k in got}))} |")
    lines += [f"All {len(texts):,} records of the four sets (included or not), k automatic, "
              f"seeds {SEEDS.start}–{SEEDS.stop - 1}:", "",
              "| method | ARI | k chosen |", "|---|---:|---|", *rows, ""]
    return lines


def scale(model, n: int) -> list[str]:
    data = read_sets(included_only=False)
    base = data.text.tolist()
    texts = [base[i % len(base)] + (f"\n[copy {i // len(base)}]" if i >= len(base) else "")
             for i in range(n)]
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite"
        store = Store(url)
        review = store.create_review("Clustering benchmark")
        store.add_import(review.id, [Record(title=t.split("\n", 1)[0],
                                            abstract=t.split("\n", 1)[1] if "\n" in t else "")
                                     for t in texts],
                         filename="bench.csv", format="csv", sha256="0" * 64, size_bytes=0)
        ids, stored_texts = review_texts(store, review.id)
        model = cluster_model(len(ids))  # what the app and CLI use for this many studies
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        vectors = embeddings_for_records(store, ids, stored_texts, model=model)
        embedded = time.perf_counter() - start
        found = cluster_records(stored_texts, embeddings=vectors)
        cold = time.perf_counter() - start
        store.close()
        cached = []
        for _ in range(3):
            reopened = Store(url)
            start = time.perf_counter()
            ids, stored_texts = review_texts(reopened, review.id)
            again = embeddings_for_records(reopened, ids, stored_texts, model=model)
            read = time.perf_counter() - start
            cluster_records(stored_texts, embeddings=again)
            cached.append((time.perf_counter() - start, read))
            reopened.close()
        load_after = os.getloadavg()[0]
    total, read = sorted(cached)[1]
    return [f"Speed: {n:,} abstracts in a fresh SQLite review, bundled MiniLM on the CPU "
            f"({model_name(model)}, chosen automatically above {FAST_ABOVE:,} studies) "
            f"(load average {load_before:.1f} before, {load_after:.1f} after, on "
            f"{os.cpu_count()} cores shared with other work). Model loading not counted.", "",
            "| step | seconds | target |", "|---|---:|---|",
            f"| cold: embed + store vectors ({n / embedded:.0f} abstracts/s) | {embedded:.1f} | |",
            f"| cold: embed + cluster (auto k = {found.k}) | {cold:.1f} | < 180 |",
            f"| cached: read vectors from the DB (median of 3) | {read:.2f} | |",
            f"| cached: read + cluster | {total:.2f} | < 5 |", ""]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10_000, help="abstracts for the speed run "
                        "(0 skips it)")
    parser.add_argument("--no-save", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)
    model = load_model()
    embed(["warm up"], model=model)
    lines, rate, n, vectors = quality(model)
    lines += auto_k(vectors)
    backend = "ONNX Runtime" if type(model).__name__ == "OnnxSentenceModel" else "PyTorch"
    out = [f"## Clustering — {dt.date.today().isoformat()}", "", *lines,
           f"Embedding throughput on the {n} included abstracts ({backend}): "
           f"{rate:.0f} abstracts/s.", ""]
    if backend == "ONNX Runtime":
        sample = read_sets(included_only=False).text.sample(300, random_state=0).tolist()
        rates = throughput(sample, {"ONNX Runtime": model, "PyTorch": load_torch_model(),
                                    "profile": load_fast_model()})
        out += [f"Same 300 abstracts, median of 3, alternating: sentence-transformers on "
                f"PyTorch {rates['PyTorch']:.1f} abstracts/s; the same model on ONNX Runtime "
                f"{rates['ONNX Runtime']:.1f}/s (ratio {rates['ONNX Runtime'] / rates['PyTorch']:.2f}); "
                f"the large-review profile (8-bit weights, first 128 tokens) "
                f"{rates['profile']:.1f}/s (ratio {rates['profile'] / rates['PyTorch']:.2f}).", ""]
    if args.scale:
        out += scale(model, args.scale)
    text = "\n".join(out)
    print(text)
    if not args.no_save:
        with open(RESULTS, "a", encoding="utf-8") as handle:
            handle.write("\n" + text)


if __name__ == "__main__":
    main()
