"""What only the whole set of records shows: titles that name several works, junk issue numbers.

A pair of records cannot tell whether "Editor's comments" is one editorial or one of many; the
corpus can, when records carrying that title disagree on where they were published.  Likewise
an "issue" column that holds a different number for almost every record is a reference
manager's record number, not a journal issue, and must not keep duplicates apart.
"""

from __future__ import annotations

from collections import defaultdict

from reviewkit.dedup.fields import Fingerprint

# An issue column is taken for record numbers when at least this many records fill it and
# more than this share of the values are distinct.  Real issue numbers repeat: most journals
# number their issues 1 to 12, so in any sizeable corpus most values recur.
_MIN_ISSUES = 30
_DISTINCT_SHARE = 0.5


def issues_are_record_numbers(fingerprints: list[Fingerprint]) -> bool:
    """Tell whether the issue field holds a per-record counter rather than journal issues."""
    present = [fp.issue for fp in fingerprints if fp.issue]
    return len(present) >= _MIN_ISSUES and len(set(present)) > _DISTINCT_SHARE * len(present)


def mark_recurring_titles(fingerprints: list[Fingerprint]) -> int:
    """Flag records whose title the corpus shows naming more than one work; return how many.

    A title recurs when the records carrying it hold two different DOIs, two different volumes,
    two different first pages, or years two or more apart: evidence that at least two works
    share it.  Flagged records need more than title, authors and year to be merged.  A bare
    count of records would not do: a study found in five databases appears five times.
    """
    by_title: dict[str, list[Fingerprint]] = defaultdict(list)
    for fp in fingerprints:
        if fp.title:
            by_title[fp.title].append(fp)
    flagged = 0
    for members in by_title.values():
        if len(members) < 2 or not _several_works(members):
            continue
        for fp in members:
            fp.recurring = True
        flagged += len(members)
    return flagged


def _several_works(members: list[Fingerprint]) -> bool:
    for values in (
        {fp.doi for fp in members if fp.doi},
        {fp.volume for fp in members if fp.volume},
        {fp.first_page for fp in members if fp.first_page.isdigit()},
    ):
        if len(values) > 1:
            return True
    years = [fp.year for fp in members if fp.year]
    return bool(years) and max(years) - min(years) >= 2
