"""The codebook: schemes of codes for tagging evidence, turning everyday words into codes.

A :class:`Codebook` is plain, immutable-by-convention data.  Every editing function returns a
new codebook and leaves its argument untouched, so an edit can be previewed, saved as a new
version for one review (:func:`save_codebook`) or thrown away.  Code slugs never change once in
use: renaming changes the label, merging folds one code's words into another's.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import yaml
from rapidfuzz import fuzz

from reviewkit import yaml_text
from reviewkit.errors import NotFoundError, ReviewkitError
from reviewkit.store import Store
from reviewkit.store import codes as code_rows

DEFAULT_CODEBOOK = Path(str(resources.files("reviewkit") / "data" / "codebook.yaml"))
_SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Code:
    code: str
    label: str
    description: str = ""
    synonyms: list[str] = field(default_factory=list)

    def words(self) -> list[str]:
        """Every phrase that names this code: label, synonyms and the slug in plain words."""
        return _unique([self.label, *self.synonyms, self.code.replace("_", " ")])


@dataclass(frozen=True)
class Scheme:
    name: str
    label: str
    codes: list[Code]
    description: str = ""

    def get(self, code: str) -> Code | None:
        return next((c for c in self.codes if c.code == code), None)


@dataclass(frozen=True)
class Codebook:
    version: int
    schemes: dict[str, Scheme]

    def scheme(self, name: str) -> Scheme:
        """Return the scheme called ``name`` (NotFoundError when there is none)."""
        if name not in self.schemes:
            raise NotFoundError(f"The codebook has no scheme '{name}' "
                                f"(it has {', '.join(self.schemes)}).")
        return self.schemes[name]

    def code(self, scheme: str, code: str) -> Code:
        """Return one code (NotFoundError when the scheme does not hold it)."""
        found = self.scheme(scheme).get(code)
        if found is None:
            raise NotFoundError(f"The '{scheme}' scheme has no code '{code}'.")
        return found

    def label(self, scheme: str, code: str) -> str:
        """Return a code's label, or the slug itself for a code the codebook no longer has."""
        found = self.schemes.get(scheme)
        hit = found.get(code) if found else None
        return hit.label if hit else code


# -- reading and writing ------------------------------------------------------------------


def load_codebook(path: str | Path = DEFAULT_CODEBOOK) -> Codebook:
    """Read a codebook from a YAML file (the bundled one by default)."""
    return from_yaml(Path(path).read_text(encoding="utf-8"))


def from_yaml(text: str) -> Codebook:
    """Build a codebook from YAML text."""
    try:
        data = yaml_text.load(text)
    except yaml.YAMLError as exc:
        raise ReviewkitError(f"The codebook is not valid YAML: {exc}") from exc
    return from_dict(data)


def to_yaml(codebook: Codebook) -> str:
    """Write a codebook as YAML that :func:`from_yaml` reads back unchanged."""
    return yaml_text.dump(to_dict(codebook), sort_keys=False, allow_unicode=True, width=100)


def from_dict(data: dict) -> Codebook:
    """Build a codebook from plain data (the YAML layout, also stored in the database)."""
    if not isinstance(data, dict) or not isinstance(data.get("schemes"), dict):
        raise ReviewkitError("A codebook needs a 'schemes' mapping.")
    schemes = {}
    for name, raw in data["schemes"].items():
        raw = raw or {}
        codes = []
        for item in raw.get("codes") or []:
            codes.append(Code(code=str(item["code"]), label=str(item.get("label") or item["code"]),
                              description=" ".join(str(item.get("description") or "").split()),
                              synonyms=[str(s) for s in item.get("synonyms") or []]))
        scheme = Scheme(name=name, label=str(raw.get("label") or name), codes=codes,
                        description=" ".join(str(raw.get("description") or "").split()))
        _check_scheme(scheme)
        schemes[name] = scheme
    return Codebook(version=int(data.get("version") or 1), schemes=schemes)


