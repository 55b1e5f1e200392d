"""reviewkit's app: which pages exist.  Run with ``streamlit run streamlit_app.py``."""

import streamlit as st

from reviewkit.ui import (
    approach_page,
    common,
    conflicts_page,
    dedup_page,
    evidence_map_page,
    import_page,
    library_page,
    overview,
    prisma_page,
    records_page,
    screening_page,
)

st.set_page_config(page_title="reviewkit", page_icon=":material/library_books:", layout="wide")

navigation = st.navigation({
    "Review": [
        st.Page(overview.render, title="Overview", icon=":material/dashboard:",
                url_path="overview", default=True),
        st.Page(import_page.render, title="Import", icon=":material/upload_file:",
                url_path="import"),
        st.Page(records_page.render, title="Records", icon=":material/table_rows:",
                url_path="records"),
        st.Page(dedup_page.render, title="Deduplicate", icon=":material/join:",
                url_path="deduplicate"),
    ],
    "Screening": [
        st.Page(screening_page.render, title="Screen", icon=":material/rule:", url_path="screen"),
        st.Page(conflicts_page.render, title="Conflicts", icon=":material/gavel:",
                url_path="conflicts"),
        st.Page(prisma_page.render, title="PRISMA diagram", icon=":material/account_tree:",
                url_path="prisma"),
    ],
    "Evidence": [
        st.Page(evidence_map_page.render, title="Evidence map", icon=":material/bubble_chart:",
                url_path="evidence-map"),
        st.Page(approach_page.render, title="Evidence by approach", icon=":material/search:",
                url_path="evidence-by-approach"),
        st.Page(library_page.render, title="Local stories", icon=":material/diversity_3:",
                url_path="library"),
    ],
})
common.sidebar()
navigation.run()
