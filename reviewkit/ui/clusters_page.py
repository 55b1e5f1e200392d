"""Clusters: the review's studies grouped by topic, on a 2-D map, with the studies in each."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit.clustering import (
    assignments_csv,
    cluster_figure,
    cluster_review,
    cluster_summary,
    cluster_table,
    included_record_ids,
    review_texts,
    studies_in_cluster,
    study_details,
    texts_fingerprint,
    topic_name,
)
from reviewkit.ui.common import get_store, require_review

SETS = {"included": "Included studies", "all": "All records kept after deduplication"}
PROJECTIONS = {"pca": "PCA (quick)", "tsne": "t-SNE (slower, tighter groups)"}
AUTOMATIC = "Automatic"
_KEPT = "clusters_results"  # session state: recent clusterings, by what they were made from
_KEEP_AT_MOST = 6


def _clustering(store, review_id: int, ids: list[int], k: int | None, projection: str):
    """The clustering of these records, from this session's memory when nothing changed."""
    found_ids, texts = review_texts(store, review_id, ids)
    key = (review_id, texts_fingerprint(found_ids, texts), k, projection)
    kept: dict = st.session_state.setdefault(_KEPT, {})
    if key in kept:
        return kept[key]
    bar = st.empty()

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0,
                     text=f"Reading the studies: {done} of {total} embedded (only the "
                          "first time; the results are kept in the database)…")

    with st.spinner("Grouping the studies by topic…"):
        result = cluster_review(store, review_id, k=k, record_ids=found_ids,
                                projection=projection, progress=progress)
    bar.empty()
    while len(kept) >= _KEEP_AT_MOST:
        kept.pop(next(iter(kept)))
    kept[key] = result
    return result


def _clicked_point(event) -> tuple[int, int] | None:
    """(record id, topic) of the point clicked on the map, if any."""
    points = event.selection.points if event and event.selection else []
    for point in points:
        custom = point.get("customdata")
        if isinstance(custom, list | tuple) and len(custom) == 2:
            return int(custom[0]), int(custom[1])
    return None


def render() -> None:
    review = require_review("review.read")
    store = get_store()
    st.title("Clusters")
    st.write("Studies grouped by what they are about. Each topic is named by the words that "
             "set its studies apart from the others; on the map, studies close together "
             "read alike. Click a point, or choose a topic below, to see its studies.")

    a, b, c = st.columns([2, 1, 1])
    which = a.radio("Which studies", list(SETS), format_func=SETS.get, horizontal=True,
                    key="clusters_set")
    k_choice = b.selectbox("Number of topics", [AUTOMATIC, *range(2, 16)], key="clusters_k",
                           help="Automatic tries 2 to 12 topics and keeps the number that "
                                "separates the studies best.")
    projection = c.selectbox("Map", list(PROJECTIONS), format_func=PROJECTIONS.get,
                             key="clusters_projection")

    ids = included_record_ids(store, review) if which == "included" \
        else store.kept_record_ids(review.id)
    if not ids:
        st.info("No study has been included yet: screen the records first, or choose "
                "\"All records kept after deduplication\" to group everything imported.")
        return
    k = None if k_choice == AUTOMATIC else int(k_choice)
    record_ids, clustering = _clustering(store, review.id, ids, k, projection)
    if len(record_ids) < 3:
        st.info(cluster_summary(clustering, chosen_automatically=k is None) +
                " Add or include more studies to see topics.")
        return

    summary = cluster_summary(clustering, chosen_automatically=k is None)
    if k is not None and clustering.k < k:
        summary += f" ({clustering.k} is the most these studies allow.)"
    st.markdown(f"**{summary}**")
    details = study_details(store, record_ids)
    event = st.plotly_chart(cluster_figure(record_ids, clustering, details), key="clusters_map",
                            on_select="rerun", selection_mode="points",
                            config={"toImageButtonOptions": {"format": "png", "scale": 2,
                                                             "filename": "clusters"}})
    st.caption(f"How clearly the topics separate (silhouette, −1 to 1): {clustering.quality:.2f}."
               " The map's axes have no units: only distances between points mean anything.")

    st.subheader("Topics")
    table = pd.DataFrame(cluster_table(clustering)).rename(columns={
        "topic": "Topic", "label": "Label", "studies": "Studies", "terms": "Distinctive terms"})
    st.dataframe(table, hide_index=True, key="clusters_table")

    topics = sorted(clustering.sizes)
    clicked = _clicked_point(event)
    # a new click on the map chooses its topic; the picker below can still change it
    if clicked is not None and clicked[1] in topics and \
            st.session_state.get("clusters_last_click") != clicked:
        st.session_state["clusters_pick"] = clicked[1]  # before the picker is drawn
    st.session_state["clusters_last_click"] = clicked
    if st.session_state.get("clusters_pick") not in topics:
        st.session_state["clusters_pick"] = topics[0]
    chosen = st.selectbox("Show the studies in", topics, key="clusters_pick",
                          format_func=lambda t: f"{topic_name(clustering, t)} "
                                                f"({clustering.sizes[t]})")
    members = studies_in_cluster(record_ids, clustering, chosen)
    st.dataframe(pd.DataFrame(
        [{"Title": details[r]["title"], "Year": details[r]["year"],
          "Journal": details[r]["journal"]} for r in members],
        columns=["Title", "Year", "Journal"]), hide_index=True, key="clusters_studies")

    st.download_button("Download the topic of each study (CSV)",
                       assignments_csv(record_ids, clustering),
                       file_name="clusters.csv", mime="text/csv", icon=":material/download:")
