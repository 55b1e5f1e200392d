"""Evidence map: approaches down the side, outcomes across; click a cell to see its studies."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit.codebook import review_codebook
from reviewkit.decisions import review_decisions
from reviewkit.errors import ReviewkitError
from reviewkit.evidence_map import (
    CERTAINTY_KEYS,
    CERTAINTY_NAMES,
    COLOUR_BY,
    QUALITY_KEYS,
    QUALITY_NAMES,
    build_evidence_map,
    certainty_and_quality,
    coded_studies_for_review,
    map_figure,
    map_html,
    map_image,
    map_rows,
    map_table_csv,
)
from reviewkit.interchange import export_for_tool
from reviewkit.rounds import changes_since_last_round
from reviewkit.ui.common import current_user, get_store, md_escape, require_review
from reviewkit.ui.library_page import local_entries_panel


def _cell_from_point(point: dict, evidence_map) -> tuple[str, str] | None:
    row, col = round(point.get("y", -1)), round(point.get("x", -1))
    if 0 <= row < len(evidence_map.approaches) and 0 <= col < len(evidence_map.outcomes):
        return evidence_map.approaches[row][0], evidence_map.outcomes[col][0]
    return None


def _cell_in_address(cell, evidence_map) -> tuple[str, str] | None:
    """Keep the chosen cell in the address (?approach=…&outcome=…), or open the one it names."""
    if cell:
        st.query_params["approach"], st.query_params["outcome"] = cell
        return cell
    approaches = {code for code, _ in evidence_map.approaches}
    outcomes = {code for code, _ in evidence_map.outcomes}
    linked = (st.query_params.get("approach"), st.query_params.get("outcome"))
    return linked if linked[0] in approaches and linked[1] in outcomes else None


def render() -> None:
    review = require_review("evidence.read")
    store = get_store()
    st.title("Evidence map")
    st.write("Each bubble is the set of included studies that tested an approach for an "
             "outcome; bigger bubbles mean more studies. Empty crossings are evidence gaps.")
    codebook = review_codebook(store, review.id)
    studies = coded_studies_for_review(store, review.id)
    if not studies:
        st.info("No included study has been coded yet. Code studies by approach and outcome "
                "after full-text screening, and the map fills itself.")
        return
    changes = changes_since_last_round(store, review, studies)
    if changes is not None:
        st.info(changes.plain_words(), icon=":material/update:")
    designs = sorted({s.design for s in studies if s.design})
    verdicts, quality = certainty_and_quality(store, review)
    a, b = st.columns([3, 2])
    chosen = a.multiselect("Study designs", designs, default=designs,
                           format_func=lambda c: codebook.label("design", c))
    colour = b.radio("Colour by", list(COLOUR_BY), horizontal=True, key="map_colour",
                     format_func={"design": "Design", "direction": "Direction of effect",
                                  "certainty": "Certainty", "quality": "Quality"}.get)
    c, d = st.columns(2)
    levels = c.multiselect("Certainty of the cell", list(CERTAINTY_KEYS),
                           default=list(CERTAINTY_KEYS), format_func=CERTAINTY_NAMES.get,
                           key="map_certainty")
    qualities = d.multiselect("Quality of the study", list(QUALITY_KEYS),
                              default=list(QUALITY_KEYS), format_func=QUALITY_NAMES.get,
                              key="map_quality")
    if not quality:
        d.caption("No study has been appraised yet: every study is 'quality not appraised'.")
    evidence_map = build_evidence_map(studies, codebook, designs=chosen, verdicts=verdicts,
                                      quality=quality, certainty_levels=levels,
                                      qualities=qualities)
    figure = map_figure(evidence_map, colour)
    event = st.plotly_chart(figure, on_select="rerun", selection_mode="points", key="map",
                            config={"toImageButtonOptions": {"format": "png", "scale": 2,
                                                             "filename": "evidence-map"}})
    st.caption(f"{len(evidence_map.studies)} studies · {len(evidence_map.cells)} filled cells · "
               f"{len(evidence_map.gaps)} gaps. The camera icon above the map saves it as a PNG.")
    with st.expander("The map as a table (studies per approach and outcome)"):
        st.table(pd.DataFrame(map_rows(evidence_map)).set_index("Approach"))

    cell = None
    points = event.selection.points if event and event.selection else []
    if points:
        cell = _cell_from_point(points[0], evidence_map)
    with st.expander("Or choose a cell", expanded=cell is None):
        filled = sorted(evidence_map.cells, key=lambda c: -len(evidence_map.cells[c]))
        pick = st.selectbox("Approach → outcome", filled, index=None,
                            format_func=lambda c: f"{codebook.label('approach', c[0])} → "
                                                  f"{codebook.label('outcome', c[1])} "
                                                  f"({len(evidence_map.cells[c])})")
        cell = cell or pick
    cell = _cell_in_address(cell, evidence_map)
    if cell:
        approach, outcome = cell
        found = evidence_map.cells.get(cell, [])
        st.subheader(f"{md_escape(codebook.label('approach', approach))} → "
                     f"{md_escape(codebook.label('outcome', outcome))}")
        st.markdown("**How sure we are:** " + md_escape(
            evidence_map.statements.get(cell) or f"{CERTAINTY_NAMES['']}."))
        if not found:
            st.warning("No included study looked at this: an evidence gap.")
        else:
            st.dataframe(pd.DataFrame([{
                "Study": s.title, "Year": s.year, "Design": codebook.label("design", s.design) if s.design else "",
                "Direction": s.direction_in(approach, outcome), "Key finding": s.finding} for s in found]),
                hide_index=True)
        local_entries_panel([approach], [outcome])

    gaps = [(codebook.label("approach", x), codebook.label("outcome", y)) for x, y in evidence_map.gaps]
    with st.expander(f"Evidence gaps ({len(gaps)})"):
        st.dataframe(pd.DataFrame(gaps, columns=["Approach", "Outcome with no study"]),
                     hide_index=True)
    if st.button("Prepare PNG and SVG pictures", icon=":material/image:"):
        with st.spinner("Drawing the map…"):
            try:
                st.session_state["map_pictures"] = {
                    fmt: map_image(evidence_map, fmt, colour_by=colour) for fmt in ("png", "svg")}
            except ReviewkitError as exc:
                st.error(md_escape(str(exc)))
    pictures = st.session_state.get("map_pictures", {})
    left, middle, right = st.columns(3)
    if pictures:
        middle.download_button("Download PNG", pictures["png"], file_name="evidence-map.png",
                               mime="image/png", icon=":material/download:")
        middle.download_button("Download SVG", pictures["svg"], file_name="evidence-map.svg",
                               mime="image/svg+xml", icon=":material/download:")
    left.download_button("Download interactive map (HTML, works offline)",
                         map_html(evidence_map, colour_by=colour).encode("utf-8"), file_name="evidence-map.html",
                         mime="text/html", icon=":material/download:")
    right.download_button("Download the table (CSV)", map_table_csv(evidence_map),
                          file_name="evidence-map.csv", mime="text/csv", icon=":material/download:")
    if right.button("Prepare EPPI-Mapper file (JSON)", icon=":material/hub:",
                    help="The coded studies and the codebook as EPPI-Reviewer JSON, to rebuild "
                         "the map in EPPI-Mapper"):
        items = review_decisions(store, review, current_user())
        st.session_state["map_eppi"] = (review.id, export_for_tool(store, review, items, "eppi"))
    eppi = st.session_state.get("map_eppi")
    if eppi and eppi[0] == review.id:
        right.download_button("Download EPPI JSON", eppi[1], file_name="evidence-map-eppi.json",
                              mime="application/json", icon=":material/download:")
