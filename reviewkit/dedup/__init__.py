"""Deduplication: find records of the same work imported from several databases, and merge them.

Fields are normalised (:mod:`.fields`), records sharing a blocking key are paired
(:mod:`.blocking`), each pair is scored and decided with its reasons (:mod:`.scoring`),
automatic duplicates are grouped without chaining different works (:mod:`.grouping`), and a
group is merged into the most complete record (:mod:`.merging`).
"""

from reviewkit.dedup.engine import find_duplicates
from reviewkit.dedup.merging import merge_group
from reviewkit.dedup.result import DedupResult, PairDecision, explain

__all__ = ["DedupResult", "PairDecision", "explain", "find_duplicates", "merge_group"]
