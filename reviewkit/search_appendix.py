"""The search appendix and the methods text on searching, from a review's search records.

:func:`build_search_appendix` gathers what a report needs (PRISMA-S items per import, the
update rounds, the rapid-review reporting items of Stevens et al. 2024);
:func:`search_methods_text` says it in one paragraph for the methods section;
:func:`write_appendix_markdown` and :func:`write_appendix_docx` lay the appendix out.
Every value people typed is written as text: escaped in Markdown, plain runs in Word.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date

from reviewkit.markup import escape_markdown
from reviewkit.review_settings import setting_value
from reviewkit.rounds import Round, list_rounds
from reviewkit.search_record import FIELD_LABELS, SearchRecord, search_records
from reviewkit.store import Review, Store

__all__ = ["RAPID_ITEMS", "SearchAppendix", "build_search_appendix", "search_methods_text",
           "write_appendix_docx", "write_appendix_markdown"]

# The rapid-review reporting items kept as review settings, with their headings.
RAPID_ITEMS = (("rapid_streamlined", "What was streamlined, and why"),
               ("knowledge_users", "Knowledge users"),
               ("knowledge_user_involvement", "How the knowledge users took part"))
_DETAIL_FIELDS = ("method", "database", "platform", "date_searched", "limits", "run_by")


@dataclass
class SearchAppendix:
    """What the search appendix reports for one review."""

    review_name: str
    made_on: date
    searches: list[SearchRecord]
    rounds: list[Round]
    rapid: list[tuple[str, str]] = field(default_factory=list)  # (heading, text), filled only
    methods: str = ""

    def round_name(self, number: int) -> str:
        return next((r.name for r in self.rounds if r.number == number), f"Update {number}")


def build_search_appendix(store: Store, review: Review) -> SearchAppendix:
    """Gather the search records, rounds and rapid-review items of a review."""
    searches = search_records(store, review.id)
    rounds = list_rounds(store, review)
    rapid = [(heading, setting_value(review, name).strip()) for name, heading in RAPID_ITEMS
             if setting_value(review, name).strip()]
    appendix = SearchAppendix(review.name, date.today(), searches, rounds, rapid)
    appendix.methods = _methods(appendix)
    return appendix


def search_methods_text(store: Store, review: Review, *, short: bool = False) -> str:
    """Say in one paragraph how, where, when and by whom the review searched.

    ``short`` leaves out limits, notes and who searched (for evidence briefs); the full text
    is the methods section's."""
    appendix = build_search_appendix(store, review)
    return _methods(appendix, short=True) if short else appendix.methods


# How the methods text names each method that is not a database search.
_FOUND_BY = {"citation searching": "citation searching", "website": "searching websites",
             "other": "other means"}


def _where(s: SearchRecord) -> str:
    """'MEDLINE via Ovid'; just the platform when it already names the database."""
    name = s.database or s.filename
    if not s.platform:
        return name
    return s.platform if s.platform.lower().startswith(name.lower()) else f"{name} via {s.platform}"


def _source_phrase(s: SearchRecord) -> str:
    """'Scopus (searched 28 January 2025, export date)': a date's own brackets become a comma,
    so that none close inside another."""
    where = _where(s)
    if not s.date_searched:
        return where
    when = re.sub(r"\s*\(([^()]*)\)", r", \1", s.date_searched).strip(" ,")
    return f"{where} (searched {when})"


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _methods(a: SearchAppendix, *, short: bool = False) -> str:
    if not a.searches:
        return "No searches have been imported yet."
    sentences = []
    databases = [s for s in a.searches if s.method in ("database", "register")]
    others = [s for s in a.searches if s.method not in ("database", "register")]
    if databases:
        first = [s for s in databases if s.round_number == 0] or databases
        phrases = list(dict.fromkeys(_source_phrase(s) for s in first))
        sentences.append(f"We searched {len(phrases)} "
                         f"{'database or register' if len(phrases) == 1 else 'databases and registers'}: "
                         f"{_listing(phrases)}.")
    limited = [] if short else [f"{s.database or s.filename}: {s.limits}"
                                for s in databases if s.limits]
    if limited:
        sentences.append(f"Limits and filters: {'; '.join(dict.fromkeys(limited))}.")
    for s in others:
        what = f" ({s.notes.rstrip('.')})" if s.notes and not short else ""
        when = f", {s.date_searched}" if s.date_searched else ""
        sentences.append(f"Records were also found by {_FOUND_BY.get(s.method, s.method)}"
                         f"{what}{when}: {s.record_count} "
                         f"{'record' if s.record_count == 1 else 'records'}.")
    people = [] if short else list(dict.fromkeys(s.run_by for s in a.searches if s.run_by))
    if people:
        sentences.append(f"The searches were run by {_listing(people)}.")
    if any(s.search_string for s in a.searches) and not short:
        sentences.append("The full search strings are given in the search appendix.")
    updates = [r for r in a.rounds if r.number > 0]
    if updates:
        told = [f"{r.in_text} (started {r.started_at:%d %B %Y})" for r in updates]
        sentences.append(
            f"The review was updated: {_listing(told)}. The searches were run again, the new "
            "records were deduplicated against every earlier round (earlier screening "
            "decisions were kept) and only the new records were screened, ranked by a model "
            "trained on all earlier decisions.")
    for heading, text in a.rapid:
        sentences.append(f"{heading}: {text.rstrip('.')}.")
    return " ".join(sentences)


