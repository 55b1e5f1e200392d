"""Update rounds: imports join the open round, dedup keeps earlier decisions, PRISMA for updates."""

from __future__ import annotations

import pytest

from reviewkit.errors import ReviewkitError
from reviewkit.importing import import_file
from reviewkit.prisma import prisma_counts, prisma_png, prisma_svg
from reviewkit.review_dedup import deduplicate_review
from reviewkit.rounds import (
    current_round,
    list_rounds,
    new_record_ids,
    record_rounds,
    start_update_round,
)
from reviewkit.store import Store

TA, FT = "title_abstract", "full_text"


def _ris(*studies: tuple[str, str, int]) -> bytes:
    parts = [f"TY  - JOUR\nTI  - {title}\nAU  - Author, A.\nPY  - {year}\nJO  - Journal of "
             f"Local Health\nDO  - {doi}\nER  -\n" for title, doi, year in studies]
    return "\n".join(parts).encode()


FIRST = [("Community connectors and loneliness in later life", "10.1000/a1", 2019),
         ("Debt advice in primary care: a pragmatic trial", "10.1000/a2", 2020),
         ("Green social prescribing for young people", "10.1000/a3", 2018),
         ("Time banking and neighbourhood trust", "10.1000/a4", 2017)]
UPDATE = [FIRST[0],  # found again by the re-run search: a duplicate of a screened record
          ("Asset mapping with residents of coastal towns", "10.1000/b1", 2024),
          ("Peer support groups for carers: a cohort study", "10.1000/b2", 2025)]
CHASED = [("Volunteer health champions in deprived areas", "10.1000/c1", 2016)]


def _vote(store, rid, stage, call, reason=""):
    store.add_decision(rid, stage=stage, decision=call, reviewer="ana", reason=reason)


@pytest.fixture
def updated(store: Store):
    """A screened first version (1 study included), then update 1: 3 re-run records (one
    already screened) and 1 found by citation searching; hand-counted in the tests below."""
    review = store.create_review("Living review")
    import_file(store, review, _ris(*FIRST), "scopus-2024.ris", actor="ana",
                database_name="Scopus", search_date="2024-03-01")
    old = {store.get_record(r).record.doi: r for r in store.kept_record_ids(review.id)}
    _vote(store, old["10.1000/a1"], TA, "include"), _vote(store, old["10.1000/a1"], FT, "include")
    _vote(store, old["10.1000/a2"], TA, "include")
    _vote(store, old["10.1000/a2"], FT, "exclude", "Wrong outcome")
    _vote(store, old["10.1000/a3"], TA, "exclude"), _vote(store, old["10.1000/a4"], TA, "exclude")
    start_update_round(store, review, actor="ana", label="March 2025")
    import_file(store, review, _ris(*UPDATE), "scopus-2025.ris", actor="ana",
                database_name="Scopus", search_date="2025-03-01")
    import_file(store, review, _ris(*CHASED), "chased.ris", actor="ana",
                search={"method": "citation searching", "database": "Reference lists"})
    deduplicate_review(store, review, actor="ana")
    return review, old


def test_a_round_needs_imports_before_it_and_numbers_follow(store):
    review = store.create_review("Empty")
    with pytest.raises(ReviewkitError, match="Import the review's first searches"):
        start_update_round(store, review, actor="ana")
    import_file(store, review, _ris(*FIRST), "first.ris", actor="ana")
    first = start_update_round(store, review, actor="ana", label="Spring")
    assert (first.number, first.name, first.started_by) == (1, "Update 1: Spring", "ana")
    with pytest.raises(ReviewkitError, match="update 1's before"):
        start_update_round(store, review, actor="ana")
    batch = import_file(store, review, _ris(*UPDATE[1:]), "second.ris", actor="ana")
    assert batch.round_number == 1
    assert [r.name for r in list_rounds(store, review)] == ["First version", "Update 1: Spring"]
    assert [e.action for e in store.audit_entries(review.id)].count("round.start") == 1


