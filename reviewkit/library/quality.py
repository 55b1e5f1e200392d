"""Retrieval quality of library search on judged queries: nDCG@k and recall@k.

A judged query lists the entries a person found relevant, graded 2 (squarely on topic) or 1
(partly).  nDCG rewards putting the most relevant entries first; recall counts how many of the
relevant entries appear at all in the top ``k``.

>>> round(ndcg_at_k(["a", "x", "b"], {"a": 2, "b": 1}, k=10), 3)
0.95
>>> recall_at_k(["a", "x"], {"a": 2, "b": 1}, k=10)
0.5
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewkit.library.search import LibraryIndex
from reviewkit.library.visibility import Viewer


@dataclass(frozen=True)
class JudgedQuery:
    query: str
    kind: str
    relevant: dict[str, int]


def read_judged_queries(path: str | Path) -> list[JudgedQuery]:
    """Read judged queries from a JSON file shaped like ``tests/data/library_queries.json``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return [JudgedQuery(item["query"], item.get("kind", ""), dict(item["relevant"]))
            for item in data["queries"]]


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, int], *, k: int = 10) -> float:
    """Return the normalised discounted cumulative gain of ``ranked`` at depth ``k``."""
    gain = sum(relevant.get(item, 0) / math.log2(place + 2)
               for place, item in enumerate(ranked[:k]))
    best = sorted(relevant.values(), reverse=True)[:k]
    ideal = sum(grade / math.log2(place + 2) for place, grade in enumerate(best))
    return gain / ideal if ideal else 0.0


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, int], *, k: int = 10) -> float:
    """Return the share of relevant items found in the top ``k`` of ``ranked``."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def evaluate(index: LibraryIndex, queries: Sequence[JudgedQuery], *, mode: str,
             k: int = 10) -> dict[str, float]:
    """Return mean nDCG@k and recall@k of ``index`` over ``queries`` in one search mode."""
    ndcg = recall = 0.0
    for judged in queries:
        hits = index.search(judged.query, top=k, mode=mode, viewer=Viewer.public())
        ranked = [hit.entry.id for hit in hits]
        ndcg += ndcg_at_k(ranked, judged.relevant, k=k)
        recall += recall_at_k(ranked, judged.relevant, k=k)
    count = max(len(queries), 1)
    return {"ndcg": ndcg / count, "recall": recall / count}