def to_dict(codebook: Codebook) -> dict:
    """Return the codebook as plain data in the YAML layout."""
    return {
        "version": codebook.version,
        "schemes": {
            name: {"label": s.label, "description": s.description,
                   "codes": [{"code": c.code, "label": c.label, "description": c.description,
                              "synonyms": list(c.synonyms)} for c in s.codes]}
            for name, s in codebook.schemes.items()
        },
    }


def _check_scheme(scheme: Scheme) -> None:
    seen = set()
    for code in scheme.codes:
        if not _SLUG_RE.match(code.code):
            raise ReviewkitError(f"'{code.code}' in scheme '{scheme.name}' is not a valid code: "
                                 "use lower case letters, digits and underscores.")
        if code.code in seen:
            raise ReviewkitError(f"Scheme '{scheme.name}' lists the code '{code.code}' twice.")
        seen.add(code.code)


# -- turning everyday words into codes ----------------------------------------------------

_WORD_RE = re.compile(r"[a-z0-9&]+")


def normalize_phrase(text: str) -> str:
    """Lower-case, strip accents and punctuation, so 'Co-production' matches 'co production'.

    >>> normalize_phrase("  Co-Production, résidents' ")
    'co production residents'
    """
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(_WORD_RE.findall(text.replace("'", "")))


def _stem(word: str) -> str:
    # Enough to let 'connector' meet 'connectors' and 'budgets' meet 'budget'.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _stems(text: str) -> tuple[str, ...]:
    return tuple(_stem(w) for w in normalize_phrase(text).split())


def resolve(codebook: Codebook, phrase: str, scheme: str | None = None, *,
            limit: int = 5, score_cutoff: float = 0.6) -> list[tuple[Code, float]]:
    """Return the codes a typed phrase most likely means, best first, with scores in 0–1.

    An exact label or synonym scores 1; a phrase that holds a synonym, or is held by one, scores
    by how much of it matches; typos are caught by fuzzy matching (RapidFuzz).  ``scheme``
    limits the search to one scheme.

    >>> [c.code for c, _ in resolve(load_codebook(), "debt advice", limit=1)]
    ['financial_inclusion']
    """
    wanted = _stems(phrase)
    if not wanted:
        return []
    names = [scheme] if scheme else list(codebook.schemes)
    scored = []
    for name in names:
        for code in codebook.scheme(name).codes:
            forms = [_stems(word) for word in code.words()]
            best = max(_phrase_score(wanted, form) for form in forms)
            if best < 0.9:
                best = max(best, max(_fuzzy_score(wanted, form) for form in forms))
            if best >= score_cutoff:
                scored.append((code, round(best, 3)))
    scored.sort(key=lambda item: -item[1])
    return scored[:limit]


def _phrase_score(wanted: tuple[str, ...], words: tuple[str, ...]) -> float:
    if not words:
        return 0.0
    if wanted == words:
        return 1.0
    if _contains(wanted, words):
        # the phrase holds the whole synonym: better the more of the phrase it covers
        return 0.55 + 0.4 * len(words) / len(wanted)
    if _contains(words, wanted):
        # the phrase is part of a longer synonym ('champions' in 'health champions')
        return 0.5 + 0.4 * len(wanted) / len(words)
    return 0.0


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    size = len(shorter)
    return any(longer[i:i + size] == shorter for i in range(len(longer) - size + 1))


def _fuzzy_score(wanted: tuple[str, ...], words: tuple[str, ...]) -> float:
    """Score a phrase against a synonym allowing typos: whole strings, then word by word."""
    joined, other = " ".join(wanted), " ".join(words)
    if len(joined) < 4 or not words:
        return 0.0
    # a typo costs a little, so an exact synonym elsewhere still ranks first
    whole = 0.95 * max(0.0, fuzz.ratio(joined, other) - 70) / 30
    by_word = 0.0
    if len(wanted) == len(words) > 1:
        ratios = [fuzz.ratio(a, b) for a, b in zip(wanted, words, strict=True)]
        if min(ratios) >= 75:
            by_word = 0.9 * sum(ratios) / len(ratios) / 100
    return max(whole, by_word)


