"""Library entries: case studies and stories read from Markdown files with YAML front matter.

The entry schema is described in ``case_studies/README.md``.  Checking an entry returns every
problem in plain words, so that a half-filled file or form says exactly what is missing.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from rapidfuzz import fuzz, process

from reviewkit import yaml_text
from reviewkit.codebook import Codebook, load_codebook
from reviewkit.errors import ReviewkitError

if TYPE_CHECKING:
    from reviewkit.store import Store

CASE_STUDIES_DIR = Path(__file__).resolve().parent.parent.parent / "case_studies"

ENTRY_TYPES = ("case study", "lived-experience story", "resident-led enquiry", "evaluation")
VISIBILITIES = ("public", "team")
FILE_STATUSES = ("published", "pending")

# Required front-matter fields, each with the plain-words hint shown when it is missing.
REQUIRED_FIELDS: dict[str, str] = {
    "id": "a short lower-case slug with hyphens, the same as the file name",
    "title": "a short title that says where and what",
    "type": "one of: " + ", ".join(ENTRY_TYPES),
    "place": "the neighbourhood or town, or say that the source does not name it",
    "local_authority": "the council area, or 'Not named in the source'",
    "years": 'when it happened, as text such as "2014–2019" or "reported 2018"',
    "approaches": "at least one approach code from the codebook",
    "outcomes": "at least one outcome code from the codebook",
    "domains": "at least one resilience domain code from the codebook",
    "population": "who the entry is about, in plain words",
    "summary": "two or three plain sentences",
    "source": "where the facts come from",
    "consent": "'published account', or how consent was recorded",
    "attribution": "the person's role, or who produced the account",
    "visibility": "public or team",
    "status": "published or pending",
}
TEXT_FIELDS = ("id", "title", "type", "place", "local_authority", "years", "population",
               "summary", "source", "source_url", "consent", "attribution", "visibility",
               "status")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# The codebook schemes an entry is coded with, and the front-matter field that holds each.
ENTRY_SCHEMES = {"approaches": "approach", "outcomes": "outcome", "domains": "domain"}


@lru_cache(maxsize=1)
def bundled_codebook() -> Codebook:
    """Return the bundled codebook, which entries are coded against, read once per process."""
    return load_codebook()


def has_code(codebook: Codebook, scheme: str, code: str) -> bool:
    """Return whether ``codebook`` holds ``code`` in ``scheme``."""
    found = codebook.schemes.get(scheme)
    return bool(found and found.get(code))


class LibraryEntryError(ReviewkitError):
    """One or more library entries are malformed; the message lists each file and problem."""

    def __init__(self, problems: list[EntryProblem]):
        self.problems = problems
        lines = [f"{p.file}: {p.message}" for p in problems]
        super().__init__("Some library entries need fixing:\n" + "\n".join(lines))


@dataclass(frozen=True)
class EntryProblem:
    file: str
    message: str


@dataclass(frozen=True)
class LibraryEntry:
    """One case study, story, enquiry or evaluation."""

    id: str
    title: str
    type: str
    place: str
    local_authority: str
    years: str
    approaches: tuple[str, ...]
    outcomes: tuple[str, ...]
    domains: tuple[str, ...]
    population: str
    summary: str
    source: str
    source_url: str = ""
    consent: str = ""
    attribution: str = ""
    visibility: str = "public"
    status: str = "published"
    body: str = ""
    review_id: int | None = None  # the review team that owns a team-only entry
    db_id: int | None = None  # set for contributed entries kept in the database
    path: str = ""  # the file the entry was read from, for file entries

    def codes(self) -> list[tuple[str, str]]:
        """Return every (scheme, code) pair the entry is coded with."""
        return [(ENTRY_SCHEMES[name], code) for name in ENTRY_SCHEMES
                for code in getattr(self, name)]

    def front_matter(self) -> dict:
        """Return the entry's front matter as a plain dict (lists for the code fields)."""
        data = {name: getattr(self, name) for name in TEXT_FIELDS}
        for name in ENTRY_SCHEMES:
            data[name] = list(getattr(self, name))
        if self.review_id is not None:
            data["review_id"] = self.review_id
        return data


