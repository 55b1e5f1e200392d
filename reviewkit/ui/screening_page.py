"""Screen: one record at a time, most likely relevant first, with the criteria always in view."""

from __future__ import annotations

import streamlit as st

from reviewkit.errors import ReviewkitError
from reviewkit.review_settings import (
    change_settings,
    exclusion_reasons,
    setting_value,
    stored_value,
)
from reviewkit.rounds import current_round, new_record_ids
from reviewkit.screening.agreement import conflicts_visible
from reviewkit.screening.highlight import highlight_spans
from reviewkit.screening.queue import (
    FT,
    HAND_OUT_MINUTES,
    TA,
    Prioritiser,
    found_curve,
    next_for,
    review_prioritiser,
    screening_state,
    screening_team,
    split_screening,
    undo_for,
)
from reviewkit.screening.stopping import stopping_advice
from reviewkit.ui.common import allowed, current_user, get_store, md_escape, require_review
from reviewkit.ui.settings_form import settings_widgets

STAGES = {TA: "Title and abstract", FT: "Full text"}
ORDERS = {"ranked": "Most likely relevant first", "random": "Random order"}


@st.cache_resource(show_spinner="Learning from the decisions so far…", max_entries=8)
def _prioritiser(review_id: int, record_count: int, exploration: float,
                 model: str = "tfidf_svm") -> Prioritiser:
    store = get_store()
    return review_prioritiser(store, store.review_by_id(review_id), exploration=exploration,
                              model=model)


@st.cache_data(show_spinner=False, max_entries=64)
def _advice(decisions: tuple[int, ...], n_records: int, recall_target: float, rule: str):
    """The stopping advice, worked out once per set of decisions (a new tab, a reload and every
    reviewer looking at the same point share it)."""
    return stopping_advice(list(decisions), n_records, recall_target=recall_target, rule=rule)


def _marked(text: str, include: list[str], exclude: list[str]) -> str:
    pieces = []
    for piece, kind in highlight_spans(text, include, exclude):
        safe = md_escape(piece)
        if kind == "include":
            pieces.append(f":green-background[**{safe}**]")
        elif kind == "exclude":
            pieces.append(f":red-background[**{safe}**]")
        else:
            pieces.append(safe)
    return "".join(pieces)


def _decide(record_id: int, stage: str, decision: str) -> None:
    reason = st.session_state.get("screen_reason") or ""
    note = st.session_state.get("screen_note") or ""
    if decision == "exclude" and stage == FT and not reason:
        st.session_state["screen_error"] = ("Choose a reason before excluding at full text: "
                                            "PRISMA reports every full-text exclusion with its reason.")
        return
    try:
        get_store().add_decision(record_id, stage=stage, decision=decision,
                                 reviewer=current_user(),
                                 reason=reason if decision == "exclude" else "", note=note)
    except ReviewkitError as exc:
        st.session_state["screen_error"] = str(exc)
        return
    st.session_state.setdefault("screen_undo", []).append((record_id, stage))
    st.session_state.pop(f"screen_current_{stage}", None)
    st.session_state["screen_reason"] = ""
    st.session_state["screen_note"] = ""


def _undo(review) -> None:
    stack = st.session_state.get("screen_undo", [])
    if stack:
        record_id, stage = stack.pop()
        if undo_for(get_store(), review, stage, current_user(), record_id):
            st.session_state[f"screen_current_{stage}"] = record_id
        else:
            st.session_state["screen_notice"] = (
                f"Your decision on record {record_id} was withdrawn. Another reviewer was "
                "handed that record since, so it is with them now.")


