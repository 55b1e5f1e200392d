"""User text inside Markdown and HTML: always shown as the characters typed, never as markup."""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~$:<&])")


def escape_markdown(text: str | None) -> str:
    """Backslash every character Markdown (and Streamlit's extensions) could read as markup:
    no emphasis, links, images, autolinks, raw HTML, LaTeX or colour directives survive.

    >>> escape_markdown("![x](http://e.org/a.png) <b>")
    '\\\\!\\\\[x\\\\]\\\\(http\\\\://e\\\\.org/a\\\\.png\\\\) \\\\<b\\\\>'
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text or "")
