"""Decisions taken away: each record with its standing, filtered, exported, and read back.

A record's standing at each stage comes from :mod:`reviewkit.screening.status`; a filter
picks records by stage, decision, reason, reviewer and label (a confirmed code); the export writes them as
CSV, Excel or RIS.  In RIS the decisions go in ``N1`` notes in the forms the two peers write
(ASReview: ``ASReview_relevant``/``ASReview_irrelevant``; Rayyan: ``RAYYAN-INCLUSION: {"ana"
=>"Included"} | RAYYAN-EXCLUSION-REASONS: ...``) and in one ``reviewkit-decisions: [...]``
note that keeps every stage, vote, reason and note, so that importing the file into another
review brings the decisions with it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from reviewkit import formats
from reviewkit.errors import ReviewkitError
from reviewkit.export_cells import csv_bytes, xlsx_bytes
from reviewkit.records import Record
from reviewkit.screening.agreement import conflicts_visible, visible_decisions
from reviewkit.screening.rapid import rapid_mode, rapid_plan
from reviewkit.screening.status import (
    FT,
    TA,
    RecordStatus,
    included_ids,
    record_statuses,
    reviewers_required,
    statuses_by_stage,
    votes_needed_by_stage,
)
from reviewkit.store import Decision, Review, Store, StoredRecord
from reviewkit.store.decision_filter import Visibility, VotesNeeded

STAGE_NAMES = {TA: "Title and abstract", FT: "Full text"}
# What a filter or an export calls a record's standing at a stage.
OUTCOMES = {
    "include": "Included", "exclude": "Excluded", "not_retrieved": "Report not retrieved",
    "maybe": "Maybe", "conflict": "Reviewers disagree", "waiting": "Waiting for a reviewer",
    "unscreened": "Not screened",
}
EXPORT_FORMATS = ("csv", "xlsx", "ris")
_RAYYAN_WORDS = {"include": "Included", "exclude": "Excluded", "maybe": "Maybe"}
_ASREVIEW = {"ASReview_relevant": "include", "ASReview_irrelevant": "exclude"}
_OWN_NOTE = "reviewkit-decisions:"


@dataclass
class RecordDecisions:
    """One record with its standing at each stage it reached, as the viewer may see it."""

    stored: StoredRecord
    statuses: dict[str, RecordStatus]  # stage -> standing; full text only once reached
    decisions: list[Decision] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)

    @property
    def record_id(self) -> int:
        return self.stored.id

    @property
    def stage(self) -> str:
        """The furthest stage the record reached."""
        return FT if FT in self.statuses else TA

    def outcome(self, stage: str | None = None) -> str:
        """Its standing (a key of OUTCOMES) at ``stage``, by default the furthest reached."""
        status = self.statuses.get(stage or self.stage)
        if status is None:
            return ""
        return status.final if status.state == "decided" else status.state

    def reason(self, stage: str | None = None) -> str:
        status = self.statuses.get(stage or self.stage)
        return status.reason if status else ""

    def notes(self) -> str:
        return "; ".join(f"{d.reviewer} ({STAGE_NAMES[d.stage].lower()}): {d.note}"
                         for d in self.decisions if d.note)

    def votes(self, stage: str) -> str:
        return "; ".join(f"{d.reviewer}={d.decision}" + (" (settled)" if d.kind == "resolution"
                                                        else "")
                         for d in self.decisions if d.stage == stage)


@dataclass(frozen=True)
class DecisionFilter:
    """Which records to show or export; None matches everything.

    ``decision`` and ``reason`` are read at ``stage`` (or at each record's furthest stage);
    ``stage`` alone keeps the records that reached it.  The store filters with the same rules
    in SQL (:mod:`reviewkit.store.decision_filter`); ``matches`` is the rule for one record in
    hand.
    """

    stage: str | None = None
    decision: str | None = None
    reason: str | None = None
    reviewer: str | None = None
    label: str | None = None
    search: str | None = None

    def matches(self, item: RecordDecisions) -> bool:
        if self.stage and self.stage not in item.statuses:
            return False
        if self.decision and item.outcome(self.stage) != self.decision:
            return False
        if self.reason and self.reason.casefold() not in item.reason(self.stage).casefold():
            return False
        if self.reviewer and not any(d.reviewer == self.reviewer for d in item.decisions
                                     if not self.stage or d.stage == self.stage):
            return False
        return not self.label or self.label in item.labels


def _labels(store: Store, review_id: int) -> dict[int, list[str]]:
    from reviewkit.coding import record_codes_for_review

    out: dict[int, list[str]] = {}
    for code in record_codes_for_review(store, review_id):
        out.setdefault(code.record_id, []).append(code.code)
    return out


def _votes_needed(store: Store, review: Review, seen: dict[str, list[Decision]]
                  ) -> dict[str, VotesNeeded]:
    """The votes each stage needs, as the store's filter takes them."""
    if not rapid_mode(review):
        return dict.fromkeys((TA, FT), VotesNeeded(reviewers_required(review)))
    ids = store.kept_record_ids(review.id)
    first = rapid_plan(store, review, TA, ids, seen[TA], advance=False)
    through = included_ids(record_statuses(seen[TA], ids,
                                           reviewers_required=first.votes_needed))
    second = rapid_plan(store, review, FT, through, seen[FT], advance=False)
    return {TA: VotesNeeded(1, first.needs_two), FT: VotesNeeded(1, second.needs_two)}


def decision_page(store: Store, review: Review, viewer: str, where: DecisionFilter, *,
                  order_by: str = "id", descending: bool = False, limit: int | None = None,
                  offset: int = 0) -> tuple[int, list[RecordDecisions]]:
    """How many kept records match ``where`` and, of them, the page ``limit``/``offset``
    with their decisions; the store filters, so only that page's records are read."""
    seen = {stage: visible_decisions(store, review, store.current_decisions(review.id,
                                                                            stage=stage), viewer)
            for stage in (TA, FT)} if rapid_mode(review) else {}
    total, page = store.filtered_records(
        review.id, search=where.search,
        seen=Visibility(viewer, conflicts_visible(store, review, viewer)),
        needed=_votes_needed(store, review, seen), stage=where.stage, decision=where.decision,
        reason=where.reason, reviewer=where.reviewer, label=where.label, order_by=order_by,
        descending=descending, limit=limit, offset=offset)
    return total, review_decisions(store, review, viewer, records=page)


def review_decisions(store: Store, review: Review, viewer: str,
                     where: DecisionFilter | None = None, *,
                     records: list[StoredRecord] | None = None) -> list[RecordDecisions]:
    """Every kept record matching ``where`` (in import order) with its decisions, as
    ``viewer`` may see them.

    ``records`` gives the records to describe instead (one page of a list, say), kept when
    they match ``where``.  While the review is blinded a reviewer sees only their own votes,
    so the standing shown to them is the one their votes give.
    """
    if records is None:
        return decision_page(store, review, viewer, where or DecisionFilter())[1]
    where = where or DecisionFilter()
    ids = store.kept_record_ids(review.id)
    seen = {stage: visible_decisions(store, review, store.current_decisions(review.id,
                                                                            stage=stage), viewer)
            for stage in (TA, FT)}
    status = statuses_by_stage(seen, ids, reviewers_required=votes_needed_by_stage(store, review))
    first, second = status.stages[TA], status.stages[FT]
    by_record: dict[int, list[Decision]] = {}
    for stage in (TA, FT):
        for d in seen[stage]:
            by_record.setdefault(d.record_id, []).append(d)
    labels = _labels(store, review.id)
    out = []
    for stored in records:
        statuses = {TA: first[stored.id]} if stored.id in first else {}
        if stored.id in second:
            statuses[FT] = second[stored.id]
        item = RecordDecisions(stored, statuses, by_record.get(stored.id, []),
                               sorted(set(labels.get(stored.id, []))))
        if where.matches(item):
            out.append(item)
    return out


def filter_choices(store: Store, review: Review, viewer: str) -> dict[str, list[str]]:
    """The reasons, reviewers and labels a filter can pick from (without reading records)."""
    seen = [d for stage in (TA, FT) for d in visible_decisions(
        store, review, store.current_decisions(review.id, stage=stage), viewer)]
    from reviewkit.review_settings import exclusion_reasons

    reasons = set(exclusion_reasons(review)) | {d.reason for d in seen if d.reason}
    return {"reason": sorted(reasons), "reviewer": sorted({d.reviewer for d in seen}),
            "label": sorted({x for labels in _labels(store, review.id).values() for x in labels})}


def change_decision(store: Store, record_id: int, *, stage: str, decision: str, actor: str,
                    reason: str = "", note: str = "", settle: bool = False) -> Decision:
    """Change a past decision: ``actor``'s earlier vote is superseded (kept in the history);
    ``settle`` records it as the lead's settling decision instead."""
    return store.add_decision(record_id, stage=stage, decision=decision, reviewer=actor,
                              reason=reason if decision == "exclude" else "", note=note,
                              kind="resolution" if settle else "vote")


# -- export -----------------------------------------------------------------------------

RECORD_COLUMNS = ("record_id", "title", "authors", "year", "journal", "volume", "issue",
                  "pages", "doi", "pmid", "abstract", "keywords", "database")
DECISION_COLUMNS = ("stage", "decision", "reason", "title_abstract_decision",
                    "title_abstract_reason", "title_abstract_votes", "full_text_decision",
                    "full_text_reason", "full_text_votes", "notes", "labels")


def _row(item: RecordDecisions) -> list:
    rec = item.stored.record
    cells = [item.record_id, rec.title, "; ".join(rec.authors), rec.year or "", rec.journal,
             rec.volume, rec.issue, rec.pages, rec.doi, rec.pmid, rec.abstract,
             "; ".join(rec.keywords), rec.database]
    cells += [item.stage, item.outcome(), item.reason()]
    for stage in (TA, FT):
        cells += [item.outcome(stage), item.reason(stage), item.votes(stage)]
    cells += [item.notes(), "; ".join(item.labels)]
    return cells


def asreview_label(item: RecordDecisions) -> int | None:
    """The label ASReview reads for a record: 1 relevant, 0 irrelevant (excluded, or its
    report not retrieved), None while undecided; the furthest stage decided counts, so a
    record included at title and abstract and waiting for its full text is relevant."""
    for stage in (FT, TA):
        outcome = item.outcome(stage) if stage in item.statuses else ""
        if outcome == "include":
            return 1
        if outcome in ("exclude", "not_retrieved"):
            return 0
    return None


def decision_notes(item: RecordDecisions) -> list[str]:
    """The ``N1`` notes that carry a record's decisions in RIS (ASReview, Rayyan, reviewkit)."""
    notes = []
    label = asreview_label(item)
    if label is not None:
        notes.append("ASReview_relevant" if label else "ASReview_irrelevant")
    stage_votes = [d for d in item.decisions if d.stage == item.stage and d.kind == "vote"]
    parts = []
    calls = {d.reviewer: _RAYYAN_WORDS[d.decision] for d in stage_votes
             if d.decision in _RAYYAN_WORDS}
    if calls:
        parts.append("RAYYAN-INCLUSION: {" + ", ".join(
            f'"{who}"=>"{word}"' for who, word in calls.items()) + "}")
    if item.labels:
        parts.append("RAYYAN-LABELS: " + ", ".join(item.labels))
    reasons = sorted({d.reason for d in item.decisions if d.stage == item.stage and d.reason})
    if reasons:
        parts.append("RAYYAN-EXCLUSION-REASONS: " + ", ".join(reasons))
    if parts:
        notes.append(" | ".join(parts))
    if item.decisions:
        notes.append(_OWN_NOTE + " " + json.dumps(
            [{"stage": d.stage, "reviewer": d.reviewer, "decision": d.decision,
              "reason": d.reason, "note": d.note, "kind": d.kind} for d in item.decisions],
            ensure_ascii=False))
    return notes


def _ris(items: list[RecordDecisions]) -> bytes:
    out = []
    for item in items:
        rec = item.stored.record
        if not rec.source_id:
            rec.source_id = str(item.record_id)
        text = formats.write_ris([rec]).rstrip("\n")
        lines = text.split("\n")
        end = max(i for i, line in enumerate(lines) if line.startswith("ER  -"))
        extra = [f"N1  - {' '.join(note.split())}" for note in decision_notes(item)]
        out.extend(lines[:end] + extra + lines[end:] + [""])
    return "\r\n".join(out).encode("utf-8")


def export_plain(items: list[RecordDecisions], format: str) -> bytes:
    """Write the records alone (no decisions) in one of the record formats."""
    out = []
    for item in items:
        rec = item.stored.record
        rec.source_id = rec.source_id or str(item.record_id)
        out.append(rec)
    return formats.write_records(out, format)


def export_decisions(items: list[RecordDecisions], format: str) -> bytes:
    """Write records with their decisions, reasons, votes and notes as CSV, XLSX or RIS."""
    if format == "csv":
        return csv_bytes([*RECORD_COLUMNS, *DECISION_COLUMNS], map(_row, items), bom=True)
    if format == "xlsx":
        return xlsx_bytes({"Records": ([*RECORD_COLUMNS, *DECISION_COLUMNS],
                                       [_row(i) for i in items])})
    if format == "ris":
        return _ris(items)
    raise ReviewkitError(f"Cannot export decisions as '{format}'; choose one of "
                         f"{', '.join(EXPORT_FORMATS)}.")


# -- read back ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportedCall:
    """A decision found in an imported file, before it is stored."""

    stage: str
    decision: str
    reason: str = ""
    reviewer: str = ""
    note: str = ""
    kind: str = "vote"


_RAYYAN_INCLUSION = re.compile(r"RAYYAN-INCLUSION:\s*\{(.*?)\}")
_RAYYAN_PAIR = re.compile(r'"([^"]*)"\s*=>\s*"(Included|Excluded|Maybe)"')
_RAYYAN_REASONS = re.compile(r"RAYYAN-EXCLUSION-REASONS:\s*([^|]*)")
_RAYYAN_WORD_CALLS = {word: call for call, word in _RAYYAN_WORDS.items()}


def _note_lines(record: Record) -> list[str]:
    lines = [record.notes] if record.notes else []
    return lines + list(record.extra.get("N1", []))


def _is_decision_note(line: str) -> bool:
    text = line.strip()
    return text in _ASREVIEW or text.startswith((_OWN_NOTE, "RAYYAN-INCLUSION:"))


def _without_marks(line: str) -> str:
    """A note line less the decision marks in it (Rayyan puts its marks after the file's own
    notes on one line: 'Export Date: ... | RAYYAN-INCLUSION: ...')."""
    if _is_decision_note(line):
        return ""
    if "RAYYAN-" not in line:
        return line
    parts = [part.strip() for part in line.split(" | ")]
    return " | ".join(p for p in parts if not p.startswith(("RAYYAN-", "USER-NOTES:")))


# The kinds of decision mark a file can carry, as ``read_decision_notes`` names them.
NOTE_KINDS = ("reviewkit", "rayyan", "asreview")
_RAYYAN_USER_NOTES = re.compile(r'USER-NOTES:\s*\{(.*?)\}\s*(?:\||$)')
_RAYYAN_USER_NOTE = re.compile(r'"([^"]*)"\s*=>\s*\[(.*?)\]')
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _own_calls(lines: list[str]) -> list[ImportedCall]:
    for line in lines:
        if line.strip().startswith(_OWN_NOTE):
            try:
                found = json.loads(line.strip()[len(_OWN_NOTE):])
                return [ImportedCall(d["stage"], d["decision"], d.get("reason", ""),
                                     d.get("reviewer", ""), d.get("note", ""),
                                     d.get("kind", "vote")) for d in found]
            except (ValueError, KeyError, TypeError):
                return []
    return []


def _rayyan_calls(lines: list[str]) -> list[ImportedCall]:
    for line in lines:
        inclusion = _RAYYAN_INCLUSION.search(line)
        if not inclusion:
            continue
        reasons = _RAYYAN_REASONS.search(line)
        reason = reasons.group(1).strip().split(",")[0].strip() if reasons else ""
        notes: dict[str, str] = {}
        user_notes = _RAYYAN_USER_NOTES.search(line)
        if user_notes:
            for who, said in _RAYYAN_USER_NOTE.findall(user_notes.group(1)):
                notes[who] = "; ".join(_QUOTED.findall(said))
        return [ImportedCall(TA, _RAYYAN_WORD_CALLS[word], reason if word == "Excluded"
                             else "", who, notes.get(who, ""))
                for who, word in _RAYYAN_PAIR.findall(inclusion.group(1))]
    return []


def _asreview_calls(lines: list[str]) -> list[ImportedCall]:
    return [ImportedCall(TA, _ASREVIEW[line.strip()]) for line in lines
            if line.strip() in _ASREVIEW][:1]


_READERS = {"reviewkit": _own_calls, "rayyan": _rayyan_calls, "asreview": _asreview_calls}


def read_decision_notes(record: Record, *, kinds: tuple[str, ...] = NOTE_KINDS
                        ) -> list[ImportedCall]:
    """Find decisions a RIS record carries in its notes, and take those notes off it.

    The first of ``kinds`` that finds any wins: reviewkit's own note (every stage and vote),
    Rayyan's inclusion note with its reasons and user notes, ASReview's label; Rayyan's and
    ASReview's are title-and-abstract calls.
    """
    lines = _note_lines(record)
    calls: list[ImportedCall] = []
    for kind in kinds:
        calls = _READERS[kind](lines)
        if calls:
            break
    if calls:
        kept = [rest for rest in map(_without_marks, lines) if rest]
        record.notes = kept[0] if kept else ""
        if kept[1:]:
            record.extra["N1"] = kept[1:]
        else:
            record.extra.pop("N1", None)
    return calls


def settled_calls(calls: list[ImportedCall], *, source: str) -> list[ImportedCall]:
    """One call per stage from a file's votes: the settling one, else the agreed one, else
    'maybe'; the note says where it came from and who voted what."""
    out = []
    for stage in (TA, FT):
        here = [c for c in calls if c.stage == stage and c.decision]
        if not here:
            continue
        settled = [c for c in here if c.kind == "resolution"]
        agreed = {c.decision for c in here}
        if settled:
            final = settled[-1]
        elif len(agreed) == 1:
            final = here[0]
        else:
            final = ImportedCall(stage, "maybe")
        who = ", ".join(f"{c.reviewer or 'someone'} {c.decision}" for c in here)
        notes = "; ".join(c.note for c in here if c.note)
        note = f"Imported from {source}: {who}" + (f". Notes: {notes}" if notes else "")
        reason = final.reason or next((c.reason for c in here if c.reason), "")
        out.append(ImportedCall(stage, final.decision, reason if final.decision == "exclude"
                                else "", note=note))
    if out and out[0].stage == FT:
        # a full-text call means the record got through title and abstract
        out.insert(0, ImportedCall(TA, "include", note=f"Imported from {source}"))
    if len(out) == 2 and out[0].decision != "include":
        out = out[:1]
    return out
