"""Words as search sees them: lower case, no accents or apostrophes, light suffix stripping.

>>> words("St George's play-journeys")
['st', 'georges', 'play', 'journeys']
>>> [stem(w) for w in ("loneliness", "lonely", "communities", "community", "shopping")]
['loneli', 'loneli', 'communiti', 'communiti', 'shop']
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_APOSTROPHES = re.compile(r"['’‘`]")
_WORD = re.compile(r"[a-z0-9]+")

# Words too common to tell entries apart.  Kept short on purpose: "not", "no" and the like
# are left in because they change meaning in phrases such as "not in work".
STOP_WORDS = frozenset("""
a an and are as at be been but by for from had has have he her his i if in into is it its
me my of on or our she so than that the their them then there these they this to too was
we were what when where which while who will with would you your about also can could
did do does just more most some such very
""".split())

_VOWELS = set("aeiouy")
# Words whose "ness" is not a suffix: stripping it would merge them with unrelated words.
_NESS_WORDS = frozenset({"business", "witness", "harness", "wilderness"})


def fold(text: str) -> str:
    """Lower-case ``text`` and strip accents and apostrophes."""
    text = text or ""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _APOSTROPHES.sub("", text.lower())


def words(text: str) -> list[str]:
    """Split ``text`` into folded words (letters and digits only)."""
    return _WORD.findall(fold(text))


def _has_vowel(part: str) -> bool:
    return any(ch in _VOWELS for ch in part)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Strip common English endings so that plurals and verb forms meet the same stem."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ness") and len(word) > 6 and word not in _NESS_WORDS:
        word = word[:-4]
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "i"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for ending in ("ing", "ed"):
        head = word[: -len(ending)]
        if word.endswith(ending) and len(head) >= 3 and _has_vowel(head):
            word = head
            # "shopping" -> "shopp" -> "shop"; "fell", "press" keep their doubled letter
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]
            break
    if word.endswith("y") and len(word) > 3 and word[-2] not in _VOWELS:
        word = word[:-1] + "i"
    return word


def terms(text: str) -> list[str]:
    """Return the stemmed, stop-word-free terms of ``text``, in order."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]
