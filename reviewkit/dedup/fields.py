"""Bring each record's fields into one comparable shape, whatever database styled them.

:func:`fingerprint` turns a :class:`~reviewkit.records.Record` into a :class:`Fingerprint`:
titles without database notes, surnames apart from initials, journal names with their
abbreviations in mind, first and last page, the kind of item (erratum, comment, protocol)...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from reviewkit.dedup.text import NON_ALNUM_RE, compact, tidy, words
from reviewkit.records import Record, normalize_doi

# --- titles ---------------------------------------------------------------------------------

# Notes that databases add to a title: "[Review]", "[45 refs]", "(Provisional abstract)",
# "[Erratum appears in ...]", "[abstract no: 134]", "(author's transl)", a trailing "LA: Chi".
_NOTE_WORDS = (
    r"review|refs?\b|references|erratum|errata|corrigend|comment|abstract|retract|"
    r"correct|published|article in|author'?s? transl|transl|letter|editorial|english|"
    r"in process|provisional|structured|summary|see |epub|conference|meeting|poster|"
    r"language|spanish|french|german|chinese|japanese|italian|portuguese|russian"
)
_NOTE_BRACKET_RE = re.compile(
    r"\[[^\[\]]{0,60}?(?:" + _NOTE_WORDS + r")[^\[\]]{0,60}(?:\]|$)", re.IGNORECASE)
_NOTE_PAREN_RE = re.compile(
    r"\((?:provisional|structured|author'?s? transl|abstract|review|english|editorial)[^()]*\)",
    re.IGNORECASE,
)
_TRAILING_LANGUAGE_RE = re.compile(r"\s+LA:\s*\w+\s*$")
_ORIGINAL_TITLE_RE = re.compile(r"<\s*original\s*>", re.IGNORECASE)
_TRANSLATION_SPLIT_RE = re.compile(r"\s*(?:;|\s=\s)\s*")
_TRANSLATED_FIRST_RE = re.compile(r"^\[([^\[\]]{10,})\]\.?\s+(\S.{9,})$")

# What kind of item a title announces.  Errata, retraction notices and comments share their
# original's title but are other items, so records of different kinds never merge.
_KIND_HINT_RE = re.compile(
    r"errat|corrig|correct|retract|concern|publisher|comment|re:|repl|respon|letter|rebut|"
    r"protocol|design|\(vol")
_ERRATUM_RE = re.compile(
    r"^\s*(?:erratum|errata|corrigendum|corrigenda|correction(?:s)?\b(?! of)|"
    r"notice of (?:retraction|correction)|retraction(?: note| notice)?\b|"
    r"expression of concern|publisher'?s note)"
    # Web of Science names an erratum after its original: "Title (vol 38, pg 1234, 2015)".
    r"|\((?:vol|volume)\.?\s*\d+[^)]*\b(?:pg|page|p)\.?\s*[a-z]?\d+"
    r"|[\[(]\s*(?:erratum|corrigendum|correction|retraction(?: notice)?)\s*[\])]"
    r"|[:.\-]\s*(?:erratum|corrigendum|correction|retraction notice)\s*$",
    re.IGNORECASE,
)
_COMMENT_RE = re.compile(
    r"^\s*(?:comments? on\b|commentary on\b|re:|reply\b|in reply\b|response\b|"
    r"authors?'? reply|author'?s? response|letter\b|a letter\b|rebuttal)"
    r"|(?::|\.)\s*(?:reply|a reply|response|authors?'? reply|comment)\s*$",
    re.IGNORECASE,
)
# A protocol or design paper shares its title with the results paper that follows it.
_PROTOCOL_RE = re.compile(
    r"\b(?:study|trial|review|research|evaluation) protocol\b|\bprotocol (?:for|of) (?:a|an|the)\b"
    r"|^protocol\b|[\[(]protocol[\])]|\brationale and design\b|\bdesign and rationale\b"
    r"|\bdesign and methods\b",
    re.IGNORECASE,
)

_ROMAN = {
    "i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7",
    "viii": "8", "ix": "9", "x": "10", "xi": "11", "xii": "12",
}
_WORD_NUMBERS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                 "first": "1", "second": "2", "third": "3", "fourth": "4"}
_PART_RE = re.compile(
    r"\b(?:part|pt|paper|section|chapter|series)\s+(\d+|[ivx]+|one|two|three|four|five)\b")


def strip_title_notes(title: str) -> str:
    """Remove the notes databases add to a title ("[Review]", "[45 refs]", "LA: Chi"...).

    >>> strip_title_notes("HPV testing after CIN 3. [Review] [45 refs]")
    'HPV testing after CIN 3.'
    >>> strip_title_notes("[Asthma in children: a review of English summaries]")
    'Asthma in children: a review of English summaries'
    """
    title = tidy(title)
    if title.startswith("["):
        # A translated title in brackets, perhaps cut short before its closing bracket.
        close = title.find("]")
        if close == -1:
            title = title[1:]
        elif close >= len(title) - 2:
            title = title[1:close] + title[close + 1:]
    if "LA:" in title:
        title = _TRAILING_LANGUAGE_RE.sub("", title)
    if "[" in title:
        title = _NOTE_BRACKET_RE.sub(" ", title)
    if "(" in title:
        title = _NOTE_PAREN_RE.sub(" ", title)
    return " ".join(title.split())


def title_kind(title: str) -> str:
    """Name the kind of item a title announces: "erratum", "comment", "protocol" or "".

    >>> title_kind("Correction to: Exercise for knee pain")
    'erratum'
    >>> title_kind("Exercise for knee pain: a study protocol for a randomised trial")
    'protocol'
    """
    if not _KIND_HINT_RE.search(title.lower()):
        return ""
    text = tidy(title).lstrip("[(")
    if _ERRATUM_RE.search(text):
        return "erratum"
    if _COMMENT_RE.search(text):
        return "comment"
    if _PROTOCOL_RE.search(text):
        return "protocol"
    return ""


def title_numbers(normalised_title: str) -> frozenset[str]:
    """Return the numbers a title carries (digits, Roman numerals, "first"...) as digits.

    >>> sorted(title_numbers("part ii of 10 000 women with type 2 diabetes"))
    ['10000', '2']
    """
    found = set()
    tokens = normalised_title.split()
    for position, token in enumerate(tokens):
        if token.isdigit():
            following = tokens[position + 1] if position + 1 < len(tokens) else ""
            if len(token) <= 3 and len(following) == 3 and following.isdigit():
                continue  # "10 000": the next token completes the number
            if len(token) == 3 and position and tokens[position - 1].isdigit() \
                    and len(tokens[position - 1]) <= 3:
                token = tokens[position - 1] + token
            found.add(token.lstrip("0") or "0")
        elif token in _ROMAN:
            found.add(_ROMAN[token])
        elif token in _WORD_NUMBERS:
            found.add(_WORD_NUMBERS[token])
    return frozenset(found)


def series_parts(normalised_title: str) -> frozenset[str]:
    """Return the part numbers a title names ("part 2", "paper II", a closing "II")."""
    found = {_as_digits(m.group(1)) for m in _PART_RE.finditer(normalised_title)}
    last = normalised_title.rsplit(" ", 1)[-1] if normalised_title else ""
    if last in _ROMAN and last not in {"i", "v", "x"}:
        found.add(_ROMAN[last])
    return frozenset(found)


def _as_digits(token: str) -> str:
    return _ROMAN.get(token) or _WORD_NUMBERS.get(token) or token.lstrip("0") or "0"


def title_variants(title: str) -> tuple[str, ...]:
    """Return the normalised title and, for a bilingual title, each language on its own.

    >>> title_variants("[Adherence to statins]. [Article in German]")
    ('adherence to statins',)
    >>> title_variants("[Adherence to statin treatment] Adhärenz bei der Statintherapie")
    ('adherence to statin treatment', 'adharenz bei der statintherapie')
    """
    pieces = _ORIGINAL_TITLE_RE.split(title) if "<" in title else [title]
    stripped = strip_title_notes(pieces[0])
    # "[English title] Original title": MEDLINE's translation, then the original.
    bracketed = _TRANSLATED_FIRST_RE.match(stripped) if stripped.startswith("[") else None
    if bracketed:
        stripped = bracketed.group(1)
        pieces = [stripped, bracketed.group(2), *pieces[1:]]
    main = words(stripped)
    variants = [main] if main else []
    parts = pieces[1:]
    if ";" in stripped or " = " in stripped:
        parts = _TRANSLATION_SPLIT_RE.split(stripped) + parts
    for part in parts:
        part_words = words(strip_title_notes(part))
        if part_words != main and len(part_words) >= 25 and part_words not in variants:
            variants.append(part_words)
    return tuple(variants)


# --- authors --------------------------------------------------------------------------------

# Group authors and placeholders name no person, so they say nothing about authorship.
_GROUP_WORDS = frozenset(
    "group groupe study consortium collaboration collaborative collaborators committee "
    "investigators trial society association network team working panel organization "
    "organisation council institute foundation anonymous al".split()
)
_WORD_RE = re.compile(r"[a-z]+")
# Several names in one string: "Zuna, R E and Wang, S S", "Adeli K.Lewis G. F." (no space
# after an initial's dot, as some exports run names together).
_AUTHOR_LIST_SPLIT_RE = re.compile(r"\s+and\s+|\s*;\s*|(?<=[A-Z]\.)(?=[A-Z][a-z])")


def split_author_list(authors: list[str]) -> list[str]:
    """Split any entry that holds several names; return one name per entry.

    >>> split_author_list(["Adeli K.Lewis G. F.", "Zuna, R E and Wang, S S"])
    ['Adeli K.', 'Lewis G. F.', 'Zuna, R E', 'Wang, S S']
    """
    names: list[str] = []
    for entry in authors:
        if entry and (" and " in entry or ";" in entry or "." in entry):
            names.extend(n for n in _AUTHOR_LIST_SPLIT_RE.split(entry) if n and n.strip())
        elif entry:
            names.append(entry)
    return names


_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "2nd", "3rd"})
_INITIALS_TOKEN_RE = re.compile(r"^(?:[A-Z]\.?-?){1,4}$|^[A-Z][a-z]?\.$")
_NAME_SPLIT_RE = re.compile(r"[\s.\-]+")


@lru_cache(maxsize=65536)
def parse_author(name: str) -> tuple[str, str, str]:
    """Split one author name into normalised (surname, initials, first full given name).

    >>> parse_author("Wright Jr., T C")
    ('wright', 'tc', '')
    >>> parse_author("Gan L. M.")
    ('gan', 'lm', '')
    >>> parse_author("Luis Ferreira, Santos A")
    ('luisferreira', 'sa', 'santos')
    """
    name = tidy(name).strip(" .;")
    if not name or not _GROUP_WORDS.isdisjoint(_WORD_RE.findall(name.lower())):
        return "", "", ""
    if "," in name:
        surname, given = (part.strip() for part in name.split(",", 1))
        if given.lower().rstrip(".") in _NAME_SUFFIXES:
            given = ""
    else:
        surname, given = _split_uncommaed(name.split())
    tokens = [t for t in surname.split() if t.lower().rstrip(".") not in _NAME_SUFFIXES]
    surname_key = compact(" ".join(tokens or surname.split()))
    given_tokens = [t for t in _NAME_SPLIT_RE.split(given) if t]
    full_given = [t for t in given_tokens if len(t) > 1 and not t.isupper()]
    letters = []
    for token in given_tokens:
        letters.extend(token if token.isupper() and len(token) <= 3 else token[0])
    return surname_key, compact("".join(letters)), compact(full_given[0]) if full_given else ""


def _split_uncommaed(tokens: list[str]) -> tuple[str, str]:
    """Split "Adeli K.", "J. L. Smith" or "John Smith" into (surname, given names)."""
    cut = len(tokens)
    while cut > 1 and _INITIALS_TOKEN_RE.match(tokens[cut - 1]):
        cut -= 1
    if cut < len(tokens):
        return " ".join(tokens[:cut]), " ".join(tokens[cut:])
    if len(tokens) > 1 and _INITIALS_TOKEN_RE.match(tokens[0]):
        lead = 1
        while lead < len(tokens) - 1 and _INITIALS_TOKEN_RE.match(tokens[lead]):
            lead += 1
        return " ".join(tokens[lead:]), " ".join(tokens[:lead])
    if len(tokens) > 1:
        return tokens[-1], " ".join(tokens[:-1])
    return " ".join(tokens), ""


# --- journals, pages, identifiers -----------------------------------------------------------

# Small words that abbreviations drop ("J Am Coll Cardiol"), and words that say nothing
# about which journal it is ("Supplement", "[Electronic Resource]").
_JOURNAL_STOPWORDS = frozenset(
    "the of and in for on de la le les du des der die das und et y e di del da do d l "
    "supplement supplements suppl supplementum proceedings proc online print electronic "
    "resource edition ed".split()
)
_NUMBERISH_RE = re.compile(r"^\d+(?:st|nd|rd|th)?$")
_JOURNAL_BRACKETS_RE = re.compile(r"\[[^\]]*\]|\([^)]*\)")
_JOURNAL_SPLIT_RE = re.compile(
    r"[:;]|,\s|\s/\s|\.\s+(?=conference|proceedings|meeting|abstracts?)", re.IGNORECASE)
_CONFERENCE_RE = re.compile(
    r"conference|congress|meeting|symposium|proceedings|abstracts?\b|workshop|colloquium",
    re.IGNORECASE,
)
_CONFERENCE_TITLE_RE = re.compile(
    r"\b(?:abstracts|proceedings of|congress|annual meeting|scientific sessions|conference)\b"
    r"|[\[(]\s*abstract"
)


@lru_cache(maxsize=65536)
def journal_variants(journal: str) -> tuple[str, ...]:
    """Return the normalised journal name and its shorter forms ("X = Y", "X: official journal").

    >>> journal_variants("Microcirculation. Conference: 66th Annual Meeting")
    ('microcirculation conference annual meeting', 'microcirculation')
    """
    text = _JOURNAL_BRACKETS_RE.sub(" ", tidy(journal))
    names = text.split(" = ")
    pieces = [text, *names, *(_JOURNAL_SPLIT_RE.split(name, maxsplit=1)[0] for name in names)]
    out: list[str] = []
    for piece in pieces:
        key = " ".join(w for w in words(piece).split()
                       if w not in _JOURNAL_STOPWORDS and not _NUMBERISH_RE.match(w))
        if key and key not in out:
            out.append(key)
    return tuple(out)


@lru_cache(maxsize=65536)
def _is_conference_venue(journal: str) -> bool:
    return bool(_CONFERENCE_RE.search(journal))


_FIRST_NUMBER_RE = re.compile(r"\d+")
_PAGE_PREFIX_RE = re.compile(r"^\s*(?:pp?\.?|pages?)\s*", re.IGNORECASE)
_PAGE_DASH_RE = re.compile(r"\s*-+\s*")
_PAGE_END_RE = re.compile(r"[;,\[(+\s]|\.(?=[a-zA-Z])")


def first_number(text: str) -> str:
    """Return the first run of digits in ``text`` without leading zeros ("" when none)."""
    match = _FIRST_NUMBER_RE.search(text or "")
    return (match.group(0).lstrip("0") or "0") if match else ""


@lru_cache(maxsize=65536)
def page_key(pages: str) -> tuple[str, str]:
    """Return comparable (first, last) pages: lower-case, "pp." dropped, junk treated as absent.

    >>> page_key("pp. 221-8; author reply 229")
    ('221', '228')
    >>> page_key("A175.E1638")
    ('a175', '')
    """
    text = tidy(pages).replace("–", "-").replace("—", "-")
    text = _PAGE_DASH_RE.sub("-", _PAGE_PREFIX_RE.sub("", text).strip())
    first, _, last = _PAGE_END_RE.split(text, maxsplit=1)[0].partition("-")
    first = NON_ALNUM_RE.sub("", first.lower()).lstrip("0")
    last = NON_ALNUM_RE.sub("", last.lower()).lstrip("0")
    if first.isdigit() and last.isdigit() and len(last) < len(first):
        last = first[: len(first) - len(last)] + last  # "221-8" is 221-228
    if not any(ch.isdigit() for ch in first):
        return "", ""
    return first, last if any(ch.isdigit() for ch in last) else ""


# --- identifiers ----------------------------------------------------------------------------

# Which written DOIs name one item.  normalize_doi already folds case and drops "doi:",
# "https://doi.org/" and "dx.doi.org" prefixes and trailing punctuation; a version marker at
# the end ("/v2", ".v3", "v1" after a digit, as preprint servers and data repositories write
# them) names a version of one item, so it is dropped too.  Cochrane's ".pub2" is not: it
# names an updated review, a different work.
_DOI_VERSION_RE = re.compile(r"(?:[./]|(?<=\d))v\d{1,2}$")


def doi_key(doi: str) -> str:
    """Return the form of a normalised DOI under which its versions compare equal.

    >>> doi_key("10.21203/rs.3.rs-123456/v2"), doi_key("10.1101/2020.05.01.123456v3")
    ('10.21203/rs.3.rs-123456', '10.1101/2020.05.01.123456')
    >>> doi_key("10.1002/14651858.cd001234.pub2")
    '10.1002/14651858.cd001234.pub2'
    """
    return _DOI_VERSION_RE.sub("", doi) if doi and doi[-1].isdigit() else doi


# --- generic titles -------------------------------------------------------------------------

# Titles made only of these words ("Editorial introduction", "Remarks from the editor",
# "Editor's comments", "In this issue", "Table of contents") name a kind of item that recurs
# in every issue of a journal, not one work.
GENERIC_TITLE_WORDS = frozenset(
    "editorial editorials editor editors introduction introductory erratum errata corrigendum "
    "correction corrections reply replies response responses comment comments commentary "
    "commentaries book books review reviews index indexes table contents preface foreword "
    "prologue epilogue announcement announcements news note notes letter letters remarks "
    "message obituary acknowledgement acknowledgements acknowledgment acknowledgments "
    "reviewers referees issue issues volume guest special section call papers abstracts "
    "proceedings front back matter masthead cover information instructions authors author "
    "retraction notice overview welcome opening statement president presidents column "
    "chairman chair chief desk board corner update viewpoint opinion opinions perspective "
    "perspectives debate forum interview dialogue essay summary highlights contributors "
    "thanks journal year keynote panel tutorial "
    "this in from the a an of to on and for s our by with".split())
# "Book review: <the book's title>" recurs whenever two journals review one book.
_GENERIC_START_RE = re.compile(r"^(?:book reviews?|reviews? of books?)\b")


def generic_title(normalised_title: str) -> bool:
    """Tell whether a normalised title names a recurring kind of item, not one work.

    >>> generic_title("editorial introduction"), generic_title("editor s comments")
    (True, True)
    >>> generic_title("book review the design of everyday things")
    True
    >>> generic_title("introduction of insulin pumps in primary care")
    False
    """
    if not normalised_title:
        return False
    if _GENERIC_START_RE.match(normalised_title):
        return True
    return all(word in GENERIC_TITLE_WORDS or word.isdigit()
               for word in normalised_title.split())


# --- the fingerprint ------------------------------------------------------------------------

# Authors beyond these add little evidence and cost time.
MAX_AUTHORS = 12

@dataclass(slots=True)
class Fingerprint:
    """The comparable form of one record: what blocking and scoring look at."""

    titles: tuple[str, ...]
    kind: str
    numbers: frozenset[str]
    parts: frozenset[str]
    surnames: tuple[str, ...]
    given_names: tuple[str, ...]
    year: int | None
    journals: tuple[str, ...]
    volume: str
    first_page: str
    last_page: str
    doi: str
    pmid: str
    abstract: str
    conference: bool
    issue: str = ""
    # The title names a recurring kind of item ("Editorial"), or records in this corpus show
    # it naming several works (set by the engine, which sees the whole corpus).
    generic: bool = False
    recurring: bool = False
    # MEDLINE brackets a title it translated into English: another database's original or
    # differently translated title may then share few words with it.
    translated: bool = False

    @property
    def title(self) -> str:
        return self.titles[0] if self.titles else ""


def fingerprint(record: Record) -> Fingerprint:
    """Build the comparable form of ``record``."""
    titles = title_variants(record.title or "")
    main = titles[0] if titles else ""
    names = split_author_list(record.authors[:MAX_AUTHORS])[:MAX_AUTHORS]
    authors = [parse_author(name) for name in names]
    authors = [a for a in authors if a[0]]
    first_page, last_page = page_key(record.pages or "")
    doi = record.doi or ""
    return Fingerprint(
        titles=titles,
        kind=title_kind(record.title or ""),
        numbers=title_numbers(main),
        parts=series_parts(main),
        surnames=tuple(a[0] for a in authors),
        given_names=tuple(a[2] for a in authors),
        year=record.year,
        journals=journal_variants(record.journal or ""),
        volume=first_number(record.volume),
        first_page=first_page,
        last_page=last_page,
        doi=doi_key(normalize_doi(unquote(doi) if "%" in doi else doi)),
        pmid=first_number(record.pmid),
        abstract=words(record.abstract[:600])[:400] if len(record.abstract or "") >= 100 else "",
        conference=bool(record.record_type == "conference paper"
                        or _is_conference_venue(record.journal or "")
                        or _CONFERENCE_TITLE_RE.search((record.title or "").lower())),
        issue=first_number(record.issue),
        generic=generic_title(main),
        translated=tidy(record.title or "").lstrip("\"' ").startswith("["),
    )
