"""Deduplicating a stored review: the demo corpus, screened records kept, undo and unmerge."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from reviewkit.formats import read_records
from reviewkit.importing import import_file
from reviewkit.prisma import prisma_counts
from reviewkit.review_dedup import PERSON_MERGED, deduplicate_review, merge_rules, merged_record
from tests.conftest import ROOT

DEMO = ROOT / "corpora" / "demo"
FILES = ["scopus_export.ris", "pubmed_export.nbib", "zotero_library.bib", "grey_literature.csv",
         "endnote_library.xml"]


def _demo_truth():
    """Each demo record's work id, from corpora/demo_duplicates.json (written by hand)."""
    labels = json.loads((ROOT / "corpora" / "demo_duplicates.json").read_text(encoding="utf-8"))
    work = {}
    for item in labels["works"]:
        for ref in item["records"]:
            key = ref.get("record") or ref.get("record_id") or ref.get("key") or ref.get("rec_number")
            work[(ref["file"], str(key))] = item["work"]
    truth = []
    for name in FILES:
        for i, rec in enumerate(read_records((DEMO / name).read_bytes(), filename=name), start=1):
            by_position = name in ("scopus_export.ris", "pubmed_export.nbib")
            truth.append(work[(name, str(i) if by_position else rec.source_id)])
    return truth


@pytest.fixture
def demo(store):
    review = store.create_review("Demo dedup")
    for name in FILES:
        import_file(store, review, (DEMO / name).read_bytes(), name, actor="ana")
    return review


def test_demo_corpus_has_no_false_merge_and_every_duplicate_is_caught_or_asked(store, demo):
    truth = _demo_truth()
    summary = deduplicate_review(store, demo, actor="ana")
    stored = store.list_records(demo.id)
    assert len(stored) == len(truth) == 137
    group = {s.id: (s.duplicate_of or s.id) for s in stored}
    ids = [s.id for s in stored]
    asked = {frozenset((p["left_id"], p["right_id"])) for p in store.duplicate_pairs(demo.id, status="possible")}
    missed = []
    for (a, ta), (b, tb) in itertools.combinations(zip(ids, truth), 2):
        if group[a] == group[b]:
            assert ta == tb, f"records {a} and {b} are different works but were merged"
        elif ta == tb:
            members_a = [x for x in ids if group[x] == group[a]]
            members_b = [y for y in ids if group[y] == group[b]]
            if not any(frozenset((x, y)) in asked for x in members_a for y in members_b):
                missed.append((a, b))
    # One known miss: a report whose author is an organisation's acronym in one export and its
    # full name in the other, with no DOI, journal or pages to link them.
    assert len(set(missed)) <= 1, f"duplicates neither merged nor asked about: {missed}"
    assert summary.merged == store.count_duplicates(demo.id) > 10
    assert summary.possible == len(asked) > 0
    # PRISMA's duplicates box counts exactly the merged records
    assert prisma_counts(store, demo).duplicates_removed == summary.merged


def test_person_decides_possible_pairs_and_can_undo(store, demo):
    deduplicate_review(store, demo, actor="ana")
    before = store.count_duplicates(demo.id)
    pair = store.duplicate_pairs(demo.id, status="possible")[0]
    store.decide_pair(pair["id"], "same", actor="ben")
    assert store.count_duplicates(demo.id) == before + 1
    store.decide_pair(pair["id"], "possible", actor="ben")  # undo
    assert store.count_duplicates(demo.id) == before
    store.decide_pair(pair["id"], "different", actor="ben")
    # a new run never merges what a person called different, nor asks again
    deduplicate_review(store, demo, actor="ana")
    again = {frozenset((p["left_id"], p["right_id"])) for p in store.duplicate_pairs(demo.id, status="possible")}
    assert frozenset((pair["left_id"], pair["right_id"])) not in again
    kept = {s.id: s.duplicate_of for s in store.list_records(demo.id)}
    assert kept[pair["left_id"]] != pair["right_id"] and kept[pair["right_id"]] != pair["left_id"]
    actions = [e.action for e in store.audit_entries(demo.id)]
    assert {"dedup.run", "dedup.same", "dedup.possible", "dedup.different"} <= set(actions)


def test_every_merged_group_names_the_rules_that_merged_it(store, demo):
    deduplicate_review(store, demo, actor="ana")
    groups = store.duplicate_groups(demo.id)
    rules = merge_rules(store, demo.id)
    assert set(rules) == set(groups)
    assert all(found and PERSON_MERGED not in found for found in rules.values())
    pair = store.duplicate_pairs(demo.id, status="possible")[0]
    store.decide_pair(pair["id"], "same", actor="ben")
    kept = next(s.duplicate_of or s.id for s in store.list_records(demo.id)
                if s.id == pair["left_id"])
    assert PERSON_MERGED in merge_rules(store, demo.id)[kept]


