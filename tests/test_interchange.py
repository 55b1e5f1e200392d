"""Data that moves: ASReview's labelled CSV, Rayyan's notes, Zotero tags, EPPI JSON."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from reviewkit.cli import main
from reviewkit.coding import confirm_code, set_finding
from reviewkit.decisions import review_decisions
from reviewkit.formats import read_ris
from reviewkit.formats.eppi import CodedStudy, CodeScheme, StudyCode, check_eppi, write_eppi
from reviewkit.importing import import_file
from reviewkit.interchange import export_for_tool, read_file_decisions
from reviewkit.records import Record

TA, FT = "title_abstract", "full_text"
DATA = Path("/work/shared/data")


@pytest.fixture
def screened(store):
    """Five records: two included at full text, one excluded there, one excluded at title and
    abstract, one not screened; the first two coded."""
    review = store.create_review("Moving", settings={"reviewers_required": 1})
    records = [Record(title=t, year=2019 + n, authors=["Ward, K.", "Ng, L."], doi=d,
                      abstract=f"About {t.lower()}.", journal="Health Place")
               for n, (t, d) in enumerate([
                   ("Link workers and loneliness", "10.1000/lw1"),
                   ("Green space and wellbeing", "10.1000/gs2"),
                   ("Time banks in Salford", ""),
                   ("Crop yields under drought", "10.1000/cy4"),
                   ("Credit unions and debt", "")])]
    store.add_import(review.id, records, filename="a.ris", format="ris", sha256="b" * 64,
                     size_bytes=1)
    r = store.kept_record_ids(review.id)
    for i in (0, 1, 2):
        store.add_decision(r[i], stage=TA, decision="include", reviewer="ana")
    store.add_decision(r[3], stage=TA, decision="exclude", reviewer="ana",
                       reason="Wrong population")
    store.add_decision(r[0], stage=FT, decision="include", reviewer="ana")
    store.add_decision(r[1], stage=FT, decision="include", reviewer="ana")
    store.add_decision(r[2], stage=FT, decision="exclude", reviewer="ana", reason="Wrong outcome")
    confirm_code(store, review.id, r[0], "approach", "social_prescribing", actor="ana")
    set_finding(store, review.id, r[0], "outcome", "reduced_isolation", "positive",
                "Less lonely after six months", actor="ana")
    confirm_code(store, review.id, r[1], "approach", "environmental_assets", actor="ana")
    return review, r


def _standing(store, review):
    return [(i.stored.record.title, i.stage, i.outcome(), i.reason())
            for i in review_decisions(store, review, "ana")]


# -- ASReview ----------------------------------------------------------------------------

def test_asreview_csv_round_trip(store, screened):
    review, r = screened
    data = export_for_tool(store, review, review_decisions(store, review, "ana"), "asreview")
    assert not data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert list(rows[0]) == ["record_id", "title", "abstract", "authors", "year", "journal",
                             "doi", "keywords", "url", "label_included"]
    assert [x["label_included"] for x in rows] == ["1", "1", "0", "0", ""]
    assert rows[0]["authors"] == "Ward, K.; Ng, L." and rows[0]["doi"] == "10.1000/lw1"

    other = store.create_review("From ASReview")
    batch = import_file(store, other, data, "asreview.csv", actor="ana",
                        decisions_from="asreview")
    assert batch.decisions_imported == 4
    back = [(i.stored.record.title, i.outcome(TA)) for i in review_decisions(store, other, "ana")]
    assert back == [
        ("Link workers and loneliness", "include"), ("Green space and wellbeing", "include"),
        ("Time banks in Salford", "exclude"), ("Crop yields under drought", "exclude"),
        ("Credit unions and debt", "unscreened")]
    # the label column is taken off the record, not kept as an extra field
    assert all("label_included" not in i.stored.record.extra
               for i in review_decisions(store, other, "ana"))
    # read as a plain CSV the same file brings no decisions (the import contract is unchanged)
    plain = import_file(store, store.create_review("Plain"), data, "asreview.csv", actor="ana")
    assert plain.decisions_imported == 0


def test_a_real_asreview_labelled_set_comes_in_with_its_labels(store):
    path = DATA / "synergy" / "Donners_2021.csv"
    if not path.exists():
        pytest.skip(f"{path} is absent: the labelled sets live in ../shared/data/synergy/")
    raw = path.read_bytes()
    labels = [row["label_included"] for row in csv.DictReader(io.StringIO(raw.decode("utf-8")))]
    review = store.create_review("Donners")
    batch = import_file(store, review, raw, path.name, actor="ana", decisions_from="asreview")
    assert batch.decisions_imported == len(labels)
    items = review_decisions(store, review, "ana")
    assert sum(i.outcome(TA) == "include" for i in items) == labels.count("1") > 0
    out = export_for_tool(store, review, items, "asreview").decode("utf-8")
    again = [row["label_included"] for row in csv.DictReader(io.StringIO(out))]
    assert again == labels  # same records, same order, same labels


# -- Rayyan --------------------------------------------------------------------------------

RAYYAN_CSV = (
    'key,title,authors,journal,issn,volume,issue,pages,year,publisher,url,abstract,notes,doi,'
    'keywords\n'
    '1001,"Befriending older people: a pilot","Ross, J and Patel, S",Age Ageing,,12,3,1-9,2018,'
    ',,"Weekly visits.","RAYYAN-INCLUSION: {""Ana""=>""Included"", ""Kofi""=>""Included""}",'
    '10.1093/ageing/x1,\n'
    '1002,"Resilience training for nurses","Lee, M",Nurse Educ,,4,1,20-8,2020,,,,'
    '"Export Date: 2 May 2021 | RAYYAN-INCLUSION: {""Ana""=>""Excluded""} | '
    'RAYYAN-LABELS: individual | RAYYAN-EXCLUSION-REASONS: wrong population,wrong outcome | '
    'USER-NOTES: {""Ana""=>[""individual trait only""]}",,\n'
    '1003,"Community hubs after floods","Hart, A",Disasters,,,,,2016,,,,'
    '"RAYYAN-INCLUSION: {""Ana""=>""Maybe"", ""Kofi""=>""Excluded""}",,\n'
    '1004,"Not yet screened","Ode, B",,,,,,2021,,,,,,\n')


def test_rayyan_csv_notes_become_decisions(store):
    review = store.create_review("From Rayyan")
    batch = import_file(store, review, RAYYAN_CSV.encode(), "articles.csv", actor="lead",
                        decisions_from="rayyan")
    assert batch.record_count == 4 and batch.decisions_imported == 3
    items = review_decisions(store, review, "lead")
    assert [(i.outcome(TA), i.reason(TA)) for i in items] == [
        ("include", ""), ("exclude", "wrong population"), ("maybe", ""), ("unscreened", "")]
    note = items[1].decisions[0].note
    assert "Ana exclude" in note and "individual trait only" in note
    # the Rayyan marks are taken off the notes, the file's own note stays
    assert items[1].stored.record.notes == "Export Date: 2 May 2021"
    assert items[0].stored.record.notes == ""
    assert "Kofi exclude" in items[2].decisions[0].note


def test_rayyan_ris_n1_and_source_choice():
    text = ('TY  - JOUR\nTI  - Time banks\nN1  - RAYYAN-INCLUSION: {"Ana"=>"Included"}\n'
            'N1  - ASReview_irrelevant\nER  - \n')
    assert [c.decision for c in read_file_decisions(read_ris(text)[0], source="rayyan")] == \
        ["include"]
    assert [c.decision for c in read_file_decisions(read_ris(text)[0], source="asreview")] == \
        ["exclude"]
    assert read_file_decisions(read_ris(text)[0], source="zotero") == []


# -- Zotero ----------------------------------------------------------------------------------

def _as_zotero_would(ris: str) -> str:
    """Pass a RIS file through what Zotero does to it on import and export: notes become
    HTML child notes, keywords come back as tags (KW) in its own order, reviewkit's ID and the
    database fields are dropped, lines end in CRLF."""
    out = []
    for block in ris.replace("\r\n", "\n").split("ER  - "):
        lines = [line for line in block.strip().split("\n") if line.strip()]
        if not lines:
            continue
        kept, tags = [], []
        for line in lines:
            tag, value = line[:2], line[6:]
            if tag == "KW":
                tags.append(value)
            elif tag == "N1":
                kept.append(f"N1  - <p>{value}</p>")
            elif tag not in ("ID", "DB", "AN"):
                kept.append(line)
        kept.extend(f"KW  - {t}" for t in sorted(tags))
        out.append("\r\n".join(kept + ["ER  - ", ""]))
    return "\r\n".join(out)


def test_zotero_ris_keeps_decisions_and_codes_as_tags(store, screened):
    review, r = screened
    data = export_for_tool(store, review, review_decisions(store, review, "ana"), "zotero")
    text = data.decode("utf-8")
    first = text.split("ER  - ")[0]
    assert "KW  - reviewkit:included" in first and "KW  - reviewkit:full-text" in first
    assert "KW  - approach:social_prescribing" in first
    assert "KW  - outcome:reduced_isolation" in first
    third = text.split("ER  - ")[2]
    assert "KW  - reviewkit:excluded" in third and "KW  - reviewkit:reason:Wrong outcome" in third
    assert "reviewkit:not-screened" in text.split("ER  - ")[4]

    zotero = _as_zotero_would(text).encode("utf-8")
    other = store.create_review("Back from Zotero")
    import_file(store, other, zotero, "My Library.ris", actor="ana")
    assert _standing(store, other) == _standing(store, review)
    back = [i.stored.record.keywords for i in review_decisions(store, other, "ana")]
    assert not any(k.startswith("reviewkit:") for ks in back for k in ks)
    assert "approach:social_prescribing" in back[0]


def test_tags_added_in_a_real_zotero_export_are_read(store):
    path = DATA / "formats" / "zotero_ris_sysrev_1.ris"
    if not path.exists():
        pytest.skip(f"{path} is absent: the real exports live in ../shared/data/formats/")
    text = path.read_bytes().decode("utf-8")
    ends = [m.start() for m in re.finditer(r"^ER  -", text, flags=re.M)]
    # a reviewer tags the first record included and the second excluded, in Zotero
    tagged = (text[:ends[0]] + "KW  - reviewkit:included\r\n" + text[ends[0]:ends[1]]
              + "KW  - reviewkit:excluded\r\nKW  - reviewkit:reason:Wrong setting\r\n"
              + text[ends[1]:])
    review = store.create_review("Zotero library")
    batch = import_file(store, review, tagged.encode("utf-8"), path.name, actor="ana")
    assert batch.decisions_imported == 2
    items = review_decisions(store, review, "ana")
    assert [(i.outcome(TA), i.reason(TA)) for i in items[:3]] == [
        ("include", ""), ("exclude", "Wrong setting"), ("unscreened", "")]


# -- EPPI ------------------------------------------------------------------------------------

def test_eppi_json_matches_a_hand_checked_example():
    schemes = [CodeScheme("approach", "Approach", [("time_banks", "Time banks", "Swap hours")]),
               CodeScheme("outcome", "Outcome", [("wellbeing", "Wellbeing", "")])]
    study = CodedStudy(7, Record(title="Time banks in Salford", authors=["Ward, K.", "Ng, L."],
                                 year=2019, journal="Health Place", doi="10.1000/tb"),
                       [StudyCode("approach", "time_banks"),
                        StudyCode("outcome", "wellbeing", "mixed", "Better for some")])
    data = write_eppi([study], schemes, set_name="Demo")
    code_set = data["CodeSets"][0]
    assert (code_set["SetName"], code_set["SetId"]) == ("Demo", 1)
    tree = code_set["Attributes"]["AttributesList"]
    # ids by hand: Approach 1, Time banks 2, Outcome 3, Wellbeing 4, its directions 5-8
    assert [(a["AttributeId"], a["AttributeName"], a["AttributeType"]) for a in tree] == [
        (1, "Approach", "Not selectable (no checkbox)"),
        (3, "Outcome", "Not selectable (no checkbox)")]
    banks = tree[0]["Attributes"]["AttributesList"]
    assert [(a["AttributeId"], a["AttributeName"], a["AttributeDescription"]) for a in banks] \
        == [(2, "Time banks", "Swap hours")]
    wellbeing = tree[1]["Attributes"]["AttributesList"][0]
    assert wellbeing["AttributeId"] == 4
    assert [(a["AttributeId"], a["AttributeName"])
            for a in wellbeing["Attributes"]["AttributesList"]] == [
        (5, "Wellbeing: positive effect"), (6, "Wellbeing: mixed effect"),
        (7, "Wellbeing: no effect"), (8, "Wellbeing: negative effect")]
    ref = data["References"][0]
    assert (ref["ItemId"], ref["Title"], ref["ShortTitle"], ref["Authors"], ref["Year"],
            ref["ParentTitle"], ref["DOI"], ref["TypeName"]) == (
        7, "Time banks in Salford", "Ward (2019)", "Ward, K.; Ng, L.;", "2019", "Health Place",
        "10.1000/tb", "Journal, Article")
    assert [(c["AttributeId"], c["AdditionalText"]) for c in ref["Codes"]] == [
        (2, ""), (4, "Better for some"), (6, "Better for some")]
    assert check_eppi(data) == []
    json.dumps(data)  # plain JSON all through


def test_eppi_check_names_what_is_wrong():
    data = write_eppi([CodedStudy(1, Record(title="x"), [StudyCode("design", "rct")])], [])
    assert check_eppi(data) == []  # a code the codebook lacks is added to its scheme
    data["References"][0]["Codes"].append({"AttributeId": 99})
    data["References"].append(dict(data["References"][0]))
    data["CodeSets"][0]["Attributes"]["AttributesList"][0]["AttributeName"] = ""
    problems = check_eppi(data)
    assert any("code 99 is in no code set" in p for p in problems)
    assert any("ItemId 1 is used twice" in p for p in problems)
    assert any("'AttributeName' is empty" in p for p in problems)
    assert check_eppi({"References": []}) == ["'CodeSets' must be a list"]


def test_eppi_export_of_a_review_and_the_cli(store, screened, database_url, tmp_path, capsys):
    review, r = screened
    data = json.loads(export_for_tool(store, review, review_decisions(store, review, "ana"),
                                      "eppi"))
    assert check_eppi(data) == []
    assert [ref["ItemId"] for ref in data["References"]] == r[:2]  # the coded studies only
    names = {}

    def walk(items):
        for a in items:
            names[a["AttributeId"]] = a["AttributeName"]
            walk(a.get("Attributes", {}).get("AttributesList", []))

    walk(data["CodeSets"][0]["Attributes"]["AttributesList"])
    first = [names[c["AttributeId"]] for c in data["References"][0]["Codes"]]
    assert "Social prescribing and community navigation" in first
    assert any(n.endswith(": positive effect") for n in first)

    for fmt, name in (("eppi", "map.json"), ("asreview", "labels.csv"), ("zotero", "tags.ris")):
        out = tmp_path / name
        assert main(["--database", database_url, "export", "--review", "Moving", "--format",
                     fmt, "--output", str(out)]) == 0
        assert out.stat().st_size > 0
    assert check_eppi(json.loads((tmp_path / "map.json").read_text())) == []
    assert main(["--database", database_url, "import", str(tmp_path / "labels.csv"),
                 "--review", "Relabelled", "--decisions-from", "asreview"]) == 0
    assert "with 4 screening decisions" in capsys.readouterr().out


def test_asreview_unlabelled_values_and_an_unknown_source(store):
    from reviewkit.errors import ReviewkitError

    # ASReview LAB's export: 'included' 1/0, -1 or empty for records it never asked about
    data = (b"record_id,title,abstract,included,asreview_ranking\n"
            b"1,Link workers,About link workers,1,1\n2,Crop yields,About crops,0,2\n"
            b"3,Power grids,About grids,-1,3\n4,Time banks,About time banks,,4\n")
    review = store.create_review("LAB export")
    batch = import_file(store, review, data, "asreview_result.csv", actor="ana",
                        decisions_from="asreview")
    assert batch.decisions_imported == 2
    assert [i.outcome(TA) for i in review_decisions(store, review, "ana")] == [
        "include", "exclude", "unscreened", "unscreened"]
    with pytest.raises(ReviewkitError, match="cannot be read from 'endnote'; choose one of auto"):
        import_file(store, store.create_review("Other"), data, "x.csv", actor="ana",
                    decisions_from="endnote")
    assert store.list_batches(store.get_review("Other").id) == []


@pytest.mark.parametrize("name", ["asreview_3.0.8_export.csv", "asreview_3.0.8_export.ris"])
def test_files_asreview_itself_wrote_come_in_with_their_labels(store, name):
    data = (Path(__file__).parent / "data" / "interchange" / name).read_bytes()
    review = store.create_review("Written by ASReview")
    batch = import_file(store, review, data, name, actor="ana", decisions_from="asreview")
    assert batch.record_count == 8 and batch.decisions_imported == 6
    items = review_decisions(store, review, "ana")
    assert [i.outcome(TA) for i in items] == ["include"] * 3 + ["exclude"] * 3 + \
        ["unscreened"] * 2
    assert items[0].stored.record.title.startswith("Is empowerment a route")
    # and out again as ASReview reads it: the same labels, in the same order
    out = export_for_tool(store, review, items, "asreview").decode("utf-8")
    assert [row["label_included"] for row in csv.DictReader(io.StringIO(out))] == \
        ["1", "1", "1", "0", "0", "0", "", ""]
