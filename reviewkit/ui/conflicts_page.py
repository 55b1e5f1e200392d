"""Conflicts: where reviewers disagree, settle it; and see how well they agree."""

from __future__ import annotations

import streamlit as st

from reviewkit.review_settings import exclusion_reasons
from reviewkit.screening.agreement import (
    agreement,
    conflicts_visible,
    is_blinded,
    set_blinded,
)
from reviewkit.screening.rapid import rapid_methods_text, rapid_summary, votes_needed
from reviewkit.screening.status import record_statuses
from reviewkit.ui.common import allowed, current_user, get_store, md_escape, require_review

STAGE_NAMES = {"title_abstract": "Title and abstract", "full_text": "Full text"}
CALLS = {"include": "Include", "exclude": "Exclude", "maybe": "Maybe",
         "not_retrieved": "Report not retrieved"}


def render() -> None:
    review = require_review("screen")
    store = get_store()
    st.title("Conflicts and agreement")
    me = current_user()
    if not conflicts_visible(store, review, me):
        st.info("The review is blinded: conflicts appear when the lead unblinds it.")
        return
    if is_blinded(review):
        note, control = st.columns([4, 1], vertical_alignment="center")
        note.info("The review is blinded: the other reviewers see only their own decisions "
                  "until you unblind it. As its lead you see every vote.")
        if control.button("Unblind the review", icon=":material/visibility:"):
            set_blinded(store, review, False, actor=me)
            st.rerun()
    stage = st.segmented_control("Stage", list(STAGE_NAMES), format_func=STAGE_NAMES.get,
                                 default="title_abstract") or "title_abstract"
    decisions = store.current_decisions(review.id, stage=stage)
    kept = store.kept_record_ids(review.id)
    statuses = record_statuses(decisions, kept,
                               reviewers_required=votes_needed(store, review, stage, kept,
                                                               decisions))

    st.subheader("Agreement between reviewers")
    pairs = agreement(decisions)
    if not pairs:
        st.caption("Agreement appears once two reviewers have screened the same records.")
    for pair in pairs:
        st.text(pair.plain_words())
    if pairs:
        st.caption("Kappa needs both reviewers to have screened the same records, and falls "
                   "when nearly every record is excluded; Gwet's AC1 stays close to the raw "
                   "agreement then, and is the fairer figure when each reviewer saw different "
                   "records besides the shared ones.")
    summary = rapid_summary(store, review, stage)
    if summary is not None:
        st.subheader("Rapid review: calibration and checks")
        st.text(rapid_methods_text(summary))

    # A disagreement is a conflict; a lone 'maybe' is no disagreement, only a call the team
    # still has to make (agreement.STATES tells the two apart).
    settles = allowed("conflicts.resolve", review)
    conflicts = [s for s in statuses.values() if s.state == "conflict"]
    maybes = [s for s in statuses.values() if s.state == "maybe"]
    st.subheader(f"Reviewers disagree ({len(conflicts)})")
    if not conflicts:
        st.success("No conflicts: every record the reviewers disagreed on has been settled.")
    elif not settles:
        st.caption("The review's lead settles these; you can see them here.")
    _settle_list(store, review, stage, conflicts, settles, "conflict")
    if maybes:
        st.subheader(f"Marked maybe: to discuss ({len(maybes)})")
        st.caption("A reviewer could not decide these; no one disagreed. Talk them through "
                   "and settle them" + (" here." if settles else " (the review's lead settles)."))
        _settle_list(store, review, stage, maybes, settles, "maybe")


def _settle_list(store, review, stage: str, items: list, settles: bool, kind: str) -> None:
    """Show up to 50 records with their votes and, for the lead, the buttons that settle them."""
    if len(items) > 50:
        st.caption(f"Showing the first 50 of {len(items)}; settled ones make room for the rest.")
    reasons = exclusion_reasons(review)
    for status in items[:50]:
        record = store.get_record(status.record_id).record
        with st.container(border=True):
            st.markdown(f"**{md_escape(record.title)}** ({record.year or 'no year'})")
            st.caption(" · ".join(f"{md_escape(who)}: {CALLS[call]}"
                                   for who, call in sorted(status.votes.items())))
            with st.expander("Abstract"):
                st.text(record.abstract or "No abstract.")
            if not settles:
                continue
            cols = st.columns([1, 1, 2])
            reason = cols[2].selectbox("Reason if excluded", [""] + reasons,
                                       key=f"reason-{kind}-{stage}-{status.record_id}")
            for column, call in zip(cols[:2], ("include", "exclude")):
                if column.button(f"Settle as {CALLS[call].lower()}",
                                 key=f"settle-{call}-{stage}-{status.record_id}"):
                    if call == "exclude" and stage == "full_text" and not reason:
                        st.error("Choose the reason for excluding at full text: PRISMA reports it.")
                        continue
                    store.add_decision(status.record_id, stage=stage, decision=call,
                                       reviewer=current_user(), reason=reason if call == "exclude" else "",
                                       kind="resolution")
                    st.rerun()
