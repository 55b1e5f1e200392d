"""The search record on the Import page: fields beside each new file, edits to earlier imports,
the search appendix to download, and update rounds."""

from __future__ import annotations

import streamlit as st

from reviewkit.errors import ReviewkitError
from reviewkit.rounds import current_round, start_update_round
from reviewkit.search_appendix import (
    build_search_appendix,
    write_appendix_docx,
    write_appendix_markdown,
)
from reviewkit.search_record import FIELD_LABELS, METHODS, record_search, search_records
from reviewkit.ui.common import allowed, current_user, md_escape

_HELP = {
    "method": "How the records were found: a bibliographic database, a register, a website, "
              "citation searching or another way (PRISMA 2020 reports the last three as "
              "'other methods').",
    "platform": "The interface the database was searched on: Ovid, EBSCOhost, ProQuest...",
    "search_string": "The exact search, as run (paste the whole search history).",
    "limits": "Limits and filters applied: languages, dates, publication types...",
    "run_by": "Who ran the search.",
    "notes": "Anything else a reader needs to repeat the search; for citation searching or "
             "websites, what was done.",
}


def search_fields(key: str, values: dict[str, str], *, found_in: dict[str, str] | None = None
                  ) -> dict[str, str]:
    """Draw the search record fields filled with ``values``; return what they hold now."""
    if found_in:
        st.caption("Filled in from the file: " + "; ".join(
            f"{FIELD_LABELS[name].lower()} (from {where})" for name, where in found_in.items())
                   + ". Check and complete the rest.")
    a, b, c = st.columns(3)
    method = values.get("method") or "database"
    out = {"method": a.selectbox(FIELD_LABELS["method"], METHODS, index=METHODS.index(method),
                                 key=f"method-{key}", help=_HELP["method"],
                                 format_func=str.capitalize)}
    out["database"] = b.text_input(FIELD_LABELS["database"], values.get("database", ""),
                                   key=f"db-{key}")
    out["platform"] = c.text_input(FIELD_LABELS["platform"], values.get("platform", ""),
                                   key=f"platform-{key}", help=_HELP["platform"])
    a, b, c = st.columns(3)
    out["date_searched"] = a.text_input(FIELD_LABELS["date_searched"],
                                        values.get("date_searched", ""), key=f"date-{key}",
                                        placeholder="e.g. 2024-03-01")
    out["limits"] = b.text_input(FIELD_LABELS["limits"], values.get("limits", ""),
                                 key=f"limits-{key}", help=_HELP["limits"])
    out["run_by"] = c.text_input(FIELD_LABELS["run_by"], values.get("run_by", ""),
                                 key=f"runby-{key}", help=_HELP["run_by"])
    out["search_string"] = st.text_area(FIELD_LABELS["search_string"],
                                        values.get("search_string", ""), key=f"q-{key}",
                                        height=90, help=_HELP["search_string"])
    out["notes"] = st.text_area(FIELD_LABELS["notes"], values.get("notes", ""),
                                key=f"notes-{key}", height=68, help=_HELP["notes"])
    return out


def rounds_panel(store, review) -> None:
    """Say which round imports join; let the lead start the next one."""
    now = current_round(store, review)
    if now.number:
        st.info(f"New imports belong to **{md_escape(now.name)}**, started "
                f"{now.started_at:%d %B %Y}. After importing and deduplicating, the Screen page "
                "shows only the records new in this round.")
    if not allowed("review.manage", review):
        return
    with st.expander("Keep the review up to date: start an update round"):
        st.caption("Re-run the searches, then start a round and import the new exports: they "
                   "are deduplicated against every earlier round (earlier decisions are kept), "
                   "only the new records are screened, and PRISMA draws the flow diagram for "
                   "updated reviews.")
        label = st.text_input("Name of the round", key="round_label",
                              placeholder="e.g. March 2025")
        note = st.text_input("Why or how (optional)", key="round_note")
        if st.button("Start an update round", icon=":material/update:"):
            try:
                started = start_update_round(store, review, actor=current_user(),
                                             label=label, note=note)
            except ReviewkitError as exc:
                st.error(md_escape(str(exc)))
            else:
                st.success(f"{md_escape(started.name)} started: import its searches below.")


def records_panel(store, review) -> None:
    """Edit the search record of an earlier import, and download the search appendix."""
    found = search_records(store, review.id)
    if not found:
        return
    with st.expander(f"Search records of the {len(found)} imports, and the search appendix"):
        by_label = {f"Import {s.import_id}: {s.filename} ({s.database or s.method})": s
                    for s in found}
        chosen = by_label[st.selectbox("Import", list(by_label), key="search_record_pick")]
        with st.form(f"search-record-{chosen.import_id}"):
            values = search_fields(f"edit-{chosen.import_id}", chosen.fields())
            if st.form_submit_button("Save the search record"):
                try:
                    record_search(store, chosen.import_id, actor=current_user(), **values)
                except ReviewkitError as exc:
                    st.error(md_escape(str(exc)))
                else:
                    st.success(f"Search record of {md_escape(chosen.filename)} saved.")
        st.caption("The search appendix reports every search in full (PRISMA-S), the update "
                   "rounds and the rapid-review reporting items, with a methods paragraph.")
        a, b = st.columns(2)
        # made only when asked for (a Word file takes a moment to build)
        a.download_button("Download the search appendix (Word)",
                          lambda: write_appendix_docx(build_search_appendix(store, review)),
                          file_name="search-appendix.docx", icon=":material/download:",
                          mime="application/vnd.openxmlformats-officedocument."
                               "wordprocessingml.document")
        b.download_button("Download the search appendix (Markdown)",
                          lambda: write_appendix_markdown(
                              build_search_appendix(store, review)).encode("utf-8"),
                          file_name="search-appendix.md", mime="text/markdown",
                          icon=":material/download:")
