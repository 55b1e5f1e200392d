"""Plain-text folding shared by every field: case, accents, LaTeX, HTML, Greek letters."""

from __future__ import annotations

import re
import string
import unicodedata

from reviewkit.records import clean_text

# Greek letters are spelled out by some databases ("TNF-alpha") and kept by others ("TNF-α").
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "µ": "mu",
    "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon",
    "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
}
_GREEK_RE = re.compile("|".join(_GREEK))
_LIGATURES = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d",
                            "ı": "i"})
_COMBINING_RE = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

# LaTeX as BibTeX exports keep it: a command keeps its argument ("\textit{in vivo}"), accents
# and math markers vanish, "\&" is an ampersand, "\alpha" is spelled out.
_LATEX_COMMAND_RE = re.compile(r"\\[a-zA-Z]{2,}\s*\{([^{}]*)\}")
_LATEX_ESCAPE_RE = re.compile(r"\\([&%$#_])")
_LATEX_GREEK_RE = re.compile(
    r"\\(" + "|".join(sorted(set(_GREEK.values()), key=len, reverse=True)) + r")\b")
_LATEX_ACCENT_RE = re.compile(r"\\(?:[`'^\"~=.]|[uvHckbdrt](?=[\s{]))\s*\{?\\?([a-zA-Z])\}?")

# Anything but letters and digits (of any script) separates words.
NON_ALNUM_RE = re.compile(r"[\W_]+")
_PUNCTUATION_TO_SPACE = str.maketrans({ch: " " for ch in string.punctuation})
# "10,000" is one number.
_THOUSANDS_RE = re.compile(r"(\d),(\d{3})(?!\d)")


def tidy(text: str | None) -> str:
    """Return ``text`` as :func:`reviewkit.records.clean_text` would, quickly for plain text."""
    if not text:
        return ""
    if text.isascii() and "<" not in text and "&" not in text and text.isprintable():
        return " ".join(text.split())
    return clean_text(text)


def fold(text: str) -> str:
    """Return ``text`` lower-cased, in plain letters where possible, Greek spelled out.

    >>> fold(r"Na\\"{\\i}ve \\textit{Müller} \\& β-cells")
    'naive muller &  beta -cells'
    """
    if "\\" in text or "{" in text or "$" in text:
        text = _LATEX_GREEK_RE.sub(lambda m: m.group(1), text)
        for _ in range(3):
            replaced = _LATEX_COMMAND_RE.sub(lambda m: m.group(1), text)
            if replaced == text:
                break
            text = replaced
        text = _LATEX_ACCENT_RE.sub(lambda m: m.group(1), text)
        text = _LATEX_ESCAPE_RE.sub(lambda m: m.group(1), text)
        text = text.replace("{", "").replace("}", "").replace("$", "")
    text = text.lower()
    if text.isascii():
        return text
    text = _GREEK_RE.sub(lambda m: " " + _GREEK[m.group(0)] + " ", text)
    text = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return _COMBINING_RE.sub("", text)


def words(text: str) -> str:
    """Return ``text`` as lower-case words and numbers separated by single spaces.

    >>> words("TNF-α &amp; Type 2 diabetes: 10,000 patients")
    'tnf alpha and type 2 diabetes 10000 patients'
    >>> words("Kaplan_Meier & hazards")
    'kaplan meier and hazards'
    """
    text = fold(tidy(text)).replace("&", " and ")
    if "," in text:
        text = _THOUSANDS_RE.sub(r"\1\2", text)
    if text.isascii():
        return " ".join(text.translate(_PUNCTUATION_TO_SPACE).split())
    return NON_ALNUM_RE.sub(" ", text).strip()


def compact(text: str) -> str:
    """Return ``text`` folded to letters and digits only ("Kotaniemi-Talonen" → "kotaniemitalonen")."""
    return NON_ALNUM_RE.sub("", fold(text))