def _closest_code(codebook: Codebook, scheme: str, typed: str) -> str | None:
    choices = {c.code: c.code for c in codebook.scheme(scheme).codes}
    choices.update({c.label.lower(): c.code for c in codebook.scheme(scheme).codes})
    found = process.extractOne(typed.lower(), list(choices), scorer=fuzz.WRatio, score_cutoff=80)
    return choices[found[0]] if found else None


def _code_problems(name: str, value: object, codebook: Codebook) -> list[str]:
    scheme = ENTRY_SCHEMES[name]
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        return [f"'{name}' must be a list of codes, such as [{codebook.scheme(scheme).codes[0].code}]."]
    if not value:
        return [f"'{name}' is empty: add {REQUIRED_FIELDS[name]}."]
    problems = []
    for code in value:
        if has_code(codebook, scheme, str(code)):
            continue
        hint = _closest_code(codebook, scheme, str(code))
        suggestion = f" Did you mean '{hint}'?" if hint else ""
        problems.append(f"'{name}' has '{code}', which is not a code in the codebook's "
                        f"'{scheme}' scheme.{suggestion}")
    return problems


def check_front_matter(front_matter: Mapping, *, codebook: Codebook | None = None,
                       expected_id: str | None = None,
                       required: Mapping[str, str] = REQUIRED_FIELDS) -> list[str]:
    """Return every problem with ``front_matter``, in plain words (empty when it is fine)."""
    codebook = codebook or bundled_codebook()
    problems = []
    for name, hint in required.items():
        value = front_matter.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(f"'{name}' is missing: give {hint}.")
    for name in ENTRY_SCHEMES:
        if name in front_matter and front_matter[name] is not None:
            if not (name in required or front_matter[name]):
                continue
            problems.extend(_code_problems(name, front_matter[name], codebook))
    choices = {"type": ENTRY_TYPES, "visibility": VISIBILITIES, "status": FILE_STATUSES}
    for name, allowed in choices.items():
        value = front_matter.get(name)
        if isinstance(value, str) and value.strip() and value.strip() not in allowed:
            problems.append(f"'{name}' is '{value}'; it must be one of: {', '.join(allowed)}.")
    slug = front_matter.get("id")
    if isinstance(slug, str) and slug.strip():
        if not SLUG.match(slug):
            problems.append(f"'id' is '{slug}'; use lower-case letters, digits and hyphens only.")
        elif expected_id is not None and slug != expected_id:
            problems.append(f"'id' is '{slug}' but the file is named '{expected_id}.md'; "
                            "they must match.")
    review_id = front_matter.get("review_id")
    if review_id is not None and not isinstance(review_id, int):
        problems.append(f"'review_id' is '{review_id}'; it must be a review's number.")
    return problems


def split_front_matter(text: str, *, file: str = "") -> tuple[dict, str]:
    """Split a Markdown file into its YAML front matter (a dict) and its body."""
    from reviewkit.errors import FormatError

    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise FormatError("the file must start with a '---' line opening the front matter.",
                          file=file, line=1)
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise FormatError("the front matter is never closed: add a '---' line after it.",
                          file=file) from None
    try:
        data = yaml_text.load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise FormatError(f"the front matter is not valid YAML ({reason}).", file=file,
                          line=line) from None
    if not isinstance(data, dict):
        raise FormatError("the front matter must be 'field: value' lines.", file=file, line=2)
    return data, "\n".join(lines[end + 1:]).strip()


def _text(value: object) -> str:
    if value is None:
        return ""
    return " ".join(str(value).split())