def find_code_words(codebook: Codebook, scheme: str, text: str, *,
                    forms: list | None = None) -> dict[str, tuple[float, list[str]]]:
    """Find a scheme's labels and synonyms in a text: {code: (strength 0–1, words found)}.

    A phrase of several words counts for more than a single word, and a phrase shared by
    several codes of the scheme is split between them.  Codes with no match are left out.
    ``forms`` (from :func:`code_word_forms`) saves preparing the scheme for every text.

    >>> find_code_words(load_codebook(), "design", "A cluster randomised trial in 40 schools")
    {'rct': (1.0, ['cluster randomised trial'])}
    """
    stems = _stems(text)
    present = {stems[i:i + n] for n in range(1, _LONGEST_FORM + 1)
               for i in range(len(stems) - n + 1)}
    found = {}
    for code, code_forms in forms if forms is not None else code_word_forms(codebook, scheme):
        hits = {form: (word, weight) for form, word, weight in code_forms if form in present}
        # 'survey' inside 'household survey' is the same evidence: count the longer one only
        kept = [f for f in hits if not any(f != g and _contains(g, f) for g in hits)]
        missing = 1.0
        for form in kept:
            missing *= 1 - hits[form][1]
        if kept:
            found[code] = (round(1 - missing, 4), [hits[f][0] for f in kept])
    return found


_LONGEST_FORM = 6


def code_word_forms(codebook: Codebook, scheme: str) -> list[tuple[str, list[tuple]]]:
    """Prepare a scheme for :func:`find_code_words`: [(code, [(stems, word, weight)])]."""
    shared: dict[tuple[str, ...], set[str]] = {}
    for code in codebook.scheme(scheme).codes:
        for word in code.words():
            shared.setdefault(_stems(word), set()).add(code.code)
    out = []
    for code in codebook.scheme(scheme).codes:
        forms = []
        for word in code.words():
            form = _stems(word)
            if form and len(form) <= _LONGEST_FORM:
                weight = {1: 0.6, 2: 0.9}.get(len(form), 1.0) / len(shared[form])
                forms.append((form, word, weight))
        out.append((code.code, forms))
    return out


# -- editing: each returns a new codebook --------------------------------------------------


def add_code(codebook: Codebook, scheme: str, code: Code) -> Codebook:
    """Return a codebook with ``code`` appended to ``scheme``."""
    found = codebook.scheme(scheme)
    if found.get(code.code):
        raise ReviewkitError(f"The '{scheme}' scheme already has a code '{code.code}'.")
    added = replace(code, synonyms=_unique(code.synonyms))
    return _with_codes(codebook, scheme, [*found.codes, added])


def rename_code(codebook: Codebook, scheme: str, code: str, label: str) -> Codebook:
    """Return a codebook where ``code`` has a new label; the old label stays a synonym."""
    label = " ".join(label.split())
    if not label:
        raise ReviewkitError("A code needs a label.")
    old = codebook.code(scheme, code)
    synonyms = _unique([*old.synonyms, old.label.lower()])
    return _replace_code(codebook, scheme, replace(old, label=label, synonyms=synonyms))


def update_code(codebook: Codebook, scheme: str, code: str, *, description: str | None = None,
                synonyms: list[str] | None = None, label: str | None = None) -> Codebook:
    """Return a codebook with a code's description, synonyms or label replaced."""
    old = codebook.code(scheme, code)
    new = replace(
        old,
        description=old.description if description is None else " ".join(description.split()),
        synonyms=list(old.synonyms) if synonyms is None else _unique(synonyms),
        label=old.label if label is None else " ".join(label.split()) or old.label,
    )
    return _replace_code(codebook, scheme, new)


def merge_codes(codebook: Codebook, scheme: str, keep: str, drop: str) -> Codebook:
    """Return a codebook where ``drop`` is folded into ``keep``.

    ``keep`` gains ``drop``'s label and synonyms, so searches for either still find it.  Codes
    already given to records are not touched here: the caller re-points them (see
    :func:`reviewkit.coding.repoint_codes`).
    """
    if keep == drop:
        raise ReviewkitError("Cannot merge a code into itself.")
    kept, dropped = codebook.code(scheme, keep), codebook.code(scheme, drop)
    synonyms = _unique([*kept.synonyms, dropped.label.lower(), *dropped.synonyms])
    merged = replace(kept, synonyms=[s for s in synonyms if s != kept.label.lower()])
    codes = [merged if c.code == keep else c for c in codebook.scheme(scheme).codes
             if c.code != drop]
    return _with_codes(codebook, scheme, codes)


