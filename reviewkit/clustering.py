"""Group studies by topic: k-means on sentence embeddings, named by their distinctive words.

The number of groups is chosen by the silhouette score (how much closer studies sit to their
own group than to the next one) over a range of k, unless the caller fixes it.  The choice is
made in the embeddings' 20 main directions (PCA): in all 384 dimensions distances bunch
together and the silhouette settles on too few topics.  Each group is named by class-based
TF-IDF: the words and phrases frequent in that group and rare in the others.  A 2-D
projection of the embeddings gives a map to draw.
"""

from __future__ import annotations

import hashlib
import html
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from reviewkit.embedding_cache import embeddings_for_records
from reviewkit.embeddings import embed
from reviewkit.errors import ReviewkitError
from reviewkit.export_cells import cell_writer
from reviewkit.screening.status import included_record_ids as included_record_ids  # re-export
from reviewkit.store import Store, record_rows

DEFAULT_K_RANGE = (2, 12)
# When k is chosen, a topic should hold this many studies on average: on a small set the
# silhouette keeps rising with k (a study alone is 'well separated'), which would split 26
# studies into 12 topics of one or two.
MIN_AVERAGE_TOPIC_SIZE = 5
# Choosing k (k-means per k, and a silhouette that is quadratic in size) works on a random
# sample of this many studies; the final grouping uses them all.
_SAMPLE = 2000
# Choosing k compares groupings in this many principal directions of the embeddings.  On the
# SYNERGY sets (benchmarks/RESULTS.md) 15-30 all found the true number of reviews far more
# often than the full 384 dimensions did; 5 and 50 did worse.
_CHOOSE_DIMENSIONS = 20
# Naming a group reads at most this many of its studies (plenty to find its words).
_LABEL_SAMPLE = 400
_LABEL_TERMS = 3
# Words every abstract uses: they say nothing about what a group is about.
_REPORTING_WORDS = frozenset("""
study studies studied group groups patient patients result results conclusion conclusions
method methods background objective objectives aim aims purpose introduction design setting
participants outcome outcomes analysis analyses data using used use compared comparison
significant significantly associated association total mean median years year respectively
included including effect effects based found showed
""".split())


@dataclass
class Clustering:
    labels: list[int]  # group of each text; group 0 is the largest
    cluster_labels: dict[int, str]  # group -> its most distinctive terms, comma separated
    sizes: dict[int, int]
    coords_2d: np.ndarray  # (n, 2) positions for a scatter plot
    k: int
    quality: float  # silhouette (cosine) of the chosen grouping, -1..1; 0 when undefined
    # silhouette of each k tried, judged in the main directions (see choose_k)
    k_scores: dict[int, float] = field(default_factory=dict)
    terms: dict[int, list[str]] = field(default_factory=dict)  # ranked distinctive terms


def cluster_records(texts: Sequence[str], *, embeddings: np.ndarray | None = None,
                    k: int | None = None, model=None, random_state: int = 0,
                    k_range: tuple[int, int] = DEFAULT_K_RANGE,
                    projection: str = "pca") -> Clustering:
    """Cluster texts by topic; ``k`` fixes the number of groups, otherwise it is chosen.

    ``embeddings`` (one L2-normalised row per text) skips embedding; ``model`` is anything with
    ``.encode``.  ``projection`` is "pca" (fast) or "tsne" for the 2-D map.
    """
    texts = [t or "" for t in texts]
    n = len(texts)
    if embeddings is None:
        embeddings = embed(texts, model=model) if n else np.zeros((0, 2), dtype=np.float32)
    vectors = np.asarray(embeddings, dtype=np.float32)
    if vectors.shape[0] != n:
        raise ReviewkitError(f"Got {vectors.shape[0]} embeddings for {n} texts.")
    if n < 3 or (k is not None and k <= 1):
        return _single_group(texts, vectors)
    # One thread: the steps are small, and on shared cores the OpenMP/BLAS threads of
    # k-means and PCA spin-wait for each other (5-10x slower on a busy 2-core machine).
    with threadpool_limits(limits=1):
        k_scores: dict[int, float] = {}
        if k is None:
            k, k_scores = choose_k(vectors, k_range=k_range, random_state=random_state)
        k = min(k, n - 1)
        labels = _by_size(_fit(vectors, k, random_state))
        quality = _silhouette(vectors, labels, random_state)
        coords = project_2d(vectors, method=projection, random_state=random_state)
    terms = distinctive_terms(texts, labels)
    return Clustering(
        labels=labels.tolist(),
        cluster_labels={c: ", ".join(t[:_LABEL_TERMS]) or f"group {c + 1}"
                        for c, t in terms.items()},
        sizes={c: int((labels == c).sum()) for c in range(k)},
        coords_2d=coords, k=k, quality=round(float(quality), 4), k_scores=k_scores,
        terms=terms)


