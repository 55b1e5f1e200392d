"""Backward citation chasing, offline: reference lists of attached full texts, matched to the
review's records; the works not yet in the review offered as new records.

The text of each full text is the one extracted when the PDF was attached (pypdf).  The
reference list is the text after the last "References" (or "Bibliography", ...) heading; it is
split into entries by their numbers ("12.", "[12]") when the list is numbered, else where a
line that starts like an author or an organisation with a year follows a line that ended a
reference.  Each entry gives a DOI, a year and a best-guess title.  An entry matches a record
by DOI (versions compare equal, as in deduplication), else by title: the record's title,
normalised as deduplication does, found almost word for word in the entry (and the years at
most one apart when both are known).  Why not a reference-parsing library: see README
("Citation chasing") and ``benchmarks/citations.py``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from reviewkit.dedup.fields import doi_key
from reviewkit.dedup.text import words
from reviewkit.errors import ReviewkitError
from reviewkit.formats.pdf import read_pdf_lines
from reviewkit.records import Record, normalize_doi

TITLE_MATCH = 90  # rapidfuzz partial_ratio of a record's title within a reference's text
MIN_TITLE_CHARS = 20  # shorter titles ("Editorial") are too common to match by title alone
_HEADING = re.compile(r"^\s*(?:\d+\.?\s*)?(references(?: and notes)?|bibliography|reference list|"
                      r"works cited|literature cited|sources)\s*:?\s*$", re.IGNORECASE | re.M)
_AFTER = re.compile(r"^\s*(?:appendix|appendices|supplementary|acknowledg|tables?\s*$|"
                    r"figure legends|about the authors?)", re.IGNORECASE)
_NUMBER = re.compile(r"^\s*(?:\[(\d{1,3})\]|(\d{1,3})[.)]?)\s+(?=\S)")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_PAREN_YEAR = re.compile(r"\(\s*((?:1[89]|20)\d\d[a-z]?|n\.?\s?d\.?|online|in press)\s*\)\.?\s*",
                         re.IGNORECASE)
# A line that may start an author-year reference: "Smith, J.", "Smith J,", "Age UK (2015)",
# "World Health Organization (2010)", "O'Brien, K. and".
_ENTRY_START = re.compile(r"^[A-Z][\w'’\-]+(?:,| [A-Z]{1,3}[,. ]| [A-Z]\.|"
                          r"(?: (?:[A-Z&][\w'’\-&]*|for|of|and|the|on|in)){0,8} "
                          r"\((?:(?:1[89]|20)\d\d|online|n\.d\.))")
_ENDS_ENTRY = re.compile(r"(?:[.)\]>]|\.pdf|\d{4}\]?\.?|/\S*)\s*$")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


@dataclass
class CitedWork:
    """One entry of a reference list, as read."""

    text: str
    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    doi: str = ""
    url: str = ""
    journal: str = ""


@dataclass
class ReferenceMatch:
    work: CitedWork
    cited_by: int  # the record whose full text lists it
    record_id: int | None = None  # the review's record it is, if any
    how: str = ""  # doi | title | ""


@dataclass
class Candidate:
    """A cited work the review lacks, with every record that cites it."""

    work: CitedWork
    cited_by: list[int]


@dataclass
class ChaseResult:
    full_texts: int
    references: int
    matches: list[ReferenceMatch]
    candidates: list[Candidate]

    @property
    def matched(self) -> int:
        return sum(1 for m in self.matches if m.record_id is not None)

    def in_words(self) -> str:
        """What was read and found, as the Import page and the command line both say it.

        >>> ChaseResult(1, 3, [], []).in_words()
        '3 references read from 1 full text: 0 are already records of the review, 0 cited works are not.'
        """
        texts = f"{self.full_texts} full text" + ("" if self.full_texts == 1 else "s")
        return (f"{self.references} references read from {texts}: {self.matched} are already "
                f"records of the review, {len(self.candidates)} cited works are not.")


# -- reading a reference list ----------------------------------------------------------------

def reference_section(text: str) -> str:
    """The text after the last reference-list heading, up to an appendix ("" when none)."""
    headings = list(_HEADING.finditer(text))
    if not headings:
        return ""
    lines = text[headings[-1].end():].split("\n")
    for n, line in enumerate(lines):
        if n > 0 and _AFTER.match(line):
            lines = lines[:n]
            break
    return "\n".join(lines).strip()


def _numbered(lines: list[str]) -> list[str] | None:
    """Split at lines that start with the next number in sequence; None when not numbered."""
    entries: list[str] = []
    expected = 1
    for line in lines:
        number = _NUMBER.match(line)
        value = int(number.group(1) or number.group(2)) if number else None
        if value is not None and value in (expected, expected + 1):
            entries.append(line[number.end():])
            expected = value + 1
        elif entries:
            entries[-1] += " " + line
    starts = len(entries)
    if starts < 3 or starts < 0.5 * sum(1 for line in lines if _NUMBER.match(line)):
        return None
    return entries


def split_references(section: str) -> list[str]:
    """Split a reference list into one string per entry."""
    lines = [" ".join(line.split()) for line in section.split("\n")]
    lines = [line for line in lines if line]
    if len(lines) <= 2:  # text whose line breaks were lost: try each number as a start
        lines = re.split(r"\s(?=(?:\[\d{1,3}\]|\d{1,3}\.)\s)", " ".join(lines))
    entries = _numbered(lines)
    if entries is None:
        entries = []
        for line in lines:
            starts = (not entries or (_ENDS_ENTRY.search(entries[-1]) is not None
                                      and _ENTRY_START.match(line) is not None))
            if starts:
                entries.append(line)
            else:
                entries[-1] += " " + line
    out = []
    for entry in entries:
        entry = re.sub(r"(\w)- (\w)", r"\1-\2", " ".join(entry.split()))
        if len(entry) >= 15:
            out.append(entry)
    return out


def _clean_title(text: str) -> str:
    text = _URL.sub("", text)
    text = re.sub(r"\s*\b(?:Available(?: online)?(?: at)?|Retrieved from|\[Accessed)\b.*$", "",
                  text, flags=re.IGNORECASE)
    return text.strip(" .,;:*").strip()


def parse_reference(text: str) -> CitedWork:
    """Read a DOI, year, authors, title and journal from one reference (a best guess)."""
    work = CitedWork(text=text)
    work.doi = normalize_doi(text)
    url = _URL.search(text)
    work.url = url.group(0).rstrip(".,;)") if url else ""
    year = _PAREN_YEAR.search(text)
    if year is not None and year.start() < 200:
        # author-year: "Authors (2015) Title. Place: Publisher."
        found = _YEAR.search(year.group(1))
        work.year = int(found.group(1)) if found else None
        work.authors = _authors(text[:year.start()], harvard=True)
        rest = text[year.end():]
        parts = re.split(r"(?<=[a-z0-9?!)])\.\s+(?=[A-Z(])", rest, maxsplit=1)
        work.title = _clean_title(parts[0])
        work.journal = _clean_title(re.split(r"[,(]|\d", parts[1])[0]) if len(parts) > 1 else ""
        return work
    # Vancouver: "Smith J, Doe A et al. Title. Journal 2019;12(3):4-5."
    parts = re.split(r"(?<=[^\s.])\.\s+(?=\S)", text)
    found = _YEAR.search(" ".join(parts[2:])) or _YEAR.search(text)
    work.year = int(found.group(1)) if found else None
    if len(parts) >= 2 and len(parts[0]) < 200:
        work.authors = _authors(parts[0])
        work.title = _clean_title(parts[1])
        if len(parts) > 2:
            work.journal = _clean_title(_YEAR.split(parts[2])[0])
    else:
        work.title = _clean_title(parts[0])
    return work


def _authors(text: str, *, harvard: bool = False) -> list[str]:
    text = re.sub(r"\bet al\b\.?", "", text).strip(" ,;")
    if not text.strip(" ."):
        return []
    if ";" in text:
        names = text.split(";")
    elif harvard or re.search(r"[A-Z]\.,", text) or " and " in text:
        names = re.split(r"(?<=\.),\s*|\s+and\s+|\s*&\s*", text)
    else:
        names = text.split(",")
    return [n.strip(" .,") for n in names if n.strip(" .,")][:30]


def read_references(text: str) -> list[CitedWork]:
    """Every reference in a full text's reference list, parsed."""
    return [parse_reference(entry) for entry in split_references(reference_section(text))]


