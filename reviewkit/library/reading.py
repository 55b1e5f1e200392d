"""Show an entry the way a reader wants it: references as titles, sources as citations.

Entry files refer to each other by id in back-quotes (`nrp-old-swan-liverpool`) and name the
seed document they were written from ("reviewkit seed document 000_8666…").  Both mean
something to the people who keep the library, nothing to a reader.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_SEED = re.compile(r"\s*\(?\breviewkit seed document\s+[0-9a-z_]+\)?", re.IGNORECASE)
_REFERENCE = re.compile(r"`([a-z0-9]+(?:-[a-z0-9]+)+)`")


def readable_source(source: str) -> str:
    """Return ``source`` without the internal seed-document name."""
    text = _SEED.sub("", source or "")
    return re.sub(r"\s+([,.;)])", r"\1", " ".join(text.split())).strip()


def readable_body(body: str, titles: Mapping[str, str]) -> str:
    """Return ``body`` with references to other entries by id written as their titles."""
    def title(match: re.Match) -> str:
        found = titles.get(match.group(1))
        return f"“{found}”" if found else "another entry in the library"

    return _REFERENCE.sub(title, body or "")
