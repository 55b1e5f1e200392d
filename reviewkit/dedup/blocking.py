"""Choose which pairs of records are worth comparing, so cost grows with the number of records.

Every record gets a handful of keys (its DOI, the start and the end of its title, first author
and year, year-volume-page...).  Records sharing a key are compared.  A key shared by very
many records (a common surname and year) is not compared all against all: its records are
sorted by title and each is compared with its nearest neighbours only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from reviewkit.dedup.fields import Fingerprint

# Blocks larger than this are walked with a sliding window instead of all pairs.
MAX_BLOCK = 60
WINDOW = 8
_KEY_CHARS = 24


def blocking_keys(fp: Fingerprint) -> set[str]:
    """Return the keys under which a record is filed."""
    keys: set[str] = set()
    if fp.doi:
        keys.add("doi " + fp.doi)
    if fp.pmid:
        keys.add("pmid " + fp.pmid)
    for title in fp.titles:
        compact = title.replace(" ", "")
        if len(compact) >= 12:
            keys.add("start " + compact[:_KEY_CHARS])
            keys.add("end " + compact[-_KEY_CHARS:])
        longest = sorted(sorted(set(title.split())), key=len, reverse=True)[:3]
        if len(longest) == 3:
            keys.add("words " + " ".join(sorted(longest)))
    if fp.surnames and fp.year:
        keys.add(f"author {fp.surnames[0]} {fp.year}")
    if fp.year and fp.volume and fp.first_page:
        keys.add(f"place {fp.year} {fp.volume} {fp.first_page}")
    return keys


def candidate_pairs(fingerprints: list[Fingerprint]) -> Iterator[tuple[int, int]]:
    """Yield each pair (i, j), i < j, that shares at least one blocking key, once."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, fp in enumerate(fingerprints):
        for key in blocking_keys(fp):
            blocks[key].append(index)
    seen: set[int] = set()
    n = len(fingerprints)
    for members in blocks.values():
        if len(members) < 2:
            continue
        for i, j in _pairs_in_block(members, fingerprints):
            code = i * n + j
            if code not in seen:
                seen.add(code)
                yield i, j


def _pairs_in_block(members: list[int], fingerprints: list[Fingerprint]) -> Iterator[tuple[int, int]]:
    if len(members) <= MAX_BLOCK:
        for position, i in enumerate(members):
            for j in members[position + 1:]:
                yield (i, j) if i < j else (j, i)
        return
    ordered = sorted(members, key=lambda k: fingerprints[k].title)
    for position, i in enumerate(ordered):
        for j in ordered[position + 1: position + 1 + WINDOW]:
            yield (i, j) if i < j else (j, i)
