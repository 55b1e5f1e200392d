"""What deduplication hands back: pair decisions with their reasons, and duplicate groups."""

from __future__ import annotations

from dataclasses import dataclass, field

DUPLICATE = "duplicate"
POSSIBLE = "possible"
DISTINCT = "distinct"


@dataclass
class PairDecision:
    """One candidate pair that was scored, with the evidence behind the decision."""

    left: int
    right: int
    decision: str
    score: float
    reasons: dict[str, float | str] = field(default_factory=dict)


@dataclass
class DedupResult:
    """Duplicate groups (automatic decisions only) and the pairs that were not distinct."""

    groups: list[list[int]]
    pairs: list[PairDecision]

    def group_ids(self) -> list[int]:
        """Return the group number of each input record, in input order."""
        ids = [0] * sum(len(group) for group in self.groups)
        for number, group in enumerate(self.groups):
            for index in group:
                ids[index] = number
        return ids

    def possible(self) -> list[PairDecision]:
        """Return the pairs left for a person to decide, most alike first."""
        found = [pair for pair in self.pairs if pair.decision == POSSIBLE]
        return sorted(found, key=lambda pair: -pair.score)


# Fields whose agreement is listed as "same year, volume and first page".
_AGREEING_FIELDS = ("year", "journal", "volume", "first page", "pages")


def explain(pair: PairDecision) -> str:
    """Say in one plain sentence why two records were judged as they were.

    >>> explain(PairDecision(0, 1, "duplicate", 0.97,
    ...     {"doi": "same", "title": 0.98, "year": "same", "first page": "same"}))
    'Same DOI; titles 98% alike; same year and first page.'
    """
    reasons = pair.reasons
    parts: list[str] = []
    for key, label in (("doi", "DOI"), ("pmid", "PubMed ID")):
        if reasons.get(key) == "same":
            parts.append(f"same {label}")
        elif reasons.get(key) == "different":
            parts.append(f"different {label}s")
    if "title" in reasons:
        parts.append(f"titles {_percent(reasons['title'])} alike")
    if "authors" in reasons:
        parts.append(f"authors {_percent(reasons['authors'])} alike")
    elif reasons.get("first author") == "same":
        parts.append("same first author")
    if "abstract" in reasons:
        parts.append(f"abstracts {_percent(reasons['abstract'])} alike")
    journal = reasons.get("journal")
    same = [name for name in _AGREEING_FIELDS
            if reasons.get(name) == "same" or (name == "journal" and journal == 1.0)]
    if same:
        parts.append("same " + _join(same))
    if isinstance(journal, float) and 0.9 <= journal < 1.0:
        parts.append("journal name abbreviated")
    elif isinstance(journal, float) and journal < 0.9:
        parts.append(f"journal names {_percent(journal)} alike")
    different = [name for name in _AGREEING_FIELDS if reasons.get(name) == "different"]
    if different:
        parts.append("different " + _join(different))
    if isinstance(reasons.get("year"), str) and reasons["year"].endswith("apart"):
        parts.append(f"years {reasons['year']}")
    for key in ("kind", "title numbers", "conference", "group check"):
        if key in reasons:
            parts.append(str(reasons[key]))
    if not parts:
        return "No field could be compared."
    sentence = "; ".join(parts)
    return sentence[0].upper() + sentence[1:] + "."


def _percent(value: float | str) -> str:
    return f"{round(float(value) * 100)}%" if not isinstance(value, str) else value


def _join(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]
