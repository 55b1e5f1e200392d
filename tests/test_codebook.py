"""The codebook: loading, turning everyday words into codes, editing, versions per review."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewkit.codebook import (
    DEFAULT_CODEBOOK,
    Code,
    add_code,
    codebook_versions,
    find_code_words,
    from_yaml,
    load_codebook,
    merge_codes,
    rename_code,
    resolve,
    review_codebook,
    save_codebook,
    to_yaml,
    update_code,
)
from reviewkit.errors import NotFoundError, ReviewkitError


@pytest.fixture(scope="module")
def codebook():
    return load_codebook()


def test_bundled_codebook_has_the_five_schemes(codebook):
    assert DEFAULT_CODEBOOK.exists()
    assert list(codebook.schemes) == ["approach", "outcome", "domain", "measure", "design"]
    for scheme in codebook.schemes.values():
        assert scheme.codes
        for code in scheme.codes:
            assert code.label and code.description
    assert codebook.code("design", "rct").label == "Randomised controlled trial"
    assert codebook.label("approach", "no_such_code") == "no_such_code"


@pytest.mark.parametrize(("phrase", "scheme", "expected"), [
    ("community connectors", None, "community_connectors"),
    ("debt advice", None, "financial_inclusion"),
    ("green space", None, "green_blue_space"),
    ("participatory budgeting", None, "participatory_budgeting"),
    ("Local Area Coordinators", None, "community_connectors"),
    ("Co-production", None, "community_governance"),
    ("RCT", None, "rct"),
    ("parks", None, "green_blue_space"),
    # typos and near forms
    ("partcipatory budgetting", None, "participatory_budgeting"),
    ("social prescriber", None, "social_prescribing"),
    ("greenspace", None, "green_blue_space"),
    # the same word means different codes in different schemes
    ("loneliness", "outcome", "reduced_isolation"),
    ("loneliness", "measure", "loneliness"),
    ("interviews", "design", "qualitative"),
])
def test_resolve_turns_everyday_words_into_codes(codebook, phrase, scheme, expected):
    found = resolve(codebook, phrase, scheme)
    assert found, phrase
    best, score = found[0]
    assert best.code == expected
    assert 0 < score <= 1


def test_resolve_ranks_exact_words_first_and_drops_nonsense(codebook):
    found = resolve(codebook, "participatory budgeting")
    assert found[0][1] == 1.0
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert resolve(codebook, "zxqv wobble") == []
    assert resolve(codebook, "   ") == []
    with pytest.raises(NotFoundError):
        resolve(codebook, "trial", scheme="no_such_scheme")


def test_find_code_words_counts_a_longer_phrase_once(codebook):
    found = find_code_words(codebook, "design", "A longitudinal household survey of 3000 homes")
    assert found["cross_sectional"][1] == ["household survey"]
    assert found["cohort"][1] == ["longitudinal"]
    assert find_code_words(codebook, "approach", "nothing relevant here") == {}


def test_add_code_returns_a_new_codebook(codebook):
    code = Code("food_banks", "Food banks and pantries", "Emergency food.", ["food bank", "pantry"])
    edited = add_code(codebook, "approach", code)
    assert edited.code("approach", "food_banks").synonyms == ["food bank", "pantry"]
    assert codebook.scheme("approach").get("food_banks") is None
    assert resolve(edited, "food bank", "approach")[0][0].code == "food_banks"
    with pytest.raises(ReviewkitError):
        add_code(edited, "approach", code)


def test_rename_keeps_the_slug_and_the_old_label_as_a_synonym(codebook):
    edited = rename_code(codebook, "approach", "housing", "Homes and housing")
    code = edited.code("approach", "housing")
    assert code.label == "Homes and housing"
    assert "housing" in code.synonyms
    assert codebook.code("approach", "housing").label == "Housing"
    with pytest.raises(ReviewkitError):
        rename_code(codebook, "approach", "housing", "  ")


def test_merge_folds_the_dropped_code_into_the_kept_one(codebook):
    edited = merge_codes(codebook, "approach", "green_blue_space", "environmental_assets")
    assert edited.scheme("approach").get("environmental_assets") is None
    kept = edited.code("approach", "green_blue_space")
    assert "alley gating" in kept.synonyms
    assert "environmental assets and shared spaces" in kept.synonyms
    assert resolve(edited, "alley gating")[0][0].code == "green_blue_space"
    assert len(edited.scheme("approach").codes) == len(codebook.scheme("approach").codes) - 1
    with pytest.raises(ReviewkitError):
        merge_codes(codebook, "approach", "housing", "housing")


def test_update_code_replaces_description_and_synonyms(codebook):
    edited = update_code(codebook, "outcome", "crime_safety", description="  Less crime. ",
                         synonyms=["burglary", "Burglary", "knife crime"])
    code = edited.code("outcome", "crime_safety")
    assert code.description == "Less crime."
    assert code.synonyms == ["burglary", "knife crime"]
    assert code.label == codebook.code("outcome", "crime_safety").label


def test_yaml_round_trip_of_the_bundled_codebook(codebook):
    assert from_yaml(to_yaml(codebook)) == codebook


_words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                 min_size=1, max_size=30).map(lambda s: " ".join(s.split())).filter(bool)


@settings(max_examples=40, deadline=None)
@given(label=_words, description=st.text(max_size=80).map(lambda s: " ".join(s.split())),
       synonyms=st.lists(_words, max_size=5, unique_by=str.lower))
def test_yaml_round_trip_keeps_any_text(label, description, synonyms):
    codebook = add_code(load_codebook(), "design", Code("new_design", label, description,
                                                         synonyms))
    again = from_yaml(to_yaml(codebook))
    assert again.code("design", "new_design") == codebook.code("design", "new_design")


@pytest.mark.parametrize("text", [
    "schemes: [1, 2",
    "version: 1",
    "schemes:\n  approach:\n    codes:\n      - code: Not A Slug\n        label: x\n",
    "schemes:\n  approach:\n    codes:\n      - {code: a, label: x}\n      - {code: a, label: y}\n",
])
def test_broken_codebooks_are_refused_in_plain_words(text):
    with pytest.raises(ReviewkitError):
        from_yaml(text)


def test_saved_versions_per_review(store, codebook):
    review = store.create_review("Codebook review")
    assert review_codebook(store, review.id) == codebook  # nothing saved: the bundled one
    first = save_codebook(store, review.id, codebook, "alice")
    edited = rename_code(codebook, "approach", "housing", "Homes")
    second = save_codebook(store, review.id, edited, "bob")
    assert (first, second) == (1, 2)
    latest = review_codebook(store, review.id)
    assert latest.version == 2
    assert latest.code("approach", "housing").label == "Homes"
    assert review_codebook(store, review.id, version=1).code("approach", "housing").label == \
        "Housing"
    with pytest.raises(NotFoundError):
        review_codebook(store, review.id, version=9)
    assert [(v["version"], v["created_by"]) for v in codebook_versions(store, review.id)] == \
        [(1, "alice"), (2, "bob")]
    saves = [e for e in store.audit_entries(review.id) if e.action == "codebook.save"]
    assert [e.details["version"] for e in saves] == [2, 1]
    other = store.create_review("Another review")
    assert review_codebook(store, other.id).version == codebook.version