# -- matching ----------------------------------------------------------------------------------

@dataclass
class _Indexed:
    record_id: int
    doi: str
    title: str
    year: int | None


class RecordIndex:
    """The review's records, ready to match references against (linear to build)."""

    def __init__(self, records: list[tuple[int, Record]]):
        self.by_doi: dict[str, int] = {}
        self.items: list[_Indexed] = []
        self.by_word: dict[str, list[int]] = {}
        for record_id, record in records:
            doi = doi_key(normalize_doi(record.doi))
            if doi:
                self.by_doi.setdefault(doi, record_id)
            title = words(record.title)
            if len(title) < MIN_TITLE_CHARS:
                continue
            position = len(self.items)
            self.items.append(_Indexed(record_id, doi, title, record.year))
            for word in _rare_words(title):
                self.by_word.setdefault(word, []).append(position)

    def match(self, work: CitedWork) -> tuple[int | None, str]:
        """The record ``work`` is, and how it was found ('doi' or 'title'), or (None, '')."""
        doi = doi_key(work.doi)
        if doi and doi in self.by_doi:
            return self.by_doi[doi], "doi"
        text = words(work.text)
        counts: dict[int, int] = {}
        for word in set(text.split()):
            for position in self.by_word.get(word, ()):
                counts[position] = counts.get(position, 0) + 1
        best, best_score = None, 0.0
        for position, shared in counts.items():
            item = self.items[position]
            if shared < min(3, len(_rare_words(item.title))):
                continue
            if item.doi and doi and item.doi != doi:
                continue  # two different DOIs are two works
            if item.year and work.year and abs(item.year - work.year) > 1:
                continue
            score = fuzz.partial_ratio(item.title, text)
            if score > best_score:
                best, best_score = item, score
        if best is not None and best_score >= TITLE_MATCH:
            return best.record_id, "title"
        return None, ""


