"""Data that moves between reviewkit and the tools researchers also use.

- **ASReview**: a labelled CSV (``label_included`` 1/0, empty while undecided) that ASReview
  reads as prior knowledge or a simulation set; ASReview's own exported CSV (its label column)
  read back as decisions.  RIS with decisions (``ASReview_relevant`` notes) is the
  decisions export of :mod:`reviewkit.decisions`.
- **Rayyan**: its CSV and RIS carry the decisions in notes (``RAYYAN-INCLUSION: {"Ana"=>
  "Included"}``), read by :func:`reviewkit.decisions.read_decision_notes`.
- **Zotero**: a RIS whose decisions and codes are keywords (``reviewkit:included``,
  ``approach:social_prescribing``), which Zotero keeps as tags and writes back as ``KW``;
  importing that file again brings the decisions back.
- **EPPI-Reviewer / EPPI-Mapper**: the coded studies and the codebook as EPPI JSON.
"""

from __future__ import annotations

import json

from reviewkit import formats
from reviewkit.decisions import (
    FT,
    NOTE_KINDS,
    TA,
    ImportedCall,
    RecordDecisions,
    asreview_label,
    read_decision_notes,
)
from reviewkit.errors import ReviewkitError
from reviewkit.export_cells import csv_bytes
from reviewkit.formats.eppi import CodedStudy, CodeScheme, StudyCode, check_eppi, write_eppi
from reviewkit.records import Record

# Where an imported file's decisions are read from: every kind reviewkit knows ('auto'),
# one tool's marks only, or none.
DECISION_SOURCES = ("auto", "reviewkit", "rayyan", "asreview", "zotero", "none")
# The columns ASReview reads a record's label from, in the order it looks for them.
LABEL_COLUMNS = ("label_included", "included", "final_included", "label", "included_label",
                 "included_final", "included_flag", "include", "asreview_label")
ASREVIEW_COLUMNS = ("record_id", "title", "abstract", "authors", "year", "journal", "doi",
                    "keywords", "url", "label_included")
TAG_PREFIX = "reviewkit:"
# A record's standing as a Zotero tag, and back.
_STANDING_TAGS = {"include": "included", "exclude": "excluded", "maybe": "maybe",
                  "not_retrieved": "not-retrieved", "conflict": "conflict",
                  "waiting": "waiting", "unscreened": "not-screened"}
_TAG_CALLS = {"included": "include", "excluded": "exclude", "maybe": "maybe",
              "not-retrieved": "not_retrieved"}
_FULL_TEXT_TAG = TAG_PREFIX + "full-text"
_REASON_TAG = TAG_PREFIX + "reason:"


def _export_record(item: RecordDecisions) -> Record:
    rec = item.stored.record
    rec.source_id = rec.source_id or str(item.record_id)
    return rec


# -- ASReview ------------------------------------------------------------------------------

def write_asreview_csv(items: list[RecordDecisions]) -> bytes:
    """Write records as the labelled CSV ASReview reads (no BOM: ASReview would keep it in
    the first column's name)."""
    rows = []
    for item in items:
        rec = item.stored.record
        label = asreview_label(item)
        rows.append([item.record_id, rec.title, rec.abstract, "; ".join(rec.authors),
                     rec.year or "", rec.journal, rec.doi, "; ".join(rec.keywords), rec.url,
                     "" if label is None else label])
    return csv_bytes(ASREVIEW_COLUMNS, rows)


def read_label_column(record: Record) -> list[ImportedCall]:
    """Take ASReview's label column (1 relevant, 0 irrelevant, empty unseen) off a record read
    from a CSV, as a title-and-abstract call."""
    lowered = {key.strip().lower(): key for key in record.extra}
    for name in LABEL_COLUMNS:
        key = lowered.get(name)
        if key is None:
            continue
        value = " ".join(record.extra.pop(key)).strip().lower()
        if value in ("1", "1.0", "true", "yes", "relevant", "included"):
            return [ImportedCall(TA, "include")]
        if value in ("0", "0.0", "false", "no", "irrelevant", "excluded"):
            return [ImportedCall(TA, "exclude")]
        return []
    return []


# -- Zotero --------------------------------------------------------------------------------

def zotero_tags(item: RecordDecisions, codes: list[tuple[str, str]] = ()) -> list[str]:
    """The tags that carry a record's decisions and codes in a Zotero library."""
    decided = [stage for stage in (FT, TA) if stage in item.statuses
               and item.outcome(stage) in ("include", "exclude", "maybe", "not_retrieved")]
    stage = decided[0] if decided else item.stage
    tags = [TAG_PREFIX + _STANDING_TAGS[item.outcome(stage)]] if item.outcome(stage) else []
    if stage == FT:
        tags.append(_FULL_TEXT_TAG)
    if item.reason(stage):
        tags.append(_REASON_TAG + " ".join(item.reason(stage).split()))
    tags.extend(f"{scheme}:{code}" for scheme, code in codes)
    return tags


