"""Everyday words → approaches, with the bundled model on the demo review."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reviewkit.approach_search import (
    approach_index_for_review,
    find_approaches,
    read_judged_phrasings,
    synonym_matches,
)
from reviewkit.codebook import load_codebook
from reviewkit.store import Store
from tests.templates import demo_review

JUDGED = Path(__file__).parent / "data" / "approach_phrasings.csv"


@pytest.fixture(scope="module")
def demo_index(tmp_path_factory):
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('search') / 'demo.sqlite'}")
    review = demo_review(store)
    return store, review, approach_index_for_review(store, review)


def test_the_judged_set_is_varied_and_names_real_approaches():
    judged = read_judged_phrasings(JUDGED)
    codes = {c.code for c in load_codebook().scheme("approach").codes}
    assert len(judged) >= 80
    assert len({p.lower() for p, *_ in judged}) == len(judged)
    assert {kind for _, _, kind, _ in judged} == {"problem", "service", "group", "place", "vague"}
    assert {split for *_, split in judged} == {"dev", "held_out", "fresh", "held_out_2", "held_out_3",
                                               "held_out_4", "held_out_5"}
    assert all(ok and ok <= codes for _, ok, _, _ in judged)


def test_held_out_phrasings_find_an_acceptable_approach_in_the_top_three(demo_index):
    _, _, index = demo_index
    held_out = [(p, ok) for p, ok, _, split in read_judged_phrasings(JUDGED) if split != "dev"]
    top3 = [bool({m.code for m in find_approaches(index, p)} & ok) for p, ok in held_out]
    old = [bool(set(synonym_matches(index.codebook, p)) & ok) for p, ok in held_out]
    # measured over 0.9 held out and fresh (benchmarks/RESULTS.md): a clear drop means a break
    assert sum(top3) / len(top3) >= 0.85
    assert sum(top3) > 2 * sum(old)


def test_a_match_says_which_words_it_came_from(demo_index):
    _, _, index = demo_index
    best = find_approaches(index, "help with money worries")[0]
    assert best.code == "financial_inclusion" and best.close
    assert best.why().startswith("matched: ") and "money" in best.why()


def test_nothing_close_is_said_but_the_nearest_is_still_given(demo_index):
    _, _, index = demo_index
    found = find_approaches(index, "quantum chromodynamics")
    assert len(found) == 3 and not any(m.close for m in found)
    assert find_approaches(index, "  ") == []


def test_the_brief_command_reads_everyday_words(tmp_path, demo_index):
    store, review, _ = demo_index
    out = tmp_path / "brief.md"
    done = subprocess.run(
        [sys.executable, "-m", "reviewkit", "--database", store.url, "brief", "--approach",
         "somewhere for children to play outdoors", "--format", "md", "--output", str(out)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Green and blue space" in done.stderr and "matched: " in done.stderr
    title = out.read_text().splitlines()[0]
    assert title.startswith("# Evidence brief") and title.endswith("Green and blue space")



def test_phrasings_never_tuned_on_find_an_acceptable_approach(demo_index):
    _, _, index = demo_index
    untouched = [(p, ok) for p, ok, _, split in read_judged_phrasings(JUDGED)
                 if split in ("held_out_3", "held_out_4", "held_out_5")]
    found = [[m.code for m in find_approaches(index, p)] for p, _ in untouched]
    top1 = sum(bool(f) and f[0] in ok for f, (_, ok) in zip(found, untouched, strict=True))
    top3 = sum(bool(set(f) & ok) for f, (_, ok) in zip(found, untouched, strict=True))
    old = sum(bool(set(synonym_matches(index.codebook, p)[:1]) & ok) for p, ok in untouched)
    # measured 0.91 and 0.99 over these 229 (benchmarks/RESULTS.md); none of them was looked at
    # while the resolver or its everyday words were chosen; the aim is 0.85 and 0.95
    assert len(untouched) >= 200
    assert top1 >= 0.85 * len(untouched) and top3 >= 0.95 * len(untouched)
    assert top1 > 3 * old


def test_words_count_as_well_as_meaning(demo_index, monkeypatch):
    import reviewkit.approach_search as search

    _, _, index = demo_index
    assert index.lexical is not None and "social_prescribing" in index.lexical_codes
    # by meaning alone "give their time" reads as community connectors; the approach whose
    # own words say it (BM25 over labels, synonyms and everyday words) comes first with words
    phrase = "people who want to give their time"
    assert find_approaches(index, phrase)[0].code == "volunteering_peer_support"
    monkeypatch.setattr(search, "LEXICAL", 0.0)
    assert find_approaches(index, phrase)[0].code != "volunteering_peer_support"
