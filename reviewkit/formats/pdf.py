"""Full-text PDFs: one record per file, with the text, the DOI printed in it, and a title guess.

Titles come from the document's metadata when that looks like a real title (not "Microsoft Word
- draft3.docx"), otherwise from the largest text on the first page.
"""

from __future__ import annotations

import io
import math
import re
from typing import TYPE_CHECKING

from reviewkit.errors import FormatError
from reviewkit.formats.fields import clean, clean_record
from reviewkit.records import Record, normalize_doi, parse_year

if TYPE_CHECKING:
    import pypdf

# pypdf is imported when a PDF is read: every ``import reviewkit`` (each app page's first
# answer included) would otherwise pay for loading it.

# Fewer letters than this in the whole file means there is no text layer, only page images.
_MIN_TEXT_LETTERS = 40
_SPACE_RE = re.compile(r"\s+")
# Control characters (other than those _SPACE_RE turns into spaces) and lone surrogates, which a
# damaged text layer can yield: PostgreSQL refuses NUL in text, and no driver can encode a lone
# surrogate.
_UNSTORABLE_RE = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff]")
_LETTER_RE = re.compile(r"[^\W\d_]")
_JUNK_TITLE = re.compile(
    r"^(untitled|microsoft word|title|document\d*|slide \d+|\S+\.(docx?|pdf|tex|dvi|indd|rtf))"
    r"|\.(docx?|pdf|tex|dvi|indd|rtf)\s*$",
    re.IGNORECASE,
)
_YEAR_HINT = re.compile(r"(?:©|\(c\)|copyright|published(?: online)?:?|accepted:?)\s*"
                        r"(?:\d{1,2}\s+\w+\s+)?((?:19|20)\d\d)", re.IGNORECASE)
# Words on the first page that tell what kind of work the PDF is, checked in this order.
_TYPE_HINTS = (
    (re.compile(r"\b(thesis|dissertation)\b", re.IGNORECASE), "thesis"),
    (re.compile(r"\b(proceedings|conference)\b", re.IGNORECASE), "conference paper"),
    (re.compile(r"\bchapter\s+\d+\b", re.IGNORECASE), "book chapter"),
    (re.compile(r"\b(technical report|working paper|policy brief|evaluation report)\b",
                re.IGNORECASE), "report"),
    (re.compile(r"\b(journal|vol\.|volume|abstract|doi)\b", re.IGNORECASE), "journal article"),
)


def read_pdf(data: bytes, *, filename: str = "") -> list[Record]:
    """Read one PDF into one Record holding its text; FormatError if no text can be had."""
    from pypdf.errors import DependencyError, FileNotDecryptedError

    reader = _open(data, filename)
    try:
        pages = list(reader.pages)
        if not pages:
            raise FormatError("the PDF has no pages; it is damaged or empty", file=filename)
        lines_by_size: list[tuple[float, float, str]] = []
        first_page = pages[0].extract_text(visitor_text=_line_collector(lines_by_size)) or ""
        texts = [first_page] + [page.extract_text() or "" for page in pages[1:]]
        metadata = reader.metadata
    except FormatError:
        raise
    except (FileNotDecryptedError, DependencyError):
        raise _encrypted(filename) from None
    except Exception as exc:  # pypdf raises many kinds of error on damaged files
        raise FormatError(f"the PDF is damaged and its text cannot be read ({exc})",
                          file=filename) from None
    full_text = _SPACE_RE.sub(" ", _UNSTORABLE_RE.sub("", " ".join(texts))).strip()
    if len(_LETTER_RE.findall(full_text[:5000])) < _MIN_TEXT_LETTERS:
        raise FormatError("the PDF has no text to extract (it is probably a scanned image); "
                          "run it through OCR first", file=filename)
    record = Record(full_text=full_text)
    record.title = _metadata_title(metadata) or _largest_line(lines_by_size) or _first_line(
        first_page)
    record.authors = _metadata_authors(metadata)
    record.doi = normalize_doi(full_text[:20000])
    hint = _YEAR_HINT.search(_SPACE_RE.sub(" ", first_page))
    record.year = parse_year(hint.group(1)) if hint else None
    record.record_type = _guess_type(first_page)
    full_text = record.full_text
    record = clean_record(record)
    record.full_text = full_text
    return [record]


