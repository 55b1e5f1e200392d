"""Records: search, filter by decision, read and re-decide every record; download any set."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit.decisions import (
    OUTCOMES,
    STAGE_NAMES,
    DecisionFilter,
    change_decision,
    decision_page,
    export_decisions,
    export_plain,
    filter_choices,
    review_decisions,
)
from reviewkit.errors import ReviewkitError
from reviewkit.importing import export_records
from reviewkit.interchange import export_for_tool
from reviewkit.review_settings import exclusion_reasons
from reviewkit.screening.agreement import is_review_lead
from reviewkit.ui.common import allowed, current_user, get_store, md_escape, require_review

PAGE_SIZE = 200
SORTS = {"Order of import": ("id", False), "Year (newest first)": ("year", True),
         "Year (oldest first)": ("year", False), "Title": ("title", False),
         "Journal": ("journal", False)}
# label: (format, with decisions, file extension, MIME type)
EXPORTS = {"CSV with decisions": ("csv", True, "csv", "text/csv"),
           "Excel with decisions": ("xlsx", True, "xlsx",
                                    "application/vnd.openxmlformats-officedocument."
                                    "spreadsheetml.sheet"),
           "RIS with decisions": ("ris", True, "ris", "application/x-research-info-systems"),
           "RIS": ("ris", False, "ris", "application/x-research-info-systems"),
           "BibTeX": ("bibtex", False, "bib", "application/x-bibtex"),
           "CSV": ("csv", False, "csv", "text/csv"),
           "ASReview (labelled CSV)": ("asreview", True, "csv", "text/csv"),
           "Zotero (RIS, decisions and codes as tags)": ("zotero", True, "ris",
                                                         "application/x-research-info-systems")}
CALLS = {"include": "Include", "exclude": "Exclude", "maybe": "Maybe",
         "not_retrieved": "Report not retrieved"}


def _detail(item, review) -> None:
    rec = item.stored.record
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
        if item.decisions:
            st.markdown("**Decisions**")
            st.dataframe(pd.DataFrame([{
                "Stage": STAGE_NAMES[d.stage], "Reviewer": d.reviewer,
                "Decision": CALLS[d.decision] + (" (settled)" if d.kind == "resolution" else ""),
                "Reason": d.reason, "Note": d.note, "When": f"{d.created_at:%Y-%m-%d %H:%M}",
            } for d in item.decisions]), hide_index=True)
        if allowed("screen", review) and item.statuses:
            _change_form(item, review)


def _change_form(item, review) -> None:
    """Change a past decision: a new vote supersedes the old one, which stays in the history."""
    me = current_user()
    with st.form(f"change_{item.record_id}"):
        st.markdown("**Change a decision**")
        a, b, c = st.columns(3)
        stage = a.selectbox("Stage", list(item.statuses), format_func=STAGE_NAMES.get,
                            index=len(item.statuses) - 1)
        call = b.selectbox("Decision", list(CALLS), format_func=CALLS.get)
        reason = c.selectbox("Reason (needed to exclude at full text)",
                             [""] + exclusion_reasons(review))
        note = st.text_input("Note (optional)")
        settle = False
        if is_review_lead(get_store(), review.id, me):
            settle = st.checkbox("Settle it as the lead (stands over the reviewers' votes)")
        if st.form_submit_button("Save the new decision", type="primary"):
            try:
                change_decision(get_store(), item.record_id, stage=stage, decision=call,
                                actor=me, reason=reason, note=note, settle=settle)
            except ReviewkitError as exc:
                st.error(md_escape(str(exc)))
            else:
                st.session_state["records_notice"] = (
                    f"Decision on record {item.record_id} saved; the earlier one stays in "
                    "the history (Audit page).")
                st.rerun()


def _filters(store, review, me) -> DecisionFilter:
    choices = filter_choices(store, review, me)
    cols = st.columns(5)
    stage = cols[0].selectbox("Stage", [None, *STAGE_NAMES], format_func=lambda x: STAGE_NAMES.get(
        x, "Any stage"), key="records_stage")
    decision = cols[1].selectbox("Decision", [None, *OUTCOMES], key="records_decision",
                                 format_func=lambda x: OUTCOMES.get(x, "Any decision"))
    reason = cols[2].selectbox("Reason", [None, *choices["reason"]], key="records_reason",
                               format_func=lambda x: x or "Any reason")
    reviewer = cols[3].selectbox("Reviewer", [None, *choices["reviewer"]],
                                 key="records_reviewer", format_func=lambda x: x or "Anyone")
    label = cols[4].selectbox("Label (code)", [None, *choices["label"]], key="records_label",
                              format_func=lambda x: x or "Any label")
    return DecisionFilter(stage=stage, decision=decision, reason=reason, reviewer=reviewer,
                          label=label)


def render() -> None:
    review = require_review("review.read")
    store = get_store()
    me = current_user()
    st.title("Records")
    if st.session_state.get("records_notice"):
        st.success(st.session_state.pop("records_notice"))
    left, right = st.columns([3, 1])
    search = left.text_input("Search titles, abstracts, authors, journals and DOIs",
                             placeholder="e.g. social prescribing loneliness")
    sort = right.selectbox("Sort by", list(SORTS))
    where = _filters(store, review, me)
    column, descending = SORTS[sort]
    filtered = any((where.stage, where.decision, where.reason, where.reviewer, where.label))
    where = DecisionFilter(**{**where.__dict__, "search": search})
    wanted = st.session_state.get("records_page", 1)

    def one_page(number: int):
        # the store filters by decision and reads only the page shown
        return decision_page(store, review, me, where, order_by=column, descending=descending,
                             limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)

    if filtered:
        total, shown = one_page(wanted)
    else:
        total = store.count_records(review.id, search=search)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, wanted), pages)
    if pages > 1:
        # a narrower filter can leave fewer pages than the one last shown
        st.session_state["records_page"] = page
        st.number_input(f"Page (of {pages})", 1, pages, key="records_page")
    else:
        st.session_state.pop("records_page", None)
    if filtered and page != wanted:
        total, shown = one_page(page)
    if not filtered:
        records = store.list_records(review.id, search=search, order_by=column,
                                     descending=descending, limit=PAGE_SIZE,
                                     offset=(page - 1) * PAGE_SIZE)
        shown = review_decisions(store, review, me, records=records)
    st.caption(f"{total} records match. Click a row to read the record"
               + (" and change its decision." if allowed("screen", review) else "."))
    table = pd.DataFrame([{
        "id": i.record_id, "Title": i.stored.record.title,
        "Authors": "; ".join(i.stored.record.authors[:3])
        + (" et al." if len(i.stored.record.authors) > 3 else ""),
        "Year": i.stored.record.year, "Journal": i.stored.record.journal,
        "Stage": STAGE_NAMES.get(i.stage, "") if i.statuses else "Duplicate",
        "Decision": OUTCOMES.get(i.outcome(), ""), "Reason": i.reason(),
        "Source": i.stored.record.database,
    } for i in shown], columns=["id", "Title", "Authors", "Year", "Journal", "Stage", "Decision",
                                "Reason", "Source"])
    event = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row",
                         key="records_table", column_config={"id": None})
    rows = event.selection.rows if event else []
    if rows and rows[0] < len(shown):
        _detail(shown[rows[0]], review)

    st.subheader("Download")
    st.caption("Downloads the records matching the search and filters above (all of them, not "
               "only this page). Pick Decision: Included for the included studies.")
    label = st.radio("Format", list(EXPORTS), horizontal=True, key="records_format")
    fmt, with_decisions, ext, mime = EXPORTS[label]
    # A prepared file belongs to exactly what decided its content: never offer it for another
    # person, review, format or set of filters.
    made_for = (me, review.id, label, search, repr(where))
    if st.button("Prepare download"):
        if with_decisions or filtered:
            items = review_decisions(store, review, me, where)
            if fmt in ("asreview", "zotero"):
                data = export_for_tool(store, review, items, fmt)
            elif with_decisions:
                data = export_decisions(items, fmt)
            else:
                data = export_plain(items, fmt)
        else:
            data = export_records(store, review, fmt, search=search)
        st.session_state["export"] = (made_for, data)
    prepared = st.session_state.get("export")
    if prepared and prepared[0] == made_for:
        st.download_button(f"Download {label}", prepared[1], file_name=f"records.{ext}",
                           mime=mime)