def test_unmerge_splits_a_group(store, demo):
    deduplicate_review(store, demo, actor="ana")
    groups = store.duplicate_groups(demo.id)
    kept, members = next(iter(groups.items()))
    restored = store.unmerge(members[0], actor="ana")
    assert set(restored) == {kept, *members}
    assert kept not in store.duplicate_groups(demo.id)
    # and a later run respects the split
    deduplicate_review(store, demo, actor="ana")
    assert kept not in store.duplicate_groups(demo.id)


def test_new_import_after_screening_keeps_the_screened_record(store, tmp_path):
    review = store.create_review("Incremental")
    first = (DEMO / "scopus_export.ris").read_bytes()
    import_file(store, review, first, "scopus.ris", actor="ana")
    deduplicate_review(store, review, actor="ana")
    screened = store.list_records(review.id)[0]
    store.add_decision(screened.id, stage="title_abstract", decision="include", reviewer="ana")

    # the same records again, as another database would send them (different bytes)
    again = first.replace(b"DB  - Scopus", b"DB  - Web of Science")
    import_file(store, review, again, "wos.ris", actor="ana")
    deduplicate_review(store, review, actor="ana")
    after = {s.id: s for s in store.list_records(review.id)}
    assert after[screened.id].duplicate_of is None, "the screened record stays the kept one"
    twins = [s for s in after.values() if s.duplicate_of == screened.id]
    assert len(twins) == 1 and twins[0].record.title == screened.record.title
    decisions = store.current_decisions(review.id, stage="title_abstract")
    assert [(d.record_id, d.decision) for d in decisions] == [(screened.id, "include")]
    assert store.count_duplicates(review.id) == len(store.list_records(review.id)) // 2


def test_merged_record_takes_the_most_complete_fields(store, demo):
    deduplicate_review(store, demo, actor="ana")
    for kept_id, members in store.duplicate_groups(demo.id).items():
        kept = store.get_record(kept_id)
        merged = merged_record(store, kept)
        everyone = [kept.record] + [store.get_record(m).record for m in members]
        assert merged.doi == next((r.doi for r in everyone if r.doi), "")
        assert len(merged.abstract) == max(len(r.abstract) for r in everyone)


def test_dedup_cli_writes_one_row_per_record(tmp_path):
    import csv
    import subprocess
    import sys

    paths = [str(DEMO / name) for name in FILES]
    out = tmp_path / "groups.csv"
    done = subprocess.run([sys.executable, "-m", "reviewkit", "dedup", *paths, "--output", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == ["record_id", "group_id"]
    assert len(rows) == 137
    csv_rows = [r for r in rows if r["record_id"].startswith("GL")]
    assert len(csv_rows) == 52, "CSV input keeps the file's own record_id"
    assert len({r["record_id"] for r in rows}) == 137, "ids are unique across files"
    truth = _demo_truth()
    groups = [r["group_id"] for r in rows]
    for (ga, ta), (gb, tb) in itertools.combinations(zip(groups, truth), 2):
        assert ga != gb or ta == tb


def test_dedup_cli_reads_a_labelled_csv_without_peeking(tmp_path):
    """Columns the tool does not know (such as an answer key) are ignored."""
    import csv
    import subprocess
    import sys

    src = tmp_path / "labelled.csv"
    src.write_text(
        "record_id,author,year,title,journal,volume,pages,doi,dup_group\n"
        "a1,\"Popay, J; Kaloudis, H\",2023,Neighbourhood system resilience,Health Place,80,1-9,10.1/x,1\n"
        "a2,\"Popay J, Kaloudis H\",2023,Neighbourhood System Resilience.,Health & Place,80,1-9,,1\n"
        "a3,\"Ubido, J\",2018,Developing resilient communities,,,,,2\n", encoding="utf-8")
    out = tmp_path / "g.csv"
    done = subprocess.run([sys.executable, "-m", "reviewkit", "dedup", str(src), "--output", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = {r["record_id"]: r["group_id"] for r in csv.DictReader(out.open(encoding="utf-8"))}
    assert rows["a1"] == rows["a2"] != rows["a3"]


def test_dedup_cli_reports_a_broken_file(tmp_path):
    import subprocess
    import sys

    # A RIS file cut before its last ER is read (the reader repairs it); a file in no known
    # format cannot be, and one unreadable file stops the whole run before anything is written.
    good = tmp_path / "fine.ris"
    good.write_text("TY  - JOUR\nTI  - Fine\nER  - \n", encoding="utf-8")
    bad = tmp_path / "notes.txt"
    bad.write_text("this is not a bibliography\njust notes\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "reviewkit", "dedup", str(good), str(bad),
                           "--output", str(tmp_path / "x.csv")],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1 and "notes.txt" in done.stderr
    assert not (tmp_path / "x.csv").exists()


def test_demo_files_exist():
    assert all((DEMO / name).exists() for name in FILES)
    assert Path(DEMO / "review.json").exists()
