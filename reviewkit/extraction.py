"""Data extraction: a form per review, values per included study, checked by a second person.

A review starts from :data:`DEFAULT_FIELDS`, a template for public-health reviews; its lead
may change the form (:func:`save_form`).  A field is text, a number, one choice or several
choices, asked once per study or once per outcome of the study (the outcomes the study was
coded with, or any the extractor names).

Two ways of checking, as the review chooses:

* ``verify`` (the default, as Cochrane's rapid-review guidance recommends): one person
  extracts and marks the study done; a second person checks it, correcting values where
  needed, and verifies it.
* ``reconcile``: two people extract the same study independently; where their values differ
  the team agrees one value (:func:`differences`, :func:`reconcile`).

Every value and every status change is one audit line.  :func:`final_values` gives the value
each field ends with, which the exports (:func:`export_csv`, :func:`export_xlsx`) write and
:func:`read_export` reads back.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from reviewkit import accounts
from reviewkit.errors import NotFoundError, ReviewkitError
from reviewkit.export_cells import csv_bytes, read_cell, xlsx_bytes
from reviewkit.store import Review, Store
from reviewkit.store import extraction as rows

KINDS = ("text", "number", "choice", "multi_choice")
KIND_NAMES = {"text": "text", "number": "number", "choice": "one choice",
              "multi_choice": "several choices"}
PER = ("study", "outcome")
WORKFLOWS = {
    "verify": "One person extracts, a second verifies",
    "reconcile": "Two people extract, then agree one value",
}
STATUSES = ("not started", "draft", "done", "to reconcile", "verified")
MULTI_SEPARATOR = "; "
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


@dataclass(frozen=True)
class Field:
    """One question of the form."""

    key: str
    label: str
    kind: str = "text"
    per: str = "study"  # study | outcome
    options: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class Form:
    fields: tuple[Field, ...]
    workflow: str = "verify"
    version: int = 0  # 0: the starting template, never saved for this review

    def get(self, key: str) -> Field:
        found = next((f for f in self.fields if f.key == key), None)
        if found is None:
            raise NotFoundError(f"The extraction form has no field '{key}'.")
        return found

    @property
    def study_fields(self) -> list[Field]:
        return [f for f in self.fields if f.per == "study"]

    @property
    def outcome_fields(self) -> list[Field]:
        return [f for f in self.fields if f.per == "outcome"]


DIRECTION_OPTIONS = ("favours the approach", "no clear difference", "mixed or inconsistent",
                     "favours the comparison", "not reported")

DEFAULT_FIELDS: tuple[Field, ...] = (
    Field("setting", "Setting and place", help="Where the approach ran: country, town or "
          "neighbourhood, and the kind of place (estate, school, GP practice, online)."),
    Field("population", "Population", help="Who took part or was reached: numbers, ages, "
          "circumstances (for example older people living alone, residents of deprived wards)."),
    Field("approach", "Approach as delivered", help="What was actually done, by whom, how "
          "often and for how long, including changes from what was planned."),
    Field("comparison", "Comparison", help="What the approach was compared with (other areas, "
          "usual services, before and after, none)."),
    Field("sample_size", "Number of participants", kind="number",
          help="People (or households) in the analysis; leave empty when not reported."),
    Field("follow_up", "Follow-up", help="How long after the start outcomes were measured."),
    Field("cost", "Cost where reported", help="Costs or savings reported, with the year and "
          "currency; leave empty when the study reports none."),
    Field("measure", "Outcome measure", per="outcome", help="How this outcome was measured or "
          "explored (survey item, validated scale, interviews)."),
    Field("result", "Result", per="outcome", help="What the study found for this outcome, with "
          "figures and confidence intervals where given."),
    Field("direction", "Direction of effect", kind="choice", per="outcome",
          options=DIRECTION_OPTIONS,
          help="Which way the result points for this outcome, as the study reports it."),
)


def default_form() -> Form:
    """The starting template for public-health reviews (checked by a second person)."""
    return Form(DEFAULT_FIELDS, "verify", 0)


# -- the form as plain data -----------------------------------------------------------------


def field_to_dict(item: Field) -> dict:
    return {"key": item.key, "label": item.label, "kind": item.kind, "per": item.per,
            "options": list(item.options), "help": item.help}


def field_from_dict(data: dict) -> Field:
    """Build a field from plain data, refusing what a form cannot hold (the message says which)."""
    if not isinstance(data, dict):
        raise ReviewkitError("Each field of an extraction form must be a mapping.")
    key = str(data.get("key") or "").strip()
    label = " ".join(str(data.get("label") or "").split())
    where = f"Field '{key or label or '?'}'"
    if not _KEY_RE.match(key):
        raise ReviewkitError(f"{where}: the key must start with a lower-case letter and hold "
                             "only lower-case letters, digits and underscores (60 at most).")
    kind = str(data.get("kind") or "text")
    if kind not in KINDS:
        raise ReviewkitError(f"{where}: the kind must be one of {', '.join(KINDS)}, not '{kind}'.")
    per = str(data.get("per") or "study")
    if per not in PER:
        raise ReviewkitError(f"{where}: it is asked per study or per outcome, not '{per}'.")
    options = tuple(_unique(str(o) for o in data.get("options") or []))
    if kind in ("choice", "multi_choice") and len(options) < 2:
        raise ReviewkitError(f"{where}: a choice needs at least two options.")
    if kind not in ("choice", "multi_choice"):
        options = ()
    return Field(key, label or key, kind, per, options,
                 " ".join(str(data.get("help") or "").split()))


def form_to_dict(form: Form) -> dict:
    return {"workflow": form.workflow, "fields": [field_to_dict(f) for f in form.fields]}


def form_from_dict(data: dict, *, version: int = 0) -> Form:
    """Build a form from plain data; keys must be unique and the workflow known."""
    workflow = str(data.get("workflow") or "verify")
    if workflow not in WORKFLOWS:
        raise ReviewkitError(f"The workflow must be one of {', '.join(WORKFLOWS)}, "
                             f"not '{workflow}'.")
    fields = tuple(field_from_dict(item) for item in data.get("fields") or [])
    if not fields:
        raise ReviewkitError("An extraction form needs at least one field.")
    seen: set[str] = set()
    for item in fields:
        if item.key in seen:
            raise ReviewkitError(f"The extraction form has two fields with the key '{item.key}'.")
        seen.add(item.key)
    return Form(fields, workflow, version)


def form_changes(old: Form, new: Form) -> list[str]:
    """Say, one short line each, what differs between two forms."""
    said = []
    if old.workflow != new.workflow:
        said.append(f"workflow {old.workflow} -> {new.workflow}")
    before = {f.key: f for f in old.fields}
    after = {f.key: f for f in new.fields}
    for key in [f.key for f in old.fields if f.key not in after]:
        said.append(f"{key} removed")
    for item in new.fields:
        if item.key not in before:
            said.append(f"{item.key} added")
        elif before[item.key] != item:
            parts = [p for p in ("label", "kind", "per", "options", "help")
                     if getattr(before[item.key], p) != getattr(item, p)]
            said.append(f"{item.key} {', '.join(parts)} changed")
    if [f.key for f in old.fields if f.key in after] != [f.key for f in new.fields
                                                          if f.key in before]:
        said.append("fields reordered")
    return said


def _unique(items: Iterable[str]) -> list[str]:
    seen, out = set(), []
    for item in items:
        item = " ".join(item.split())
        if item and item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out


# -- the review's form in the database --------------------------------------------------------


def review_form(store: Store, review_id: int) -> Form:
    """The review's extraction form: its saved one, else the starting template."""
    with store.read() as conn:
        saved = rows.read_form(conn, review_id)
    if saved is None:
        return default_form()
    return form_from_dict({"workflow": saved.workflow, "fields": saved.fields},
                          version=saved.version)


