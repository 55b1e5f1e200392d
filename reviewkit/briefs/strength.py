"""How strong the evidence is, on a simple scale, and what it rests on.

In the spirit of the evidence toolkits commissioners already read (the Education Endowment
Foundation's padlocks): one word and a row of dots, then the count behind it.  Reviews and
primary studies are counted apart: a review summarises other studies and is not itself a test
of the approach, so reviews alone never make the evidence more than very weak.  The line says
how many of the studies had their quality appraised (none, until the team appraises them);
certainty in GRADE's or CERQual's terms is rated apart, in reviewkit.certainty.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

REVIEW_DESIGNS = frozenset({"review"})
# Designs that compare people or places who got the approach with people or places who did not.
COMPARATIVE = frozenset({"rct", "quasi_experimental", "cohort"})
SCALE = ("no evidence", "very weak", "weak", "moderate", "strong")


@dataclass(frozen=True)
class Strength:
    """The strength of a body of evidence: a level on :data:`SCALE` and what it rests on."""

    level: int
    primary: Counter  # design code -> primary studies ('' for a design not coded)
    reviews: int
    directions: Counter  # direction -> primary studies reporting it

    @property
    def n_primary(self) -> int:
        return sum(self.primary.values())

    @property
    def word(self) -> str:
        return SCALE[self.level]

    def dots(self) -> str:
        """The level at a glance: '●●○○' is weak."""
        return "●" * self.level + "○" * (len(SCALE) - 1 - self.level)

    def rests_on(self, design_label=lambda code: code, quality: str = "quality not appraised"
                 ) -> str:
        """Say what the rating rests on, in short sentences, e.g. '2 primary studies and
        3 reviews; quality not appraised. Kinds of study: cohort (1), case study (1)'."""
        n = self.n_primary
        primary = f"{n} primary stud{'y' if n == 1 else 'ies'}" if n else "no primary study"
        reviews = f"{self.reviews} review{'' if self.reviews == 1 else 's'}" if self.reviews else "no review"
        said = f"{primary} and {reviews}; {quality}"
        if n:
            said += ". Kinds of study: " + ", ".join(
                f"{_design(design_label, code)} ({count})" for code, count in self.primary.most_common())
        return said

    def effect(self) -> str:
        """What the primary studies reported, in a few plain words."""
        said = sum(self.directions.values())
        if not self.n_primary:
            return "no primary study tested it"
        if not said:
            return "no study said which way things changed"
        positive = self.directions.get("positive", 0)
        if positive == said:
            return f"improved in {_of(positive, said)}"
        if positive * 2 > said:
            return f"mostly improved ({_of(positive, said)})"
        if self.directions.get("negative", 0) * 2 > said:
            return f"mostly worsened ({_of(self.directions['negative'], said)})"
        if self.directions.get("none", 0) == said:
            return f"no clear change in {_of(said, said)}"
        if self.directions.get("mixed", 0) == said:
            return f"mixed results in {_of(said, said)}"
        return f"the studies do not agree ({_of(said, said)})"


def _design(design_label, code: str) -> str:
    if not code:
        return "design not coded"
    if code == "other":
        return "other designs"
    return design_label(code).lower()


def _of(k: int, n: int) -> str:
    if n == 1:
        return "the one study that said which way things went"
    if k == n:
        return f"all {n} studies that said which way things went"
    return f"{k} of {n} studies that said which way things went"


def evidence_strength(studies, outcome: str | None = None) -> Strength:
    """Rate the evidence of ``studies`` (CodedStudy rows), for one outcome or overall.

    >>> from reviewkit.evidence_map import CodedStudy as S
    >>> evidence_strength([S(1, "a", design="review"), S(2, "b", design="case_study")]).word
    'very weak'
    """
    primary = Counter(s.design or "" for s in studies if s.design not in REVIEW_DESIGNS)
    reviews = sum(1 for s in studies if s.design in REVIEW_DESIGNS)
    directions = Counter(
        (s.direction_for(outcome) if outcome else s.direction) for s in studies
        if s.design not in REVIEW_DESIGNS and (s.direction_for(outcome) if outcome else s.direction))
    n = sum(primary.values())
    comparative = sum(primary[d] for d in COMPARATIVE)
    if n == 0:
        level = 1 if reviews else 0
    elif comparative >= 2 and primary["rct"] >= 1 and n >= 3:
        level = 4
    elif comparative >= 2 or primary["rct"] >= 1:
        level = 3
    elif comparative >= 1 or n >= 3:
        level = 2
    else:
        level = 1
    said = sum(directions.values())
    if level > 1 and said and max(directions.values()) * 2 <= said:
        level -= 1  # the studies pull different ways: less sure than their number suggests
    return Strength(level=level, primary=primary, reviews=reviews, directions=directions)
