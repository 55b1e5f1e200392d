"""Field-by-field similarity: titles, authors, journals, pages.

Each function compares one field of two fingerprints and returns a number from 0 to 1, or
True/False/None (None when the field is missing or cannot be compared), so that the rules in
:mod:`reviewkit.dedup.scoring` read as plain statements about the evidence.
"""

from __future__ import annotations

from functools import cache, lru_cache

from rapidfuzz import fuzz

from reviewkit.dedup.fields import Fingerprint


def title_similarity(left: tuple[str, ...], right: tuple[str, ...]) -> float:
    """Return the best similarity (0..1) between any forms of two titles.

    A title cut short by a database's field limit, missing its subtitle, or missing a section
    label one database puts before it ("Research note—", "Original article:"), still counts
    as alike, slightly discounted.

    >>> title_similarity(("research commentary digital infrastructures the missing is research "
    ...                   "agenda",), ("digital infrastructures the missing is research agenda",))
    0.9
    """
    if left and right and left[0] == right[0]:
        return 1.0
    best = 0.0
    for a in left:
        for b in right:
            score = fuzz.ratio(a, b) / 100
            short, long = (a, b) if len(a) <= len(b) else (b, a)
            if score < 0.93 and len(long) > len(short) * 1.1:
                if len(short) >= 60:
                    score = max(score, 0.93 * fuzz.ratio(short, long[: len(short)]) / 100)
                if short.count(" ") >= 3 and (long.startswith(short + " ")
                                              or long.endswith(" " + short)):
                    score = max(score, 0.90)
            best = max(best, score)
    return best


def surnames_match(a: str, b: str) -> bool:
    """Tell whether two normalised surnames are the same person's, allowing typos."""
    if a == b:
        return True
    if min(len(a), len(b)) >= 3 and (a.startswith(b) or b.startswith(a)):
        return True
    if min(len(a), len(b)) >= 4 and (a.endswith(b) or b.endswith(a)):
        return True
    return min(len(a), len(b)) >= 5 and fuzz.ratio(a, b) >= 75


def author_similarity(a: Fingerprint, b: Fingerprint) -> tuple[float, bool] | None:
    """Return (share of the shorter author list found in the other, same first author)."""
    if not a.surnames or not b.surnames:
        return None
    first = _same_person(a.surnames[0], a.given_names[0], b.surnames[0], b.given_names[0])
    if a.surnames[:12] == b.surnames[:12]:
        return 1.0, first
    left = list(zip(a.surnames[:12], a.given_names[:12], strict=True))
    unused = list(zip(b.surnames[:12], b.given_names[:12], strict=True))
    size = min(len(left), len(unused))
    # Exact surnames first, then the harder cases among what is left.
    exact = {name for name, _ in unused}
    found = 0
    rest = []
    for surname, given in left:
        if surname in exact:
            found += 1
            exact.discard(surname)
            unused = _drop_first(unused, surname)
        else:
            rest.append((surname, given))
    for surname, given in rest:
        for k, (other, other_given) in enumerate(unused):
            if _same_person(surname, given, other, other_given):
                found += 1
                del unused[k]
                break
    return min(found / size, 1.0), first


def _drop_first(pairs: list[tuple[str, str]], surname: str) -> list[tuple[str, str]]:
    for k, pair in enumerate(pairs):
        if pair[0] == surname:
            return pairs[:k] + pairs[k + 1:]
    return pairs


def _same_person(surname: str, given: str, other: str, other_given: str) -> bool:
    # A name written given-name-first ("Luis Ferreira, Santos A") still matches.
    return surnames_match(surname, other) or surname == other_given or given == other


@lru_cache(maxsize=65536)
def journal_similarity(left: tuple[str, ...], right: tuple[str, ...]) -> float:
    """Return how alike two journal names are (0..1); an abbreviation of the other scores 0.95.

    >>> journal_similarity(("curr opin lipidol",), ("current opinion lipidology",))
    0.95
    >>> journal_similarity(("bmj",), ("br med j",))
    0.95
    """
    best = 0.0
    for a in left:
        for b in right:
            if a == b:
                return 1.0
            if abbreviates(a, b) or abbreviates(b, a):
                best = max(best, 0.95)
            else:
                best = max(best, fuzz.token_sort_ratio(a, b) / 100)
    return best


def abbreviates(short: str, long: str) -> bool:
    """Tell whether ``short`` abbreviates ``long`` word by word ("j thorac surg", "jthoracsurg").

    Each word of ``short`` stands for one or more consecutive words of ``long``: it splits into
    pieces, one per long word, each starting with its word's first letter and keeping the
    word's letters in order.
    """
    s, w = short.split(), long.split()
    if not s or len(s) > len(w) or short == long:
        return False

    @cache
    def covers(i: int, k: int, j: int) -> bool:
        # Does the rest of short word i (from letter k) and the short words after it stand
        # for long words j onwards?
        if j == len(w):
            return i == len(s)
        if i == len(s):
            return False
        token = s[i]
        for end in range(k + 1, len(token) + 1):
            if not _abbreviates_word(token[k:end], w[j]):
                break  # a longer piece cannot abbreviate the word if this one does not
            done = end == len(token)
            if covers(i + 1, 0, j + 1) if done else covers(i, end, j + 1):
                return True
        return False

    return covers(0, 0, 0)


def _abbreviates_word(short: str, long: str) -> bool:
    if not short or short[0] != long[0] or len(short) > len(long):
        return False
    position = 0
    for ch in short:
        position = long.find(ch, position) + 1
        if position == 0:
            return False
    return True


def pages_agree(a: Fingerprint, b: Fingerprint) -> bool | None:
    """Compare first pages; None when either is missing or they cannot be compared."""
    x, y = a.first_page, b.first_page
    if not x or not y:
        return None
    if x == y or _digits(x) == _digits(y):
        return True
    # A lone page that is the other record's last page ("569" and "567-569").
    if (not a.last_page and x == b.last_page) or (not b.last_page and y == a.last_page):
        return True
    # Article numbers ("e0123456", "c1804") stand in for printed pages in some databases.
    if x[0].isalpha() != y[0].isalpha() or "1" in (x, y) and max(len(x), len(y)) >= 5:
        return None
    # Same last page, different first: one of them is garbled; no evidence either way.
    if a.last_page and b.last_page and _digits(a.last_page) == _digits(b.last_page):
        return None
    return False


_DROP_LETTERS = str.maketrans("", "", "abcdefghijklmnopqrstuvwxyz")


def _digits(page: str) -> str:
    # Pages are already lower-case letters and digits only.
    return page.translate(_DROP_LETTERS)