def save_form(store: Store, review: Review, form: Form, *, actor: str) -> tuple[int | None, list[str]]:
    """Save an edited form as the review's next version; only the review's lead may.

    Returns (version, what changed); nothing is saved, and the version is None, when the form
    is unchanged.  Values already extracted for a removed field stay stored (and come back if
    the field does).
    """
    accounts.require(store, actor, "review.manage", review_id=review.id)
    checked = form_from_dict(form_to_dict(form))
    current = review_form(store, review.id)
    changes = form_changes(current, checked)
    if not changes and current.version:
        return None, []
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:
        version = rows.write_form(conn, review.id, form_to_dict(checked)["fields"],
                                  checked.workflow, actor_id,
                                  changes=changes or ["starting template saved"])
    return version, changes


# -- values ----------------------------------------------------------------------------------


def parse_value(item: Field, raw) -> object:
    """Turn what someone typed or chose into the stored value for ``item`` (None: empty).

    Text is kept as typed (trimmed); a number accepts a comma as decimal point; a choice must
    be one of the options; several choices are a list (or text split at ';').
    """
    where = f"'{item.label}'"
    if raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []:
        return None
    if item.kind == "text":
        return str(raw).strip()
    if item.kind == "number":
        if isinstance(raw, bool):
            raise ReviewkitError(f"{where} needs a number, not {raw!r}.")
        if isinstance(raw, int | float):
            number = float(raw)
        else:
            text = str(raw).strip().replace(",", ".")
            try:
                number = float(text)
            except ValueError:
                raise ReviewkitError(f"{where} needs a number, not '{raw}'.") from None
        if not math.isfinite(number):
            raise ReviewkitError(f"{where} needs a finite number, not '{raw}'.")
        return int(number) if number.is_integer() else number
    if item.kind == "choice":
        choice = " ".join(str(raw).split())
        match = _option(item, choice)
        if match is None:
            raise ReviewkitError(f"{where} must be one of: {', '.join(item.options)} "
                                 f"(not '{choice}').")
        return match
    chosen = raw if isinstance(raw, list | tuple) else str(raw).split(";")
    out = []
    for choice in _unique(str(c) for c in chosen):
        match = _option(item, choice)
        if match is None:
            raise ReviewkitError(f"{where} may hold only: {', '.join(item.options)} "
                                 f"(not '{choice}').")
        out.append(match)
    return [o for o in item.options if o in out] or None