def test_dedup_across_rounds_keeps_the_earlier_decided_record(store, updated):
    review, old = updated
    assert current_round(store, review).number == 1
    kept = set(store.kept_record_ids(review.id))
    assert set(old.values()) <= kept  # every first-version record stays, with its decisions
    rounds = record_rounds(store, review)
    again = [s for s in store.list_records(review.id)
             if s.record.doi == "10.1000/a1" and rounds[s.id] == 1]
    assert len(again) == 1 and again[0].duplicate_of == old["10.1000/a1"]
    decided = {d.record_id: d.decision for d in store.current_decisions(review.id, stage=TA)}
    assert decided[old["10.1000/a1"]] == "include"
    new = new_record_ids(store, review)
    assert {store.get_record(r).record.doi for r in new} == {"10.1000/b1", "10.1000/b2",
                                                            "10.1000/c1"}
    assert new_record_ids(store, review, 0) == set(old.values())


def test_prisma_for_the_updated_review_matches_the_hand_count(store, updated):
    review, _ = updated
    new = {store.get_record(r).record.doi: r for r in new_record_ids(store, review)}
    _vote(store, new["10.1000/b1"], TA, "include"), _vote(store, new["10.1000/b1"], FT, "include")
    _vote(store, new["10.1000/b2"], TA, "exclude")
    c = prisma_counts(store, review, round_number=1)
    assert c.identified_by_source == [("Scopus", 3)]
    assert c.identified_other == [("Citation searching", 1)]
    assert (c.identified, c.duplicates_removed) == (4, 1)
    assert (c.screened, c.excluded_screening, c.awaiting_screening) == (2, 1, 1)
    assert (c.sought, c.assessed, c.included) == (1, 1, 1)
    assert (c.previous_included, c.total_included) == (1, 2)
    whole = prisma_counts(store, review)
    assert (whole.identified, whole.duplicates_removed, whole.included) == (8, 1, 2)
    assert whole.previous_included is None
    svg = prisma_svg(c)
    for text in ("Studies included in the", "review (n = 1)", "New records identified (n = 4)",
                 "Citation searching (n = 1)", "via other methods:",
                 "New studies included in review (n = 1)",
                 "Total studies included in review (n = 2)", 'width="1150"'):
        assert text in svg, text
    assert prisma_png(c).startswith(b"\x89PNG")


def test_the_map_and_briefs_say_what_changed_since_the_round_began(store, updated):
    from reviewkit.evidence_map import CodedStudy
    from reviewkit.rounds import changes_since_last_round

    review, old = updated
    new = {store.get_record(r).record.doi: r for r in new_record_ids(store, review)}
    studies = [CodedStudy(old["10.1000/a1"], "a1", approaches=["connectors"],
                          outcomes=["loneliness"]),
               CodedStudy(new["10.1000/b1"], "b1", approaches=["connectors"],
                          outcomes=["loneliness", "trust"]),
               CodedStudy(new["10.1000/c1"], "c1", approaches=["volunteering"],
                          outcomes=["trust"])]
    changes = changes_since_last_round(store, review, studies)
    assert sorted(changes.new_studies) == sorted([new["10.1000/b1"], new["10.1000/c1"]])
    assert changes.changed_cells == [("connectors", "loneliness"), ("connectors", "trust"),
                                     ("volunteering", "trust")]
    assert changes.new_cells == [("connectors", "trust"), ("volunteering", "trust")]
    started = current_round(store, review).started_at
    assert changes.plain_words() == (f"New since {started:%d %B %Y} (update 1: March 2025): "
                                     "2 studies, 3 cells changed (2 filled for the first time).")
    first = store.create_review("Never updated")
    assert changes_since_last_round(store, first, studies) is None