def choose_k(vectors: np.ndarray, *, k_range: tuple[int, int] = DEFAULT_K_RANGE,
             random_state: int = 0, dimensions: int | None = _CHOOSE_DIMENSIONS
             ) -> tuple[int, dict[int, float]]:
    """Pick the k with the best silhouette score; return it and the score of each k tried.

    Each k is tried by k-means on the embeddings' main directions (``dimensions`` of them, by
    PCA) and scored there by the (Euclidean) silhouette; ``dimensions=None`` judges in the full
    space by the cosine silhouette, the earlier rule, kept for comparison.  k stays at most one
    topic per ``MIN_AVERAGE_TOPIC_SIZE`` studies.  Large sets are judged on a random sample,
    which keeps the choice quick at 10k studies.
    """
    sample = _sample(vectors, random_state)
    low = max(2, k_range[0])
    high = min(k_range[1], sample.shape[0] - 1, vectors.shape[0] // MIN_AVERAGE_TOPIC_SIZE)
    if high < low:
        return low, {}
    reduced, metric = sample, "cosine"
    if dimensions is not None:
        reduced, metric = _main_directions(sample, dimensions, random_state), "euclidean"
    scores = {}
    for k in range(low, high + 1):
        labels = _kmeans(reduced, k, random_state).labels_
        scores[k] = round(_silhouette(reduced, labels, random_state, metric=metric), 4)
    best = max(scores, key=lambda k: (scores[k], -k))
    return best, scores


def _main_directions(vectors: np.ndarray, dimensions: int, random_state: int) -> np.ndarray:
    """The vectors in their first ``dimensions`` principal directions (fewer for few rows)."""
    dimensions = min(dimensions, vectors.shape[0] - 1)
    if dimensions >= vectors.shape[1] or dimensions < 2:
        return vectors
    return PCA(n_components=dimensions, random_state=random_state).fit_transform(vectors)


def _sample(vectors: np.ndarray, random_state: int) -> np.ndarray:
    n = vectors.shape[0]
    if n <= _SAMPLE:
        return vectors
    rng = np.random.default_rng(random_state)
    return vectors[np.sort(rng.choice(n, _SAMPLE, replace=False))]


def _kmeans(vectors: np.ndarray, k: int, random_state: int, *, n_init: int = 3,
            init=None) -> KMeans:
    model = KMeans(n_clusters=k, n_init=1 if init is not None else n_init,
                   init=init if init is not None else "k-means++", random_state=random_state)
    return model.fit(vectors)


def _fit(vectors: np.ndarray, k: int, random_state: int) -> np.ndarray:
    """The final k-means: ten starts (on a sample for a large set, then refined on all)."""
    sample = _sample(vectors, random_state)
    if sample.shape[0] == vectors.shape[0]:
        return _kmeans(vectors, k, random_state, n_init=10).labels_
    centres = _kmeans(sample, k, random_state, n_init=10).cluster_centers_
    return _kmeans(vectors, k, random_state, init=centres).labels_


def _silhouette(vectors: np.ndarray, labels: np.ndarray, random_state: int, *,
                metric: str = "cosine") -> float:
    if not 2 <= len(set(labels.tolist())) < len(labels):
        return 0.0
    sample = min(len(labels), _SAMPLE)
    return float(silhouette_score(vectors, labels, metric=metric, sample_size=sample,
                                  random_state=random_state))


def _by_size(raw: np.ndarray) -> np.ndarray:
    """Renumber groups so that 0 is the largest (ties by first appearance)."""
    counts = np.bincount(raw)
    first = {c: int(np.argmax(raw == c)) for c in range(len(counts))}
    order = sorted(range(len(counts)), key=lambda c: (-counts[c], first[c]))
    mapping = np.empty(len(counts), dtype=int)
    mapping[order] = np.arange(len(counts))
    return mapping[raw]


def _single_group(texts: list[str], vectors: np.ndarray) -> Clustering:
    n = len(texts)
    labels = np.zeros(n, dtype=int)
    terms = distinctive_terms(texts, labels) if n else {}
    return Clustering(labels=labels.tolist(),
                      cluster_labels={0: ", ".join(terms.get(0, [])[:_LABEL_TERMS]) or "all"}
                      if n else {},
                      sizes={0: n} if n else {}, coords_2d=project_2d(vectors),
                      k=1 if n else 0, quality=0.0)


def distinctive_terms(texts: Sequence[str], labels: Sequence[int], *, top: int = 10,
                      random_state: int = 0) -> dict[int, list[str]]:
    """Rank each group's words and two-word phrases by class-based TF-IDF.

    A term scores high when it makes up a large share of the group's words and appears in few
    of the other groups.  A term sharing a word with one already chosen is skipped, so the
    list is not 'social prescribing, prescribing, social'.
    """
    labels = np.asarray(labels)
    groups = sorted(set(labels.tolist()))
    if not groups:
        return {}
    rng = np.random.default_rng(random_state)
    keep = []
    for g in groups:
        members = np.flatnonzero(labels == g)
        if len(members) > _LABEL_SAMPLE:
            members = rng.choice(members, _LABEL_SAMPLE, replace=False)
        keep.extend(members.tolist())
    keep.sort()
    docs = [texts[i] for i in keep]
    kept_labels = labels[keep]
    stop_words = sorted(ENGLISH_STOP_WORDS | _REPORTING_WORDS)
    vectorizer = CountVectorizer(stop_words=stop_words, ngram_range=(1, 2),
                                 min_df=2 if len(docs) >= 20 else 1,
                                 token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z-]{2,}\b")
    try:
        counts = vectorizer.fit_transform(docs)
    except ValueError:  # nothing but stop words
        return {g: [] for g in groups}
    vocab = vectorizer.get_feature_names_out()
    per_group = np.vstack([np.asarray(counts[kept_labels == g].sum(axis=0)).ravel()
                           for g in groups]).astype(float)
    totals = per_group.sum(axis=1, keepdims=True)
    totals[totals == 0] = 1.0
    tf = per_group / totals
    average_words = per_group.sum() / len(groups)
    idf = np.log1p(average_words / np.maximum(per_group.sum(axis=0), 1.0))
    scores = tf * idf
    lengths = np.array([len(t.split()) for t in vocab])
    out = {}
    for row, g in enumerate(groups):
        chosen: list[str] = []
        used: set[str] = set()
        # best score first; on a tie the phrase before its single words
        for j in np.lexsort((-lengths, -scores[row])):
            if scores[row, j] <= 0 or len(chosen) >= top:
                break
            words = set(str(vocab[j]).split())
            if words & used:
                continue
            chosen.append(str(vocab[j]))
            used |= words
        out[g] = chosen
    return out


def project_2d(vectors: np.ndarray, *, method: str = "pca", random_state: int = 0) -> np.ndarray:
    """Project embeddings to 2-D for a map: PCA (default, fast) or t-SNE."""
    n = vectors.shape[0]
    if n == 0:
        return np.zeros((0, 2))
    if n < 3:
        return np.zeros((n, 2))
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = max(2.0, min(30.0, (n - 1) / 3))
        return TSNE(n_components=2, perplexity=perplexity, init="pca", metric="cosine",
                    random_state=random_state).fit_transform(vectors)
    if method != "pca":
        raise ReviewkitError(f"Unknown projection '{method}' (use pca or tsne).")
    return PCA(n_components=2, random_state=random_state).fit_transform(vectors)


# -- a stored review --------------------------------------------------------------------------


def review_texts(store: Store, review_id: int, record_ids: Iterable[int] | None = None
                 ) -> tuple[list[int], list[str]]:
    """Ids and texts (title and abstract) of a review's records left after deduplication,
    all of them or only those in ``record_ids``."""
    with store.read() as conn:
        rows = record_rows.kept_texts(conn, review_id)
    if record_ids is not None:
        wanted = set(record_ids)
        rows = [r for r in rows if r.id in wanted]
    return [r.id for r in rows], [f"{r.title}\n{r.abstract}".strip() for r in rows]


def texts_fingerprint(record_ids: Sequence[int], texts: Sequence[str]) -> str:
    """A short digest of which records, with which texts: a key for keeping a clustering."""
    digest = hashlib.sha256()
    for rid, text in zip(record_ids, texts, strict=True):
        digest.update(f"{rid}\x00{text}\x01".encode())
    return digest.hexdigest()[:32]


# Above this many studies, clustering embeds with the quicker model profile
# (reviewkit.embeddings.load_fast_model) unless a model is given.
FAST_ABOVE = 2000


def cluster_model(count: int, model=None):
    """The embedding model for clustering ``count`` studies: the one given, else the full model
    for ordinary reviews and the quicker profile for large ones (None = the full model)."""
    if model is not None or count <= FAST_ABOVE:
        return model
    from reviewkit.embeddings import load_fast_model

    try:
        return load_fast_model()
    except Exception:  # no ONNX Runtime: the full model does the work, only slower
        return None


def cluster_review(store: Store, review_id: int, *, k: int | None = None, model=None,
                   random_state: int = 0,
                   progress: Callable[[int, int], None] | None = None,
                   record_ids: Iterable[int] | None = None,
                   projection: str = "pca") -> tuple[list[int], Clustering]:
    """Cluster a review's records (or only ``record_ids``), using and filling the embedding
    cache.  ``progress(done, total)`` is told how embedding the uncached texts goes."""
    ids, texts = review_texts(store, review_id, record_ids)
    model = cluster_model(len(ids), model)
    vectors = embeddings_for_records(store, ids, texts, model=model, progress=progress)
    return ids, cluster_records(texts, embeddings=vectors if ids else None, k=k, model=model,
                                random_state=random_state, projection=projection)


# -- showing a clustering -----------------------------------------------------------------------


def topic_name(clustering: Clustering, cluster: int) -> str:
    """'Topic 2: green space, housing' — numbered from 1, with its label."""
    return f"Topic {cluster + 1}: {clustering.cluster_labels.get(cluster, '')}".rstrip(": ")


def cluster_summary(clustering: Clustering, *, chosen_automatically: bool) -> str:
    """One plain sentence: how many studies in how many topics, and who chose the number."""
    n = len(clustering.labels)
    studies = f"{n} stud{'y' if n == 1 else 'ies'}"
    topics = f"{clustering.k} topic{'' if clustering.k == 1 else 's'}"
    if n < 3:
        return f"{studies}: too few to split into topics."
    how = ("the number of topics was chosen automatically, as the one that separates the "
           "studies best" if chosen_automatically else "you chose the number of topics")
    return f"{studies} in {topics}; {how}."


def cluster_table(clustering: Clustering) -> list[dict]:
    """One row per topic, largest first: its number, label, size and distinctive terms."""
    return [{"topic": c + 1, "label": clustering.cluster_labels.get(c, ""),
             "studies": clustering.sizes.get(c, 0),
             "terms": ", ".join(clustering.terms.get(c, []))}
            for c in sorted(clustering.sizes)]


def study_details(store: Store, record_ids: Sequence[int]) -> dict[int, dict]:
    """Title, year and journal of each record, by id."""
    with store.read() as conn:
        found = record_rows.summaries_by_id(conn, record_ids)
    return {rid: {"record_id": rid, "title": row.title or "", "year": row.year,
                  "journal": row.journal or ""} for rid, row in found.items()}


def studies_in_cluster(record_ids: Sequence[int], clustering: Clustering, cluster: int
                       ) -> list[int]:
    """The ids of the records placed in ``cluster``, in their original order."""
    return [rid for rid, label in zip(record_ids, clustering.labels, strict=True)
            if label == cluster]


def cluster_figure(record_ids: Sequence[int], clustering: Clustering,
                   details: dict[int, dict] | None = None, *, title: str = ""):
    """The 2-D map as a plotly scatter: one trace (colour) per topic, hover = the study.

    Titles are user data, so ``<``, ``>`` and ``&`` in them are escaped: plotly shows them as
    text instead of reading them as its own HTML-like markup.
    """
    import plotly.graph_objects as go

    details = details or {}
    coords = np.asarray(clustering.coords_2d, dtype=float).reshape(-1, 2)
    labels = np.asarray(clustering.labels, dtype=int)
    # many points draw far faster on WebGL
    trace_type = go.Scattergl if len(labels) > 3000 else go.Scatter
    traces = []
    for c in sorted(clustering.sizes):
        members = np.flatnonzero(labels == c)
        hover = []
        for i in members:
            info = details.get(record_ids[i], {})
            year = f" ({info['year']})" if info.get("year") else ""
            hover.append(f"{html.escape(_shorten(info.get('title', ''), 90))}{year}<br>"
                         f"<i>{html.escape(_shorten(topic_name(clustering, c), 70))}</i>")
        traces.append(trace_type(
            x=coords[members, 0].tolist(), y=coords[members, 1].tolist(), mode="markers",
            name=html.escape(_shorten(topic_name(clustering, c), 50)), text=hover,
            customdata=[[int(record_ids[i]), c] for i in members],
            hovertemplate="%{text}<extra></extra>",
            marker={"size": 9 if len(labels) <= 500 else 5, "opacity": 0.8,
                    "color": _PALETTE[c % len(_PALETTE)],
                    "line": {"width": 0.5, "color": "white"}}))
    fig = go.Figure(traces)
    fig.update_layout(title={"text": html.escape(title)} if title else None,
                      template="plotly_white", height=560, hoverlabel={"align": "left"},
                      legend={"title": {"text": "Topic"}, "itemsizing": "constant"},
                      margin={"l": 20, "r": 20, "t": 40 if title else 20, "b": 20})
    # the axes of a projection have no units worth reading
    fig.update_xaxes(showticklabels=False, title=None, zeroline=False)
    fig.update_yaxes(showticklabels=False, title=None, zeroline=False)
    return fig


_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#ad494a", "#637939", "#8c6d31",
            "#7b4173")


def _shorten(text: str, size: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= size else text[:size - 1].rstrip() + "…"


# -- assignments as CSV (the app's download and ``python -m reviewkit cluster``) -----------------

CLUSTER_CSV_COLUMNS = ("record_id", "cluster_id", "cluster_label")


def write_assignments(handle, record_ids: Sequence, clustering: Clustering) -> None:
    """Write record_id,cluster_id,cluster_label rows (the CLI's and the app's CSV)."""
    writer = cell_writer(handle)
    writer.writerow(CLUSTER_CSV_COLUMNS)
    for record_id, label in zip(record_ids, clustering.labels, strict=True):
        writer.writerow([record_id, label, clustering.cluster_labels.get(label, "")])


def assignments_csv(record_ids: Sequence, clustering: Clustering) -> bytes:
    """The assignments as CSV bytes (UTF-8), the same columns as the CLI writes."""
    buffer = io.StringIO(newline="")
    write_assignments(buffer, record_ids, clustering)
    return buffer.getvalue().encode("utf-8")
