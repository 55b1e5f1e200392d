"""Reading library entries: the real folder loads, and a malformed file says what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewkit.library import (
    CASE_STUDIES_DIR,
    LibraryEntryError,
    check_entries,
    load_entries,
    read_entry,
)
from reviewkit.library.entries import LibraryEntryWarning, bundled_codebook, has_code

GOOD = """---
id: {slug}
title: "A lunch club in Anytown"
type: lived-experience story
place: Anytown
local_authority: Halton
years: "2019"
approaches: [volunteering_peer_support]
outcomes: [reduced_isolation]
domains: [social_connectivity]
population: Older residents
summary: >-
  Neighbours ran a lunch club.
source: A report, page 3
source_url: ""
consent: published account
attribution: Resident, Anytown
visibility: public
status: published
---

## What happened

Neighbours cooked lunch together every week.
"""


def _write(folder: Path, slug: str, text: str) -> Path:
    path = folder / f"{slug}.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_real_entry_is_valid():
    assert check_entries(CASE_STUDIES_DIR) == []
    entries = load_entries(CASE_STUDIES_DIR)
    assert len(entries) >= 30
    assert len({e.id for e in entries}) == len(entries)
    codebook = bundled_codebook()
    for entry in entries:
        assert all(has_code(codebook, scheme, code) for scheme, code in entry.codes())


def test_readme_and_template_are_not_entries():
    ids = {e.id for e in load_entries(CASE_STUDIES_DIR)}
    assert not any(i.startswith(("_", "nrp-example")) or i.lower() == "readme" for i in ids)


def test_a_good_file_reads_into_an_entry(tmp_path):
    entry = read_entry(_write(tmp_path, "anytown-lunch", GOOD.format(slug="anytown-lunch")))
    assert entry.id == "anytown-lunch"
    assert entry.approaches == ("volunteering_peer_support",)
    assert entry.years == "2019"
    assert entry.body.startswith("## What happened")
    assert entry.front_matter()["outcomes"] == ["reduced_isolation"]


@pytest.mark.parametrize(("change", "message"), [
    (("title: \"A lunch club in Anytown\"\n", ""), "'title' is missing"),
    (("type: lived-experience story", "type: story"), "'type' is 'story'; it must be one of"),
    (("visibility: public", "visibility: everyone"), "'visibility' is 'everyone'"),
    (("approaches: [volunteering_peer_support]", "approaches: [volunteering]"),
     "'approaches' has 'volunteering', which is not a code in the codebook's 'approach' scheme. "
     "Did you mean 'volunteering_peer_support'?"),
    (("outcomes: [reduced_isolation]", "outcomes: []"), "'outcomes' is empty"),
    (("id: anytown-lunch", "id: another-name"), "the file is named 'anytown-lunch.md'"),
    (("id: anytown-lunch", "id: Anytown Lunch"), "use lower-case letters"),
])
def test_each_problem_is_named_with_its_file(tmp_path, change, message):
    _write(tmp_path, "anytown-lunch", GOOD.format(slug="anytown-lunch").replace(*change))
    with pytest.raises(LibraryEntryError) as raised:
        load_entries(tmp_path)
    assert "anytown-lunch.md: " in str(raised.value)
    assert message in str(raised.value)


def test_all_problems_of_a_half_filled_file_are_listed_at_once(tmp_path):
    _write(tmp_path, "half", "---\nid: half\ntitle: Half done\n---\nSome words.\n")
    problems = check_entries(tmp_path)
    missing = {p.message.split("'")[1] for p in problems}
    assert missing == {"type", "place", "local_authority", "years", "approaches", "outcomes",
                       "domains", "population", "summary", "source", "consent",
                       "attribution", "visibility", "status"}
    assert {p.file for p in problems} == {"half.md"}


@pytest.mark.parametrize(("text", "message"), [
    ("no front matter here\n", "line 1: the file must start with a '---' line"),
    ("---\nid: x\ntitle: never closed\n", "the front matter is never closed"),
    ("---\nid: x\ntitle: [unclosed\n---\nbody\n", "line 3: the front matter is not valid YAML"),
    ("---\n- just\n- a list\n---\n", "must be 'field: value' lines"),
])
def test_unreadable_front_matter_is_reported_with_its_line(tmp_path, text, message):
    _write(tmp_path, "broken", text)
    (problem,) = check_entries(tmp_path)
    assert problem.file == "broken.md"
    assert message in problem.message


def test_a_malformed_file_is_left_out_with_a_warning_when_not_strict(tmp_path):
    _write(tmp_path, "anytown-lunch", GOOD.format(slug="anytown-lunch"))
    _write(tmp_path, "broken", "no front matter\n")
    with pytest.warns(LibraryEntryWarning, match="broken.md"):
        entries = load_entries(tmp_path, strict=False)
    assert [e.id for e in entries] == ["anytown-lunch"]