def _option(item: Field, choice: str) -> str | None:
    return next((o for o in item.options if o.lower() == choice.lower()), None)


def show_value(value) -> str:
    """A stored value as plain text (several choices joined by '; ')."""
    if value is None:
        return ""
    if isinstance(value, list):
        return MULTI_SEPARATOR.join(str(v) for v in value)
    return str(value)


def _require_included(store: Store, review: Review, record_id: int) -> None:
    from reviewkit.screening.status import included_record_ids

    if record_id not in included_record_ids(store, review):
        raise ReviewkitError(f"Record {record_id} is not an included study of the review "
                             f"'{review.name}', so nothing is extracted from it.")


def enter_value(store: Store, review: Review, record_id: int, key: str, raw, *, actor: str,
                outcome: str = "") -> object:
    """Store one value the actor extracted (a draft until the study is marked done).

    Returns the stored value.  A field asked per outcome needs the outcome it is for.
    """
    outcome, value, actor_id = _checked_entry(store, review, record_id, key, raw, actor, outcome)
    with store.write() as conn:
        mine = [v for v in rows.current_values(conn, review.id, [record_id])
                if v.kind == "extraction" and v.entered_by == actor
                and v.field == key and v.outcome == outcome]
        before = mine[-1].value if mine else None
        if mine and before == value:
            return value
        rows.write_value(conn, review.id, record_id, field=key, outcome=outcome,
                         kind="extraction", value=value, status="draft", actor_id=actor_id,
                         before=show_value(before), after=show_value(value))
    return value