def _replace_code(codebook: Codebook, scheme: str, new: Code) -> Codebook:
    codes = [new if c.code == new.code else c for c in codebook.scheme(scheme).codes]
    return _with_codes(codebook, scheme, codes)


def _with_codes(codebook: Codebook, scheme: str, codes: list[Code]) -> Codebook:
    schemes = copy.deepcopy(codebook.schemes)
    schemes[scheme] = replace(schemes[scheme], codes=copy.deepcopy(codes))
    return Codebook(version=codebook.version, schemes=schemes)


def _unique(items) -> list[str]:
    seen, out = set(), []
    for item in items:
        item = " ".join(str(item).split())
        if item and item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out


# -- per-review versions in the database ---------------------------------------------------


def save_codebook(store: Store, review_id: int, codebook: Codebook, actor: str) -> int:
    """Store ``codebook`` as the review's next version and return that version number."""
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:
        return save_codebook_in(conn, review_id, codebook, actor_id)


def save_codebook_in(conn, review_id: int, codebook: Codebook, actor_id: int) -> int:
    """:func:`save_codebook` inside a transaction the caller holds (with more to do in it)."""
    latest = code_rows.latest_codebook_version(conn, review_id)
    version = (latest or 0) + 1
    before = code_rows.codebook_content(conn, review_id, latest) if latest else None
    code_rows.insert_codebook(conn, review_id, version,
                              to_dict(replace(codebook, version=version)), actor_id)
    Store.audit(conn, actor_id=actor_id, action="codebook.save", entity="codebook",
                entity_id=f"{review_id}:{version}", review_id=review_id,
                details={"version": version, "codes": {
                    name: len(s.codes) for name, s in codebook.schemes.items()},
                    "changes": codebook_changes(
                        from_dict(before) if before else load_codebook(), codebook)})
    return version


def codebook_changes(old: Codebook, new: Codebook) -> list[str]:
    """Say, one short line per code, what differs between two codebooks."""
    said = []
    for name in sorted(set(old.schemes) | set(new.schemes)):
        if name not in new.schemes or name not in old.schemes:
            said.append(f"scheme {name} {'removed' if name in old.schemes else 'added'}")
            continue
        before = {c.code: c for c in old.schemes[name].codes}
        after = {c.code: c for c in new.schemes[name].codes}
        for code in sorted(set(before) | set(after)):
            if code not in after:
                said.append(f"{name}:{code} removed")
            elif code not in before:
                said.append(f"{name}:{code} added")
            elif before[code] != after[code]:
                parts = [part for part in ("label", "description", "synonyms")
                         if getattr(before[code], part) != getattr(after[code], part)]
                said.append(f"{name}:{code} {', '.join(parts)} changed")
    return said


def review_codebook(store: Store, review_id: int, version: int | None = None) -> Codebook:
    """Return the review's codebook: its latest (or a given) version, else the bundled one."""
    with store.read() as conn:
        content = code_rows.codebook_content(conn, review_id, version)
    if content is None:
        if version is not None:
            raise NotFoundError(f"Review {review_id} has no codebook version {version}.")
        return load_codebook()
    return from_dict(content)


def codebook_versions(store: Store, review_id: int) -> list[dict]:
    """Return the review's saved versions, oldest first: version, created_at, created_by."""
    with store.read() as conn:
        return [{"version": v, "created_at": at, "created_by": who}
                for v, at, who in code_rows.codebook_version_rows(conn, review_id)]


# -- editing a review's codebook ---------------------------------------------------------------


def code_slug(label: str) -> str:
    """Make a code's short name from its label.

    >>> code_slug("Arts & crafts for 16-25s")
    'arts_crafts_for_16_25s'
    >>> code_slug("2nd chance")
    'code_2nd_chance'
    """
    slug = "_".join(normalize_phrase(label).replace("&", " ").split())
    if not slug:
        raise ReviewkitError(f"Cannot make a short name from '{label}': give one with letters.")
    return slug if slug[0].isalpha() else f"code_{slug}"