def _criteria_panel(review, advice, labels: list[int]) -> None:
    with st.container(border=True):
        st.markdown(f"**Question.** {md_escape(review.question) or 'Not written yet (Overview → Review settings).'}")
        with st.expander("Inclusion and exclusion criteria", expanded=True):
            for title, text in (("Include", review.inclusion_criteria),
                                ("Exclude", review.exclusion_criteria)):
                lines = [x.strip() for x in text.splitlines() if x.strip()]
                if lines:
                    st.markdown(f"**{md_escape(title)}**\n" + "\n".join(f"- {md_escape(x)}" for x in lines))
    if advice is not None:
        (st.success if advice.safe_to_stop else st.info)(advice.plain_words)
    # drawn only when asked for: a chart costs a second of every page run
    if len(labels) >= 2 and st.toggle("Show the recall curve", key="screen_curve"):
        import pandas as pd  # only for this chart: not loaded on the page's first answer

        with st.container(border=True):
            curve = found_curve(labels)
            step = max(1, len(curve) // 200)  # 200 points draw the same line quickly
            curve = curve[::step] + ([curve[-1]] if (len(curve) - 1) % step else [])
            st.line_chart(pd.DataFrame({
                "Relevant found": [found for _, found in curve],
                "Expected in random order": [round(curve[-1][1] * n / curve[-1][0], 2)
                                             for n, _ in curve],
            }, index=pd.Index([n for n, _ in curve], name="Records screened")),
                height=220, x_label="Records screened", y_label="Relevant found")
            st.caption("Like ASReview's recall curve: the steeper the blue line rises above the "
                       "random line, the sooner ranking brought the relevant records forward.")
            marks = sorted({curve[round(i * (len(curve) - 1) / 4)] for i in range(5)})
            st.table(pd.DataFrame({"Records screened": [n for n, _ in marks],
                                   "Relevant found": [found for _, found in marks]}),
                     hide_index=True)  # the curve in numbers, for those who cannot see it


def _progress_line(stats, conflicts_shown: bool, team: bool) -> None:
    """Whole counts in one line, the same words as the stopping advice."""
    parts = [f"You have screened {stats.screened_by_me:,} of {stats.total:,}"]
    if team:
        parts.append(f"{stats.decided:,} decided by the team")
    parts.append(f"{stats.included:,} included so far")
    parts.append(f"{stats.conflicts:,} conflict{'' if stats.conflicts == 1 else 's'}"
                 if conflicts_shown
                 else "conflicts blinded until the lead unblinds")
    if stats.maybes:
        parts.append(f"{stats.maybes:,} marked maybe")
    st.progress(stats.screened_by_me / max(stats.total, 1), text=" · ".join(parts))


# After a choice in a drop-down, or Enter in the note, the keyboard goes back to the page so
# that the screening keys work at once (Streamlit ignores shortcut keys typed into a widget).
# The focus leaves a moment later (the drop-down takes it back while the choice is drawn); a
# key pressed within that moment blurs it at once and acts as the button with that shortcut
# would, so a quick "choose a reason, press E" is never lost (seen in browser runs).
_GIVE_KEYS_BACK = """<script>
(() => {
  const doc = window.document;
  if (doc.reviewkitKeysBack) return;
  doc.reviewkitKeysBack = true;
  const onScreen = () => !!doc.querySelector('[data-testid="stMain"] .st-key-screen_reason');
  const widgets = '.st-key-screen_note, .st-key-screen_reason';
  let pending = null, held = null;  // the widget that keeps the focus for that moment
  const holds = () => !!held && held.contains(doc.activeElement);
  const blur = () => {
    pending = null;
    if (holds()) doc.activeElement.blur();
  };
  const release = (widget) => {
    clearTimeout(pending);
    held = widget;
    pending = setTimeout(blur, 60);
  };
  doc.addEventListener('click', (e) => {
    if (onScreen() && e.target.closest && e.target.closest('[role="option"]'))
      release(doc.querySelector('[data-testid="stMain"] .st-key-screen_reason'));
  }, true);
  doc.addEventListener('keydown', (e) => {
    if (pending !== null && holds() && !e.ctrlKey && !e.metaKey && !e.altKey
        && e.key.length === 1) {
      clearTimeout(pending);
      blur();
      const name = 'Shortcut ' + e.key.toUpperCase();
      const button = [...doc.querySelectorAll('[data-testid="stMain"] button')]
        .find((b) => b.querySelector('[aria-label="' + name + '"]'));
      if (button && !button.disabled) {
        e.preventDefault();
        e.stopPropagation();
        button.click();
      }
      return;
    }
    if (onScreen() && e.key === 'Enter' && e.target.closest && e.target.closest(widgets))
      release(e.target.closest(widgets));
  }, true);
})();
</script>"""


def render() -> None:
    review = require_review("screen")
    store = get_store()
    me = current_user()
    # less space above the title, so the record and its buttons fit a 1366x768 laptop screen
    # and a record's title in a smaller heading, so a long one does not push them below the fold
    st.html("<style>.stMainBlockContainer{padding-top:2.5rem}"
            ".st-key-screen_title h3{font-size:1.3rem;line-height:1.35;padding-top:0.25rem}</style>")
    top = st.columns([1.2, 2, 2.4, 1], vertical_alignment="bottom")
    top[0].title("Screen")
    top = top[1:]
    stage = top[0].segmented_control("Stage", list(STAGES), format_func=STAGES.get, default=TA,
                                     key="screen_stage") or TA
    order = top[1].segmented_control("Order", list(ORDERS), format_func=ORDERS.get,
                                     default="ranked", key="screen_order") or "ranked"
    with top[2].popover("Settings", icon=":material/tune:"):
        leads = allowed("review.manage", review)
        team_rules = ["reviewers_required", "blind", "split_screening", "screening_model",
                      "stop_recall", "stop_rule", "screening_mode", "calibration_size",
                      "calibration_kappa", "calibration_agreement", "verification_percent"]
        chosen = settings_widgets(review, team_rules, prefix=f"screen_{review.id}",
                                  disabled=not leads)
        if leads and any(chosen[n] != stored_value(review, n) if n == "blind"
                         else chosen[n] != setting_value(review, n) for n in team_rules):
            change_settings(store, review, chosen, actor=me)
            st.rerun()
        if not leads:
            st.caption("The review's lead sets how many reviewers see each record, blinding, "
                       "whether the records are split, and the stopping rule.")
        exploration = st.slider("Share of records shown to explore", 0.0, 0.3, 0.1, 0.05,
                                help="Some records are picked because the model is unsure "
                                     "about them, to avoid only ever seeing one kind of study.")

    state = screening_state(store, review, stage, me)
    ids, labels, stats, pending = state.ids, state.labels, state.progress, state.pending
    if not ids:
        st.info("No records have reached this stage yet." if stage == FT
                else "Import records first (Import page), then find duplicates (Deduplicate).")
        return
    pending = _only_new(store, review, pending)
    prioritiser = _prioritiser(review.id, state.kept_count, exploration,
                               setting_value(review, "screening_model"))

    current = st.session_state.get(f"screen_current_{stage}")
    if current not in ids:
        current = next_for(store, review, stage, me, pending, ranked=prioritiser.order(),
                           mode=order, seed=len(labels), rapid=state.rapid)
        st.session_state[f"screen_current_{stage}"] = current
    _progress_line(stats, conflicts_visible(store, review, me),
                   team=setting_value(review, "reviewers_required") >= 2)
    if state.rapid is not None:
        st.info(state.rapid.plain_words(), icon=":material/groups:")
    elif split_screening(review):
        st.caption(f"Screening is split between {len(screening_team(store, review))} reviewers: "
                   "each record is handed to one of you at a time.")

    if st.session_state.get("screen_notice"):
        st.info(md_escape(st.session_state.pop("screen_notice")))
    left, right = st.columns([3, 2], gap="large")
    with left:  # first, so that the next record is on screen before the advice is worked out
        _record_and_buttons(store, review, stage, order, current, pending, prioritiser, me,
                            stats=stats, rapid=state.rapid)
    # labels come in the order the decisions were made, which is what the stopping test reads
    advice = _advice(tuple(labels.values()), state.kept_count, setting_value(review, "stop_recall"),
                     setting_value(review, "stop_rule")) if stage == TA and labels else None
    with right:
        _criteria_panel(review, advice, list(labels.values()) if stage == TA else [])
    _find_record(store, review, stage, ids)
    st.html(_GIVE_KEYS_BACK, unsafe_allow_javascript=True)
    # Retrain last, once the page is drawn: the next record comes from the order already
    # learnt, and the retraining thread (which loads scikit-learn on a fresh server) would
    # otherwise hold the interpreter while this run draws the record and the advice.
    prioritiser.update(labels)


def _only_new(store, review, pending: set[int]) -> set[int]:
    """In an update round, offer only the round's new records unless the reviewer asks for all.

    The ranking still learns from every decision of every round."""
    newest = current_round(store, review)
    if not newest.number:
        return pending
    only_new = st.toggle(f"Only records new in {newest.name}", value=True,
                         key=f"screen_only_new_{review.id}",
                         help="Records from earlier rounds keep their decisions; those left "
                              "unscreened there can be shown too.")
    if not only_new:
        return pending
    fresh = new_record_ids(store, review, newest.number)
    narrowed = pending & fresh
    st.caption(f"{len(fresh)} records are new in {md_escape(newest.name)} after deduplication; "
               f"{len(narrowed)} are still for you to screen here.")
    return narrowed


def _find_record(store, review, stage: str, ids: list[int]) -> None:
    with st.expander("Find a record and screen it directly"):
        query = st.text_input("Words from the title, abstract or authors", key="screen_search")
        if query:
            allowed_ids = set(ids)
            hits = store.list_records(review.id, search=query, limit=20)
            titles = {h.id: h.record.title[:120] for h in hits if h.id in allowed_ids}
            chosen = st.selectbox("Record", list(titles), format_func=titles.get)
            if chosen and st.button("Screen this record"):
                st.session_state[f"screen_current_{stage}"] = chosen
                st.rerun()


def _record_and_buttons(store, review, stage: str, order: str, current, pending, prioritiser,
                        me: str, *, stats=None, rapid=None) -> None:
    if current is None and rapid is not None and rapid.phase == "calibration":
        st.success("You have screened the whole calibration sample. Single screening starts "
                   "once the other reviewer has screened it too and your agreement reaches "
                   "the lead's thresholds; if it does not, a new sample comes here.")
    elif current is None and pending and (split_screening(review) or rapid is not None):
        st.info("Every record still to screen is with another reviewer just now. "
                "Come back in a while: unanswered hand-outs lapse after "
                f"{HAND_OUT_MINUTES} minutes.")
    elif current is None:
        st.success("You have screened every record at this stage. "
                    "Check the Conflicts page for records the reviewers disagree on.")
    if current is None:
        st.button("Undo last decision", on_click=_undo, args=(review,), shortcut="u",
                  icon=":material/undo:", disabled=not st.session_state.get("screen_undo"))
        return
    rec = store.get_record(current).record
    include = setting_value(review, "keywords_include")
    exclude = setting_value(review, "keywords_exclude")
    # the place in this person's screening, not the database's record id
    place = (f"Record {stats.screened_by_me + 1:,} of {stats.total:,} · {ORDERS[order].lower()}"
             if current in pending and stats is not None else "A record you chose")
    st.caption(place
               + (" · the model is learning from your decisions" if prioritiser.learned else ""))
    with st.container(key="screen_title"):
        st.subheader(md_escape(rec.title) or "(no title)")
    st.caption(md_escape(" · ".join(x for x in ["; ".join(rec.authors[:6]),
                                                str(rec.year or ""), rec.journal] if x)))
    # a fixed height keeps the reason, note and buttons in view on a laptop screen (1366x768);
    # a title longer than two lines (about 38 characters each there) takes from the abstract
    title_lines = -(-len(rec.title or "x") // 38)
    with st.container(height=max(80, (200 if stage == TA else 140)
                                 - 36 * max(0, title_lines - 2)), border=False):
        st.markdown(_marked(rec.abstract, include, exclude) if rec.abstract else "*No abstract.*")
    if stage == FT:
        if rec.full_text:
            with st.expander("Full text", expanded=False):
                with st.container(height=400):
                    st.markdown(_marked(rec.full_text[:60000], include, exclude))
        else:
            upload = st.file_uploader("Attach the full text (PDF)", type=["pdf"],
                                      key=f"ft-{current}")
            if upload is not None:
                # here, not at the top: its fuzzy matching library took 80 ms of a fresh
                # server's first Screen page, which needs it only for a full text sent here
                from reviewkit.fulltext import attach_pdf

                try:
                    attach_pdf(store, current, upload.getvalue(), upload.name, actor=me)
                except ReviewkitError as exc:
                    st.error(md_escape(str(exc)))
                else:
                    st.rerun()

    a, b = st.columns(2)
    a.selectbox("Reason for excluding" + (" (required)" if stage == FT else ""),
                [""] + exclusion_reasons(review), key="screen_reason")
    b.text_input("Note (optional)", key="screen_note")
    if st.session_state.get("screen_error"):
        st.error(md_escape(st.session_state.pop("screen_error")))
    row = st.container(horizontal=True)
    row.button("Include", on_click=_decide, args=(current, stage, "include"),
               shortcut="i", type="primary", icon=":material/check:")
    row.button("Exclude", on_click=_decide, args=(current, stage, "exclude"),
               shortcut="e", icon=":material/close:")
    row.button("Maybe", on_click=_decide, args=(current, stage, "maybe"), shortcut="m",
               icon=":material/help:")
    if stage == FT:
        row.button("Not retrieved", on_click=_decide, args=(current, stage, "not_retrieved"),
                   shortcut="n", icon=":material/report:")
    row.button("Undo", on_click=_undo, args=(review,), shortcut="u",
               icon=":material/undo:", disabled=not st.session_state.get("screen_undo"))
    st.caption("Keys: I include · E exclude · M maybe · U undo"
               + (" · N not retrieved" if stage == FT else ""))