def _details(a: SearchAppendix, s: SearchRecord) -> list[tuple[str, str]]:
    rows = [(FIELD_LABELS[name], getattr(s, name)) for name in _DETAIL_FIELDS
            if getattr(s, name)]
    rows.append(("File imported", f"{s.filename} ({s.record_count} records, "
                                  f"{s.imported_at:%d %B %Y})"))
    if len(a.rounds) > 1:
        rows.append(("Round", a.round_name(s.round_number)))
    return rows


def _title(s: SearchRecord, number: int) -> str:
    return f"{number}. {_where(s)}"


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _cell(text: str) -> str:
    return escape_markdown(" ".join(str(text).split()))


def write_appendix_markdown(a: SearchAppendix) -> str:
    """Lay the appendix out as Markdown (user text escaped; search strings in code blocks)."""
    out = [f"# Search appendix: {escape_markdown(a.review_name)}", "",
           f"Made with reviewkit on {a.made_on:%d %B %Y}. Each search is reported with the "
           "PRISMA-S items: source, platform, date, the exact search string, limits and "
           "filters, and who ran it.", "",
           "## Methods text", "", escape_markdown(a.methods), "",
           "## Summary of searches", ""]
    if a.searches:
        out += ["| # | Source | Method | Platform | Date searched | Records |",
                "|---|---|---|---|---|---|"]
        for number, s in enumerate(a.searches, 1):
            out.append(f"| {number} | {_cell(s.database or s.filename)} | {_cell(s.method)} | "
                       f"{_cell(s.platform)} | {_cell(s.date_searched)} | {s.record_count} |")
    else:
        out.append("No searches have been imported yet.")
    for number, s in enumerate(a.searches, 1):
        out += ["", f"## {escape_markdown(_title(s, number))}", ""]
        out += [f"- **{label}:** {_cell(value)}" for label, value in _details(a, s)]
        out += ["", "**Search string:**", ""]
        if s.search_string:
            fence = _fence(s.search_string)
            out += [fence + "text", s.search_string, fence]
        else:
            out.append("Not recorded.")
        if s.notes:
            out += ["", f"**Notes:** {escape_markdown(s.notes)}"]
    if len(a.rounds) > 1:
        out += ["", "## Update rounds", ""]
        out += [f"- {escape_markdown(r.name)}: started {r.started_at:%d %B %Y}"
                + (f" by {escape_markdown(r.started_by)}" if r.started_by else "")
                + (f". {escape_markdown(r.note)}" if r.note else "") for r in a.rounds]
    if a.rapid:
        out += ["", "## Rapid-review reporting items", ""]
        for heading, text in a.rapid:
            out += [f"### {escape_markdown(heading)}", "", escape_markdown(text), ""]
    return "\n".join(out).rstrip() + "\n"


def write_appendix_docx(a: SearchAppendix) -> bytes:
    """Lay the appendix out as a Word document (headings, a summary table, monospace strings)."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.add_heading(f"Search appendix: {a.review_name}", level=0)
    doc.add_paragraph(f"Made with reviewkit on {a.made_on:%d %B %Y}. Each search is reported "
                      "with the PRISMA-S items: source, platform, date, the exact search "
                      "string, limits and filters, and who ran it.")
    doc.add_heading("Methods text", level=1)
    doc.add_paragraph(a.methods)
    doc.add_heading("Summary of searches", level=1)
    if a.searches:
        table = doc.add_table(rows=1, cols=6)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ("#", "Source", "Method", "Platform",
                                                     "Date searched", "Records")):
            cell.text = text
        for number, s in enumerate(a.searches, 1):
            values = (str(number), s.database or s.filename, s.method, s.platform,
                      s.date_searched, str(s.record_count))
            for cell, text in zip(table.add_row().cells, values):
                cell.text = text
    else:
        doc.add_paragraph("No searches have been imported yet.")
    for number, s in enumerate(a.searches, 1):
        doc.add_heading(_title(s, number), level=2)
        for label, value in _details(a, s):
            para = doc.add_paragraph(style="List Bullet")
            para.add_run(f"{label}: ").bold = True
            para.add_run(value)
        doc.add_paragraph().add_run("Search string:").bold = True
        if s.search_string:
            for line in s.search_string.splitlines() or [""]:
                run = doc.add_paragraph().add_run(line)
                run.font.name, run.font.size = "Courier New", Pt(9)
        else:
            doc.add_paragraph("Not recorded.")
        if s.notes:
            para = doc.add_paragraph()
            para.add_run("Notes: ").bold = True
            para.add_run(s.notes)
    if len(a.rounds) > 1:
        doc.add_heading("Update rounds", level=1)
        for r in a.rounds:
            doc.add_paragraph(f"{r.name}: started {r.started_at:%d %B %Y}"
                              + (f" by {r.started_by}" if r.started_by else "")
                              + (f". {r.note}" if r.note else ""), style="List Bullet")
    if a.rapid:
        doc.add_heading("Rapid-review reporting items", level=1)
        for heading, text in a.rapid:
            doc.add_heading(heading, level=2)
            doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
