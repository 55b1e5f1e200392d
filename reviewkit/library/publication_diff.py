"""What a moderator compares: a story as it was sent and as it will be published, change by change.

The contributor's own words (kept while the story waits) are lined up word by word with the
text that will go out.  Every stretch that differs is one change: a personal detail that
anonymising replaced (with the reason it gave), or an edit a moderator made.  Pieces are plain
data, so the page can mark them without ever reading the story as Markdown or HTML.

>>> pieces = publication_diff("Ring Sheila on 07700 900412 today.",
...                           "Ring [name] on [phone] today.",
...                           [{"original": "Sheila", "placeholder": "[name]",
...                             "reason": "A common first name."},
...                            {"original": "07700 900412", "placeholder": "[phone]",
...                             "reason": "A phone number."}])
>>> [(p.kind, p.before, p.after) for p in pieces if p.kind != "same"]
[('replaced', 'Sheila', '[name]'), ('replaced', '07700 900412', '[phone]')]
>>> diff_as_text(pieces)
'Ring [name ← Sheila] on [phone ← 07700 900412] today.'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

_TOKENS = re.compile(r"\[[a-z ]+\]|\w+(?:['’.@-]\w+)*|\s+|[^\w\s]")
_PLACEHOLDER = re.compile(r"\[[a-z ]+\]")
EDIT_REASON = "Changed by a moderator."


@dataclass(frozen=True)
class DiffPiece:
    """One stretch of the story: unchanged, or what was there ``before`` and is there ``after``.

    ``kind`` is "same", "replaced" (anonymising took a detail out), "edited", "added" or
    "removed" (a moderator's changes); ``why`` says why, in words a moderator can read.
    """

    kind: str
    before: str
    after: str
    why: str = ""


def _reason_for(before: str, after: str, replacements: list[dict]) -> str:
    for item in replacements:
        original = str(item.get("original") or "")
        if original and original in before and str(item.get("placeholder", "")) in after:
            return str(item.get("reason") or item.get("label") or "A personal detail.")
    return ""


def publication_diff(sent: str, published: str, replacements: list[dict] = ()
                     ) -> list[DiffPiece]:
    """Line up ``sent`` with ``published`` and return the pieces, in the published order.

    ``replacements`` are what anonymising recorded ({original, placeholder, reason}); a change
    that ends in a placeholder it recorded is "replaced" with its reason, any other change is
    a moderator's edit.
    """
    before, after = _TOKENS.findall(sent or ""), _TOKENS.findall(published or "")
    matcher = SequenceMatcher(a=before, b=after, autojunk=False)
    pieces: list[DiffPiece] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        old, new = "".join(before[a1:a2]), "".join(after[b1:b2])
        if op == "equal":
            pieces.append(DiffPiece("same", old, new))
        elif op == "delete":
            pieces.append(DiffPiece("removed", old, "", EDIT_REASON))
        elif op == "insert":
            pieces.append(DiffPiece("added", "", new, EDIT_REASON))
        else:
            why = _reason_for(old, new, replacements) if _PLACEHOLDER.search(new) else ""
            pieces.append(DiffPiece("replaced" if why else "edited", old, new,
                                    why or EDIT_REASON))
    return _merged(pieces)


def _merged(pieces: list[DiffPiece]) -> list[DiffPiece]:
    """Join neighbouring unchanged pieces (the matcher splits them at every junk match)."""
    out: list[DiffPiece] = []
    for piece in pieces:
        if out and piece.kind == "same" == out[-1].kind:
            out[-1] = DiffPiece("same", out[-1].before + piece.before, out[-1].after + piece.after)
        else:
            out.append(piece)
    return out


def diff_as_text(pieces: list[DiffPiece]) -> str:
    """The published text with each change marked in brackets, as plain text."""
    out = []
    for piece in pieces:
        if piece.kind == "same":
            out.append(piece.after)
        elif piece.kind == "replaced":
            out.append(f"{piece.after[:-1]} ← {piece.before.strip()}]")
        elif piece.kind == "removed":
            out.append(f"[removed: {piece.before.strip()}]")
        elif piece.kind == "added":
            out.append(f"[added: {piece.after.strip()}]")
        else:
            out.append(f"[{piece.before.strip()} → {piece.after.strip()}]")
    return "".join(out)


def changes(pieces: list[DiffPiece]) -> list[DiffPiece]:
    """Only the pieces that differ, in order."""
    return [p for p in pieces if p.kind != "same"]
