"""Full texts for screening: attach a PDF to a record, or a zip of PDFs matched by DOI or title."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from rapidfuzz import fuzz

from reviewkit.errors import FormatError, ReviewkitError
from reviewkit.records import Record, normalize_doi
from reviewkit.store import Store, StoredRecord

# A zip is refused before anything is unpacked when it would blow up past these.
MAX_ZIP_ENTRIES = 2000
MAX_PDF_MB = 60
MAX_UNPACKED_MB = 1024
MAX_COMPRESSION_RATIO = 200
TITLE_MATCH = 92  # rapidfuzz score needed to match a PDF to a record by title alone
# What zipfile raises on a damaged or unsupported archive, besides BadZipFile: a corrupt deflate
# stream (zlib.error), an encrypted member (RuntimeError), an unknown method or version
# (NotImplementedError), offsets pointing outside the file (ValueError, EOFError, OSError).
_DAMAGED_ZIP = (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, ValueError,
                EOFError, OSError)

_WORDS = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class AttachResult:
    filename: str
    record_id: int | None
    matched_by: str  # doi | title | chosen | ""
    message: str


def _normal(text: str) -> str:
    return _WORDS.sub(" ", text.lower()).strip()


def match_record(pdf: Record, candidates: list[StoredRecord]) -> tuple[StoredRecord | None, str]:
    """Find the record a PDF belongs to: same DOI first, else a clearly matching title."""
    if pdf.doi:
        for item in candidates:
            if normalize_doi(item.record.doi) == pdf.doi:
                return item, "doi"
    head = _normal(pdf.full_text[:4000])
    best, best_score = None, 0.0
    for item in candidates:
        title = _normal(item.record.title)
        if len(title) < 12:
            continue
        score = fuzz.token_set_ratio(title, _normal(pdf.title)) if pdf.title else 0
        if len(title) >= 30 and title in head:
            score = max(score, 99)
        if score > best_score:
            best, best_score = item, score
    if best is not None and best_score >= TITLE_MATCH:
        return best, "title"
    return None, ""


def attach_pdf(store: Store, record_id: int, data: bytes, filename: str, *, actor: str) -> AttachResult:
    """Attach one PDF to a chosen record (its text is extracted for reading beside the form)."""
    if len(data) > MAX_PDF_MB * 1024 * 1024:
        raise FormatError(f"the PDF is over {MAX_PDF_MB} MB", file=filename)
    from reviewkit.formats import read_pdf  # the format readers load with the first PDF

    pdf = read_pdf(data, filename=filename)[0]
    store.add_fulltext(record_id, filename=filename, sha256=hashlib.sha256(data).hexdigest(),
                       content=data, text=pdf.full_text, actor=actor)
    return AttachResult(filename, record_id, "chosen", f"{filename} attached.")


def safe_pdf_entries(data: bytes, *, filename: str = "upload.zip") -> list[tuple[str, bytes]]:
    """Unpack the PDFs of a zip in memory, refusing zip bombs and ignoring unsafe paths."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _DAMAGED_ZIP:
        raise FormatError("this is not a readable zip archive", file=filename) from None
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > MAX_ZIP_ENTRIES:
        raise FormatError(f"the zip holds {len(infos)} files; the limit is {MAX_ZIP_ENTRIES}",
                          file=filename)
    total = sum(i.file_size for i in infos)
    if total > MAX_UNPACKED_MB * 1024 * 1024:
        raise FormatError(f"the zip would unpack to {total / 1024 ** 2:.0f} MB, over the "
                          f"{MAX_UNPACKED_MB} MB limit", file=filename)
    out = []
    for info in infos:
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if path.suffix.lower() != ".pdf" or path.name.startswith("._"):
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > MAX_PDF_MB * 1024 * 1024 or ratio > MAX_COMPRESSION_RATIO:
            raise FormatError(f"'{path.name}' inside the zip is suspiciously large when unpacked "
                              "(a possible zip bomb); nothing was attached", file=filename)
        try:
            with archive.open(info) as handle:
                # read one byte past the declared size, in case the header lies
                content = handle.read(info.file_size + 1)
        except _DAMAGED_ZIP as exc:
            raise FormatError(f"'{path.name}' inside the zip cannot be unpacked ({exc}); the "
                              "archive is damaged or encrypted, nothing was attached",
                              file=filename) from None
        if len(content) > info.file_size:
            raise FormatError(f"'{path.name}' inside the zip is larger than its header says; "
                              "nothing was attached", file=filename)
        # only the base name is kept: '../../etc/x.pdf' can never point outside anything
        out.append((path.name, content))
    if not out:
        raise FormatError("the zip holds no PDF files", file=filename)
    return out


def attach_zip(store: Store, candidates: list[StoredRecord], data: bytes, *, actor: str,
               filename: str = "upload.zip") -> list[AttachResult]:
    """Attach every PDF in a zip to the record it matches; report the ones that match none."""
    from reviewkit.formats import read_pdf  # the format readers load with the first PDF

    results = []
    for name, content in safe_pdf_entries(data, filename=filename):
        try:
            pdf = read_pdf(content, filename=name)[0]
        except ReviewkitError as exc:
            results.append(AttachResult(name, None, "", str(exc)))
            continue
        match, how = match_record(pdf, candidates)
        if match is None:
            results.append(AttachResult(name, None, "", f"{name}: no record with the same DOI "
                                        "or title; attach it by hand."))
            continue
        store.add_fulltext(match.id, filename=name, sha256=hashlib.sha256(content).hexdigest(),
                           content=content, text=pdf.full_text, actor=actor)
        results.append(AttachResult(name, match.id, how,
                                    f"{name}: attached to '{match.record.title[:80]}' (same {how})."))
    return results
