"""Appraise: answer a quality-appraisal tool's questions for each included study (MMAT by
default), have a second person verify or agree, and see the traffic-light chart."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit import appraisal
from reviewkit.codebook import review_codebook
from reviewkit.errors import ReviewkitError
from reviewkit.extraction import study_outcomes
from reviewkit.screening.status import included_record_ids
from reviewkit.ui.common import allowed, current_user, get_store, md_escape, require_review

_PICK = "appraise_pick"
_CHOICES = list(appraisal.ANSWERS)


def _say(kind: str, text: str) -> None:
    st.session_state["appraise_msg"] = (kind, text)


def _show_message() -> None:
    said = st.session_state.pop("appraise_msg", None)
    if said:
        {"success": st.success, "error": st.error}[said[0]](md_escape(said[1]))


def _answer_name(answer: str) -> str:
    return f"{appraisal.ANSWER_SYMBOLS[answer]} {appraisal.ANSWER_NAMES[answer]}"


def _prefix(record_id: int, tool: appraisal.Tool, design: str, outcome: str) -> str:
    return f"ap_{record_id}_{tool.key}_{design}_{outcome or 'study'}"


def _save(store, review, record_id: int, tool: appraisal.Tool, design: str, outcome: str,
          agreed: bool) -> None:
    prefix = _prefix(record_id, tool, design, outcome)
    answers = {c.key: st.session_state.get(f"{prefix}_{c.key}") for c in tool.criteria(design)}
    notes = {c.key: st.session_state.get(f"{prefix}_{c.key}_note", "")
             for c in tool.criteria(design)}
    overall = st.session_state.get(f"{prefix}_overall", "")
    save = appraisal.agree_appraisal if agreed else appraisal.appraise
    try:
        result = save(store, review, record_id, actor=current_user() or "admin", design=design,
                      answers=answers, tool=tool.key, notes=notes, overall=overall,
                      outcome=outcome)
    except ReviewkitError as exc:
        _say("error", str(exc))
    else:
        _say("success", f"Saved{' as agreed' if agreed else ''}: {result.label}.")


def _verify(store, review, record_id: int, tool: str, outcome: str) -> None:
    try:
        whose = appraisal.verify_appraisal(store, review, record_id,
                                           actor=current_user() or "admin", tool=tool,
                                           outcome=outcome)
    except ReviewkitError as exc:
        _say("error", str(exc))
    else:
        _say("success", f"Verified {whose}'s appraisal.")


def _questions(store, review, record_id: int, tool: appraisal.Tool, design: str, outcome: str,
               mine) -> None:
    prefix = _prefix(record_id, tool, design, outcome)
    with st.form(f"appraise_{prefix}"):
        for number, criterion in enumerate(tool.criteria(design)):
            if tool.screening and number == len(tool.screening):
                st.caption("The five questions for this design:")
            given = (mine.answers if mine else {}).get(criterion.key)
            st.radio(f"{md_escape(criterion.key)}. {md_escape(criterion.text)}", _CHOICES,
                     index=_CHOICES.index(given) if given in _CHOICES else None,
                     format_func=_answer_name, horizontal=True, key=f"{prefix}_{criterion.key}",
                     help=md_escape(criterion.help) or None)
            st.text_input(f"Note on {md_escape(criterion.key)}", key=f"{prefix}_{criterion.key}_note",
                          value=(mine.notes if mine else {}).get(criterion.key, ""),
                          label_visibility="collapsed", placeholder="Note (optional)")
        st.text_area("Overall judgement, in words", value=mine.overall if mine else "",
                     key=f"{prefix}_overall", height=68)
        st.checkbox("Save as the appraisal we agreed (two appraisers)",
                    key=f"{prefix}_agreed")
        st.form_submit_button("Save the appraisal", type="primary", icon=":material/save:",
                              on_click=lambda: _save(store, review, record_id, tool, design,
                                                     outcome, st.session_state[f"{prefix}_agreed"]))


def _study_panel(store, review, tool: appraisal.Tool, finals: dict) -> None:
    order = included_record_ids(store, review)
    records = {rid: store.get_record(rid).record for rid in order}

    def describe(rid: int) -> str:
        quality = finals.get((rid, tool.key, ""))
        state = (("Verified · " if quality.verified else "To verify · ") + quality.label
                 if quality else "Not appraised")
        year = f" ({records[rid].year})" if records[rid].year else ""
        return f"{state} · {(records[rid].title or '(no title)')[:90]}{year}"

    if st.session_state.get(_PICK) not in order:
        st.session_state[_PICK] = order[0]
    record_id = st.selectbox("Study", order, key=_PICK, format_func=describe)
    record = records[record_id]
    with st.expander("Abstract and full text", expanded=False):
        with st.container(height=300):
            st.text(record.full_text[:80000] if record.full_text else
                    (record.abstract or "No abstract or full text."))
    label = review_codebook(store, review.id).label
    outcome = st.selectbox("Appraise", ["", *study_outcomes(store, review, record_id)],
                           key=f"appraise_outcome_{record_id}",
                           format_func=lambda o: f"For the outcome: {label('outcome', o)}" if o
                           else "The whole study",
                           help="Appraise per outcome where quality differs between outcomes "
                                "(for example one measured well, another by a single question).")
    quality = finals.get((record_id, tool.key, outcome))
    designs = [d.key for d in tool.designs]
    suggested = quality.design if quality else appraisal.suggested_design(
        store, review.id, record_id, tool)
    design = st.selectbox("Design category", designs, index=designs.index(suggested),
                          format_func=lambda k: tool.design(k).label,
                          key=f"design_{record_id}_{tool.key}")
    _show_message()
    if quality:
        checked = f"verified by {quality.verified_by}" if quality.verified else "not yet verified"
        st.info(md_escape(f"Now: {quality.label} ({quality.design_label.lower()}), {checked}."))
        if tool.screening and quality.screening_passed is False:
            st.warning("A screening answer is No or Can't tell: further appraisal may not be "
                       "feasible or useful for this study.")
    me = current_user() or "admin"
    if quality and me not in quality.appraisers:
        st.dataframe(pd.DataFrame([
            {"Question": f"{c.key}. {c.text}",
             "Answer": _answer_name(quality.answers[c.key]) if c.key in quality.answers else "",
             "Note": quality.notes.get(c.key, "")}
            for c in tool.criteria(quality.design)]), hide_index=True, width="stretch")
        if quality.overall:
            st.caption("Overall: " + md_escape(quality.overall))
    mine = appraisal.own_appraisal(store, review.id, record_id, me, tool=tool.key,
                                   outcome=outcome)
    _questions(store, review, record_id, tool, design, outcome, mine)
    differ = appraisal.differences(store, review.id, record_id, tool=tool.key, outcome=outcome)
    if differ:
        st.markdown("**The appraisers differ on:**")
        st.dataframe(pd.DataFrame([{"Question": d.criterion, **{
            who: appraisal.ANSWER_NAMES.get(a, a or "") for who, a in d.answers.items()}}
            for d in differ]), hide_index=True)
    if quality and not quality.verified and me not in quality.appraisers:
        st.button("Verify this appraisal", icon=":material/verified:", key="appraise_verify",
                  on_click=_verify, args=(store, review, record_id, tool.key, outcome))


def _summary(store, review, tool: appraisal.Tool) -> None:
    header, body = appraisal.summary_table(store, review, tool=tool.key)
    if not body:
        st.caption("No study appraised with this tool yet.")
        return
    # as text: a year may be missing, and mixed columns break the table's typed rendering
    st.dataframe(pd.DataFrame(body, columns=header).astype(str), hide_index=True,
                 width="stretch")
    png = appraisal.traffic_light(store, review, tool=tool.key, fmt="png")
    st.image(png, caption="Traffic-light chart: + yes (green), − no (red), ? can't tell "
                          "(yellow), · not answered (grey); * not yet verified.")
    cols = st.columns(4)
    cols[0].download_button("Chart (PNG)", png, file_name=f"appraisal-{tool.key}.png",
                            mime="image/png", icon=":material/download:")
    cols[1].download_button("Chart (SVG)", appraisal.traffic_light(store, review, tool=tool.key,
                                                                     fmt="svg"),
                            file_name=f"appraisal-{tool.key}.svg", mime="image/svg+xml",
                            icon=":material/download:")
    cols[2].download_button("Table (CSV)", appraisal.export_csv(store, review, tool=tool.key),
                            file_name=f"appraisal-{tool.key}.csv", mime="text/csv",
                            icon=":material/download:")
    cols[3].download_button("Table (Excel)", appraisal.export_xlsx(store, review, tool=tool.key),
                            file_name=f"appraisal-{tool.key}.xlsx",
                            mime="application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sheet", icon=":material/download:")


def _custom_tool(store, review) -> None:
    if not allowed("review.manage", review):
        return
    with st.expander("Write a tool of your own (review lead)"):
        name = st.text_input("Name of the tool", key="tool_name")
        questions = st.text_area("Questions, one per line (answered yes, no or can't tell)",
                                 key="tool_questions")
        if st.button("Save the tool", key="tool_save"):
            key = "_".join("".join(ch if ch.isalnum() else " " for ch in name.lower()).split())
            try:
                appraisal.save_custom_tool(
                    store, review, appraisal.simple_tool(f"own_{key}"[:60], name,
                                                         questions.splitlines()),
                    actor=current_user() or "admin")
            except ReviewkitError as exc:
                st.error(md_escape(str(exc)))
            else:
                # drawn again so the tool list at the top of the page holds it
                _say("success", f"Saved the tool '{name}'. Choose it under Tool.")
                st.rerun()


def render() -> None:
    review = require_review("extract")
    store = get_store()
    st.title("Appraise")
    st.write("Appraise the quality of each included study. MMAT 2018 suits most public-health "
             "studies (qualitative, non-randomised, descriptive, mixed); use the review "
             "checklist for evidence reviews. MMAT gives criteria met, not a single score.")
    if not included_record_ids(store, review):
        st.info("No study is included yet. Studies appear here once they are included at "
                "full-text screening.")
        return
    tools = appraisal.review_tools(store, review.id)
    key = st.selectbox("Tool", list(tools), format_func=lambda k: tools[k].name,
                       key="appraise_tool")
    tool = tools[key]
    if tool.description:
        st.caption(md_escape(tool.description))
    finals = appraisal.final_appraisals(store, review, tool=tool.key)
    appraise, summary = st.tabs(["Appraise a study", "Summary and chart"])
    with appraise:
        _study_panel(store, review, tool, finals)
    with summary:
        _summary(store, review, tool)
    _custom_tool(store, review)