def _codes(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    return tuple(str(code).strip() for code in value or () if str(code).strip())


def entry_from_front_matter(front_matter: Mapping, body: str = "", **extra) -> LibraryEntry:
    """Build a LibraryEntry from already-checked front matter and a body."""
    fields = {name: _text(front_matter.get(name)) for name in TEXT_FIELDS}
    fields.update({name: _codes(front_matter.get(name)) for name in ENTRY_SCHEMES})
    review_id = front_matter.get("review_id")
    fields["review_id"] = review_id if isinstance(review_id, int) else None
    fields.update(extra)
    return LibraryEntry(body=body, **fields)


def read_entry(path: str | Path, *, codebook: Codebook | None = None) -> LibraryEntry:
    """Read and check one entry file; raise LibraryEntryError listing all of its problems."""
    path = Path(path)
    problems, entry = _read_checked(path, codebook or bundled_codebook())
    if problems:
        raise LibraryEntryError(problems)
    return entry


def _read_checked(path: Path, codebook: Codebook) -> tuple[list[EntryProblem], LibraryEntry | None]:
    from reviewkit.errors import FormatError

    try:
        front_matter, body = split_front_matter(path.read_text(encoding="utf-8"), file=path.name)
    except FormatError as exc:
        where = f"line {exc.line}: " if exc.line else ""
        return [EntryProblem(path.name, where + exc.reason)], None
    except (OSError, UnicodeDecodeError) as exc:
        return [EntryProblem(path.name, f"cannot be read ({exc}).")], None
    messages = check_front_matter(front_matter, codebook=codebook, expected_id=path.stem)
    if messages:
        return [EntryProblem(path.name, m) for m in messages], None
    return [], entry_from_front_matter(front_matter, body, path=str(path))


def entry_files(folder: str | Path = CASE_STUDIES_DIR) -> list[Path]:
    """Return the entry files in ``folder``: every ``*.md`` except README and ``_`` files."""
    return sorted(p for p in Path(folder).glob("*.md")
                  if not p.name.startswith("_") and p.name.lower() != "readme.md")


def check_entries(folder: str | Path = CASE_STUDIES_DIR, *,
                  codebook: Codebook | None = None) -> list[EntryProblem]:
    """Return every problem in every entry file of ``folder`` (empty when all are fine)."""
    codebook = codebook or bundled_codebook()
    problems = []
    for path in entry_files(folder):
        problems.extend(_read_checked(path, codebook)[0])
    return problems


def load_entries(folder: str | Path = CASE_STUDIES_DIR, *, codebook: Codebook | None = None,
                 strict: bool = True) -> list[LibraryEntry]:
    """Read every entry file in ``folder``, in file-name order.

    With ``strict`` a malformed file raises LibraryEntryError naming each file and problem;
    without it the file is left out with a warning that says the same, so one bad file does
    not take the whole library down.
    """
    codebook = codebook or bundled_codebook()
    if not Path(folder).is_dir():
        raise ReviewkitError(f"The library folder {folder} does not exist.")
    entries, problems = [], []
    for path in entry_files(folder):
        found, entry = _read_checked(path, codebook)
        problems.extend(found)
        if entry is not None:
            entries.append(entry)
    if problems and strict:
        raise LibraryEntryError(problems)
    for problem in problems:
        warnings.warn(f"Library entry left out: {problem.file}: {problem.message}",
                      LibraryEntryWarning, stacklevel=2)
    return entries


class LibraryEntryWarning(UserWarning):
    """A library entry file was left out because it is malformed."""


def library_entries(store: Store | None = None,
                    folder: str | Path = CASE_STUDIES_DIR) -> list[LibraryEntry]:
    """Return the whole library: entry files, then published and pending contributions.

    Nothing here is filtered for a viewer; every path that shows entries applies
    ``visible_to`` itself.
    """
    entries = load_entries(folder, strict=False)
    if store is not None:
        from reviewkit.library.contributions import stored_entries

        entries.extend(stored_entries(store))
    return entries