def write_zotero_ris(items: list[RecordDecisions],
                     codes: dict[int, list[tuple[str, str]]] | None = None) -> bytes:
    """Write records as RIS with their decisions and confirmed codes as keywords (tags)."""
    codes = codes or {}
    out = []
    for item in items:
        rec = _export_record(item)
        tags = zotero_tags(item, codes.get(item.record_id, []))
        out.append(Record.from_dict({**rec.to_dict(),
                                     "keywords": [*rec.keywords,
                                                  *(t for t in tags if t not in rec.keywords)]}))
    return formats.write_records(out, "ris")


def read_zotero_tags(record: Record) -> list[ImportedCall]:
    """Take reviewkit's decision tags off a record's keywords, as the calls they stand for.

    ``reviewkit:full-text`` says the standing is the full-text one (the record got through
    title and abstract); a standing that is no decision (conflict, waiting) brings no call.
    """
    mine = [k for k in record.keywords if k.strip().lower().startswith(TAG_PREFIX)]
    if not mine:
        return []
    record.keywords = [k for k in record.keywords if k not in mine]
    tags = [k.strip() for k in mine]
    full_text = any(t.lower() == _FULL_TEXT_TAG for t in tags)
    reason = next((t[len(_REASON_TAG):].strip() for t in tags
                   if t.lower().startswith(_REASON_TAG)), "")
    for tag in tags:
        call = _TAG_CALLS.get(tag[len(TAG_PREFIX):].lower())
        if call:
            stage = FT if full_text else TA
            calls = [ImportedCall(stage, call, reason if call == "exclude" else "")]
            return ([ImportedCall(TA, "include")] + calls) if full_text else calls
    return []


# -- reading any of them -------------------------------------------------------------------

def read_file_decisions(record: Record, *, source: str = "auto") -> list[ImportedCall]:
    """The decisions an imported record carries, read the way ``source`` says.

    'auto' reads reviewkit's, Rayyan's and ASReview's notes and reviewkit's Zotero tags;
    'asreview' also reads a CSV's label column; a named tool reads only its own marks.
    """
    if source not in DECISION_SOURCES:
        raise ReviewkitError(f"Decisions cannot be read from '{source}'; choose one of "
                             f"{', '.join(DECISION_SOURCES)}.")
    if source == "none":
        return []
    if source == "zotero":
        return read_zotero_tags(record)
    if source == "asreview":
        return read_decision_notes(record, kinds=("asreview",)) or read_label_column(record)
    kinds = NOTE_KINDS if source == "auto" else (source,)
    calls = read_decision_notes(record, kinds=kinds)
    if not calls and source in ("auto", "reviewkit"):
        calls = read_zotero_tags(record)
    return calls


# -- EPPI-Reviewer / EPPI-Mapper -------------------------------------------------------------

def eppi_studies(store, review, items: list[RecordDecisions]) -> tuple[list[CodedStudy],
                                                                      list[CodeScheme]]:
    """The coded studies among ``items`` (those with a confirmed code) and the codebook."""
    from reviewkit.codebook import review_codebook
    from reviewkit.coding import record_codes_for_review

    by_record: dict[int, list[StudyCode]] = {}
    for code in record_codes_for_review(store, review.id):
        by_record.setdefault(code.record_id, []).append(
            StudyCode(code.scheme, code.code, code.direction or "", code.finding or ""))
    codebook = review_codebook(store, review.id)
    schemes = [CodeScheme(name, scheme.label, [(c.code, c.label, c.description)
                                               for c in scheme.codes])
               for name, scheme in codebook.schemes.items()]
    studies = [CodedStudy(item.record_id, item.stored.record, by_record[item.record_id])
               for item in items if item.record_id in by_record]
    return studies, schemes


def export_eppi(store, review, items: list[RecordDecisions]) -> bytes:
    """Write the coded studies among ``items`` and the review's codebook as EPPI JSON."""
    studies, schemes = eppi_studies(store, review, items)
    data = write_eppi(studies, schemes, set_name=f"{review.name} (reviewkit codebook)")
    problems = check_eppi(data)
    if problems:  # a bug, never the user's data: refuse rather than write a broken file
        raise ReviewkitError("The EPPI export is inconsistent: " + "; ".join(problems[:3]))
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def review_codes(store, review_id: int) -> dict[int, list[tuple[str, str]]]:
    """Each record's confirmed codes as (scheme, code) pairs."""
    from reviewkit.coding import record_codes_for_review

    out: dict[int, list[tuple[str, str]]] = {}
    for code in record_codes_for_review(store, review_id):
        out.setdefault(code.record_id, []).append((code.scheme, code.code))
    return out


EXPORTS = {"asreview": ("csv", "text/csv"), "zotero": ("ris", "application/x-research-info-systems"),
           "eppi": ("json", "application/json")}


def export_for_tool(store, review, items: list[RecordDecisions], tool: str) -> bytes:
    """Write ``items`` for another tool: 'asreview' (labelled CSV), 'zotero' (RIS with tags)
    or 'eppi' (EPPI-Reviewer/Mapper JSON of the coded studies)."""
    if tool == "asreview":
        return write_asreview_csv(items)
    if tool == "zotero":
        return write_zotero_ris(items, review_codes(store, review.id))
    if tool == "eppi":
        return export_eppi(store, review, items)
    raise ReviewkitError(f"Cannot export for '{tool}'; choose one of {', '.join(EXPORTS)}.")