def _checked_entry(store: Store, review: Review, record_id: int, key: str, raw, actor: str,
                   outcome: str) -> tuple[str, object, int]:
    """Check who, which study, which field and the value: (outcome, value, actor's id)."""
    accounts.require(store, actor, "extract", review_id=review.id)
    _require_included(store, review, record_id)
    item = review_form(store, review.id).get(key)
    outcome = _outcome_for(item, outcome)
    value = parse_value(item, raw)
    return outcome, value, store.ensure_user(actor).id


def enter_values(store: Store, review: Review, record_id: int, values: dict, *, actor: str,
                 outcome: str = "") -> int:
    """Store several values at once ({field key: raw}); all are checked before any is stored.

    Returns how many changed.
    """
    form = review_form(store, review.id)
    for key, raw in values.items():
        parse_value(form.get(key), raw)
    changed = 0
    for key, raw in values.items():
        before = _mine(store, review, record_id, actor, key, _outcome_for(form.get(key), outcome))
        value = enter_value(store, review, record_id, key, raw, actor=actor, outcome=outcome)
        changed += before != value
    return changed


def _mine(store: Store, review: Review, record_id: int, actor: str, key: str, outcome: str):
    with store.read() as conn:
        mine = [v.value for v in rows.current_values(conn, review.id, [record_id])
                if v.kind == "extraction" and v.entered_by == actor and v.field == key
                and v.outcome == outcome]
    return mine[-1] if mine else None


def _outcome_for(item: Field, outcome: str) -> str:
    outcome = " ".join((outcome or "").split())
    if item.per == "outcome" and not outcome:
        raise ReviewkitError(f"'{item.label}' is asked per outcome: say which outcome.")
    if item.per == "study":
        return ""
    if len(outcome) > 120:
        raise ReviewkitError(f"The outcome name is too long ({len(outcome)} characters; 120 at most).")
    return outcome


def mark_done(store: Store, review: Review, record_id: int, *, actor: str) -> int:
    """Mark the actor's extraction of a study done, ready to verify or reconcile."""
    accounts.require(store, actor, "extract", review_id=review.id)
    _require_included(store, review, record_id)
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:
        mine = [v for v in rows.current_values(conn, review.id, [record_id])
                if v.kind == "extraction" and v.entered_by == actor]
        if not mine:
            raise ReviewkitError(f"{actor} has extracted nothing from record {record_id} yet.")
        return rows.set_status(conn, review.id, record_id, entered_by=actor_id, status="done",
                               actor_id=actor_id)


def verify_study(store: Store, review: Review, record_id: int, *, actor: str,
                 corrections: dict | None = None, outcome_corrections: dict | None = None
                 ) -> int:
    """Verify another person's finished extraction of a study (the ``verify`` workflow).

    ``corrections`` ({field key: raw}) and ``outcome_corrections`` ({(outcome, key): raw})
    are the verifier's own values where the extractor's were wrong: they become the agreed
    values.  Returns how many values were verified.
    """
    accounts.require(store, actor, "extract", review_id=review.id)
    _require_included(store, review, record_id)
    form = review_form(store, review.id)
    fixes = [(form.get(k), "", raw) for k, raw in (corrections or {}).items()]
    fixes += [(form.get(k), o, raw) for (o, k), raw in (outcome_corrections or {}).items()]
    parsed = [(item, _outcome_for(item, o), parse_value(item, raw)) for item, o, raw in fixes]
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:
        values = rows.current_values(conn, review.id, [record_id])
        extractors = {v.entered_by for v in values if v.kind == "extraction"
                      and v.status in ("done", "verified")}
        if not extractors:
            raise ReviewkitError(f"Nobody has marked record {record_id} done yet: there is "
                                 "nothing to verify.")
        if extractors == {actor}:
            raise ReviewkitError(f"{actor} extracted record {record_id}: a second person "
                                 "verifies it.")
        for item, outcome, value in parsed:
            theirs = [v.value for v in values if v.kind == "extraction" and v.field == item.key
                      and v.outcome == outcome and v.entered_by != actor]
            rows.write_value(conn, review.id, record_id, field=item.key, outcome=outcome,
                             kind="consensus", value=value, status="verified",
                             actor_id=actor_id, before=show_value(theirs[-1] if theirs else None),
                             after=show_value(value))
        total = 0
        for name in sorted(extractors - {actor}):
            total += rows.set_status(conn, review.id, record_id,
                                     entered_by=store.ensure_user(name).id, status="verified",
                                     actor_id=actor_id)
        return total


