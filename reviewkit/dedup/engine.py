"""Find duplicate records: fingerprint, block, score each candidate pair, group."""

from __future__ import annotations

from collections.abc import Callable

from reviewkit.dedup.blocking import candidate_pairs
from reviewkit.dedup.corpus import issues_are_record_numbers, mark_recurring_titles
from reviewkit.dedup.fields import fingerprint
from reviewkit.dedup.grouping import build_groups
from reviewkit.dedup.result import DISTINCT, DUPLICATE, DedupResult, PairDecision
from reviewkit.dedup.scoring import compare
from reviewkit.records import Record

Progress = Callable[[float, str], None]


def find_duplicates(records: list[Record], *, progress: Progress | None = None) -> DedupResult:
    """Find duplicate groups and possible duplicates among ``records``.

    >>> from reviewkit.records import Record
    >>> a = Record(title="Exercise for knee pain", authors=["Smith, J"], year=2020,
    ...            journal="BMJ", volume="368", pages="m100", doi="10.1136/bmj.m100")
    >>> b = Record(title="Exercise for Knee Pain.", authors=["Smith J."], year=2020,
    ...            journal="Br Med J", doi="https://doi.org/10.1136/BMJ.M100")
    >>> find_duplicates([a, b, Record(title="Something else")]).groups
    [[0, 1], [2]]
    """
    report = progress or (lambda fraction, message: None)
    report(0.0, f"Normalising {len(records):,} records")
    fingerprints = [fingerprint(record) for record in records]
    if issues_are_record_numbers(fingerprints):
        for fp in fingerprints:
            fp.issue = ""
    mark_recurring_titles(fingerprints)
    report(0.3, "Finding candidate pairs")
    candidates = list(candidate_pairs(fingerprints))
    report(0.35, f"Comparing {len(candidates):,} candidate pairs")
    pairs: list[PairDecision] = []
    step = max(1, len(candidates) // 10)
    for done, (i, j) in enumerate(candidates, start=1):
        decision, score, reasons = compare(fingerprints[i], fingerprints[j])
        if decision != DISTINCT:
            pairs.append(PairDecision(i, j, decision, score, reasons))
        if done % step == 0:
            report(0.35 + 0.55 * done / len(candidates), f"Compared {done:,} pairs")
    report(0.9, "Grouping duplicates")
    groups = build_groups(len(records), pairs, fingerprints)
    pairs = _one_question_per_group_pair(pairs, groups)
    report(1.0, "Done")
    return DedupResult(groups=groups, pairs=pairs)


def _one_question_per_group_pair(pairs: list[PairDecision],
                                 groups: list[list[int]]) -> list[PairDecision]:
    """Keep every duplicate pair, and the strongest possible pair between two groups.

    A possible pair inside one group is already settled; several between the same two groups
    ask a person the same question.
    """
    group_of = {index: number for number, group in enumerate(groups) for index in group}
    best: dict[tuple[int, int], PairDecision] = {}
    kept = []
    for pair in pairs:
        if pair.decision == DUPLICATE:
            kept.append(pair)
            continue
        key = tuple(sorted((group_of[pair.left], group_of[pair.right])))
        if key[0] == key[1]:
            continue
        if key not in best or pair.score > best[key].score:
            best[key] = pair
    kept.extend(best.values())
    return sorted(kept, key=lambda p: (p.left, p.right))
