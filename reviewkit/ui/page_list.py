"""The app's pages: where each sits in the menu, its address, and who may open it.

Plain data, without Streamlit: ``app_script.py`` builds the pages from it, and the browser
tests read every address from it.
"""

from __future__ import annotations

from typing import NamedTuple


class PageSpec(NamedTuple):
    section: str  # the menu's heading
    module: str  # reviewkit.ui.<module>.render draws it
    title: str
    icon: str  # a Material icon's name
    url_path: str  # its address
    action: str  # what a person must be allowed in the chosen review to see it


PAGE_SPECS = (
    PageSpec("Review", "overview", "Overview", "dashboard", "overview", "review.read"),
    PageSpec("Review", "import_page", "Import", "upload_file", "import", "import"),
    PageSpec("Review", "records_page", "Records", "table_rows", "records", "review.read"),
    PageSpec("Review", "dedup_page", "Deduplicate", "join", "deduplicate", "dedup"),
    PageSpec("Screening", "screening_page", "Screen", "rule", "screen", "screen"),
    PageSpec("Screening", "conflicts_page", "Conflicts", "gavel", "conflicts", "screen"),
    PageSpec("Screening", "prisma_page", "PRISMA diagram", "account_tree", "prisma",
             "review.read"),
    PageSpec("Evidence", "evidence_map_page", "Evidence map", "bubble_chart", "evidence-map",
             "evidence.read"),
    PageSpec("Evidence", "approach_page", "Evidence by approach", "search",
             "evidence-by-approach", "evidence.read"),
    PageSpec("Evidence", "coding_page", "Code studies", "label", "code", "code"),
    PageSpec("Evidence", "codebook_page", "Codebook", "menu_book", "codebook", "code"),
    PageSpec("Evidence", "extract_page", "Extract", "edit_note", "extract", "extract"),
    PageSpec("Evidence", "appraise_page", "Appraise", "fact_check", "appraise", "extract"),
    PageSpec("Evidence", "synthesis_page", "Synthesis and certainty", "balance", "synthesis",
             "evidence.read"),
    PageSpec("Evidence", "clusters_page", "Clusters", "scatter_plot", "clusters", "review.read"),
    PageSpec("Evidence", "library_page", "Local stories", "diversity_3", "library",
             "library.read"),
    PageSpec("Team", "team_page", "Team", "group", "team", "signed_in"),
    PageSpec("Team", "publish_page", "Publish", "public", "publish", "site.publish"),
    PageSpec("Team", "audit_page", "Audit", "history", "audit", "audit.read"),
    PageSpec("Team", "backup_page", "Backup and move", "archive", "backup", "archive.export"),
)
# Shown to a visitor when accounts are on; not in PAGE_SPECS, which are what a review holds.
LOGIN = PageSpec("Account", "login_page", "Log in", "login", "login", "")


def addresses() -> list[str]:
    """Every page address the app registers: each page's, then the login page's."""
    return [spec.url_path for spec in (*PAGE_SPECS, LOGIN)]
