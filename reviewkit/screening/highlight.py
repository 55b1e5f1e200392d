"""Mark inclusion and exclusion terms in a text, so a reviewer's eye finds them at once."""

from __future__ import annotations

import re


def highlight_spans(text: str, include: list[str], exclude: list[str]) -> list[tuple[str, str]]:
    """Split ``text`` into (piece, kind) where kind is 'include', 'exclude' or ''.

    Terms match whole words, case-insensitively; a trailing ``*`` matches any ending.

    >>> highlight_spans("Social prescribing for children", ["social prescrib*"], ["child*"])
    [('Social prescribing', 'include'), (' for ', ''), ('children', 'exclude')]
    """
    patterns = []
    for kind, terms in (("include", include), ("exclude", exclude)):
        for term in terms:
            term = term.strip()
            if not term:
                continue
            body = re.escape(term.rstrip("*")).replace(r"\ ", r"\s+")
            tail = r"\w*" if term.endswith("*") else ""
            patterns.append((kind, rf"\b{body}{tail}\b"))
    if not patterns or not text:
        return [(text, "")] if text else []
    combined = re.compile("|".join(f"(?P<k{i}>{p})" for i, (_, p) in enumerate(patterns)),
                          re.IGNORECASE)
    out, last = [], 0
    for match in combined.finditer(text):
        if match.start() > last:
            out.append((text[last:match.start()], ""))
        index = int(match.lastgroup[1:])
        out.append((match.group(0), patterns[index][0]))
        last = match.end()
    if last < len(text):
        out.append((text[last:], ""))
    return out