def read_pdf_lines(data: bytes, *, filename: str = "") -> str:
    """Return a PDF's text with its line breaks kept (for reading a reference list)."""
    reader = _open(data, filename)
    try:
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as exc:  # pypdf raises many kinds of error on damaged files
        raise FormatError(f"the PDF is damaged and its text cannot be read ({exc})",
                          file=filename) from None


def _open(data: bytes, filename: str) -> pypdf.PdfReader:
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
    except (FileNotDecryptedError, DependencyError):
        raise _encrypted(filename) from None
    except Exception as exc:
        raise FormatError(f"the PDF is damaged or not really a PDF ({exc}); try saving it "
                          "again from the program that made it", file=filename) from None
    if reader.is_encrypted:
        try:
            # Many protected PDFs only restrict printing or copying and open with no password.
            opened = reader.decrypt("")
        except Exception:
            opened = 0
        if not opened:
            raise _encrypted(filename)
    return reader


def _encrypted(filename: str) -> FormatError:
    return FormatError("the PDF is encrypted/password-protected; save an unprotected copy "
                       "and import that", file=filename)


def _line_collector(lines: list[tuple[float, float, str]]):
    """Return a pypdf text visitor that records (font size, height on page, text) per run."""

    def visit(text, cm, tm, font_dict, font_size):
        if not text or not text.strip():
            return
        scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3])
        size = round(float(font_size) * (scale or 1.0), 1)
        y = tm[5] * cm[3] + cm[5]
        lines.append((size, y, text))

    return visit


def _metadata_title(metadata) -> str:
    title = clean(str(metadata.title)) if metadata is not None and metadata.title else ""
    if len(title) < 8 or len(title.split()) < 2 or _JUNK_TITLE.search(title):
        return ""
    return title


def _metadata_authors(metadata) -> list[str]:
    author = clean(str(metadata.author)) if metadata is not None and metadata.author else ""
    if not author or len(author) > 300:
        return []
    parts = re.split(r";|\s+and\s+", author)
    return [part.strip() for part in parts if len(part.strip()) > 1]


def _largest_line(runs: list[tuple[float, float, str]]) -> str:
    """Return the first run of text set larger than the body text on page 1, with the runs of
    the same size that directly follow it (a title often spans lines)."""
    substantial = [run for run in runs if len(_LETTER_RE.findall(run[2])) >= 3]
    if not substantial:
        return ""
    letters_by_size: dict[float, int] = {}
    for size, _, text in substantial:
        letters_by_size[size] = letters_by_size.get(size, 0) + len(text)
    body = max(letters_by_size, key=letters_by_size.__getitem__)
    for size in sorted(letters_by_size, reverse=True):
        if size <= body:
            return ""
        start = next(i for i, run in enumerate(substantial) if run[0] == size)
        parts = []
        for run in substantial[start:]:
            if run[0] != size:
                break
            parts.append(run[2])
        words = _SPACE_RE.sub(" ", " ".join(parts)).strip()
        if len(words) >= 10 and len(words.split()) >= 2:
            return words[:500]
    return ""


def _first_line(text: str) -> str:
    for line in text.split("\n"):
        line = _SPACE_RE.sub(" ", line).strip()
        if len(line) >= 10 and len(line.split()) >= 2:
            return line[:500]
    return ""


def _guess_type(first_page: str) -> str:
    for pattern, record_type in _TYPE_HINTS:
        if pattern.search(first_page):
            return record_type
    return "other"