@dataclass(frozen=True)
class Difference:
    """A field (for one outcome, or "" for the study) on which extractors disagree."""

    field: str
    outcome: str
    values: dict[str, object]  # extractor -> value


def differences(store: Store, review_id: int, record_id: int) -> list[Difference]:
    """Where the finished extractions of a study disagree and no agreed value settles it."""
    with store.read() as conn:
        values = rows.current_values(conn, review_id, [record_id])
    agreed = {(v.field, v.outcome) for v in values if v.kind == "consensus"}
    done = {v.entered_by for v in values if v.kind == "extraction" and v.status != "draft"}
    by_place: dict[tuple[str, str], dict[str, object]] = {}
    for v in values:
        if v.kind == "extraction" and v.entered_by in done:
            by_place.setdefault((v.field, v.outcome), {})[v.entered_by] = v.value
    out = []
    if len(done) < 2:
        return out
    for (key, outcome), found in by_place.items():
        filled = {who: found.get(who) for who in sorted(done)}
        if (key, outcome) not in agreed and len({_comparable(x) for x in filled.values()}) > 1:
            out.append(Difference(key, outcome, filled))
    return out


def _comparable(value) -> str:
    return show_value(value).strip().lower()


def reconcile(store: Store, review: Review, record_id: int, key: str, raw, *, actor: str,
              outcome: str = "") -> object:
    """Settle a field two extractors disagree on with one agreed value; returns it."""
    outcome, value, actor_id = _checked_entry(store, review, record_id, key, raw, actor, outcome)
    with store.write() as conn:
        theirs = [f"{v.entered_by}: {show_value(v.value)}"
                  for v in rows.current_values(conn, review.id, [record_id])
                  if v.kind == "extraction" and v.field == key and v.outcome == outcome]
        rows.write_value(conn, review.id, record_id, field=key, outcome=outcome,
                         kind="consensus", value=value, status="verified", actor_id=actor_id,
                         before=" | ".join(theirs), after=show_value(value))
    return value


# -- what each study ends with ---------------------------------------------------------------


@dataclass
class StudyExtraction:
    """A study's extraction: every person's values, the agreed ones and where it stands."""

    record_id: int
    status: str  # one of STATUSES
    extractors: dict[str, str] = field(default_factory=dict)  # person -> draft | done | verified
    verified_by: list[str] = field(default_factory=list)
    values: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)
    agreed: dict[tuple[str, str], object] = field(default_factory=dict)
    final: dict[tuple[str, str], object] = field(default_factory=dict)

    @property
    def outcomes(self) -> list[str]:
        return sorted({o for (_k, o) in (*self.values, *self.agreed) if o})

    def mine(self, person: str) -> dict[tuple[str, str], object]:
        return {place: found[person] for place, found in self.values.items() if person in found}


def study_extraction(store: Store, review: Review, record_id: int) -> StudyExtraction:
    """One study's extraction as it stands."""
    return study_extractions(store, review, [record_id])[record_id]


