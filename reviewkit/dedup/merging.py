"""Merge a group of duplicate records into the one record a review keeps."""

from __future__ import annotations

import re

from reviewkit.records import BIBLIOGRAPHIC_FIELDS, Record, clean_text, normalize_doi, split_pages

_INITIAL_RE = re.compile(r"^[A-Z]\.?$")


def _author_detail(name: str) -> tuple[int, int]:
    """Rank a spelling of a name: full given names beat initials, then longer beats shorter."""
    parts = re.split(r"[\s,.\-]+", name.strip())
    full_words = sum(1 for p in parts if len(p) > 1 and not p.isupper())
    return full_words, len(name)


def _best_authors(records: list[Record]) -> list[str]:
    lists = [r.authors for r in records if r.authors]
    if not lists:
        return []
    longest = max(len(a) for a in lists)
    # The most complete list first (no "et al." cut), then the fullest spelling of the names.
    candidates = [a for a in lists if len(a) == longest]
    return list(max(candidates, key=lambda a: sum(_author_detail(n)[0] for n in a)))


def _best_text(values: list[str]) -> str:
    """Pick the longest value; among equally long ones, the first."""
    present = [v for v in values if v and v.strip()]
    return max(present, key=lambda v: len(clean_text(v))) if present else ""


def _best_title(values: list[str]) -> str:
    """Prefer a title without bracketed database notes, then the one in the most common form."""
    present = [v for v in values if v and v.strip()]
    if not present:
        return ""

    def rank(title: str) -> tuple[int, int, int]:
        noted = bool(re.search(r"\[[^\]]*\]|\(provisional abstract\)", title, re.IGNORECASE))
        shouting = title.isupper()
        return (not noted, not shouting, len(title))

    return max(present, key=rank)


def _best_pages(values: list[str]) -> str:
    """Prefer a full range ("221-228") over a short one ("221-8") or a first page alone."""
    present = [v for v in values if v and v.strip()]
    if not present:
        return ""

    def rank(pages: str) -> tuple[int, int]:
        first, last = split_pages(pages)
        written_last = re.split(r"\s*[-–—]+\s*", clean_text(pages), maxsplit=1)
        expanded = len(written_last) == 2 and written_last[1].strip() == last
        return (bool(first and last), expanded)

    return max(present, key=rank)


def merge_group(records: list[Record]) -> Record:
    """Merge duplicate records into one, taking the most complete value of each field.

    The longest abstract, a DOI where any record has one (bare, the most common), full author
    names over initials, a full page range over a short one, every database named.  The kept
    record's ``source_id`` is that of the most complete record; ``extra["merged_from"]``
    lists the source ids of all merged records, so every source record stays known.
    """
    if not records:
        raise ValueError("merge_group needs at least one record")
    base = max(records, key=lambda r: r.filled_fields())
    merged = Record.from_dict(base.to_dict())
    merged.title = _best_title([r.title for r in records])
    merged.authors = _best_authors(records)
    merged.pages = _best_pages([r.pages for r in records])
    merged.abstract = _best_text([r.abstract for r in records])
    merged.full_text = _best_text([r.full_text for r in records])
    merged.keywords = sorted({k for r in records for k in r.keywords}, key=str.lower)
    years = [r.year for r in records if r.year]
    merged.year = max(set(years), key=lambda y: (years.count(y), -y)) if years else None
    for name in BIBLIOGRAPHIC_FIELDS:
        if name in {"title", "authors", "pages", "abstract", "keywords", "year"}:
            continue
        current = getattr(merged, name)
        if current in ("", None):
            values = [getattr(r, name) for r in records]
            setattr(merged, name, _best_text([v for v in values if isinstance(v, str)]))
    dois = [normalize_doi(r.doi) for r in records if normalize_doi(r.doi)]
    if dois:
        merged.doi = max(dict.fromkeys(dois), key=dois.count)
    databases = [r.database for r in records if r.database]
    merged.database = "; ".join(dict.fromkeys(databases))
    if len({r.journal for r in records if r.journal}) > 1:
        # A full journal name reads better than an abbreviation.
        merged.journal = _best_text([r.journal for r in records])
    extra: dict[str, list[str]] = {}
    for r in records:
        for key, values in r.extra.items():
            bucket = extra.setdefault(key, [])
            bucket.extend(v for v in values if v not in bucket)
    merged.extra = extra
    sources = [r.source_id for r in records if r.source_id]
    merged.source_id = base.source_id
    if len(sources) > 1:
        merged.extra["merged_from"] = sources
    return merged
