"""The Records page's decision filter: the store's SQL agrees with the rule for one record,
and the page reads only the page of records it shows."""

from __future__ import annotations

import itertools
import random

import pytest
from streamlit.testing.v1 import AppTest

from reviewkit.decisions import OUTCOMES, DecisionFilter, decision_page, review_decisions
from reviewkit.records import Record
from reviewkit.screening.agreement import set_blinded

TA, FT = "title_abstract", "full_text"
REASONS = ["Wrong population", "Wrong setting", "Wrong outcome"]


def _screen_at_random(store, review, ids, seed: int) -> None:
    """Votes by three reviewers (some maybes, some disagreements), a lead settling some, and
    full-text votes on what got through."""
    rng = random.Random(seed)
    for rid in ids:
        for who in rng.sample(["ana", "ben", "cai"], rng.choice([0, 1, 2, 2, 2])):
            call = rng.choice(["include", "include", "exclude", "exclude", "maybe"])
            store.add_decision(rid, stage=TA, decision=call, reviewer=who,
                               reason=rng.choice(REASONS) if call == "exclude" else "")
        if rng.random() < 0.15:
            call = rng.choice(["include", "exclude"])
            store.add_decision(rid, stage=TA, decision=call, reviewer="lead", kind="resolution",
                               reason=rng.choice(REASONS) if call == "exclude" else "")
        if rng.random() < 0.4:
            for who in rng.sample(["ana", "ben"], rng.choice([1, 2])):
                call = rng.choice(["include", "exclude", "not_retrieved"])
                store.add_decision(rid, stage=FT, decision=call, reviewer=who,
                                   reason=rng.choice(REASONS) if call == "exclude" else "")


def _in_memory(store, review, viewer):
    """Every kept record with its standing, for the reference rule (``DecisionFilter.matches``)."""
    everything = [s for s in store.list_records(review.id) if s.duplicate_of is None]
    return review_decisions(store, review, viewer, records=everything)


def test_store_filter_agrees_with_the_rule_for_one_record(store):
    review = store.create_review("Filtered", settings={
        "reviewers_required": 2, "blind": False, "exclusion_reasons": REASONS})
    store.add_import(review.id, [Record(title=f"Walking group study {i}", year=2000 + i % 20)
                                 for i in range(120)],
                     filename="f.ris", format="ris", sha256="e" * 64, size_bytes=1)
    ids = store.kept_record_ids(review.id)
    _screen_at_random(store, review, ids, seed=7)
    items = _in_memory(store, review, "lead")
    wheres = [DecisionFilter(stage=stage, decision=decision)
              for stage, decision in itertools.product([None, TA, FT], [None, *OUTCOMES])]
    wheres += [DecisionFilter(reviewer="cai"), DecisionFilter(stage=FT, reviewer="ana"),
               DecisionFilter(reason="wrong setting"),
               DecisionFilter(stage=TA, decision="exclude", reason="Wrong population"),
               DecisionFilter(stage=FT, reason="outcome", reviewer="ben")]
    seen_outcomes = set()
    for where in wheres:
        expected = [i.record_id for i in items if where.matches(i)]
        total, page = decision_page(store, review, "lead", where)
        assert [i.record_id for i in page] == expected, where
        assert total == len(expected)
        if expected and where.decision:
            seen_outcomes.add(where.decision)
    # the random screening reached every standing, so each was compared on real matches
    assert seen_outcomes == set(OUTCOMES)

    # while blinded, a reviewer's filter reads their own votes only
    set_blinded(store, review, True, actor="lead")
    review = store.review_by_id(review.id)
    items = _in_memory(store, review, "ana")
    for decision in OUTCOMES:
        where = DecisionFilter(decision=decision)
        assert [i.record_id for i in decision_page(store, review, "ana", where)[1]] == \
            [i.record_id for i in items if where.matches(i)], decision


def test_store_filter_pages_and_sorts(store):
    review = store.create_review("Paged", settings={"reviewers_required": 1})
    store.add_import(review.id, [Record(title=f"Study {i:03d}", year=1990 + i % 30)
                                 for i in range(60)],
                     filename="p.ris", format="ris", sha256="d" * 64, size_bytes=1)
    ids = store.kept_record_ids(review.id)
    for rid in ids[::2]:
        store.add_decision(rid, stage=TA, decision="exclude", reviewer="ana",
                           reason="Wrong population")
    where = DecisionFilter(decision="exclude")
    total, first = decision_page(store, review, "ana", where, order_by="year", descending=True,
                                 limit=10)
    total_again, second = decision_page(store, review, "ana", where, order_by="year",
                                        descending=True, limit=10, offset=10)
    assert total == total_again == 30
    years = [i.stored.record.year for i in first + second]
    assert years == sorted(years, reverse=True)
    assert not {i.record_id for i in first} & {i.record_id for i in second}
    assert {i.outcome() for i in first + second} == {"exclude"}


@pytest.fixture
def big_review(tmp_path, monkeypatch):
    """A review of 3,000 records, one reviewer's calls on 1,200 of them."""
    import streamlit as st

    from reviewkit.store import Store

    url = f"sqlite:///{tmp_path / 'big.sqlite'}"
    store = Store(url)
    review = store.create_review("Big review", settings={"reviewers_required": 1})
    store.add_import(review.id, [Record(title=f"Community study {i}", year=1990 + i % 35,
                                        abstract="Neighbourhood groups and wellbeing. " * 5)
                                 for i in range(3000)],
                     filename="big.ris", format="ris", sha256="b" * 64, size_bytes=1)
    ids = store.kept_record_ids(review.id)
    for n, rid in enumerate(ids[:1200]):
        call = "exclude" if n % 4 else "include"
        store.add_decision(rid, stage=TA, decision=call, reviewer="admin",
                           reason="Wrong population" if call == "exclude" else "")
    store.close()
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", url)
    monkeypatch.setenv("REVIEWKIT_NO_DEMO", "1")
    st.cache_resource.clear()
    yield url
    st.cache_resource.clear()


def test_records_page_reads_one_page_of_a_filtered_review(big_review, monkeypatch):
    import reviewkit.store as store_module

    built = []
    original = store_module._stored

    def counting(row):
        built.append(row.id)
        return original(row)

    monkeypatch.setattr(store_module, "_stored", counting)
    source = ("from reviewkit.ui import common\n"
              "from reviewkit.ui import records_page as page\n"
              "common.sidebar()\n"
              "page.render()\n")
    at = AppTest.from_string(source, default_timeout=120).run()
    assert not at.exception, at.exception
    built.clear()
    at.selectbox(key="records_decision").select("exclude").run()
    assert not at.exception, at.exception
    caption = next(c.value for c in at.caption if "records match" in c.value)
    assert caption.startswith("900 records match")
    from reviewkit.ui.records_page import PAGE_SIZE

    assert len(at.dataframe[0].value) == PAGE_SIZE
    assert set(at.dataframe[0].value["Decision"]) == {"Excluded"}
    # only the page shown was read from the database, not the 3,000 records
    assert len(built) <= PAGE_SIZE, len(built)

    built.clear()
    at.number_input(key="records_page").set_value(5).run()
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) == 900 - 4 * PAGE_SIZE
    assert len(built) <= PAGE_SIZE
