"""What goes into an evidence brief, as plain data; the renderers only lay it out."""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewkit.records import Record


@dataclass(frozen=True)
class StudyFinding:
    record_id: int
    citation: str  # "Popay et al. (2023)"
    design: str
    direction: str  # positive | mixed | none | negative | ""
    finding: str  # one line, written or confirmed by a researcher
    review: bool = False  # a review of other studies, not itself a test of the approach


@dataclass(frozen=True)
class OutcomeBlock:
    outcome: str
    studies: list[StudyFinding]
    more: int = 0  # further studies of this outcome not listed, to keep the brief short
    verdict: str = ""  # one line: what was found and how strong the evidence is
    # direction of effect and certainty in plain words (reviewkit.certainty.outcome_verdicts)
    certainty: str = ""


@dataclass(frozen=True)
class LocalExample:
    entry_id: str
    title: str
    kind: str
    place: str
    summary: str
    source: str


@dataclass
class Brief:
    title: str
    subtitle: str
    question: str
    key_messages: list[str]
    methods: str
    prisma_rows: list[tuple[str, int]]
    findings: list[OutcomeBlock] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    local_examples: list[LocalExample] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    status: str = ""  # "Interim: …" while screening is unfinished, else ""


def readable_source(text: str, size: int = 180) -> str:
    """A source line for readers: no internal file names (see reviewkit.library.reading), and
    at most ``size`` characters, cut at a word.

    >>> readable_source("Ubido J (2018) Developing resilient communities. Champs, Liverpool", 50)
    'Ubido J (2018) Developing resilient communities.…'
    """
    from reviewkit.library.reading import readable_source as without_internal_names

    text = without_internal_names(text).rstrip(" ,;")
    if len(text) <= size:
        return text
    return text[: size - 1].rsplit(" ", 1)[0].rstrip(" ,;") + "…"


def _surname(author: str) -> str:
    author = author.strip()
    if "," in author:
        return author.split(",", 1)[0].strip()
    parts = author.split()
    if len(parts) > 2:  # an organisation ("Centre for Reviews and Dissemination"), kept whole
        return author
    return parts[-1] if parts else ""


def short_citation(record: Record) -> str:
    """Author–year citation as it appears in running text.

    >>> short_citation(Record(authors=["Popay, J.", "Kaloudis, H."], year=2023))
    'Popay and Kaloudis (2023)'
    """
    names = [_surname(a) for a in record.authors if a.strip()]
    year = record.year or "n.d."
    if not names:
        return f"{(record.title or 'Untitled')[:40]} ({year})"
    if len(names) == 1:
        return f"{names[0]} ({year})"
    if len(names) == 2:
        return f"{names[0]} and {names[1]} ({year})"
    return f"{names[0]} et al. ({year})"


def harvard_reference(record: Record) -> str:
    """Reference in the Harvard style most UK public-health reports use.

    >>> harvard_reference(Record(title="Neighbourhood system resilience", authors=["Popay, J."],
    ...     year=2023, journal="Health & Place", volume="80", issue="2", pages="101-110",
    ...     doi="10.1/x"))
    'Popay, J. (2023) Neighbourhood system resilience. Health & Place, 80(2), pp. 101-110. doi:10.1/x'
    """
    authors = [a.strip() for a in record.authors if a.strip()]
    if len(authors) > 1:
        who = ", ".join(authors[:-1]) + " and " + authors[-1]
    else:
        who = authors[0] if authors else (record.publisher or "Anonymous")
    text = f"{who} ({record.year or 'n.d.'}) {record.title.rstrip('.')}."
    if record.journal:
        text += f" {record.journal}"
        if record.volume:
            text += f", {record.volume}" + (f"({record.issue})" if record.issue else "")
        if record.pages:
            text += f", pp. {record.pages}"
        text += "."
    elif record.publisher:
        text += f" {record.place_published + ': ' if record.place_published else ''}{record.publisher}."
    if record.doi:
        text += f" doi:{record.doi}"
    elif record.url:
        text += f" Available at: {record.url}"
    return text