def study_extractions(store: Store, review: Review, record_ids: list[int] | None = None
                      ) -> dict[int, StudyExtraction]:
    """The extraction of every included study (or of the ones given), by record id."""
    from reviewkit.screening.status import included_record_ids

    ids = included_record_ids(store, review) if record_ids is None else list(record_ids)
    workflow = review_form(store, review.id).workflow
    with store.read() as conn:
        values = rows.current_values(conn, review.id, ids)
    out = {rid: StudyExtraction(rid, "not started") for rid in ids}
    for v in values:
        study = out.get(v.record_id)
        if study is None:
            continue
        place = (v.field, v.outcome)
        if v.kind == "consensus":
            study.agreed[place] = v.value
            continue
        study.values.setdefault(place, {})[v.entered_by] = v.value
        study.extractors[v.entered_by] = _lowest(study.extractors.get(v.entered_by), v.status)
        if v.verified_by and v.verified_by not in study.verified_by:
            study.verified_by.append(v.verified_by)
    for rid, study in out.items():
        study.final, study.status = _settle(study, workflow,
                                            differences(store, review.id, rid)
                                            if workflow == "reconcile" else [])
    return out


_ORDER = ("draft", "done", "verified")


def _lowest(first: str | None, second: str) -> str:
    if first is None:
        return second
    return min(first, second, key=_ORDER.index)


def _settle(study: StudyExtraction, workflow: str, open_differences: list[Difference]
            ) -> tuple[dict, str]:
    final: dict[tuple[str, str], object] = {}
    finished = [p for p, s in study.extractors.items() if s != "draft"]
    for place, found in study.values.items():
        if workflow == "verify":
            # the verified extraction, else the finished one, else the latest draft
            ranked = sorted(found, key=lambda p: _ORDER.index(study.extractors[p]))
            final[place] = found[ranked[-1]]
        else:
            settled = {_comparable(found.get(p)) for p in finished}
            if len(finished) >= 2 and len(settled) == 1:
                final[place] = found.get(finished[0])
    final.update(study.agreed)
    final = {place: value for place, value in final.items() if value is not None}
    if not study.extractors:
        status = "verified" if study.agreed else "not started"
    elif workflow == "verify":
        states = set(study.extractors.values())
        status = ("verified" if "verified" in states else
                  "done" if "done" in states else "draft")
    elif open_differences:
        status = "to reconcile"
    elif len(finished) >= 2:
        status = "verified"
    else:
        status = "done" if finished else "draft"
    return final, status


# -- exports -----------------------------------------------------------------------------------

EXPORT_COLUMNS = ("record_id", "study", "year", "outcome", "status")


def export_rows(store: Store, review: Review) -> tuple[list[str], list[list]]:
    """The review's final values, one row per study and one per (study, outcome).

    Columns: record id, study title, year, outcome ("" on the study's own row), status, then
    one column per form field keyed by the field's key.
    """
    form = review_form(store, review.id)
    studies = study_extractions(store, review)
    with store.read() as conn:
        about = rows.titles_and_years(conn, list(studies))
    header = [*EXPORT_COLUMNS, *(f.key for f in form.fields)]
    out = []
    for rid, study in studies.items():
        if study.status == "not started":
            continue
        title, year = about.get(rid, ("", None))
        base = [rid, title, year if year is not None else "", "", study.status]
        out.append(base + [_cell(study.final.get((f.key, ""))) if f.per == "study" else ""
                           for f in form.fields])
        for outcome in study.outcomes:
            row = [rid, title, year if year is not None else "", outcome, study.status]
            out.append(row + [_cell(study.final.get((f.key, outcome))) if f.per == "outcome"
                              else "" for f in form.fields])
    return header, out


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, list):
        return show_value(value)
    return value


def export_csv(store: Store, review: Review) -> bytes:
    """The final values as CSV (UTF-8 with a BOM, so Excel opens it right)."""
    header, body = export_rows(store, review)
    return csv_bytes(header, body, bom=True)