def test_the_search_appendix_reports_rounds_and_rapid_review_items(store, updated):
    import io

    from docx import Document

    from reviewkit.review_settings import change_settings
    from reviewkit.search_appendix import (
        build_search_appendix,
        search_methods_text,
        write_appendix_docx,
        write_appendix_markdown,
    )

    review, _ = updated
    review = change_settings(store, review, {
        "rapid_streamlined": "One database only, because the council needed an answer in "
                             "six weeks", "knowledge_users": "Public health commissioners"},
        actor="ana")
    appendix = build_search_appendix(store, review)
    assert [s.round_number for s in appendix.searches] == [0, 1, 1]
    methods = appendix.methods
    assert methods.startswith("We searched 1 database or register: Scopus (searched 2024-03-01).")
    assert "Records were also found by citation searching: 1 record." in methods
    assert "The review was updated: update 1: March 2025 (started" in methods
    assert "What was streamlined, and why: One database only, because the council" in methods
    assert "Knowledge users: Public health commissioners." in methods
    short = search_methods_text(store, review, short=True)
    assert "Records were also found by citation searching: 1 record." in short
    assert "Knowledge users: Public health commissioners." in short
    text = write_appendix_markdown(appendix)
    assert "## Update rounds" in text and "## Rapid-review reporting items" in text
    assert "- **Round:** Update 1\\: March 2025" in text
    doc = Document(io.BytesIO(write_appendix_docx(appendix)))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[-4:] == ["Update rounds", "Rapid-review reporting items",
                             "What was streamlined, and why", "Knowledge users"]


def test_the_new_round_is_ranked_by_a_model_trained_on_every_earlier_decision(store):
    from reviewkit.screening.queue import Prioritiser, labels_from, record_text

    review = store.create_review("Ranked update")
    first = [(f"Community connectors reduce loneliness in older people, study {i}",
              f"10.1/l{i}", 2020) for i in range(3)] + \
            [(f"Dose finding trial of an antiviral drug in adults, phase {i}", f"10.1/d{i}", 2020)
             for i in range(3)]
    import_file(store, review, _ris(*first), "first.ris", actor="ana")
    for rid in store.kept_record_ids(review.id):
        relevant = "loneliness" in store.get_record(rid).record.title
        _vote(store, rid, TA, "include" if relevant else "exclude")
    start_update_round(store, review, actor="ana")
    import_file(store, review, _ris(("Antiviral drug dose trial in children", "10.1/d9", 2025),
                                   ("Connectors and loneliness among rural older people",
                                    "10.1/l9", 2025)), "update.ris", actor="ana")
    labels = labels_from(store, review)
    assert len(labels) == 6  # every first-version decision trains the model
    rows = store.kept_titles_abstracts(review.id)
    ranker = Prioritiser([r[0] for r in rows], [record_text(t, a) for _, t, a in rows], "")
    ranker.update(labels, wait=True)
    new = new_record_ids(store, review)
    best = next(rid for rid in ranker.order() if rid in new)
    assert store.get_record(best).record.title.startswith("Connectors and loneliness")


def test_cli_starts_a_round_and_draws_the_updated_diagram(tmp_path, monkeypatch, capsys):
    from reviewkit.cli import main

    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    first, update = tmp_path / "first.ris", tmp_path / "update.ris"
    first.write_bytes(_ris(*FIRST))
    update.write_bytes(_ris(*UPDATE))
    assert main(["round", "start", "--review", "CLI living"]) != 0  # no such review yet
    assert main(["import", str(first), "--review", "CLI living"]) == 0
    assert main(["round", "start", "--review", "CLI living", "--label", "March 2025"]) == 0
    assert main(["import", str(update), "--review", "CLI living"]) == 0
    capsys.readouterr()
    assert main(["round", "list", "--review", "CLI living"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["0", "First version"],
                                                         ["1", "Update 1: March 2025"]]
    assert listed[1].endswith("3 records after deduplication")  # not deduplicated yet
    svg = tmp_path / "prisma.svg"
    assert main(["prisma", "--review", "CLI living", "--round", "1", "--output", str(svg)]) == 0
    drawn = svg.read_text()
    assert "New records identified (n = 3)" in drawn and "review (n = 0)" in drawn
    assert main(["prisma", "--review", "CLI living", "--output", str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")
