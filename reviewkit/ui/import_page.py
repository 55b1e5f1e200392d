"""Import: upload database exports, check what was found, and store them."""

from __future__ import annotations

import hashlib
import math

import pandas as pd
import streamlit as st

from reviewkit.errors import DuplicateImportError, ReviewkitError
from reviewkit.importing import MAX_IMPORT_MB, import_file, preview_file
from reviewkit.records import BIBLIOGRAPHIC_FIELDS
from reviewkit.ui import citations_panel, search_record_panel
from reviewkit.ui.common import current_user, get_store, link_to, md_escape, require_review

FORMAT_NAMES = {"ris": "RIS", "bibtex": "BibTeX", "medline": "PubMed MEDLINE (.nbib)",
                "endnote_xml": "EndNote XML", "csv": "CSV", "tsv": "TSV (tab-separated)",
                "pdf": "PDF", "wos": "Web of Science plain text", "proquest": "ProQuest text",
                "refer": "EndNote tagged (.enw)", "xlsx": "Excel (.xlsx)", "xls": "Excel (.xls)"}
MAPPABLE = ("",) + BIBLIOGRAPHIC_FIELDS + ("source_id",)


# What the page offers for reading a file's decisions, and the source each names.
DECISION_CHOICES = {"Read any (reviewkit, Rayyan, ASReview notes, Zotero tags)": "auto",
                    "ASReview (labelled CSV or RIS notes)": "asreview",
                    "Rayyan (notes)": "rayyan", "Zotero tags from reviewkit": "zotero",
                    "None: import the records only": "none"}


@st.cache_data(show_spinner="Reading the file…", max_entries=32)
def _preview(data: bytes, name: str, column_map: tuple | None):
    return preview_file(data, name, column_map=dict(column_map) if column_map else None)


def _column_mapping(key: str, headers: list[str], suggested: dict[str, str]) -> dict[str, str]:
    st.caption("Match each column of your file to a record field (leave blank to ignore it).")
    table = pd.DataFrame({"Column in your file": headers,
                          "Record field": [suggested.get(h, "") for h in headers]})
    edited = st.data_editor(
        table, key=f"map-{key}", hide_index=True, disabled=["Column in your file"],
        column_config={"Record field": st.column_config.SelectboxColumn(options=MAPPABLE)})
    return {h: (f or "") for h, f in zip(edited["Column in your file"], edited["Record field"])}


def render() -> None:
    review = require_review("import")
    store = get_store()
    st.title("Import search results")
    st.write(f"Add the exports of your database searches to **{md_escape(review.name)}**. reviewkit reads "
             "RIS, BibTeX, PubMed MEDLINE (.nbib), EndNote XML and tagged (.enw), Web of "
             "Science and ProQuest plain text, CSV/TSV, Excel and PDF files, and works out the "
             "format from the content. Lines it had to skip or repair are listed before you "
             "import.")
    search_record_panel.rounds_panel(store, review)
    with st.expander("Citation chasing: works cited by the attached full texts"):
        citations_panel.render(store, review)
    search_record_panel.records_panel(store, review)
    uploads = st.file_uploader(
        f"Choose files (up to {MAX_IMPORT_MB:g} MB each)", accept_multiple_files=True,
        type=["ris", "txt", "bib", "nbib", "medline", "xml", "csv", "tsv", "pdf", "ciw", "isi",
              "enw", "xlsx", "xls"],
        max_upload_size=max(1, math.ceil(MAX_IMPORT_MB)))  # the browser's own hint says the same
    if not uploads:
        return

    plans = []
    for upload in uploads:
        data = upload.getvalue()
        key = hashlib.sha256(data).hexdigest()[:16]
        with st.container(border=True):
            st.subheader(md_escape(upload.name))
            try:
                preview = _preview(data, upload.name, None)
                if preview.format in ("csv", "tsv", "xlsx", "xls"):
                    mapping = _column_mapping(key, preview.headers, preview.column_map)
                    preview = _preview(data, upload.name, tuple(sorted(mapping.items())))
            except ReviewkitError as exc:
                st.error(f"This file cannot be imported. {md_escape(str(exc))}")
                continue
            st.write(f"{FORMAT_NAMES.get(preview.format, preview.format)} file with "
                     f"**{preview.count} records**.")
            if preview.notes:
                with st.expander(f"Read with {len(preview.notes):,} repairs: check them before "
                                 "importing", expanded=True):
                    st.text("\n".join(preview.notes.lines()))
            st.dataframe(pd.DataFrame([{
                "Title": r.title, "Authors": "; ".join(r.authors[:3]), "Year": r.year,
                "Journal": r.journal, "DOI": r.doi} for r in preview.records[:5]]),
                hide_index=True)
            st.markdown("**The search behind this file** (PRISMA-S)")
            search = search_record_panel.search_fields(
                key, {"database": preview.database_name, **preview.search_hints.fields},
                found_in=preview.search_hints.found_in)
            plans.append((upload.name, data, preview, search))

    source = DECISION_CHOICES[st.selectbox(
        "Screening decisions in the files", list(DECISION_CHOICES), key="decisions_from",
        help="Files exported by reviewkit, Rayyan (notes) or ASReview (RIS notes) bring their "
             "decisions by default; pick ASReview for its labelled CSV (label_included or "
             "included column).")] if plans else "auto"
    if plans and st.button(f"Import {len(plans)} file(s)", type="primary"):
        progress = st.progress(0.0, text="Importing…")
        for i, (name, data, preview, search) in enumerate(plans, start=1):
            try:
                batch = import_file(store, review, data, name, actor=current_user(),
                                    format=preview.format, column_map=preview.column_map or None,
                                    database_name=search["database"],
                                    search_date=search["date_searched"],
                                    search_query=search["search_string"],
                                    decisions_from=source, search=search)
            except DuplicateImportError as exc:
                st.warning(md_escape(str(exc)))
            except ReviewkitError as exc:
                st.error(f"Nothing was stored from this file. {md_escape(str(exc))}")
            else:
                calls = (f", with {batch.decisions_imported} screening decisions from its notes"
                         if batch.decisions_imported else "")
                st.success(f"{md_escape(name)}: {batch.record_count} records imported from "
                           f"{md_escape(batch.database_name)}{calls}.")
            progress.progress(i / len(plans), text=f"Imported {i} of {len(plans)} files")
        st.info(f"The review now holds {store.count_records(review.id)} records. Next: find "
                "the duplicates between your files, then screen.")
        a, b = st.columns(2)
        with a:
            link_to("deduplicate", "Next: Deduplicate", ":material/join:")
        with b:
            link_to("screen", "Then: Screen", ":material/rule:")

