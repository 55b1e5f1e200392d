"""reviewkit's app: which pages exist, and which of them the person here may open.

Run with ``streamlit run streamlit_app.py``.
"""

import streamlit as st

from reviewkit.ui import (
    approach_page,
    audit_page,
    backup_page,
    clusters_page,
    coding_page,
    common,
    conflicts_page,
    dedup_page,
    evidence_map_page,
    import_page,
    library_page,
    login_page,
    overview,
    prisma_page,
    publish_page,
    records_page,
    screening_page,
    team_page,
)

st.set_page_config(page_title="reviewkit", page_icon=":material/library_books:", layout="wide")

# (section, page, the action a person must be allowed in the chosen review to see it)
PAGES = [
    ("Review", st.Page(overview.render, title="Overview", icon=":material/dashboard:",
                       url_path="overview"), "review.read"),
    ("Review", st.Page(import_page.render, title="Import", icon=":material/upload_file:",
                       url_path="import"), "import"),
    ("Review", st.Page(records_page.render, title="Records", icon=":material/table_rows:",
                       url_path="records"), "review.read"),
    ("Review", st.Page(dedup_page.render, title="Deduplicate", icon=":material/join:",
                       url_path="deduplicate"), "dedup"),
    ("Screening", st.Page(screening_page.render, title="Screen", icon=":material/rule:",
                          url_path="screen"), "screen"),
    ("Screening", st.Page(conflicts_page.render, title="Conflicts", icon=":material/gavel:",
                          url_path="conflicts"), "screen"),
    ("Screening", st.Page(prisma_page.render, title="PRISMA diagram",
                          icon=":material/account_tree:", url_path="prisma"), "review.read"),
    ("Evidence", st.Page(evidence_map_page.render, title="Evidence map",
                         icon=":material/bubble_chart:", url_path="evidence-map"),
     "evidence.read"),
    ("Evidence", st.Page(approach_page.render, title="Evidence by approach",
                         icon=":material/search:", url_path="evidence-by-approach"),
     "evidence.read"),
    ("Evidence", st.Page(coding_page.render, title="Code studies", icon=":material/label:",
                         url_path="code"), "code"),
    ("Evidence", st.Page(clusters_page.render, title="Clusters", icon=":material/scatter_plot:",
                         url_path="clusters"), "review.read"),
    ("Evidence", st.Page(library_page.render, title="Local stories",
                         icon=":material/diversity_3:", url_path="library"), "library.read"),
    ("Team", st.Page(team_page.render, title="Team", icon=":material/group:", url_path="team"),
     "signed_in"),
    ("Team", st.Page(publish_page.render, title="Publish", icon=":material/public:",
                     url_path="publish"), "site.publish"),
    ("Team", st.Page(audit_page.render, title="Audit", icon=":material/history:",
                     url_path="audit"), "audit.read"),
    ("Team", st.Page(backup_page.render, title="Backup and move", icon=":material/archive:",
                     url_path="backup"), "archive.export"),
]


def _behind_the_door(page: st.Page, action: str):
    """A page this person may not open, kept at its address: the login form for a visitor
    (who then lands on the page the link named), else a plain refusal — never "Page not found"."""
    def gate() -> None:
        if common.accounts_on() and common.current_user() is None:
            login_page.render()
        else:
            common.require_page(action, common.current_review())
            st.info("Choose or create a review on the Overview page first.")
    return st.Page(gate, title=page.title, icon=page.icon, url_path=page.url_path,
                   visibility="hidden")


review = common.sidebar()
user = common.current_user()
sections: dict[str, list] = {}
hidden: list = []
if common.accounts_on() and user is None:
    sections["Account"] = [st.Page(login_page.render, title="Log in", icon=":material/login:",
                                   url_path="login")]
for section, page, action in PAGES:
    if action == "signed_in":
        visible = user is not None
    elif action == "archive.export":
        visible = common.allowed(action, review) or common.allowed("archive.import")
    else:
        visible = common.allowed(action, review if action != "review.create" else None)
    if visible:
        sections.setdefault(section, []).append(page)
    else:
        hidden.append(_behind_the_door(page, action))
if review is None and common.allowed("review.create") and not sections.get("Review"):
    # a researcher with no review yet still needs the Overview to start one
    sections.setdefault("Review", []).insert(0, PAGES[0][1])
    hidden = [h for h in hidden if h.url_path != PAGES[0][1].url_path]
by_approach = [p for p in sections.get("Evidence", []) if p.url_path == "evidence-by-approach"]
if "Review" not in sections and by_approach:
    # a commissioner's front page: the question they come with, typed in their own words
    sections["Evidence"] = by_approach + [p for p in sections["Evidence"] if p not in by_approach]
    sections = {"Evidence": sections["Evidence"], **sections}
common.remember_pages([page for pages in sections.values() for page in pages])
if hidden:
    # reachable by their address, never listed in the menu
    sections.setdefault(next(iter(sections), ""), []).extend(hidden)
navigation = st.navigation(sections, expanded=True)  # every page in view, never "View more"
navigation.run()
