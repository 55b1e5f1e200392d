"""The Screen page's settings under AppTest: choices shown in words, stored by name."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from reviewkit.store import Store
from tests.test_conflicts_page import two_reviewer_app  # noqa: F401, F811 (a fixture)


def test_screening_settings_show_words_not_internal_names(two_reviewer_app):  # noqa: F811
    """The lead's settings on the Screen page name the model, stopping rule and mode in words
    (the CLI's names only in brackets or after the words), and saving one stores the name."""
    source = ("from reviewkit.ui import common\n"
              "from reviewkit.ui import screening_page as page\n"
              "common.sidebar()\n"
              "page.render()\n")
    at = AppTest.from_string(source, default_timeout=120).run()
    assert not at.exception, at.exception
    raw = re.compile(r"^[a-z]+(_[a-z]+)*$")
    for label in ("Model that ranks the records", "Stopping rule", "Screening mode"):
        box = next(s for s in at.selectbox if s.label == label)
        assert box.options and not [o for o in box.options if raw.match(o)], box.options
    mode = next(s for s in at.selectbox if s.label == "Screening mode")
    mode.select("rapid").run()
    assert not at.exception, at.exception
    store = Store(two_reviewer_app)
    try:
        assert store.get_review("Two reviewers").settings["screening_mode"] == "rapid"
    finally:
        store.close()