def split_synonyms(text: str) -> list[str]:
    """Synonyms typed as one text, separated by commas, semicolons or new lines."""
    return [part.strip() for part in re.split(r"[,;\n]", text or "") if part.strip()]


def new_code(codebook: Codebook, scheme: str, label: str, *, description: str = "",
             synonyms: Iterable[str] = (), slug: str | None = None) -> Codebook:
    """Return a codebook with a new code; its short name comes from the label unless given."""
    label = " ".join((label or "").split())
    if not label:
        raise ReviewkitError("A new code needs a label.")
    slug = (slug or "").strip() or code_slug(label)
    if not _SLUG_RE.fullmatch(slug):
        raise ReviewkitError(f"'{slug}' is not a valid short name: use lower case letters, "
                             "digits and underscores, starting with a letter.")
    return add_code(codebook, scheme, Code(slug, label, " ".join(description.split()),
                                           list(synonyms)))


def edit_code(codebook: Codebook, scheme: str, code: str, *, label: str, description: str,
              synonyms: Iterable[str]) -> Codebook:
    """Return a codebook with a code's label, description and synonyms as given.

    A new label keeps the old one as a synonym, so searches for the old words still work.
    """
    edited = update_code(codebook, scheme, code, description=description,
                         synonyms=list(synonyms))
    if " ".join((label or "").split()) != edited.code(scheme, code).label:
        edited = rename_code(edited, scheme, code, label or "")
    return edited


def save_codebook_edit(store: Store, review_id: int, edited: Codebook, actor: str
                       ) -> tuple[int | None, list[str]]:
    """Save an edited codebook as the review's next version: (version, what changed).

    Nothing is saved, and the version is None, when the edit changes nothing.
    """
    changes = codebook_changes(review_codebook(store, review_id), edited)
    if not changes:
        return None, []
    return save_codebook(store, review_id, edited, actor), changes


def merge_review_codes(store: Store, review_id: int, scheme: str, keep: str, drop: str,
                       actor: str) -> tuple[int, int]:
    """Fold code ``drop`` into ``keep`` in the review's codebook (a new version) and move the
    studies coded ``drop`` to ``keep``.  Returns (version, how many codes moved)."""
    merged = merge_codes(review_codebook(store, review_id), scheme, keep, drop)
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:  # one transaction: never a codebook without its studies moved
        version = save_codebook_in(conn, review_id, merged, actor_id)
        moved = code_rows.repoint(conn, review_id, scheme, drop, keep, actor_id)
    return version, moved


def codebook_history(store: Store, review_id: int) -> list[dict]:
    """The review's codebook versions, oldest first, each with what it changed.

    Keys: version, created_at, created_by, changes (lines from
    :func:`reviewkit.codebook.codebook_changes`; version 1 is compared with the bundled
    codebook).
    """
    history, previous = [], load_codebook()
    for saved in codebook_versions(store, review_id):
        book = review_codebook(store, review_id, version=saved["version"])
        history.append({**saved, "changes": codebook_changes(previous, book)})
        previous = book
    return history


def codebook_from_upload(data: bytes | str, current: Codebook) -> Codebook:
    """Read an uploaded YAML codebook, or raise ReviewkitError saying what is wrong with it.

    Every scheme of ``current`` must still be there: the map, briefs and coding rely on them.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ReviewkitError("The codebook file is not UTF-8 text.") from exc
    try:
        book = from_yaml(data)
    except ReviewkitError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReviewkitError(
            "The codebook's layout is not as expected: each scheme needs a list of codes, and "
            f"each code at least a 'code' (its short name) and a 'label' ({exc}).") from exc
    missing = [name for name in current.schemes if name not in book.schemes]
    if missing:
        raise ReviewkitError(f"The uploaded codebook lacks the scheme(s) {', '.join(missing)}; "
                             "keep every scheme of the current codebook.")
    return book