_STOP = frozenset("a an and the of in on for to with by from at as is are or its their"
                  " what how why does do".split())


def _rare_words(title: str) -> list[str]:
    return [w for w in set(title.split()) if len(w) > 2 and w not in _STOP]


def chase(texts: list[tuple[int, str]], records: list[tuple[int, Record]]) -> ChaseResult:
    """Read the reference list of each (record id, full text) and match it to ``records``.

    A work cited by several full texts is offered once, with every record that cites it.
    """
    index = RecordIndex(records)
    matches: list[ReferenceMatch] = []
    candidates: dict[str, Candidate] = {}
    for cited_by, text in texts:
        for work in read_references(text):
            record_id, how = index.match(work)
            matches.append(ReferenceMatch(work, cited_by, record_id, how))
            if record_id is not None:
                continue
            key = doi_key(work.doi) or words(work.title) or words(work.text)
            found = candidates.get(key)
            if found is None:
                candidates[key] = Candidate(work, [cited_by])
            elif cited_by not in found.cited_by:
                found.cited_by.append(cited_by)
    return ChaseResult(full_texts=len(texts), references=len(matches), matches=matches,
                       candidates=list(candidates.values()))


# -- the review step ---------------------------------------------------------------------------

def chase_review(store, review) -> ChaseResult:
    """Chase the references of every full text attached to the review's kept records."""
    from reviewkit.store.citations import fulltext_texts

    with store.read() as conn:
        found = fulltext_texts(conn, review.id)
    texts = []
    for record_id, filename, text, content in found:
        if content:  # the original file keeps the line breaks that separate references
            try:
                text = read_pdf_lines(content, filename=filename)
            except ReviewkitError:
                pass
        texts.append((record_id, text))
    kept = [(s.id, s.record) for s in store.list_records(review.id) if s.duplicate_of is None]
    return chase(texts, kept)


CANDIDATE_COLUMNS = ("candidate", "title", "authors", "year", "doi", "journal", "cited_by",
                     "reference")


def candidate_rows(result: ChaseResult) -> list[list]:
    """One row per candidate, numbered from 1 (the numbers ``--add`` takes)."""
    return [[n, c.work.title, "; ".join(c.work.authors), c.work.year or "", c.work.doi,
             c.work.journal, "; ".join(map(str, c.cited_by)), c.work.text]
            for n, c in enumerate(result.candidates, 1)]


def candidate_record(candidate: Candidate, titles: dict[int, str]) -> Record:
    """The new record a candidate becomes: what the reference says, and who cited it."""
    work = candidate.work
    sources = "; ".join(f"record {rid} ({titles.get(rid, '')[:80]})" for rid in candidate.cited_by)
    return Record(title=work.title or work.text[:300], authors=list(work.authors),
                  year=work.year, doi=work.doi, url=work.url, journal=work.journal,
                  database="Citation searching", record_type="other",
                  notes=f"Found by backward citation searching, cited by {sources}. "
                        f"Reference as printed: {work.text}",
                  extra={"cited_by": [str(rid) for rid in candidate.cited_by],
                         "reference": [work.text]})


def add_candidates(store, review, candidates: list[Candidate], *, actor: str,
                   searched: str = "", run_by: str = ""):
    """Add the chosen candidates as one import whose search record says "citation searching".

    The import holds only new records (each carries the records that cite it); nothing is added
    when ``candidates`` is empty.  Returns the import (Batch).
    """
    from reviewkit.search_record import check_search_fields

    if not candidates:
        raise ReviewkitError("Choose at least one cited work to add.")
    titles = {s.id: s.record.title for s in store.list_records(review.id)}
    parsed = [candidate_record(c, titles) for c in candidates]
    payload = json.dumps([r.to_dict() for r in parsed], sort_keys=True, ensure_ascii=False)
    sources = sorted({rid for c in candidates for rid in c.cited_by})
    what = (f"Backward citation searching: the reference lists of {len(sources)} full "
            f"text{'s' if len(sources) != 1 else ''} (records {', '.join(map(str, sources))}) "
            "read offline by reviewkit and matched to the review's records by DOI and title; "
            f"{len(parsed)} cited work{'s' if len(parsed) != 1 else ''} not yet in the review "
            "added after a person checked them.")
    return store.add_import(
        review.id, parsed, actor=actor, filename="citation-searching.json", format="citations",
        sha256=hashlib.sha256(payload.encode("utf-8")).hexdigest(), size_bytes=len(payload),
        database_name="Citation searching", search_date=searched,
        search=check_search_fields({"method": "citation searching",
                                    "database": "Citation searching", "date_searched": searched,
                                    "run_by": run_by or actor, "notes": what}))
