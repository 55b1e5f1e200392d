"""Pair local entries with research studies, in both directions, and say why each pair was made.

Studies come in as ``CodedStudy`` values (built by the coding side from confirmed codes).
Pairs are ranked in tiers: sharing an approach and an outcome first, then sharing an approach,
then (where embeddings are at hand) being close in meaning.  Within a tier, more shared codes
and closer meaning come first, then the more recent local entry (the last year it names), so a
new story is not always listed after every older one that matches as well.  Entries are always
narrowed by ``visible_to`` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from reviewkit.codebook import Codebook
from reviewkit.library.entries import LibraryEntry, bundled_codebook
from reviewkit.library.search import LibraryIndex
from reviewkit.library.visibility import Viewer, visible_to

MIN_SIMILARITY = 0.3  # below this cosine similarity two texts are not "close in meaning"


@dataclass(frozen=True)
class CodedStudy:
    """A research study as pairing needs it: its record, title, codes and optional embedding."""

    record_id: int
    title: str
    approaches: frozenset[str] = frozenset()
    outcomes: frozenset[str] = frozenset()
    embedding: np.ndarray | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "approaches", frozenset(self.approaches))
        object.__setattr__(self, "outcomes", frozenset(self.outcomes))


def _labels(codebook: Codebook, scheme: str, codes: Iterable[str]) -> str:
    return "; ".join(sorted(codebook.label(scheme, code) for code in codes))


def _why_codes(codebook: Codebook, approaches: set[str], outcomes: set[str]) -> str:
    parts = []
    if approaches:
        parts.append(f"approach: {_labels(codebook, 'approach', approaches)}")
    if outcomes:
        parts.append(f"outcome: {_labels(codebook, 'outcome', outcomes)}")
    return "Shares " + " and ".join(parts)


def _cosine(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    if a is None or b is None:
        return None
    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    if a.shape != b.shape:
        return None
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norms if norms else None


def _latest_year(item: object) -> int:
    """The last year a local entry's ``years`` names (0 for studies and undated entries).

    >>> from types import SimpleNamespace
    >>> _latest_year(SimpleNamespace(years="2014–2019, reported 2021"))
    2021
    >>> _latest_year(object())
    0
    """
    years = re.findall(r"(?:19|20)\d\d", str(getattr(item, "years", "") or ""))
    return max(map(int, years)) if years else 0


def _rank(candidates: list[tuple[object, set[str], set[str], float | None]], *,
          top: int | None,
          codebook: Codebook, meaning_tier: bool, by_outcome_alone: bool):
    """Order (item, shared approaches, shared outcomes, similarity) by tier and say why."""
    tiers: list[list[tuple[tuple, object, str]]] = [[], [], [], []]
    for item, shared_a, shared_o, similarity in candidates:
        closeness = -(similarity if similarity is not None else -1.0)
        if shared_a and shared_o:
            tier = 0
        elif shared_a:
            tier = 1
        elif shared_o and by_outcome_alone:
            tier = 2
        elif meaning_tier and similarity is not None and similarity >= MIN_SIMILARITY:
            why = f"Close in meaning (similarity {similarity:.2f})"
            tiers[3].append(((closeness, -_latest_year(item)), item, why))
            continue
        else:
            continue
        why = _why_codes(codebook, shared_a, shared_o)
        if similarity is not None:
            why += f"; similarity {similarity:.2f}"
        tiers[tier].append(((-(len(shared_a) + len(shared_o)), closeness, -_latest_year(item)),
                            item, why))
    ranked = []
    for tier in tiers:
        tier.sort(key=lambda found: found[0])
        ranked.extend((item, why) for _, item, why in tier)
    return ranked[:top]


def studies_for_entry(entry: LibraryEntry, studies: Iterable[CodedStudy], *, top: int = 10,
                      entry_embedding: np.ndarray | None = None,
                      codebook: Codebook | None = None) -> list[tuple[CodedStudy, str]]:
    """Return research studies to read beside ``entry``, best first, each with the reason.

    ``entry_embedding`` (e.g. ``index.vector_for(entry)``) lets studies with an embedding
    that share no approach be offered when they are close in meaning.
    """
    codebook = codebook or bundled_codebook()
    approaches, outcomes = set(entry.approaches), set(entry.outcomes)
    candidates = [(study, approaches & study.approaches, outcomes & study.outcomes,
                   _cosine(entry_embedding, study.embedding)) for study in studies]
    return _rank(candidates, top=top, codebook=codebook, meaning_tier=True,
                 by_outcome_alone=False)


def _library(entries: LibraryIndex | Iterable[LibraryEntry]
             ) -> tuple[list[LibraryEntry], LibraryIndex | None]:
    if isinstance(entries, LibraryIndex):
        return entries.entries, entries
    return list(entries), None


def entries_for_codes(approaches: Iterable[str], outcomes: Iterable[str], *, viewer: Viewer,
                      entries: LibraryIndex | Iterable[LibraryEntry], top: int | None = 10,
                      codebook: Codebook | None = None) -> list[tuple[LibraryEntry, str]]:
    """Return entries ``viewer`` may see that share the given codes (a cluster or map cell).

    Entries sharing an approach and an outcome come first, then an approach, then an outcome;
    ``top=None`` returns every match.
    """
    codebook = codebook or bundled_codebook()
    wanted_a, wanted_o = set(approaches), set(outcomes)
    library, _ = _library(entries)
    candidates = [(entry, wanted_a & set(entry.approaches), wanted_o & set(entry.outcomes), None)
                  for entry in library if visible_to(entry, viewer)]
    return _rank(candidates, top=top, codebook=codebook, meaning_tier=False,
                 by_outcome_alone=True)


def entries_for_study(study: CodedStudy, *, viewer: Viewer,
                      entries: LibraryIndex | Iterable[LibraryEntry], top: int = 10,
                      codebook: Codebook | None = None) -> list[tuple[LibraryEntry, str]]:
    """Return entries ``viewer`` may see to read beside ``study``, best first, with reasons.

    Pass a LibraryIndex as ``entries`` to also offer entries close to the study in meaning
    (the study's embedding must come from the same model as the index's).
    """
    codebook = codebook or bundled_codebook()
    library, index = _library(entries)
    candidates = []
    for entry in library:
        if not visible_to(entry, viewer):
            continue
        vector = index.vector_for(entry) if index is not None else None
        candidates.append((entry, study.approaches & set(entry.approaches),
                           study.outcomes & set(entry.outcomes),
                           _cosine(vector, study.embedding)))
    return _rank(candidates, top=top, codebook=codebook, meaning_tier=True,
                 by_outcome_alone=True)