def export_xlsx(store: Store, review: Review) -> bytes:
    """The final values as an Excel workbook, with the form itself on a second sheet."""
    header, body = export_rows(store, review)
    form = review_form(store, review.id)
    fields = [[f.key, f.label, KIND_NAMES[f.kind], f.per, MULTI_SEPARATOR.join(f.options),
               f.help] for f in form.fields]
    return xlsx_bytes({"Extraction": (header, body),
                       "Form": (["key", "label", "kind", "per", "options", "help"], fields)})


def read_export(data: bytes, form: Form, *, filename: str = "extraction.csv"
                ) -> dict[tuple[int, str], dict[str, object]]:
    """Read an extraction export (CSV or XLSX) back: {(record id, outcome): {field: value}}.

    Each cell is checked against the form as if typed, so a spreadsheet edited by hand can be
    read with clear messages naming the row and column of a bad cell.
    """
    if data[:2] == b"PK":
        table = _xlsx_table(data, filename)
    else:
        text = data.decode("utf-8-sig")
        table = [[read_cell(c) for c in row] for row in csv.reader(io.StringIO(text))]
    if not table or list(table[0][:len(EXPORT_COLUMNS)]) != list(EXPORT_COLUMNS):
        raise ReviewkitError(f"{filename}: this is not a reviewkit extraction export (the first "
                             f"columns should be {', '.join(EXPORT_COLUMNS)}).")
    header = [str(h) for h in table[0]]
    known = {f.key: f for f in form.fields}
    out: dict[tuple[int, str], dict[str, object]] = {}
    for line, row in enumerate(table[1:], start=2):
        cells = dict(zip(header, row, strict=False))
        try:
            rid = int(str(cells["record_id"]).strip())
        except ValueError:
            raise ReviewkitError(f"{filename}, row {line}: the record_id "
                                 f"'{cells['record_id']}' is not a number.") from None
        outcome = str(cells.get("outcome") or "")
        found = {}
        for key, raw in cells.items():
            if key not in known or raw in ("", None):
                continue
            try:
                found[key] = parse_value(known[key], raw)
            except ReviewkitError as exc:
                raise ReviewkitError(f"{filename}, row {line}, column {key}: {exc}") from None
        out[(rid, outcome)] = found
    return out


def _xlsx_table(data: bytes, filename: str) -> list[list]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ReviewkitError(f"{filename}: not a readable Excel workbook ({exc}).") from None
    sheet = book["Extraction"] if "Extraction" in book.sheetnames else book.active
    return [[("" if c is None else c) for c in row] for row in sheet.iter_rows(values_only=True)]


def with_field(form: Form, item: Field) -> Form:
    """Return a form with ``item`` added (or replacing the field with the same key)."""
    fields = [item if f.key == item.key else f for f in form.fields]
    if item.key not in {f.key for f in form.fields}:
        fields.append(item)
    return replace(form, fields=tuple(fields))


def without_field(form: Form, key: str) -> Form:
    """Return a form without the field ``key``."""
    form.get(key)
    return replace(form, fields=tuple(f for f in form.fields if f.key != key))


def study_outcomes(store: Store, review: Review, record_id: int) -> list[str]:
    """The outcomes a study's per-outcome fields are asked for: its confirmed outcome codes,
    then any other outcome someone has already extracted values for."""
    from reviewkit.coding import study_codes

    coded = [c.code for c in study_codes(store, review.id, record_id, ("outcome",))["outcome"]
             if c.status == "confirmed"]
    extracted = study_extraction(store, review, record_id).outcomes
    return coded + [o for o in extracted if o not in coded]


def progress(studies: dict[int, StudyExtraction]) -> dict[str, int]:
    """How many studies stand at each status, in :data:`STATUSES` order."""
    counts = {status: 0 for status in STATUSES}
    for study in studies.values():
        counts[study.status] += 1
    return counts
