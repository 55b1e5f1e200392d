"""Deduplicate a stored review: run the engine, keep screened records, store groups and pairs.

A review can be deduplicated again after every import: records merged earlier stay merged,
the engine compares what is left, and a record someone has screened is always the one kept,
so no decision is lost.  Pairs a person called different are never merged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from reviewkit.dedup import find_duplicates, merge_group
from reviewkit.records import Record
from reviewkit.store import Review, Store, StoredRecord


@dataclass(frozen=True)
class DedupSummary:
    records: int  # records compared (those not already merged)
    groups: int  # groups with two or more records, after this run
    merged: int  # records merged into another by this run
    possible: int  # pairs waiting for a person

    def plain_words(self) -> str:
        return (f"Compared {self.records} records: {self.merged} merged automatically as "
                f"duplicates, {self.possible} possible duplicates left for you to check.")


def deduplicate_review(store: Store, review: Review, *, actor: str,
                       progress: Callable[[float, str], None] | None = None) -> DedupSummary:
    """Find duplicates among a review's records and store the result in one transaction."""
    kept = [s for s in store.list_records(review.id) if s.duplicate_of is None]
    result = find_duplicates([s.record for s in kept], progress=progress)
    screened = store.records_with_decisions(review.id)
    different = {frozenset((p["left_id"], p["right_id"]))
                 for p in store.duplicate_pairs(review.id, status="different")}
    merges: dict[int, int] = {}
    for group in result.groups:
        if len(group) < 2:
            continue
        ids = sorted(kept[i].id for i in group)
        keeper = next((rid for rid in ids if rid in screened), ids[0])
        for rid in ids:
            if rid != keeper and frozenset((rid, keeper)) not in different:
                merges[rid] = keeper
    pairs = []
    for pair in result.pairs:
        left, right = sorted((kept[pair.left].id, kept[pair.right].id))
        if frozenset((left, right)) in different:
            continue
        pairs.append({"left_id": left, "right_id": right, "score": float(pair.score),
                      "reasons": {k: (v if isinstance(v, str) else float(v))
                                  for k, v in pair.reasons.items()},
                      "status": pair.decision})
    merges = store.save_duplicates(review.id, merges=merges, pairs=pairs, actor=actor,
                                   summary={"compared": len(kept)})
    groups = store.duplicate_groups(review.id)
    return DedupSummary(records=len(kept), groups=len(groups), merged=len(merges),
                        possible=sum(p["status"] == "possible" for p in pairs))


def merged_record(store: Store, kept: StoredRecord) -> Record:
    """The record a reviewer sees for a group: the most complete fields of all its members."""
    members = store.duplicate_groups(kept.review_id).get(kept.id, [])
    if not members:
        return kept.record
    return merge_group([kept.record] + [store.get_record(rid).record for rid in members])


PERSON_MERGED = "merged by a person"


def merge_rules(store: Store, review_id: int) -> dict[int, list[str]]:
    """Return, for each merged group's kept record id, the rules behind the merges inside it.

    An automatic merge names the rule that made it ("same identifier and similar title",
    "recurring title; same year, volume and pages"...); a pair a person called the same study
    reads "merged by a person".  The Deduplicate page filters groups by these, so the risky
    kinds of merge can be audited.
    """
    group_of = {rid: kept for kept, members in store.duplicate_groups(review_id).items()
                for rid in (kept, *members)}
    rules: dict[int, set[str]] = defaultdict(set)
    for pair in store.duplicate_pairs(review_id):
        kept = group_of.get(pair["left_id"])
        if kept is None or group_of.get(pair["right_id"]) != kept:
            continue
        if pair["status"] == "same":
            rules[kept].add(PERSON_MERGED)
        elif pair["status"] == "duplicate":
            rules[kept].add(str((pair["reasons"] or {}).get("rule") or "unnamed rule"))
    return {kept: sorted(found) for kept, found in rules.items()}
