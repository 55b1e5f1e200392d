"""PRISMA 2020: the flow diagram filled from the review's data, to read and to download."""

from __future__ import annotations

import streamlit as st

from reviewkit.prisma import prisma_counts, prisma_png, prisma_svg, prisma_text
from reviewkit.rounds import list_rounds
from reviewkit.screening.rapid import screening_methods_text
from reviewkit.search_appendix import search_methods_text
from reviewkit.ui.common import get_store, md_escape, require_review


def render() -> None:
    review = require_review("review.read")
    st.title("PRISMA 2020 flow diagram")
    st.write("Every number comes from this review's imports, merged duplicates and final "
             "screening decisions, so the diagram is always up to date.")
    store = get_store()
    rounds = list_rounds(store, review)
    number = None
    if len(rounds) > 1:
        choices = {f"{r.name}: the flow diagram for updated reviews": r.number
                   for r in reversed(rounds[1:])}
        choices["The whole review, every round together"] = None
        number = choices[st.radio("Diagram", list(choices), key="prisma_round")]
    counts = prisma_counts(store, review, round_number=number)
    svg = prisma_svg(counts)
    kind = "for updated reviews" if number else "databases, registers and other sources"
    st.image(prisma_png(counts), caption=f"PRISMA 2020 flow diagram ({kind})",
             alt=f"PRISMA 2020 flow diagram: {counts.identified} records identified, "
                 f"{counts.total_included} studies included. The same counts are written out "
                 "below.")
    with st.expander("The diagram in words"):
        st.markdown("\n".join(f"- **{stage}**: " + md_escape("; ".join(lines))
                              for stage, lines in prisma_text(counts)))
    left, right = st.columns(2)
    left.download_button("Download SVG", svg.encode("utf-8"), file_name="prisma-2020.svg",
                         mime="image/svg+xml", icon=":material/download:")
    right.download_button("Download PNG", prisma_png(counts), file_name="prisma-2020.png",
                          mime="image/png", icon=":material/download:")
    if counts.awaiting_screening or counts.awaiting_full_text:
        records, reports = counts.awaiting_screening, counts.awaiting_full_text
        st.info(f"Screening is not finished: {records} record{'' if records == 1 else 's'} "
                f"still to screen by title and abstract, {reports} "
                f"report{'' if reports == 1 else 's'} still to assess.")
    st.subheader("Methods text: searching and screening")
    methods = search_methods_text(store, review)
    if counts.stopping is not None or counts.rapid is not None:
        methods += "\n\n" + screening_methods_text(counts)
    st.text(methods)
    st.download_button("Download methods text", methods.encode("utf-8"),
                       file_name="methods.txt", mime="text/plain", icon=":material/download:")
