"""The audit trail: find who did what and when, say it in plain words, and export it.

Every change in reviewkit writes one line to the append-only ``audit_log`` table inside the
same transaction as the change (see :meth:`reviewkit.store.Store.audit`).  This module only
reads those lines: :func:`find_audit` filters and pages them, :func:`describe` turns one into
a sentence for people, and :func:`write_audit_csv` / :func:`write_audit_jsonl` export them
in a form that :func:`read_audit_csv` / :func:`read_audit_jsonl` read back unchanged.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC

from reviewkit.errors import ReviewkitError
from reviewkit.export_cells import cell_writer, read_cell
from reviewkit.store import AuditEntry, Store
from reviewkit.store import audit as audit_rows
from reviewkit.store.audit import AuditQuery

AUDIT_COLUMNS = ("id", "at", "actor", "review_id", "action", "entity", "entity_id",
                 "description", "details")
EXPORT_FORMATS = ("csv", "jsonl")
STAGE_NAMES = {"title_abstract": "title/abstract", "full_text": "full text"}


def find_audit(store: Store, query: AuditQuery | None = None, *, limit: int | None = None,
               offset: int = 0) -> list[AuditEntry]:
    """Return the audit lines matching ``query``, newest first, ``limit`` at a time."""
    with store.read() as conn:
        return audit_rows.find_lines(conn, query or AuditQuery(), limit=limit, offset=offset)


def count_audit(store: Store, query: AuditQuery | None = None) -> int:
    """How many audit lines match ``query``."""
    with store.read() as conn:
        return audit_rows.count_lines(conn, query or AuditQuery())


def audit_actors(store: Store, review_id: int | None = None) -> list[str]:
    """The names of everyone with a line in the log (of one review), for a filter menu."""
    with store.read() as conn:
        return audit_rows.actor_names(conn, review_id)


def audit_actions(store: Store, review_id: int | None = None) -> list[str]:
    """The kinds of action in the log (of one review), sorted, for a filter menu."""
    with store.read() as conn:
        return audit_rows.action_names(conn, review_id)


# -- plain words ----------------------------------------------------------------------------


def _stage(details: dict) -> str:
    stage = details.get("stage") or ""
    return STAGE_NAMES.get(stage, stage.replace("_", " "))


def _verdict(decision: str | None) -> str:
    return {"include": "included", "exclude": "excluded", "maybe": "marked as maybe",
            "not_retrieved": "marked as report not retrieved"}.get(decision or "",
                                                                    f"decided '{decision}' on")


def _with_reason(text: str, reason: object) -> str:
    reason = " ".join(str(reason or "").split())
    return f"{text}: {reason}" if reason else text


def _code(details: dict) -> str:
    return f"{details.get('scheme', '?')} code '{details.get('code', '?')}'"


def _count(n: object, word: str) -> str:
    n = n if isinstance(n, int) else len(n) if isinstance(n, list | dict) else 0
    return f"{n} {word}{'' if n == 1 else 's'}"


def _describe_decision(e: AuditEntry, d: dict) -> str:
    if e.action == "decision.undo":
        restored = d.get("restored")
        back = f"; their earlier '{restored}' stands again" if restored else ""
        return (f"withdrew their '{d.get('withdrawn')}' on record {e.entity_id} at "
                f"{_stage(d)}{back}")
    if e.action == "decision.resolve":
        return _with_reason(f"settled record {e.entity_id} at {_stage(d)} as "
                            f"'{d.get('decision')}'", d.get("reason"))
    return _with_reason(f"{_verdict(d.get('decision'))} record {e.entity_id} at {_stage(d)}",
                        d.get("reason"))


def _describe_dedup(e: AuditEntry, d: dict) -> str:
    pair = f"records {d.get('left')} and {d.get('right')}"
    return {
        "dedup.run": (f"ran deduplication: {_count(d.get('merged'), 'record')} merged, "
                      f"{_count(d.get('pairs'), 'pair')} to check"),
        "dedup.same": f"marked {pair} as the same work (merged)",
        "dedup.different": f"marked {pair} as different works",
        "dedup.skipped": f"skipped the possible duplicates {pair}",
        "dedup.possible": f"took back the call on {pair} (was '{d.get('was')}')",
        "dedup.unmerge": (f"split the duplicate group of record {e.entity_id} "
                          f"({_count(d.get('records'), 'record')})"),
    }.get(e.action, "")


def _describe_coding(e: AuditEntry, d: dict) -> str:
    record = f"record {e.entity_id}"
    if e.action == "coding.suggest":
        return f"stored {_count(d.get('suggested'), 'code suggestion')} for {record}"
    if e.action == "coding.confirm":
        return f"confirmed {_code(d)} on {record}"
    if e.action == "coding.reject":
        return f"rejected {_code(d)} on {record}"
    if e.action == "coding.finding":
        return _with_reason(f"recorded a '{d.get('direction') or 'no'}' direction of effect "
                            f"for {_code(d)} on {record}", d.get("finding"))
    if e.action == "coding.repoint":
        return (f"moved {_count(d.get('records'), 'record')} from code '{d.get('from')}' to "
                f"'{d.get('to')}'")
    return ""


def _describe_library(e: AuditEntry, d: dict) -> str:
    story = f"story '{d.get('slug') or e.entity_id}'"
    return {
        "library.contribute": f"contributed the {story} (waiting for a moderator)",
        "library.publish": _with_reason(f"published the {story}", d.get("note")),
        "library.reject": _with_reason(f"rejected the {story}", d.get("note")),
        "library.edit": (f"edited the {story} "
                         f"({', '.join(sorted(d.get('new') or {})) or 'no change'})"),
        "library.delete": _with_reason(f"deleted the {story}", d.get("reason")),
        "library.restore": f"restored the {story}",
    }.get(e.action, "")


def _describe_other(e: AuditEntry, d: dict) -> str:
    return {
        "review.create": f"created the review '{d.get('name', '')}'",
        "review.update": f"changed the review's {', '.join(sorted(d)).replace('_', ' ')}",
        "review.delete": _with_reason(f"deleted the review '{d.get('name', '')}'",
                                      d.get("reason")),
        "review.restore": f"restored the review '{d.get('name', '')}'",
        "import.create": (f"imported {d.get('filename')} ({_count(d.get('records'), 'record')}"
                          f", {str(d.get('format', '')).upper()})"),
        "import.delete": _with_reason(
            f"deleted the import {d.get('filename')} ({_count(d.get('records'), 'record')})",
            d.get("reason")),
        "import.restore": (f"restored the import {d.get('filename')} "
                           f"({_count(d.get('records'), 'record')})"),
        "record.delete": _with_reason(f"deleted record {e.entity_id}", d.get("reason")),
        "record.restore": f"restored record {e.entity_id}",
        "fulltext.attach": f"attached the full text {d.get('filename')} to record {e.entity_id}",
        "fulltext.delete": _with_reason(
            f"deleted the full text {d.get('filename')} of record {d.get('record_id')}",
            d.get("reason")),
        "fulltext.restore": (f"restored the full text {d.get('filename')} of record "
                             f"{d.get('record_id')}"),
        "codebook.save": f"saved codebook version {d.get('version')}" + (
            f" ({'; '.join(d['changes'])})" if d.get("changes") else ""),
        "user.create": f"created the account '{d.get('username', e.entity_id)}'",
        **_describe_synthesis(d),
        "search_record.update": (f"recorded the search behind {d.get('filename')}" + (
            f" ({', '.join(sorted(d['changes'])).replace('_', ' ')})"
            if d.get("changes") else "")),
        "round.start": f"started {d.get('round', 'an update round')}" + (
            f" ({d['label']})" if d.get("label") else ""),
    }.get(e.action, "")


def _describe_synthesis(d: dict) -> dict[str, str]:
    cell = f"{d.get('approach')} → {d.get('outcome')}"
    return {
        "synthesis.direction": _with_reason(f"recorded '{d.get('direction')}' as the direction "
                                            f"of effect of record {d.get('record_id')} for {cell}",
                                            d.get("note")),
        "synthesis.direction_clear": (f"withdrew the direction of effect of record "
                                      f"{d.get('record_id')} for {cell}"),
        "synthesis.cell": f"wrote the synthesis of {cell} (resting on records "
                          f"{', '.join(map(str, d.get('studies') or [])) or 'none'})",
        "certainty.rate": (f"rated the certainty of {cell} as "
                           f"{str(d.get('level', '')).replace('_', ' ')} "
                           f"({str(d.get('framework', '')).upper()})"),
        "certainty.verify": f"verified the certainty rating of {cell}",
    }


def _describe_extraction(e: AuditEntry, d: dict) -> str:
    record = f"record {e.entity_id}"
    where = f"'{d.get('field')}'" + (f" for {d['outcome']}" if d.get("outcome") else "")
    change = f"'{d.get('before')}' → '{d.get('after')}'" if d.get("before") else f"'{d.get('after')}'"
    return {
        "extraction.form": f"saved extraction form version {d.get('version')}" + (
            f" ({'; '.join(d['changes'])})" if d.get("changes") else ""),
        "extraction.extraction": f"extracted {where} from {record}: {change}",
        "extraction.consensus": f"set the agreed value of {where} of {record}: {change}",
        "extraction.done": f"marked the extraction of {record} done",
        "extraction.verified": f"verified {d.get('extractor')}'s extraction of {record}",
        "extraction.draft": f"reopened {d.get('extractor')}'s extraction of {record}",
    }.get(e.action, "")


def _describe_appraisal(e: AuditEntry, d: dict) -> str:
    record = f"record {e.entity_id}" + (f" for {d['outcome']}" if d.get("outcome") else "")
    return {
        "appraisal.appraisal": f"appraised {record} with {d.get('tool')}: {d.get('summary')}",
        "appraisal.consensus": (f"saved the agreed {d.get('tool')} appraisal of {record}: "
                                f"{d.get('summary')}"),
        "appraisal.verify": f"verified {d.get('appraiser')}'s {d.get('tool')} appraisal of {record}",
        "appraisal.tool": f"saved the appraisal tool '{d.get('name') or d.get('key')}'",
    }.get(e.action, "")


def describe(entry: AuditEntry) -> str:
    """Say what one audit line records, in a sentence for people.

    >>> from datetime import datetime
    >>> describe(AuditEntry(1, datetime(2024, 5, 1), "maria", 1, "decision.add", "record",
    ...                     "123", {"stage": "title_abstract", "decision": "exclude",
    ...                             "reason": "wrong population"}))
    'maria excluded record 123 at title/abstract: wrong population'
    """
    family = entry.action.split(".", 1)[0]
    explain = {"decision": _describe_decision, "dedup": _describe_dedup,
               "coding": _describe_coding, "library": _describe_library,
               "extraction": _describe_extraction,
               "appraisal": _describe_appraisal}.get(family, _describe_other)
    said = explain(entry, entry.details or {})
    if not said:
        thing = f"{entry.entity} {entry.entity_id}".strip()
        said = f"did '{entry.action}' on {thing}" if thing else f"did '{entry.action}'"
    return f"{entry.actor} {said}"


# -- export ---------------------------------------------------------------------------------


def audit_row(entry: AuditEntry) -> dict:
    """One audit line as plain data: the time in ISO 8601 (UTC) and details as a dict."""
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
    return {"id": entry.id, "at": at.astimezone(UTC).isoformat(), "actor": entry.actor,
            "review_id": entry.review_id, "action": entry.action, "entity": entry.entity,
            "entity_id": entry.entity_id, "description": describe(entry),
            "details": dict(entry.details or {})}


def write_audit_csv(entries: list[AuditEntry]) -> bytes:
    """Write audit lines as CSV in UTF-8 with a BOM (Excel opens it cleanly); details as JSON."""
    out = io.StringIO()
    writer = cell_writer(out)
    writer.writerow(AUDIT_COLUMNS)
    for entry in entries:
        row = audit_row(entry)
        row["details"] = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
        row["review_id"] = "" if row["review_id"] is None else row["review_id"]
        writer.writerow([str(row[name]) for name in AUDIT_COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def write_audit_jsonl(entries: list[AuditEntry]) -> bytes:
    """Write audit lines as JSON lines (UTF-8), one object per line."""
    return "".join(json.dumps(audit_row(e), ensure_ascii=False, sort_keys=True) + "\n"
                   for e in entries).encode("utf-8")


def read_audit_csv(data: bytes) -> list[dict]:
    """Read an audit CSV back into the rows :func:`audit_row` makes."""
    rows = []
    for raw in csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")):
        row = {name: read_cell(raw.get(name) or "") for name in AUDIT_COLUMNS}
        row["id"] = int(row["id"])
        row["review_id"] = int(row["review_id"]) if row["review_id"] else None
        row["details"] = json.loads(row["details"] or "{}")
        rows.append(row)
    return rows


def read_audit_jsonl(data: bytes) -> list[dict]:
    """Read audit JSON lines back into the rows :func:`audit_row` makes."""
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]


def export_audit(store: Store, query: AuditQuery | None = None, *, format: str = "csv"
                 ) -> tuple[bytes, int]:
    """Export every audit line matching ``query`` (newest first); return (bytes, count)."""
    if format not in EXPORT_FORMATS:
        raise ReviewkitError(f"Cannot export the audit log as '{format}'; choose one of "
                             f"{', '.join(EXPORT_FORMATS)}.")
    entries = find_audit(store, query)
    writer = write_audit_csv if format == "csv" else write_audit_jsonl
    return writer(entries), len(entries)
