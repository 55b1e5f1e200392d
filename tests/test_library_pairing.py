"""Pairing entries with studies both ways: tiers in order, reasons given, nothing hidden leaks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from reviewkit.library import (
    CodedStudy,
    LibraryIndex,
    Viewer,
    entries_for_codes,
    entries_for_study,
    load_entries,
    studies_for_entry,
)
from reviewkit.library.visibility import visible_to

REAL = load_entries()
LUNCH_CLUB = next(e for e in REAL if e.id == "nrp-story-lunch-club-grant")
# volunteering_peer_support + community_development; reduced_isolation, local_economy, skills


def _unit(*values):
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


STUDIES = [
    CodedStudy(1, "Befriending and loneliness trial", {"volunteering_peer_support"},
               {"reduced_isolation"}, embedding=_unit(1, 0, 0)),
    CodedStudy(2, "Volunteering and skills", {"volunteering_peer_support", "community_development"},
               {"skills_confidence", "reduced_isolation"}, embedding=_unit(0, 1, 0)),
    CodedStudy(3, "Time banking survey", {"volunteering_peer_support"}, {"employment"},
               embedding=_unit(0, 0, 1)),
    CodedStudy(4, "Lunch clubs for older people", {"housing"}, {"housing_conditions"},
               embedding=_unit(1, 0.1, 0)),
    CodedStudy(5, "Air quality monitoring", {"air_quality"}, {"environment_quality"},
               embedding=_unit(0, 0, 1)),
    CodedStudy(6, "Outcome only", {"air_quality"}, {"reduced_isolation"}),
]


def test_studies_for_an_entry_come_in_tiers():
    paired = studies_for_entry(LUNCH_CLUB, STUDIES, entry_embedding=_unit(1, 0, 0))
    assert [study.record_id for study, _ in paired] == [2, 1, 3, 4]
    reasons = dict((study.record_id, why) for study, why in paired)
    assert reasons[2].startswith("Shares approach: Community development and capacity building; "
                                 "Volunteering, befriending and peer support and outcome:")
    assert "approach: Volunteering" in reasons[3] and "outcome" not in reasons[3]
    assert reasons[4].startswith("Close in meaning (similarity")


def test_without_embeddings_only_shared_codes_pair():
    paired = studies_for_entry(LUNCH_CLUB, STUDIES)
    assert [study.record_id for study, _ in paired] == [2, 1, 3]


def test_studies_with_a_different_embedding_size_are_skipped_for_meaning():
    odd = CodedStudy(9, "Odd", {"air_quality"}, set(), embedding=np.ones(5, dtype=np.float32))
    assert studies_for_entry(LUNCH_CLUB, [odd], entry_embedding=_unit(1, 0, 0)) == []


def test_entries_for_a_map_cell_put_both_codes_first():
    paired = entries_for_codes({"financial_inclusion"}, {"financial_resilience"},
                               viewer=Viewer.public(), entries=REAL)
    ids = [entry.id for entry, _ in paired]
    assert set(ids[:3]) == {"nrp-central-southport-sefton", "nrp-enquiry-southport-mystery-shop",
                            "nrp-sefton-loan-shark-video-and-schools-drama"}
    # then entries sharing only the outcome, such as the Poverty Truth Commission
    assert "champs-west-cheshire-poverty-truth-commission" in ids[3:]
    assert all(why.startswith("Shares ") for _, why in paired)


def test_among_equal_matches_the_more_recent_entry_comes_first():
    older = dataclasses.replace(LUNCH_CLUB, id="older", years="2014–2016")
    undated = dataclasses.replace(LUNCH_CLUB, id="undated", years="")
    newer = dataclasses.replace(LUNCH_CLUB, id="newer", years="reported 2019–2024")
    paired = entries_for_codes({"volunteering_peer_support"}, {"reduced_isolation"},
                               viewer=Viewer.public(), entries=[older, undated, newer])
    assert [entry.id for entry, _ in paired] == ["newer", "older", "undated"]


def test_top_none_returns_every_match():
    every = entries_for_codes({"volunteering_peer_support"}, set(), viewer=Viewer.public(),
                              entries=REAL, top=None)
    sharing = [e for e in REAL if "volunteering_peer_support" in e.approaches
               and visible_to(e, Viewer.public())]
    assert len(every) == len(sharing) > 5  # more than the five a page lists first


def test_entries_for_a_study_use_meaning_from_the_index():
    vectors = np.zeros((len(REAL), 3), dtype=np.float32)
    vectors[:, 2] = 1.0
    row = [e.id for e in REAL].index("champs-cheshire-east-assistive-technology")
    vectors[row] = _unit(1, 0, 0)
    index = LibraryIndex.build(REAL, vectors=vectors)
    study = CodedStudy(7, "Tablets for isolated people", {"digital_connection"}, set(),
                       embedding=_unit(1, 0, 0))
    paired = entries_for_study(study, viewer=Viewer.public(), entries=index)
    assert paired[0][0].id == "champs-cheshire-east-assistive-technology"
    assert paired[0][1].startswith("Shares approach: Digital connection")
    study = CodedStudy(8, "Unknown codes", set(), set(), embedding=_unit(1, 0.05, 0))
    paired = entries_for_study(study, viewer=Viewer.public(), entries=index)
    assert [(e.id, why[:16]) for e, why in paired] == [
        ("champs-cheshire-east-assistive-technology", "Close in meaning")]


@pytest.mark.parametrize("status, visibility, review_id", [
    ("pending", "public", None),
    ("published", "team", 3),
    ("rejected", "public", None),
])
def test_pairing_never_offers_hidden_entries(status, visibility, review_id):
    hidden = dataclasses.replace(LUNCH_CLUB, id="hidden", status=status, visibility=visibility,
                                 review_id=review_id)
    study = CodedStudy(1, "Befriending", set(LUNCH_CLUB.approaches), set(LUNCH_CLUB.outcomes))
    for paired in (
        entries_for_codes(LUNCH_CLUB.approaches, LUNCH_CLUB.outcomes, viewer=Viewer.public(),
                          entries=[hidden, LUNCH_CLUB]),
        entries_for_study(study, viewer=Viewer.public(), entries=[hidden, LUNCH_CLUB]),
    ):
        assert [entry.id for entry, _ in paired] == [LUNCH_CLUB.id]
