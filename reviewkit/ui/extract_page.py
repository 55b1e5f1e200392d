"""Extract: fill the review's extraction form for each included study beside its full text,
mark it done, and have a second person verify it (or two extract and reconcile)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit import extraction
from reviewkit.codebook import review_codebook
from reviewkit.errors import ReviewkitError
from reviewkit.screening.status import included_record_ids
from reviewkit.ui.common import allowed, current_user, get_store, md_escape, require_review

_PICK = "extract_pick"
STATUS_WORDS = {"not started": "Not started", "draft": "Draft", "done": "Done, to verify",
                "to reconcile": "To reconcile", "verified": "Verified"}


def _say(kind: str, text: str) -> None:
    st.session_state["extract_msg"] = (kind, text)


def _show_message() -> None:
    said = st.session_state.pop("extract_msg", None)
    if said:
        {"success": st.success, "error": st.error}[said[0]](md_escape(said[1]))


def _widget(item: extraction.Field, value, key: str):
    label = md_escape(item.label)
    helped = md_escape(item.help) or None
    if item.kind == "choice":
        options = ["", *item.options]
        return st.selectbox(label, options, index=options.index(value) if value in options else 0,
                            key=key, help=helped)
    if item.kind == "multi_choice":
        return st.multiselect(label, list(item.options), default=list(value or []), key=key,
                              help=helped)
    if item.kind == "number":
        return st.text_input(label, "" if value is None else str(value), key=key, help=helped)
    return st.text_area(label, "" if value is None else str(value), key=key, help=helped,
                        height=68)


def _full_text(store, record_id: int) -> None:
    record = store.get_record(record_id).record
    st.subheader(md_escape(record.title) or "(no title)")
    st.caption(md_escape(" · ".join(x for x in ["; ".join(record.authors[:6]),
                                                str(record.year or ""), record.journal] if x)))
    with st.container(height=560):
        if record.full_text:
            st.text(record.full_text[:80000])
        else:
            st.caption("No full text is attached (attach it on the Screen page at full text). "
                       "The abstract:")
            st.text(record.abstract or "No abstract.")
    attached = store.fulltext_file(record_id)
    if attached and attached[1]:
        st.download_button("Download the full text (PDF)", attached[1], file_name=attached[0],
                           mime="application/pdf", icon=":material/download:",
                           key=f"extract_pdf_{record_id}")


def _save(store, review, record_id: int, form: extraction.Form, outcomes: list[str]) -> None:
    me = current_user() or "admin"
    try:
        values = {f.key: st.session_state[f"ex_{record_id}_{f.key}"] for f in form.study_fields}
        changed = extraction.enter_values(store, review, record_id, values, actor=me)
        for number, outcome in enumerate(outcomes):
            values = {f.key: st.session_state[f"ex_{record_id}_{number}_{f.key}"]
                      for f in form.outcome_fields}
            changed += extraction.enter_values(store, review, record_id, values, actor=me,
                                               outcome=outcome)
    except ReviewkitError as exc:
        _say("error", str(exc))
        return
    _say("success", f"Saved ({changed} value{'' if changed == 1 else 's'} changed).")


def _act(what, *args, done: str, **kwargs) -> None:
    try:
        what(*args, **kwargs)
    except ReviewkitError as exc:
        _say("error", str(exc))
    else:
        _say("success", done)


def _form_panel(store, review, record_id: int, form: extraction.Form, study) -> None:
    me = current_user() or "admin"
    mine = study.mine(me)
    label = review_codebook(store, review.id).label
    outcomes = extraction.study_outcomes(store, review, record_id)
    extra = st.text_input("Add another outcome", key=f"ex_{record_id}_new_outcome",
                          help="Per-outcome questions are asked for each outcome the study was "
                               "coded with; name another here to extract it too.")
    if extra.strip() and extra.strip() not in outcomes:
        outcomes.append(" ".join(extra.split()))
    with st.form(f"extract_form_{record_id}"):
        for item in form.study_fields:
            _widget(item, mine.get((item.key, "")), f"ex_{record_id}_{item.key}")
        for number, outcome in enumerate(outcomes):
            st.markdown(f"**Outcome: {md_escape(label('outcome', outcome))}**")
            for item in form.outcome_fields:
                _widget(item, mine.get((item.key, outcome)),
                        f"ex_{record_id}_{number}_{item.key}")
        st.form_submit_button("Save my values", icon=":material/save:", type="primary",
                              on_click=_save, args=(store, review, record_id, form, outcomes))


def _verify_corrected(store, review, record_id: int, form: extraction.Form) -> None:
    # read at the click, not when the button was drawn: the value typed just before counts
    key = st.session_state[f"fix_field_{record_id}"]
    fixed = st.session_state.get(f"fix_value_{record_id}", "")
    outcome = (st.session_state.get(f"fix_outcome_{record_id}") or ""
               if form.get(key).per == "outcome" else "")
    _act(extraction.verify_study, store, review, record_id, actor=current_user() or "admin",
         done="Verified, with your correction.",
         corrections={} if outcome else {key: fixed},
         outcome_corrections={(outcome, key): fixed} if outcome else {})


def _reconcile(store, review, record_id: int, diff: extraction.Difference, number: int) -> None:
    _act(extraction.reconcile, store, review, record_id, diff.field,
         st.session_state.get(f"agree_{record_id}_{number}", ""),
         actor=current_user() or "admin", outcome=diff.outcome, done="Agreed value saved.")


def _check_panel(store, review, record_id: int, form: extraction.Form, study) -> None:
    me = current_user() or "admin"
    # someone else's finished extraction still waiting for a check
    others = sorted(p for p, s in study.extractors.items() if p != me and s == "done")
    if form.workflow == "verify" and others:
        st.markdown("**Verify**")
        st.caption(f"Check what {md_escape(', '.join(others))} extracted; correct a value "
                   "below, or verify the study as it stands.")
        with st.expander("Correct a value before verifying"):
            keys = [f.key for f in form.fields]
            key = st.selectbox("Field", keys, key=f"fix_field_{record_id}",
                               format_func=lambda k: form.get(k).label)
            if form.get(key).per == "outcome":
                st.selectbox("Outcome", study.outcomes or [""], key=f"fix_outcome_{record_id}")
            st.text_input("Correct value", key=f"fix_value_{record_id}")
            st.button("Verify with this correction", key=f"fix_go_{record_id}",
                      on_click=_verify_corrected, args=(store, review, record_id, form))
        st.button("Verify this study", key=f"verify_{record_id}", icon=":material/verified:",
                  on_click=_act, args=(extraction.verify_study, store, review, record_id),
                  kwargs={"actor": me, "done": "Verified."})
    if form.workflow == "reconcile":
        for number, diff in enumerate(extraction.differences(store, review.id, record_id)):
            item = form.get(diff.field)
            where = f" ({diff.outcome})" if diff.outcome else ""
            st.markdown(f"**Differs: {md_escape(item.label)}{md_escape(where)}**")
            for who, value in diff.values.items():
                st.text(f"{who}: {extraction.show_value(value) or '(empty)'}")
            st.text_input("Agreed value", key=f"agree_{record_id}_{number}")
            st.button("Save the agreed value", key=f"agree_go_{record_id}_{number}",
                      on_click=_reconcile, args=(store, review, record_id, diff, number))


def _values_table(form: extraction.Form, study, label) -> None:
    rows = []
    for (key, outcome), value in sorted(study.final.items(), key=lambda kv: kv[0][1]):
        item = next((f for f in form.fields if f.key == key), None)
        rows.append({"Field": item.label if item else key,
                     "Outcome": label("outcome", outcome) if outcome else "",
                     "Value": extraction.show_value(value)})
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _extract_tab(store, review, form: extraction.Form) -> None:
    studies = extraction.study_extractions(store, review)
    if not studies:
        st.info("No study is included yet. Studies appear here once they are included at "
                "full-text screening.")
        return
    counts = extraction.progress(studies)
    st.progress(counts["verified"] / len(studies),
                text=f"**{counts['verified']} of {len(studies)}** included studies verified · "
                     f"{counts['done'] + counts['to reconcile']} waiting for a check")
    titles = {rid: store.get_record(rid).record for rid in studies}

    def describe(rid: int) -> str:
        record = titles[rid]
        year = f" ({record.year})" if record.year else ""
        return f"{STATUS_WORDS[studies[rid].status]} · {(record.title or '(no title)')[:100]}{year}"

    order = included_record_ids(store, review)
    if st.session_state.get(_PICK) not in order:
        st.session_state[_PICK] = order[0]
    record_id = st.selectbox("Study", order, key=_PICK, format_func=describe)
    study = studies[record_id]
    _show_message()
    left, right = st.columns([5, 4])
    with left:
        _full_text(store, record_id)
    with right:
        me = current_user() or "admin"
        who = ", ".join(f"{p} ({s})" for p, s in sorted(study.extractors.items()))
        st.caption(f"{md_escape(extraction.WORKFLOWS[form.workflow])}. Status: "
                   f"{STATUS_WORDS[study.status].lower()}"
                   + (f"; extracted by {md_escape(who)}" if who else "")
                   + (f"; verified by {md_escape(', '.join(study.verified_by))}"
                      if study.verified_by else "") + ".")
        if study.final:
            st.markdown("**Values the study ends with**")
            _values_table(form, study, review_codebook(store, review.id).label)
        _check_panel(store, review, record_id, form, study)
        with st.expander("Your extraction", expanded=me in study.extractors or not study.final):
            _form_panel(store, review, record_id, form, study)
            st.button("Mark my extraction done", key=f"done_{record_id}",
                      icon=":material/done_all:", disabled=me not in study.extractors,
                      on_click=_act, args=(extraction.mark_done, store, review, record_id),
                      kwargs={"actor": me,
                              "done": "Marked done: a second person can now check it."})
    both = st.columns(2)
    both[0].download_button("Download all extractions (CSV)", extraction.export_csv(store, review),
                            file_name="extraction.csv", mime="text/csv", icon=":material/download:")
    both[1].download_button("Download all extractions (Excel)",
                            extraction.export_xlsx(store, review), file_name="extraction.xlsx",
                            mime="application/vnd.openxmlformats-officedocument."
                                 "spreadsheetml.sheet", icon=":material/download:")


def _save_form(store, review, form: extraction.Form) -> None:
    _act(extraction.save_form, store, review, form, actor=current_user() or "admin",
         done="The form is saved as a new version.")


def _form_tab(store, review, form: extraction.Form) -> None:
    st.dataframe(pd.DataFrame([{"Key": f.key, "Question": f.label,
                                "Kind": extraction.KIND_NAMES[f.kind], "Asked per": f.per,
                                "Options": extraction.MULTI_SEPARATOR.join(f.options),
                                "Help": f.help} for f in form.fields]),
                 hide_index=True, width="stretch")
    if not allowed("review.manage", review):
        st.caption("Only the review's lead changes the form.")
        return
    workflow = st.radio("How extraction is checked", list(extraction.WORKFLOWS),
                        index=list(extraction.WORKFLOWS).index(form.workflow),
                        format_func=extraction.WORKFLOWS.get, key="form_workflow")
    with st.expander("Add or change a question"):
        key = st.text_input("Key (lower case, e.g. funding)", key="form_key")
        label = st.text_input("Question", key="form_label")
        kind = st.selectbox("Kind", extraction.KINDS, format_func=extraction.KIND_NAMES.get,
                            key="form_kind")
        per = st.selectbox("Asked", extraction.PER, key="form_per",
                           format_func=lambda p: f"once per {p}")
        options = st.text_area("Options, one per line (choices only)", key="form_options")
        helped = st.text_area("Help for the person extracting", key="form_help")
        if st.button("Add to the form", key="form_add"):
            try:
                item = extraction.field_from_dict({"key": key, "label": label, "kind": kind,
                                                   "per": per, "options": options.splitlines(),
                                                   "help": helped})
            except ReviewkitError as exc:
                st.error(md_escape(str(exc)))
            else:
                _save_form(store, review, extraction.with_field(form, item))
                st.rerun()
    with st.expander("Remove a question"):
        gone = st.selectbox("Question", [f.key for f in form.fields], key="form_remove",
                            format_func=lambda k: form.get(k).label)
        st.caption("Values already extracted for it are kept, and come back if it does.")
        st.button("Remove it", key="form_remove_go", on_click=_save_form,
                  args=(store, review, extraction.without_field(form, gone)))
    if workflow != form.workflow:
        st.button("Save the workflow", key="form_workflow_go", on_click=_save_form,
                  args=(store, review, extraction.Form(form.fields, workflow, form.version)))


def render() -> None:
    review = require_review("extract")
    store = get_store()
    st.title("Extract")
    st.write("Extract what each included study did and found, with its full text beside the "
             "form. Mark your extraction done; a second person then verifies it.")
    form = extraction.review_form(store, review.id)
    work, shape = st.tabs(["Extract", "Form"])
    with work:
        _extract_tab(store, review, form)
    with shape:
        _show_message()
        _form_tab(store, review, form)
