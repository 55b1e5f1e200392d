"""Synthesis and certainty: per approach × outcome, each study's direction of effect, the
grouping and narrative summary, the effect-direction and harvest plots, and how sure we are.

The cell lives in the address (``?approach=…&outcome=…``).  Everyone who may read the evidence
sees the page; recording, rating and verifying need the right to code studies.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit.certainty import (
    CONCERN_NAMES,
    FRAMEWORKS,
    LEVEL_NAMES,
    LEVELS,
    certainty_ratings,
    certainty_words,
    outcome_verdicts,
    rate_certainty,
    suggested_level,
    verify_rating,
)
from reviewkit.codebook import review_codebook
from reviewkit.coding import included_record_ids
from reviewkit.errors import ReviewkitError
from reviewkit.synthesis import (
    DIRECTION_NAMES,
    DIRECTIONS,
    SynthesisCell,
    cell_text,
    direction_table,
    direction_table_csv,
    effect_direction_plot,
    harvest_plot,
    harvest_text,
    record_direction,
    synthesis_cells,
    write_cell,
)
from reviewkit.ui.common import allowed, current_user, get_store, md_escape, require_review


def _choose_cell(codebook, cells) -> tuple[str, str] | None:
    approaches = [c.code for c in codebook.scheme("approach").codes
                  if any(a == c.code for a, _ in cells)]
    if not approaches:
        return None
    linked = st.query_params.get("approach")
    left, right = st.columns(2)
    approach = left.selectbox("Approach", approaches,
                              index=approaches.index(linked) if linked in approaches else 0,
                              format_func=lambda c: codebook.label("approach", c),
                              key="synth_approach")
    outcomes = [o for a, o in cells if a == approach]
    linked = st.query_params.get("outcome")
    outcome = right.selectbox("Outcome", outcomes,
                              index=outcomes.index(linked) if linked in outcomes else 0,
                              format_func=lambda c: codebook.label("outcome", c),
                              key=f"synth_outcome_{approach}")
    st.query_params["approach"], st.query_params["outcome"] = approach, outcome
    return approach, outcome


def _report(action, success: str) -> None:
    """Run a change; on success draw the page again (so every part shows it) with a message."""
    try:
        action()
    except ReviewkitError as exc:
        st.error(md_escape(str(exc)))
    else:
        st.session_state["synth_said"] = success
        st.rerun()


def _charts(store, review, codebook, cell: SynthesisCell, cells) -> None:
    label_a = lambda c: codebook.label("approach", c)  # noqa: E731
    label_o = lambda c: codebook.label("outcome", c)  # noqa: E731
    st.subheader("Effect direction")
    st.markdown(md_escape(cell.count.in_words()) + ". " + md_escape(cell.count.sign_test_words()))
    if not cell.studies:
        st.info("No study has a direction of effect for this cell yet.")
        return
    rows = direction_table(cell, lambda c: codebook.label("design", c))
    st.dataframe(pd.DataFrame(rows).drop(columns=["source"]), hide_index=True)
    plot = effect_direction_plot([cell], "png", approach_label=label_a, outcome_label=label_o,
                                 title=f"{label_a(cell.approach)} → {label_o(cell.outcome)}")
    st.image(plot, caption="Effect direction plot (the table above and the text below say "
             "the same)", alt=f"Effect direction plot for {label_a(cell.approach)} and "
                              f"{label_o(cell.outcome)}: {cell.count.in_words()}. "
                              "The same is written out below the chart.")
    with st.expander("The chart as text"):
        st.text(cell_text(cell, approach_label=label_a(cell.approach),
                          outcome_label=label_o(cell.outcome)))
    one, two, three = st.columns(3)
    one.download_button("Effect direction plot (PNG)", plot, file_name="effect-direction.png",
                        mime="image/png", icon=":material/download:")
    two.download_button("Effect direction plot (SVG)",
                        lambda: effect_direction_plot([cell], "svg", approach_label=label_a,
                                                      outcome_label=label_o),
                        file_name="effect-direction.svg", mime="image/svg+xml",
                        icon=":material/download:")
    same_approach = [c for (a, _), c in cells.items() if a == cell.approach and c.studies]
    three.download_button("Table of every cell (CSV)",
                          lambda: direction_table_csv(cells.values(), approach_label=label_a,
                                                      outcome_label=label_o),
                          file_name="effect-directions.csv", mime="text/csv",
                          icon=":material/download:")
    st.subheader(f"Harvest plot: {md_escape(label_a(cell.approach))}")
    harvest = harvest_plot(same_approach, "png", outcome_label=label_o,
                           title=f"Harvest plot: {label_a(cell.approach)}")
    st.image(harvest, alt=f"Harvest plot for {label_a(cell.approach)}: studies by outcome and "
                          "direction of effect. The same is written out below the chart.")
    with st.expander("The harvest plot as text"):
        st.text(harvest_text(same_approach, outcome_label=label_o))
    left, right = st.columns(2)
    left.download_button("Harvest plot (PNG)", harvest, file_name="harvest-plot.png",
                         mime="image/png", icon=":material/download:")
    right.download_button("Harvest plot (SVG)",
                          lambda: harvest_plot(same_approach, "svg", outcome_label=label_o),
                          file_name="harvest-plot.svg", mime="image/svg+xml",
                          icon=":material/download:")


def _synthesis_forms(store, review, cell: SynthesisCell, titles: dict[int, str]) -> None:
    actor = current_user()
    with st.form("synth_direction", clear_on_submit=False):
        st.markdown("**Record a study's direction of effect**")
        in_cell = [s.record_id for s in cell.studies]
        choices = in_cell + [r for r in titles if r not in in_cell]
        study = st.selectbox("Study", choices, format_func=lambda r: f"{r}: {titles.get(r, '')}")
        direction = st.radio("Direction", DIRECTIONS, format_func=DIRECTION_NAMES.get,
                             horizontal=True)
        size = st.text_input("Sample size (people or households in the final analysis)")
        note = st.text_input("Note (what the study measured and found)")
        if st.form_submit_button("Save the direction"):
            _report(lambda: record_direction(store, review, study, cell.approach, cell.outcome,
                                             direction=direction, sample_size=size, note=note,
                                             actor=actor), "Saved.")
    with st.form("synth_cell"):
        st.markdown("**Grouping and narrative summary**")
        grouping = st.text_input("How the studies are grouped", value=cell.grouping)
        reason = st.text_input("Why they are grouped this way", value=cell.grouping_reason)
        summary = st.text_area("Narrative summary (written by the team)", value=cell.summary)
        rests = st.multiselect("The studies it rests on", list(titles),
                               default=[r for r in cell.summary_record_ids if r in titles],
                               format_func=lambda r: f"{r}: {titles.get(r, '')}")
        if st.form_submit_button("Save the summary"):
            _report(lambda: write_cell(store, review, cell.approach, cell.outcome,
                                       grouping=grouping, grouping_reason=reason,
                                       summary=summary, record_ids=rests, actor=actor),
                    "Saved.")


def _certainty_tab(store, review, approach: str, outcome: str, may_edit: bool) -> None:
    verdict = outcome_verdicts(store, review, approach=approach).get((approach, outcome))
    rating = certainty_ratings(store, review.id, approach=approach).get((approach, outcome))
    st.subheader("How sure we are")
    st.markdown(md_escape(verdict.statement() if verdict else certainty_words(None) + "."))
    if rating is not None:
        st.caption(md_escape(f"{FRAMEWORKS[rating.framework].name} rating by {rating.rated_by}"
                             + (f", verified by {rating.verified_by}" if rating.verified
                                else "; not yet verified by a second person")))
        if rating.finding:
            st.text(f"Finding rated: {rating.finding}")
        for line in rating.reasons() or ["No concerns in any domain."]:
            st.text(line)
        if may_edit and not rating.verified and rating.rated_by != current_user():
            if st.button("Verify this rating (I checked it and agree)", key="synth_verify"):
                _report(lambda: verify_rating(store, review, rating.id, actor=current_user()),
                        "Verified.")
    if not may_edit:
        return
    st.subheader("Rate this cell")
    name = st.radio("Framework", list(FRAMEWORKS), horizontal=True, key="synth_framework",
                    format_func=lambda f: f"{FRAMEWORKS[f].name} ({FRAMEWORKS[f].rates})")
    spec = FRAMEWORKS[name]
    with st.form(f"synth_rate_{name}"):
        finding = st.text_input("The finding rated", value=rating.finding if rating else "")
        concerns = {}
        for domain, label in spec.domains.items():
            left, right = st.columns([1, 2])
            level = left.selectbox(label, spec.concerns, format_func=CONCERN_NAMES.get,
                                   key=f"synth_{name}_{domain}")
            reason = right.text_input(f"Why ({label.lower()})", key=f"synth_{name}_{domain}_why")
            concerns[domain] = (level, reason)
        start = st.selectbox("Start from", LEVELS, format_func=LEVEL_NAMES.get,
                             help="GRADE usually starts high for randomised trials and low "
                                  "for other designs; CERQual starts high.")
        level = st.selectbox("Certainty", ["suggested", *LEVELS],
                             format_func=lambda x: "as the concerns suggest" if x == "suggested"
                             else LEVEL_NAMES[x], key=f"synth_{name}_level")
        if st.form_submit_button("Save the rating"):
            chosen = suggested_level(name, concerns, start=start) if level == "suggested" \
                else level
            _report(lambda: rate_certainty(store, review, approach, outcome, framework=name,
                                           level=chosen, concerns=concerns, finding=finding,
                                           actor=current_user()),
                    f"Saved: {certainty_words(chosen)}.")


def render() -> None:
    review = require_review("evidence.read")
    store = get_store()
    codebook = review_codebook(store, review.id)
    st.title("Synthesis and certainty")
    st.write("For each approach and outcome: what each study found (the direction of effect), "
             "what the studies say together, and how sure we are.")
    said = st.session_state.pop("synth_said", None)
    if said:
        st.success(md_escape(said))
    cells = synthesis_cells(store, review)
    chosen = _choose_cell(codebook, cells)
    if chosen is None:
        st.info("No included study has been coded by approach and outcome yet.")
        return
    approach, outcome = chosen
    cell = cells[chosen]
    may_edit = allowed("code", review)
    synthesis, certainty = st.tabs(["Synthesis", "Certainty"])
    with synthesis:
        if cell.summary:
            st.subheader("What the studies say together")
            st.text(cell.summary)
            found = store.record_summaries(cell.summary_record_ids)
            rests = "; ".join(found[r].title or f"record {r}" for r in cell.summary_record_ids
                              if r in found)
            st.caption(md_escape(f"Written by {cell.written_by}. It rests on: {rests}."))
        if cell.grouping:
            st.text(f"Grouping: {cell.grouping}\nWhy: {cell.grouping_reason}")
        _charts(store, review, codebook, cell, cells)
        if may_edit:
            titles = {rid: row.title or "" for rid, row in
                      store.record_summaries(included_record_ids(store, review)).items()}
            _synthesis_forms(store, review, cell, titles)
    with certainty:
        _certainty_tab(store, review, approach, outcome, may_edit)
