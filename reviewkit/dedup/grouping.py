"""Join automatic duplicate pairs into groups without chaining two different works together.

Pairs are joined strongest first.  Before two groups are joined, every record of one is checked
against every record of the other for a hard contradiction (different DOIs, years two or more
apart, different volume or first page, erratum against original...).  One contradiction keeps
the groups apart, and the pair that would have joined them goes to a person instead.
"""

from __future__ import annotations

from reviewkit.dedup.fields import Fingerprint
from reviewkit.dedup.result import DUPLICATE, POSSIBLE, PairDecision
from reviewkit.dedup.scoring import assess


def contradiction(a: Fingerprint, b: Fingerprint, *, same_doi_link: bool = False) -> str:
    """Return why two records cannot be one work ("" when nothing contradicts).

    Unlike titles are left out: every link in a group already joins agreeing titles, and a
    translated title joined through its DOI may share few words with the other members.
    When the groups are joined by a shared DOI, a first page 1 against another first page is
    that article's online-first pagination ("1-17", later "891-907"), not a second work.
    """
    found = assess(a, b, thorough=True).contradictions
    online_first = same_doi_link and "1" in (a.first_page, b.first_page)
    return ", ".join(name for name in found
                     if name != "title" and not (online_first and name == "first page"))


def _signature(fp: Fingerprint) -> tuple:
    """Records with equal signatures compare alike with everyone: check one of them."""
    return (fp.titles, fp.kind, fp.surnames, fp.given_names, fp.year, fp.journals, fp.volume,
            fp.first_page, fp.last_page, fp.doi, fp.pmid, fp.abstract, fp.conference, fp.issue,
            fp.recurring)


def build_groups(count: int, pairs: list[PairDecision],
                 fingerprints: list[Fingerprint]) -> list[list[int]]:
    """Group records joined by duplicate pairs; demote pairs whose join would contradict."""
    parent = list(range(count))
    members: dict[int, dict[tuple, int]] = {}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def signatures(r: int) -> dict[tuple, int]:
        if r not in members:
            members[r] = {_signature(fingerprints[r]): r}
        return members[r]

    for pair in sorted(pairs, key=lambda p: -p.score):
        if pair.decision != DUPLICATE:
            continue
        ra, rb = root(pair.left), root(pair.right)
        if ra == rb:
            continue
        sa, sb = signatures(ra), signatures(rb)
        clash = ""
        for i in sa.values():
            for j in sb.values():
                clash = contradiction(fingerprints[i], fingerprints[j],
                                      same_doi_link=pair.reasons.get("doi") == "same")
                if clash:
                    break
            if clash:
                break
        if clash:
            pair.decision = POSSIBLE
            pair.reasons["group check"] = f"kept apart: their groups conflict on {clash}"
            continue
        if len(sa) < len(sb):
            ra, rb, sa, sb = rb, ra, sb, sa
        parent[rb] = ra
        for signature, index in sb.items():
            sa.setdefault(signature, index)
        members.pop(rb, None)

    grouped: dict[int, list[int]] = {}
    for i in range(count):
        grouped.setdefault(root(i), []).append(i)
    return sorted(grouped.values(), key=lambda g: g[0])
