"""Flagging personal details in contributed stories: real patterns yes, ordinary words no."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewkit.library import anonymise, flag_personal_details, load_entries
from reviewkit.library.anonymise_scoring import (
    DETAIL_KINDS,
    read_labelled_stories,
    score_finder,
)
from reviewkit.library.personal_details import (
    find_personal_details,
    library_places,
    replace_details,
)


@pytest.mark.parametrize(("text", "kind", "found"), [
    ("My name is Doreen Walsh and I volunteer.", "name", "Doreen Walsh"),
    ("my name's Bob.", "name", "Bob"),
    ("Hello, I'm Sarah and I run the club.", "name", "Sarah"),
    ("I am Imran, a resident.", "name", "Imran"),
    ("We spoke to Mrs Patel about it.", "name", "Mrs Patel"),
    ("Dr Okafor came along.", "name", "Dr Okafor"),
    ("Cllr Jones said yes.", "name", "Cllr Jones"),
    ("Then Karen Smith took over the group.", "name", "Karen Smith"),
    ("Text 07700 900123 for a lift.", "phone", "07700 900123"),
    ("Text 07700900123 for a lift.", "phone", "07700900123"),
    ("Ring +44 7700 900 123 today.", "phone", "+44 7700 900 123"),
    ("Ring +44 (0)151 496 0000 today.", "phone", "+44 (0)151 496 0000"),
    ("The office is on 0151 496 0000.", "phone", "0151 496 0000"),
    ("The office is on 01928 123456.", "phone", "01928 123456"),
    ("London office: 020 7946 0018.", "phone", "020 7946 0018"),
    ("Email doreen.walsh@example.org for details.", "email", "doreen.walsh@example.org"),
    ("She lives at 14 Acacia Road near the shops.", "address", "14 Acacia Road"),
    ("Flat 3, 22b Moss Lane is where we meet.", "address", "Flat 3, 22b Moss Lane"),
    ("Come to 7 Church Street.", "address", "7 Church Street"),
    ("Meet at 5 Willow Close.", "address", "5 Willow Close"),
    ("Our hall is at 1 Station Approach Way.", "address", "1 Station Approach Way"),
    ("Post it to WA7 2GW please.", "postcode", "WA7 2GW"),
    ("The hub is in L36 9XY.", "postcode", "L36 9XY"),
    ("Written small: l13 5ty.", "postcode", "l13 5ty"),
    ("Central London EC1A 1BB.", "postcode", "EC1A 1BB"),
])
def test_real_patterns_are_flagged(text, kind, found):
    flags = flag_personal_details(text)
    assert (kind, found) in [(f.kind, f.text) for f in flags]
    flag = next(f for f in flags if f.text == found)
    assert text[flag.start:flag.end] == found


@pytest.mark.parametrize("text", [
    "I'm proud of Stockbridge Village and I'm British.",
    "Resident Advisers met Preston City Council in March 2018.",
    "They recorded where 117 children play and 53 journeys.",
    "Each area got about £50,000 a year from 2014–2019.",
    "The first print run was 8,000 copies and the M6 2nd junction was closed.",
    "Old Swan, Mill Hill and Wensley Fold are NRP neighbourhoods.",
    "Call the helpline, write a letter or visit the Citizens Advice office.",
    "Victoria Park and Church Street are lovely in June.",
    "The survey reached 3,000 households, a 7.5 point rise.",
])
def test_ordinary_text_is_not_flagged(text):
    assert flag_personal_details(text) == []


def test_the_real_library_has_nothing_flagged():
    for entry in load_entries():
        for text in (entry.title, entry.summary, entry.population, entry.body):
            assert flag_personal_details(text) == [], entry.id


def test_anonymise_replaces_each_detail_with_its_kind():
    text = ("My name is Doreen Walsh, I live at 14 Acacia Road, WA7 2GW. "
            "Ring 07700 900123 or email doreen@example.org.")
    assert anonymise(text, flag_personal_details(text)) == (
        "My name is [name], I live at [address], [postcode]. Ring [phone] or email [email].")


def test_flags_never_overlap():
    text = "Dr Jones lives at 12 Mill Dr, contact jones.dr@example.org"
    flags = flag_personal_details(text)
    for first, second in zip(flags, flags[1:], strict=False):
        assert first.end <= second.start
    assert ("address", "12 Mill Dr") in [(f.kind, f.text) for f in flags]


@given(st.text(max_size=200))
def test_anonymise_never_fails_and_keeps_unflagged_text(text):
    flags = flag_personal_details(text)
    result = anonymise(text, flags)
    if not flags:
        assert result == text
    for flag in flags:
        assert text[flag.start:flag.end] == flag.text


# -- Presidio with the place rules ----------------------------------------------------------

STORIES = Path(__file__).parent / "data" / "anonymise_stories.yaml"


@pytest.fixture(scope="module")
def places():
    return library_places(load_entries())


def test_labelled_stories_are_well_formed():
    stories = read_labelled_stories(STORIES)
    assert len(stories) >= 60
    assert {s.split for s in stories} == {"dev", "held_out", "held_out_2", "held_out_3", "held_out_4", "held_out_5"}
    planted = {kind for s in stories for kind, _ in s.details}
    assert planted == set(DETAIL_KINDS)


def test_presidio_finder_hides_planted_details_and_keeps_places(places):
    stories = read_labelled_stories(STORIES)
    score = score_finder(lambda text: find_personal_details(text, keep=places), stories)
    rules = score_finder(flag_personal_details, stories)
    assert score.recall >= 0.95, score.missed
    assert score.precision >= 0.9, score.false_alarms
    assert score.recall > rules.recall + 0.4
    assert score.kept_broken <= 2


def test_a_first_name_alone_and_the_neighbourhood(places):
    text = "My neighbour Sheila started the coffee morning in Old Swan. Ring 07700 900412."
    flags = find_personal_details(text, keep=places)
    assert [(f.kind, f.text) for f in flags] == [("name", "Sheila"), ("phone", "07700 900412")]
    assert all(f.reason for f in flags)
    assert replace_details(text, flags) == (
        "My neighbour [name] started the coffee morning in Old Swan. Ring [phone].")


def test_nhs_number_date_of_birth_and_school():
    text = ("I was born on 3 March 1961. My NHS number is 943 476 5919 and my girl goes to "
            "Sylvester Primary School.")
    kinds = {f.text: f.kind for f in find_personal_details(text)}
    assert kinds == {"3 March 1961": "date_of_birth", "943 476 5919": "nhs_number",
                     "Sylvester Primary School": "workplace"}


def test_an_empty_story_has_nothing_to_find():
    assert find_personal_details("   ") == []


def test_names_from_many_countries_titles_and_workplaces(places):
    text = ("Grzegorz stacks shelves at Henderson's Foods, and the nurse, Blessing, says Pastor "
            "Oyelaran runs the food bank in Old Swan.")
    flags = find_personal_details(text, keep=places)
    assert [(f.kind, f.text) for f in flags] == [
        ("name", "Grzegorz"), ("workplace", "Henderson's Foods"), ("name", "Blessing"),
        ("name", "Pastor Oyelaran")]
    assert "Faker" in flags[0].reason


def test_a_place_inside_a_workplace_name_goes_with_it():
    text = "I've been at Halton Lea Working Men's Club since I was eighteen."
    flags = find_personal_details(text, keep=["Halton Lea", "Halton"])
    assert [(f.kind, f.text) for f in flags] == [("workplace", "Halton Lea Working Men's Club")]


def test_a_failed_warm_up_is_logged_and_the_send_builds_the_anonymiser(monkeypatch, caplog):
    """The warm-up thread must not die with an unhandled error (seen once in a full run):
    it logs, caches nothing, and the next caller builds the analyzer for real."""
    from reviewkit.library import personal_details

    def broken():
        raise SystemError("AST constructor recursion depth mismatch")

    real = personal_details.given_names
    monkeypatch.setattr(personal_details, "given_names", broken)
    with caplog.at_level("WARNING", logger=personal_details.__name__):
        assert personal_details._warm() is False
    assert "warming up the anonymiser failed" in caplog.text
    monkeypatch.setattr(personal_details, "given_names", real)
    analyzer = personal_details.default_analyzer()
    found = analyzer.analyze("Ring 07700 900412 tonight.", language="en")
    assert {r.entity_type for r in found} & {"UK_PHONE", "PHONE_NUMBER"}
