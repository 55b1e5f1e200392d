"""Okapi BM25 over documents with weighted fields, scored with one sparse matrix product.

Each document is a mapping from field name to its list of terms.  A term's frequency in a
document is the field-weighted sum of its counts (a simplified BM25F), and so is the
document's length.  ``fit`` precomputes every (term, document) contribution, so a query costs
a sum of a few sparse rows however large the collection.

>>> index = BM25(field_weights={"title": 2.0, "body": 1.0}).fit([
...     {"title": ["park"], "body": ["green", "space"]},
...     {"title": ["debt"], "body": ["money", "advice"]},
... ])
>>> [round(float(s), 3) for s in index.scores({"debt": 1.0})]
[0.0, 0.953]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import sparse


class BM25:
    """BM25 ranking; ``k1`` and ``b`` are the usual saturation and length-normalisation knobs."""

    def __init__(self, *, k1: float = 1.2, b: float = 0.75,
                 field_weights: Mapping[str, float] | None = None):
        self.k1 = k1
        self.b = b
        self.field_weights = field_weights

    def fit(self, documents: Sequence[Mapping[str, Sequence[str]]]) -> BM25:
        """Learn the vocabulary, document frequencies and per-document term weights."""
        weights = dict(self.field_weights or {})
        vocabulary: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        lengths = np.zeros(len(documents), dtype=np.float64)
        for doc_index, document in enumerate(documents):
            counts: Counter[str] = Counter()
            for field, terms in document.items():
                weight = weights.get(field, 1.0)
                if weight <= 0:
                    continue
                for term in terms:
                    counts[term] += weight
                lengths[doc_index] += weight * len(terms)
            for term, tf in counts.items():
                rows.append(vocabulary.setdefault(term, len(vocabulary)))
                cols.append(doc_index)
                tfs.append(tf)
        n_docs = len(documents)
        rows_a = np.asarray(rows, dtype=np.int64)
        cols_a = np.asarray(cols, dtype=np.int64)
        tf_a = np.asarray(tfs, dtype=np.float64)
        doc_freq = np.bincount(rows_a, minlength=len(vocabulary)).astype(np.float64)
        # BM25's idf with +1 inside the log, so that very common terms never score below zero
        idf = np.log1p((n_docs - doc_freq + 0.5) / (doc_freq + 0.5))
        average = lengths.mean() if n_docs and lengths.mean() > 0 else 1.0
        norm = self.k1 * (1 - self.b + self.b * lengths[cols_a] / average)
        values = idf[rows_a] * tf_a * (self.k1 + 1) / (tf_a + norm)
        self.vocabulary_ = vocabulary
        self.doc_freq_ = doc_freq
        self.idf_ = idf
        self.n_docs_ = n_docs
        self.weights_ = sparse.csr_matrix(
            (values.astype(np.float32), (rows_a, cols_a)),
            shape=(len(vocabulary), n_docs))
        return self

    def scores(self, query: Mapping[str, float]) -> np.ndarray:
        """Return one score per document for ``query``: a mapping of term to query weight."""
        known = [(self.vocabulary_[t], w) for t, w in query.items() if t in self.vocabulary_]
        if not known:
            return np.zeros(self.n_docs_, dtype=np.float32)
        ids = np.fromiter((i for i, _ in known), dtype=np.int64, count=len(known))
        weights = np.fromiter((w for _, w in known), dtype=np.float32, count=len(known))
        return np.asarray(self.weights_[ids].T @ weights).ravel()

