"""Compare two fingerprints field by field and decide: duplicate, possible duplicate, distinct.

Precision comes first.  A pair is merged automatically only when a named rule's evidence is
all there (a shared DOI and a similar title; or a near-identical title, agreeing authors and
year and one more agreeing field; ...) and no field contradicts it.  A pair that looks alike
but falls short, or that something contradicts, goes to a person as a possible duplicate.
Different kinds of item (an erratum and its article) and titles with different numbers
("Part 1" and "Part 2") are never merged.

Strong conflicting evidence always blocks an automatic merge, however well the rest agrees:
two different DOIs (versions of one DOI excepted, see :func:`~reviewkit.dedup.fields.doi_key`),
titles less alike than :data:`TITLE_DISAGREE`, and, for a title that recurs (a generic title
such as "Editorial", or one the corpus shows naming several works), different issue numbers
or page ranges.  A recurring title also needs more than title, authors and year: the same
DOI, or the same year, volume and first page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz

from reviewkit.dedup.fields import Fingerprint
from reviewkit.dedup.result import DISTINCT, DUPLICATE, POSSIBLE
from reviewkit.dedup.similarity import (
    author_similarity,
    journal_similarity,
    pages_agree,
    title_similarity,
)

# Below this title similarity no rule can call a pair a duplicate or a possible duplicate,
# unless an identifier or the same journal volume and page links it.
TITLE_FLOOR = 0.88
# Titles less alike than this disagree, and no rule merges them however well the rest agrees.
# Different works that share a blocking key (an author and year, a journal page, a title
# word) score a median of 0.57 and a 90th percentile of 0.69 in the two SRA sets.
TITLE_DISAGREE = 0.7


@dataclass
class Assessment:
    """Everything compared for one pair, the decision and what contradicts a merge."""

    decision: str
    score: float
    reasons: dict[str, float | str] = field(default_factory=dict)
    contradictions: list[str] = field(default_factory=list)


def assess(a: Fingerprint, b: Fingerprint, *, thorough: bool = False) -> Assessment:
    """Compare two records and decide whether they are the same work.

    Pairs with unlike titles are settled early as distinct; ``thorough`` compares every field
    anyway, so that ``contradictions`` is complete (the group check needs it).
    """
    reasons: dict[str, float | str] = {}
    if a.kind != b.kind:
        reasons["kind"] = _kind_reason(a.kind, b.kind)
        return Assessment(DISTINCT, 0.0, reasons, ["kind"])
    if a.numbers and b.numbers and (a.numbers - b.numbers) and (b.numbers - a.numbers):
        reasons["title numbers"] = "titles carry different numbers ({} vs {})".format(
            ", ".join(sorted(a.numbers - b.numbers)), ", ".join(sorted(b.numbers - a.numbers)))
        return Assessment(DISTINCT, 0.0, reasons, ["title numbers"])

    same_id = different_id = False
    for key, x, y in (("doi", a.doi, b.doi), ("pmid", a.pmid, b.pmid)):
        if x and y:
            reasons[key] = "same" if x == y else "different"
            same_id |= x == y
            different_id |= x != y
    year_gap = abs(a.year - b.year) if a.year and b.year else None
    same_place = bool(a.volume and a.volume == b.volume and a.first_page
                      and a.first_page == b.first_page and year_gap is not None and year_gap <= 1)

    t = title_similarity(a.titles, b.titles)
    reasons["title"] = round(t, 3)
    if t < TITLE_FLOOR and not same_id and not same_place and not thorough:
        return Assessment(DISTINCT, round(t / 2, 3), reasons)
    volume = (a.volume == b.volume) if a.volume and b.volume else None
    page = pages_agree(a, b)
    issue = (a.issue == b.issue) if a.issue and b.issue else None
    repeated = a.generic or b.generic or a.recurring or b.recurring \
        or _short(a.title) or _short(b.title)

    authors = author_similarity(a, b)
    if authors is not None:
        reasons["authors"] = round(authors[0], 3)
        reasons["first author"] = "same" if authors[1] else "different"
    if year_gap is not None:
        reasons["year"] = "same" if year_gap == 0 else f"{year_gap} apart"
    journal = journal_similarity(a.journals, b.journals) if a.journals and b.journals else None
    if journal is not None:
        reasons["journal"] = round(journal, 3)
    if volume is not None:
        reasons["volume"] = "same" if volume else "different"
    if page is not None:
        reasons["first page"] = "same" if page else "different"
    if issue is not None:
        reasons["issue"] = "same" if issue else "different"
    if a.generic or b.generic:
        reasons["recurring title"] = "a title that recurs in journals (editorial, reply...)"
    elif a.recurring or b.recurring:
        reasons["recurring title"] = "a title that names several works in these records"
    abstract = fuzz.ratio(a.abstract, b.abstract) / 100 if a.abstract and b.abstract else None
    if abstract is not None:
        reasons["abstract"] = round(abstract, 3)
    if a.conference != b.conference:
        reasons["conference"] = "one looks like a conference abstract, the other does not"
    if a.parts != b.parts:
        reasons["series"] = "only one names a part of a series"

    evidence = _Evidence(t, authors, year_gap, journal, volume, page, abstract,
                         same_id, different_id, a, b, issue, repeated)
    contradictions = evidence.contradictions()
    decision, rule = evidence.decide(contradictions)
    if rule:
        reasons["rule"] = rule
    return Assessment(decision, evidence.score(), reasons, contradictions)


def compare(a: Fingerprint, b: Fingerprint) -> tuple[str, float, dict[str, float | str]]:
    """Decide whether two records are the same work; return (decision, score, reasons)."""
    found = assess(a, b)
    return found.decision, found.score, found.reasons


@dataclass
class _Evidence:
    t: float
    authors: tuple[float, bool] | None
    year_gap: int | None
    journal: float | None
    volume: bool | None
    page: bool | None
    abstract: float | None
    same_id: bool
    different_id: bool
    a: Fingerprint
    b: Fingerprint
    issue: bool | None = None
    repeated: bool = False

    @property
    def authors_agree(self) -> bool:
        if self.authors is None:
            return False
        share, first = self.authors
        return share >= 0.6 or (first and share >= 0.3)

    def contradictions(self) -> list[str]:
        """Name the fields that say these are two works; a shared identifier overrides them."""
        found = []
        if self.different_id:
            found.append("identifier")
        if self.t < TITLE_DISAGREE and not (self.a.translated or self.b.translated):
            found.append("title")
        if self.same_id:
            # A DOI shared by a whole supplement links different abstracts: then the authors
            # tell them apart, unless title and page or abstract show it is one item.
            confirmed = self.t >= 0.95 and (self.page is True or (self.abstract or 0) >= 0.9)
            if (self.authors is not None and self.authors[0] < 0.34 and not self.authors[1]
                    and not confirmed):
                found.append("authors")
            return found
        if self.year_gap is not None and self.year_gap >= 2 and not self._same_citation():
            found.append("year")
        if self.volume is False and self.page is not True and not self._same_abstract_and_year():
            found.append("volume")
        if self.page is False:
            found.append("first page")
        if self.authors is not None and self.authors[0] < 0.34 and not self.authors[1]:
            found.append("authors")
        if self.repeated:
            # Successive editorials share title, editor, volume and often the first page.
            if self.issue is False:
                found.append("issue")
            if self._page_ranges_differ():
                found.append("page range")
        return found

    def _page_ranges_differ(self) -> bool:
        a, b = self.a, self.b
        return bool(self.page is True and a.last_page and b.last_page
                    and a.last_page != b.last_page)

    def _same_citation(self) -> bool:
        """Same title, authors, journal, volume and pages: a differing year is a typing slip.

        Journal, volume and page range locate one article; two works cannot share them.
        """
        a, b = self.a, self.b
        return bool(self.t >= 0.95 and self.authors_agree and self.journal is not None
                    and self.journal >= 0.8 and self.volume and self.page
                    and self.issue is not False and not _generic_pair(a, b)
                    and a.first_page != "1" and a.last_page and a.last_page == b.last_page)

    def _same_abstract_and_year(self) -> bool:
        """Identical abstracts, same year and journal: a differing volume is a typing slip."""
        return ((self.abstract or 0) >= 0.95 and self.year_gap == 0 and self.t >= 0.95
                and self.journal is not None and self.journal >= 0.8)

    def doubts(self) -> list[str]:
        """Name what is missing or slightly off; each keeps the weaker rules from firing."""
        a, b = self.a, self.b
        return [name for name, flag in (
            ("year", self.year_gap != 0),
            ("conference", a.conference != b.conference),
            ("authors", self.authors is None),
            ("journal", self.journal is None or self.journal < 0.6),
            ("series", a.parts != b.parts),
            ("volume", self.volume is False),
        ) if flag]

    def support(self) -> int:
        """Count the fields beyond title, authors and year that agree."""
        return sum((
            self.journal is not None and self.journal >= 0.8,
            self.volume is True,
            self.page is True,
            self.abstract is not None and self.abstract >= 0.9,
        ))

    def decide(self, contradictions: list[str]) -> tuple[str, str]:
        t = self.t
        doubts = self.doubts()
        if not contradictions:
            if self.same_id:
                return DUPLICATE, "same identifier and similar title"
            rule = self._rule_without_identifier(doubts)
            if rule:
                return DUPLICATE, rule
        authors_differ = self.authors is not None and self.authors[0] < 0.34 and not self.authors[1]
        if ((t >= 0.9 and not authors_differ) or (self.same_id and t >= 0.6)
                or (self.volume and self.page and self.authors_agree and t >= 0.3)):
            why = ("conflicting " + ", ".join(contradictions) if contradictions
                   else "not enough agreeing fields (" + ", ".join(doubts) + " in doubt)" if doubts
                   else "not enough agreeing fields")
            return POSSIBLE, "alike but " + why
        return DISTINCT, ""

    def _rule_without_identifier(self, doubts: list[str]) -> str:
        """Return the name of the first merge rule whose evidence is all there ("" if none)."""
        t, support, agree = self.t, self.support(), self.authors_agree
        same_title = t >= 0.95
        same_year = self.year_gap == 0
        journal_ok = self.journal is not None and self.journal >= 0.8
        same_abstract = (self.abstract or 0) >= 0.95
        same_place = bool(self.volume and self.page)
        if "series" in doubts:
            return ""
        if doubts == ["year"] and self._same_citation():
            return "same title, authors, journal, volume and page range; year mistyped"
        if self.repeated and not same_abstract:
            # "Introduction", "Editorial", "Reply": only where it was printed tells them apart.
            if not (same_title and same_year and (agree or self.authors is None)):
                return ""
            if same_place:
                return "recurring title; same year, volume and pages"
            if not _generic_pair(self.a, self.b) and agree and journal_ok and self.volume and self.page is not False:
                return "recurring title; same authors, year, journal and volume"
            return ""
        if agree and not doubts:
            if same_title and support >= 1:
                return "same title, authors and year, and one more field agrees"
            if t >= 0.88 and support >= 2:
                return "similar title, same authors and year, and two more fields agree"
        if not same_title:
            return self._reworded_title_rule(agree, journal_ok, same_year)
        if same_place and len(doubts) <= 1 and (agree or doubts == ["authors"]):
            return "same title, volume and first page"
        if agree and journal_ok and doubts == ["conference"] and same_year \
                and (self.volume or same_abstract):
            return "same title, authors, year and journal; abstract and meeting copy"
        if agree and journal_ok and doubts == ["year"] and self.year_gap == 1 \
                and (self.volume or bool(self.a.volume) != bool(self.b.volume)):
            # Online first, then in print: one record has no volume yet, or both the same one.
            return "same title, authors and journal; years one apart (online first, then in print)"
        if agree and journal_ok and doubts == ["volume"] and same_year \
                and (self.page or same_abstract):
            return "same title, authors, year and journal; volume garbled"
        if "authors" in doubts and set(doubts) <= {"authors", "conference"} and journal_ok \
                and same_year and self.volume and (same_abstract or self.page):
            return "same title, year, journal and volume; no personal authors"
        return ""

    def _reworded_title_rule(self, agree: bool, journal_ok: bool, same_year: bool) -> str:
        """Same authors, journal, volume and full page range: a translated or reworded title.

        Two articles cannot share a page range; meeting abstracts can (several to a page),
        so they and article numbers are left out.
        """
        a, b = self.a, self.b
        if (self.t >= 0.3 and self.authors is not None and self.authors[0] >= 0.8
                and self.authors[1] and journal_ok and self.volume and self.page and same_year
                and not a.conference and not b.conference and a.first_page.isdigit()
                and a.last_page and a.last_page == b.last_page and a.last_page != a.first_page):
            return "same authors, journal, volume and page range (title translated or reworded)"
        return ""

    def score(self) -> float:
        """Return a 0..1 summary of the evidence, for sorting and display."""
        parts = [(self.t, 4.0)]
        if self.authors is not None:
            parts.append((self.authors[0], 2.0))
        if self.year_gap is not None:
            parts.append((1.0 if self.year_gap == 0 else 0.5 if self.year_gap == 1 else 0.0, 1.0))
        if self.journal is not None:
            parts.append((self.journal, 1.0))
        if self.volume is not None:
            parts.append((float(self.volume), 0.5))
        if self.page is not None:
            parts.append((float(self.page), 1.0))
        if self.abstract is not None:
            parts.append((self.abstract, 1.0))
        if self.same_id or self.different_id:
            parts.append((1.0 if self.same_id and not self.different_id else 0.0, 2.0))
        return round(sum(v * w for v, w in parts) / sum(w for _, w in parts), 3)


def _generic_pair(a: Fingerprint, b: Fingerprint) -> bool:
    """Tell whether either title names a recurring kind of item or is too short to identify."""
    return a.generic or b.generic or _short(a.title) or _short(b.title)


def _short(title: str) -> bool:
    """Tell whether a title is too short to identify a work on its own."""
    return len(title) < 30 or title.count(" ") < 3


def _kind_reason(a: str, b: str) -> str:
    named = {"": "an original item", "erratum": "an erratum or retraction notice",
             "comment": "a comment or reply", "protocol": "a protocol or design paper"}
    first, second = sorted((named[a], named[b]))
    return f"one is {first}, the other {second}"
