"""Records: search, sort and read every record in the review; download them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit.importing import export_records
from reviewkit.ui.common import get_store, md_escape, require_review

PAGE_SIZE = 200
SORTS = {"Order of import": ("id", False), "Year (newest first)": ("year", True),
         "Year (oldest first)": ("year", False), "Title": ("title", False),
         "Journal": ("journal", False)}
EXPORTS = {"RIS": ("ris", "ris", "application/x-research-info-systems"),
           "BibTeX": ("bibtex", "bib", "application/x-bibtex"),
           "CSV (opens in Excel)": ("csv", "csv", "text/csv")}


def _detail(record_id: int) -> None:
    stored = get_store().get_record(record_id)
    rec = stored.record
    with st.container(border=True):
        st.subheader(md_escape(rec.title) or "(no title)")
        st.markdown(md_escape("; ".join(rec.authors)) or "No authors given")
        where = ", ".join(x for x in [rec.journal, str(rec.year or ""), rec.volume and f"vol. {rec.volume}",
                                      rec.issue and f"issue {rec.issue}", rec.pages and f"pp. {rec.pages}"] if x)
        st.caption(md_escape(f"{where} · {rec.record_type}"))
        if rec.doi:
            st.link_button("Open DOI", f"https://doi.org/{rec.doi}")
        st.text(rec.abstract or "No abstract.")
        facts = {"Database": rec.database, "Record id in file": rec.source_id, "PMID": rec.pmid,
                 "ISSN": rec.issn, "ISBN": rec.isbn, "Keywords": "; ".join(rec.keywords),
                 "URL": rec.url, "Full-text link": rec.fulltext_url}
        st.table(pd.DataFrame([(k, v) for k, v in facts.items() if v], columns=["Field", "Value"]))
        if rec.full_text:
            with st.expander("Full text (extracted)"):
                st.text(rec.full_text[:20000])


def render() -> None:
    review = require_review("review.read")
    store = get_store()
    st.title("Records")
    left, right = st.columns([3, 1])
    search = left.text_input("Search titles, abstracts, authors, journals and DOIs",
                             placeholder="e.g. social prescribing loneliness")
    sort = right.selectbox("Sort by", list(SORTS))
    total = store.count_records(review.id, search=search)
    pages = max(1, -(-total // PAGE_SIZE))
    page = st.number_input(f"Page (of {pages})", 1, pages, 1) if pages > 1 else 1
    column, descending = SORTS[sort]
    shown = store.list_records(review.id, search=search, order_by=column, descending=descending,
                               limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    st.caption(f"{total} records match. Click a row to read the record.")
    table = pd.DataFrame([{
        "id": s.id, "Title": s.record.title, "Authors": "; ".join(s.record.authors[:3])
        + (" et al." if len(s.record.authors) > 3 else ""), "Year": s.record.year,
        "Journal": s.record.journal, "Source": s.record.database, "DOI": s.record.doi,
    } for s in shown], columns=["id", "Title", "Authors", "Year", "Journal", "Source", "DOI"])
    event = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row",
                         key="records_table", column_config={"id": None})
    rows = event.selection.rows if event else []
    if rows:
        _detail(int(table.iloc[rows[0]]["id"]))

    st.subheader("Download")
    label = st.radio("Format", list(EXPORTS), horizontal=True)
    fmt, ext, mime = EXPORTS[label]
    if st.button("Prepare download"):
        st.session_state["export"] = (fmt, export_records(store, review, fmt, search=search))
    prepared = st.session_state.get("export")
    if prepared and prepared[0] == fmt:
        st.download_button(f"Download {label}", prepared[1], file_name=f"records.{ext}", mime=mime)
