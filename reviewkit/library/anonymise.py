"""Spot personal details in contributed stories so a moderator can remove them before publishing.

The patterns favour UK details: mobile and landline numbers, postcodes and street addresses,
plus e-mail addresses and people's names where the text signals one ("my name is", "I'm",
a title such as "Mrs", or a common first name followed by a surname).  Flags are suggestions
for a person to check, not a guarantee that nothing identifying is left.

>>> text = "I'm Sarah, call 07700 900123 or write to 12 Acacia Road, L13 5TY."
>>> anonymise(text, flag_personal_details(text))
"I'm [name], call [phone] or write to [address], [postcode]."
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("name", "phone", "email", "address", "postcode")


@dataclass(frozen=True)
class Flag:
    """A stretch of text that looks like a personal detail: ``text[start:end]``."""

    kind: str
    text: str
    start: int
    end: int
    reason: str = ""  # why it was flagged, in words a moderator can read


# A capitalised word that could be part of a name: "Sarah", "O'Neill", "Smith-Jones".
_NAME_WORD = r"[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)?"

# Capitalised words that follow "I'm" or sit in a title position without being names.
_NOT_NAMES = frozenset("""
A An The This That It I Im Not Just So Very Really Sure Sorry Glad Happy Here There
Proud Afraid Worried Retired Unemployed British English Scottish Welsh Irish Polish Muslim
Christian Jewish Catholic Black White Asian Monday Tuesday Wednesday Thursday Friday Saturday
Sunday January February March April May June July August September October November December
Resident Adviser Advisers Council Councillor Centre Station Hospital School Church College
University Village Town City Borough Court Street Road Lane Avenue Close Drive Way Crescent
Place Terrace Grove Gardens Square Walk Row Mews Parade Rise Hill View Park Green Vale Wharf
""".split())

# Common first names, for "First Last" with no other cue.  Short on purpose: a name list can
# never be complete, and a longer one flags more place and street names by mistake.
FIRST_NAMES = frozenset("""
Aaron Abdul Adam Ahmed Aisha Alan Alex Alice Alison Amanda Amy Andrew Angela Ann Anna Anne
Anthony Barbara Ben Beth Bill Bob Brian Carl Carol Caroline Catherine Charles Charlotte Chris
Christine Claire Colin Craig Daniel Darren David Dawn Deborah Denise Derek Diane Donna Doreen
Dorothy Edward Eileen Elaine Eleanor Elizabeth Ellie Emily Emma Eric Fatima Fiona Frank Gary
Gemma George Geoff Gillian Gordon Graham Hannah Harry Hassan Heather Helen Ian Imran Jack
Jacqueline James Jane Janet Jason Jean Jennifer Jessica Jim Joan Joanne John Jonathan Joseph
Josh Joyce Julie Karen Kate Katie Kathleen Kevin Kim Laura Lee Leslie Linda Lisa Liam Lorraine
Louise Lucy Lynn Margaret Maria Marie Mark Martin Mary Matthew Maureen Michael Michelle Mohammed
Muhammad Nadia Natalie Neil Nicola Nigel Norman Olivia Pamela Patricia Paul Pauline Peter
Philip Rachel Raymond Rebecca Richard Rita Robert Ryan Sadia Sally Samantha Sam Sandra Sarah
Scott Sharon Shirley Simon Sophie Stephen Steve Stuart Susan Tanya Teresa Thomas Tom Tony
Tracey Valerie Victoria Wendy William Yasmin Zoe
""".split())

_STREET_WORDS = (
    "Road|Rd|Street|St|Lane|Ln|Avenue|Ave|Close|Drive|Dr|Way|Crescent|Court|Ct|Place|Pl|"
    "Terrace|Grove|Gardens|Square|Walk|Row|Mews|Parade|Rise|Hill|View|Park|Green|Vale|Wharf"
)

_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("email", re.compile(r"\b[\w.+'-]+@[\w-]+(?:\.[\w-]+)+\b")),
    # +44 7700 900123, +44 (0)151 123 4567, 07700 900123, 0151-123-4567, 020 7946 0018
    ("phone", re.compile(
        r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|\(?0)(?:[1-37-9][\d\s\-()]{7,14}\d)(?!\d)")),
    # GIR 0AA aside, every UK postcode is: 1-2 letters, a digit, an optional letter or digit,
    # then a space (often) and a digit with two letters.
    ("postcode", re.compile(
        r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][ABD-HJLNP-UW-Z]{2}\b", re.IGNORECASE)),
    # "12 Acacia Road", "Flat 3, 14a High St", "221B Baker Street"
    ("address", re.compile(
        r"\b(?:(?:Flat|Apartment|Unit)\s+\d+[A-Za-z]?,?\s+)?\d{1,3}[A-Za-z]?,?\s+"
        rf"(?:{_NAME_WORD}\s+){{1,3}}(?:{_STREET_WORDS})\b\.?")),
    ("name", re.compile(
        rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Rev|Cllr|Councillor)\.?\s+"
        rf"(?:{_NAME_WORD}\s+)?{_NAME_WORD}")),
]

# "my name is Sarah Jones", "I'm Sarah", "I am Sarah", "call me Sal": the name that follows.
# The cue ignores case; the name must still start with a capital.
_NAME_CUE = re.compile(
    rf"(?i:\b(?:my name is|my name's|i am|i'm|i’m|call me|i was called))\s+"
    rf"(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD})?)")
# A lookahead, so that "Then Karen Smith" still tries "Karen Smith" after "Then Karen".
_FIRST_LAST = re.compile(rf"\b(?P<first>{_NAME_WORD})(?=\s+(?P<last>{_NAME_WORD})\b)")

# Specific kinds win over names where two flags overlap ("Dr" in "12 Mill Dr").
_PRIORITY = {"email": 0, "phone": 1, "postcode": 2, "address": 3, "name": 4}


def _digits_look_like_uk_number(found: str) -> bool:
    digits = re.sub(r"\D", "", found)
    if found.lstrip().startswith("+44"):
        digits = "0" + digits[2:].lstrip("0")
    return 10 <= len(digits) <= 11 and digits[0] == "0" and digits[1] in "1237"


def _ordinal(found: str) -> bool:
    # "M6 2nd" looks like a postcode in lower case; real ones are rarely written that way.
    return bool(re.search(r"\d(?:st|nd|rd|th)$", found, re.IGNORECASE)) and not found.isupper()


def _candidates(text: str) -> list[Flag]:
    flags = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            found = match.group(0).rstrip(" .")
            if kind == "phone" and not _digits_look_like_uk_number(found):
                continue
            if kind == "postcode" and (_ordinal(found) or found.islower() and " " not in found):
                continue
            flags.append(Flag(kind, found, match.start(), match.start() + len(found)))
    for match in _NAME_CUE.finditer(text):
        name = match.group("name")
        words = name.split()
        while words and words[-1] in _NOT_NAMES:
            words.pop()
        if words and words[0] not in _NOT_NAMES:
            name = " ".join(words)
            flags.append(Flag("name", name, match.start("name"), match.start("name") + len(name)))
    for match in _FIRST_LAST.finditer(text):
        if match.group("first") in FIRST_NAMES and match.group("last") not in _NOT_NAMES:
            end = match.end("last")
            flags.append(Flag("name", text[match.start():end], match.start(), end))
    return flags


def flag_personal_details(text: str) -> list[Flag]:
    """Return the personal details found in ``text``, in order, never overlapping."""
    chosen: list[Flag] = []
    ranked = sorted(_candidates(text),
                    key=lambda f: (_PRIORITY[f.kind], -(f.end - f.start), f.start))
    for flag in ranked:
        if all(flag.end <= kept.start or flag.start >= kept.end for kept in chosen):
            chosen.append(flag)
    return sorted(chosen, key=lambda f: f.start)


def anonymise(text: str, flags: list[Flag]) -> str:
    """Replace each flagged stretch of ``text`` with its kind in brackets, e.g. ``[phone]``."""
    out, last = [], 0
    for flag in sorted(flags, key=lambda f: f.start):
        if flag.start < last:
            continue
        out.append(text[last:flag.start])
        out.append(f"[{flag.kind}]")
        last = flag.end
    out.append(text[last:])
    return "".join(out)
