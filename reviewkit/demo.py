"""The ready-made demo review: the two source documents' reference lists as database exports."""

from __future__ import annotations

import json
from pathlib import Path

from reviewkit.errors import DuplicateImportError, ReviewkitError
from reviewkit.importing import import_file
from reviewkit.store import Review, Store

DEMO_DIR = Path(__file__).resolve().parent.parent / "corpora" / "demo"


def load_demo_definition(folder: Path = DEMO_DIR) -> dict:
    """Read the demo review's question, criteria and list of export files."""
    path = folder / "review.json"
    if not path.exists():
        raise ReviewkitError(f"The demo review definition is missing: {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def ensure_demo_review(store: Store, *, folder: Path = DEMO_DIR, actor: str = "admin") -> Review:
    """Create the demo review and import its files, unless it is there already.

    Safe to call on every start: files already imported are skipped.
    """
    definition = load_demo_definition(folder)
    name = definition["name"]
    review = store.find_review(name)
    if review is None:
        settings = {
            "exclusion_reasons": definition.get("exclusion_reasons", []),
            "keywords_include": definition.get("keywords_include", []),
            "keywords_exclude": definition.get("keywords_exclude", []),
            "demo": True,
        }
        try:
            review = store.create_review(
                name, actor=actor, question=definition.get("question", ""),
                inclusion_criteria="\n".join(definition.get("inclusion_criteria", [])),
                exclusion_criteria="\n".join(definition.get("exclusion_criteria", [])),
                settings=settings)
        except ReviewkitError:
            # Another process (a second browser session) created it a moment ago.
            review = store.get_review(name)
    for item in definition.get("files", []):
        path = folder / item["path"]
        try:
            import_file(store, review, path.read_bytes(), path.name, actor=actor,
                        database_name=item.get("database", ""),
                        search_date=item.get("search_date", ""),
                        search_query=item.get("query", ""))
        except DuplicateImportError:
            continue
    return review
