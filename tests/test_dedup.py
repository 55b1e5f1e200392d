"""Deduplication: each way databases style one study alike, look-alikes kept apart, groups, merge."""

from __future__ import annotations

import csv
import string
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewkit.dedup import DedupResult, PairDecision, explain, find_duplicates, merge_group
from reviewkit.dedup.fields import fingerprint, parse_author, title_kind
from reviewkit.dedup.scoring import compare
from reviewkit.dedup.similarity import abbreviates
from reviewkit.records import Record

PAIRS = Path(__file__).parent / "data" / "dedup" / "pairs.csv"


def _read_cases() -> dict[str, tuple[str, list[Record]]]:
    cases: dict[str, tuple[str, list[Record]]] = defaultdict(lambda: ("", []))
    with PAIRS.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            record = Record(
                title=row["title"], authors=[a.strip() for a in row["authors"].split(";")],
                year=int(row["year"]), journal=row["journal"], volume=row["volume"],
                issue=row["issue"], pages=row["pages"], doi=row["doi"], abstract=row["abstract"],
                source_id=f"{row['case']}/{len(cases[row['case']][1]) + 1}",
            )
            cases[row["case"]] = (row["expect"], cases[row["case"]][1] + [record])
    return dict(cases)


CASES = _read_cases()


def _pair_named(case: str) -> list[Record]:
    return CASES[case][1]


@pytest.mark.parametrize("case", [c for c, (e, _) in CASES.items() if e == "duplicate"])
def test_records_styled_differently_are_merged(case):
    result = find_duplicates(_pair_named(case))
    assert result.groups == [[0, 1]], result.pairs
    assert result.pairs[0].decision == "duplicate"


@pytest.mark.parametrize("case", [c for c, (e, _) in CASES.items() if e in ("apart", "possible")])
def test_look_alike_records_are_never_merged(case):
    expect, records = CASES[case]
    result = find_duplicates(records)
    assert result.groups == [[0], [1]]
    if expect == "possible":
        assert [p.decision for p in result.pairs] == ["possible"]


@pytest.mark.parametrize(("case", "reason"), [
    ("erratum vs original", "kind"),
    ("web of science erratum", "kind"),
    ("comment vs original", "kind"),
    ("protocol vs trial", "kind"),
    ("series parts", "title numbers"),
    ("roman numerals", "title numbers"),
])
def test_a_veto_names_its_reason(case, reason):
    left, right = (fingerprint(r) for r in _pair_named(case))
    decision, _, reasons = compare(left, right)
    assert decision == "distinct"
    assert reason in reasons


def test_conference_abstract_and_article_go_to_a_person():
    result = find_duplicates(_pair_named("conference abstract vs article"))
    (pair,) = result.possible()
    assert pair.reasons["conference"].startswith("one looks like a conference abstract")


def _paper(**changes) -> Record:
    base = dict(
        title="Intermittent fasting versus daily calorie restriction for weight loss in adults "
              "with obesity: a randomised trial",
        authors=["Varga, Eszter", "Lund, Mikkel", "Okonkwo, Ada"], year=2021,
        journal="Obesity Research & Clinical Practice", volume="15", issue="2",
        pages="122-130", doi="10.1016/j.orcp.2021.02.004",
        abstract="Intermittent fasting is popular but its long-term effect on weight is unclear. "
                 "We randomised 140 adults with obesity to fasting or daily restriction for a "
                 "year and compared weight change.",
    )
    base.update(changes)
    return Record(**base)


def test_groups_join_records_through_chains_of_duplicates():
    full = _paper(source_id="embase")
    no_doi = _paper(doi="", title=full.title.upper(), authors=["Varga E", "Lund M", "Okonkwo A"],
                    source_id="medline")
    abbreviated = _paper(doi="", journal="Obes Res Clin Pract", abstract="", pages="122-30",
                         source_id="scopus")
    other = _paper(title="Time-restricted eating and sleep quality in shift workers: a cohort",
                   doi="10.1016/j.orcp.2021.03.010", pages="131-139", source_id="other")
    result = find_duplicates([full, other, no_doi, abbreviated])
    assert sorted(result.groups) == [[0, 2, 3], [1]]
    assert result.group_ids()[0] == result.group_ids()[2] == result.group_ids()[3]
    assert all(p.decision == "duplicate" for p in result.pairs)


def test_a_bridge_record_does_not_chain_two_works():
    # Two articles with the same title in the same volume (say, a reprint with new pages and a
    # new DOI) and a bare record that looks like either: it may join one, never both.
    first = _paper(source_id="a")
    second = _paper(doi="10.1016/j.orcp.2021.09.001", pages="410-418", source_id="b")
    bare = _paper(doi="", pages="", abstract="", source_id="bare")
    result = find_duplicates([first, bare, second])
    together = [g for g in result.groups if 0 in g][0]
    assert 2 not in together
    kept_apart = [p for p in result.pairs if "group check" in p.reasons or p.decision == "possible"]
    assert kept_apart, "the refused link is offered to a person"


def test_possible_pairs_ask_each_question_once():
    abstract = _paper(journal="Obesity Research & Clinical Practice. Conference: ECO 2020",
                      year=2020, volume="14", pages="S12", doi="", issue="Suppl 1")
    result = find_duplicates([_paper(), _paper(doi=""), abstract, abstract])
    assert sorted(result.groups) == [[0, 1], [2, 3]]
    assert len(result.possible()) == 1


def test_merge_group_keeps_the_most_complete_fields():
    initials = _paper(authors=["Varga E", "Lund M", "Okonkwo A"], doi="", abstract="Short.",
                      pages="122-30", source_id="pubmed:1", database="PubMed")
    full = _paper(journal="Obes Res Clin Pract", pages="122-130", issue="", source_id="embase:9",
                  database="Embase", keywords=["obesity"])
    merged = merge_group([initials, full])
    assert merged.doi == "10.1016/j.orcp.2021.02.004"
    assert merged.authors == ["Varga, Eszter", "Lund, Mikkel", "Okonkwo, Ada"]
    assert merged.abstract == full.abstract
    assert merged.pages == "122-130"
    assert merged.issue == "2"
    assert merged.journal == "Obesity Research & Clinical Practice"
    assert merged.keywords == ["obesity"]
    assert merged.database == "PubMed; Embase"
    assert merged.extra["merged_from"] == ["pubmed:1", "embase:9"]


def test_merge_group_of_one_returns_an_equal_record():
    record = _paper(source_id="x")
    assert merge_group([record]).to_dict() == record.to_dict()


def test_merge_group_needs_a_record():
    with pytest.raises(ValueError):
        merge_group([])


def test_explanation_is_one_plain_sentence():
    result = find_duplicates([_paper(), _paper(title=_paper().title.lower(), pages="122-30")])
    (pair,) = result.pairs
    sentence = explain(pair)
    assert sentence.startswith("Same DOI; titles 100% alike")
    assert "same year" in sentence
    assert sentence.endswith(".") and sentence.count(".") == 1


def test_explanation_of_a_distinct_pair_says_what_differs():
    pair = PairDecision(0, 1, "possible", 0.8,
                        {"title": 0.97, "year": "3 apart", "volume": "different"})
    assert explain(pair) == "Titles 97% alike; different volume; years 3 apart."


def test_reasons_are_plain_numbers_and_words():
    result = find_duplicates([_paper(), _paper(doi="", authors=["Varga E", "Lund M"])])
    (pair,) = result.pairs
    assert pair.reasons["title"] == 1.0
    assert pair.reasons["first author"] == "same"
    assert all(isinstance(v, (float, str)) for v in pair.reasons.values())
    assert 0.0 <= pair.score <= 1.0


def test_progress_is_reported_from_zero_to_one():
    seen: list[float] = []
    find_duplicates([_paper(), _paper()], progress=lambda fraction, message: seen.append(fraction))
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)


def test_empty_and_sparse_input():
    assert find_duplicates([]).groups == []
    sparse = [Record(), Record(), Record(title="", authors=[""])]
    result = find_duplicates(sparse)
    assert result.groups == [[0], [1], [2]]
    assert result.pairs == []


@pytest.mark.parametrize(("name", "expected"), [
    ("Wright Jr., T C", ("wright", "tc", "")),
    ("Adeli K.", ("adeli", "k", "")),
    ("van Kemenade, F J", ("vankemenade", "fj", "")),
    ("Schäfer, Jürgen", ("schafer", "j", "jurgen")),
    ("ALTS Group", ("", "", "")),
])
def test_author_names_in_every_style(name, expected):
    assert parse_author(name) == expected


@pytest.mark.parametrize(("short", "long"), [
    ("curr opin lipidol", "current opinion lipidology"),
    ("jthoraccardiovascsurg", "journal thoracic cardiovascular surgery"),
    ("amcis", "americas conference information systems"),
    ("bmj", "br med j"),
])
def test_journal_abbreviations(short, long):
    assert abbreviates(short, long)


@pytest.mark.parametrize(("short", "long"), [
    ("cancer", "cancer biology therapy"),
    ("circulation", "circulation research"),
    ("diabetes", "diabetes care"),
])
def test_different_journals_are_not_abbreviations(short, long):
    assert not abbreviates(short, long)


@pytest.mark.parametrize(("title", "kind"), [
    ("Corrigendum to 'Exercise for knee pain'", "erratum"),
    ("Retraction notice to: Exercise for knee pain", "erratum"),
    ("Exercise for knee pain [Erratum appears in BMJ 2020;368:m200]", ""),
    ("Re: Exercise for knee pain", "comment"),
    ("Exercise for knee pain: authors' reply", "comment"),
    ("The EXERT trial: rationale and design", "protocol"),
    ("Results from the ZYC101a protocol", ""),
])
def test_title_kinds(title, kind):
    assert title_kind(title) == kind


# --- properties -----------------------------------------------------------------------------

_WORDS = ("effect", "therapy", "randomised", "cohort", "children", "diabetes", "hospital",
          "outcomes", "screening", "cancer", "vaccine", "pain", "adults", "sleep", "stroke",
          "nutrition", "mortality", "community", "surgery", "infection", "asthma", "exercise")
_SURNAMES = ("Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Kowalski", "Haddad",
             "Nguyen", "Brennan", "Iversen", "Castillo", "Mensah")
_JOURNALS = (("Journal of Clinical Epidemiology", "J Clin Epidemiol"),
             ("American Journal of Public Health", "Am J Public Health"),
             ("International Journal of Nursing Studies", "Int J Nurs Stud"))


@st.composite
def papers(draw) -> Record:
    words = draw(st.lists(st.sampled_from(_WORDS), min_size=7, max_size=14))
    surnames = draw(st.lists(st.sampled_from(_SURNAMES), min_size=1, max_size=5, unique=True))
    givens = draw(st.lists(st.sampled_from(("Ada", "Bo", "Chen", "Dara", "Emil")),
                           min_size=len(surnames), max_size=len(surnames)))
    first = draw(st.integers(1, 2000))
    return Record(
        title=" ".join(words).capitalize(),
        authors=[f"{s}, {g}" for s, g in zip(surnames, givens, strict=True)],
        year=draw(st.integers(1980, 2025)),
        journal=draw(st.sampled_from(_JOURNALS))[0],
        volume=str(draw(st.integers(1, 300))),
        pages=f"{first}-{first + draw(st.integers(1, 30))}",
        doi=draw(st.one_of(st.just(""), st.from_regex(r"10\.[0-9]{4}/[a-z]{3}\.[0-9]{4}",
                                                      fullmatch=True))),
    )


@st.composite
def restyled(draw, record: Record) -> Record:
    """The same record as another database might export it."""
    copy = Record.from_dict(record.to_dict())
    style = draw(st.sampled_from(("upper", "title", "lower", "same")))
    copy.title = {"upper": str.upper, "title": str.title, "lower": str.lower,
                  "same": str}[style](copy.title)
    if draw(st.booleans()):
        copy.title += "."
    if draw(st.booleans()):
        copy.authors = [f"{a.split(',')[0]} {a.split(', ')[1][0]}." for a in copy.authors]
    if draw(st.booleans()):
        copy.journal = dict(_JOURNALS)[record.journal]
    if draw(st.booleans()):
        copy.doi = ""
    elif copy.doi and draw(st.booleans()):
        copy.doi = "https://doi.org/" + copy.doi.upper()
    if draw(st.booleans()):
        first, last = copy.pages.split("-")
        copy.pages = f"{first}-{last[-1]}" if len(last) == len(first) and last[:-1] == first[:-1] \
            else copy.pages
    return copy


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_record_is_a_duplicate_of_its_restyled_copy(data):
    record = data.draw(papers())
    copy = data.draw(restyled(record))
    result = find_duplicates([record, copy])
    assert result.groups == [[0, 1]], result.pairs


@settings(max_examples=100, deadline=None)
@given(record=papers(), gap=st.integers(2, 10))
def test_records_years_apart_with_other_pages_never_merge(record, gap):
    later = Record.from_dict(record.to_dict())
    later.year = record.year + gap
    later.pages = "9999-10010"
    later.doi = ""
    assert find_duplicates([record, later]).groups == [[0], [1]]


_text = st.text(alphabet=string.ascii_letters + string.digits + " .,:;-&[]()éüαβ", max_size=60)


@st.composite
def messy_records(draw) -> Record:
    return Record(
        title=draw(_text), authors=draw(st.lists(_text, max_size=4)),
        year=draw(st.one_of(st.none(), st.integers(1900, 2030))), journal=draw(_text),
        volume=draw(st.sampled_from(("", "1", "12", "12 Suppl 2"))),
        pages=draw(st.sampled_from(("", "1-10", "221-8", "e1234", "S5"))),
        doi=draw(st.sampled_from(("", "10.1000/x1", "10.1000/x2"))),
    )


@settings(max_examples=80, deadline=None)
@given(records=st.lists(st.one_of(messy_records(), papers()), max_size=12))
def test_output_partitions_the_input(records):
    result = find_duplicates(records)
    assert isinstance(result, DedupResult)
    flat = sorted(i for group in result.groups for i in group)
    assert flat == list(range(len(records)))
    ids = result.group_ids()
    assert len(ids) == len(records)
    for pair in result.pairs:
        assert 0 <= pair.left < pair.right < len(records)
        assert pair.decision in ("duplicate", "possible")
        assert 0.0 <= pair.score <= 1.0
        if pair.decision == "duplicate":
            assert ids[pair.left] == ids[pair.right]
        else:
            assert ids[pair.left] != ids[pair.right]
        assert explain(pair).endswith(".")


def test_group_check_sees_contradictions_between_unlike_titles():
    # A translated title (bracketed, as MEDLINE marks its translations) links to the original
    # by DOI; a third record that matches the English one by title but carries another DOI
    # must not join through it.
    english = _paper(title=f"[{_paper().title}]", source_id="en")
    translated = _paper(title="Jeûne intermittent contre restriction calorique quotidienne chez "
                              "l'adulte obèse : essai randomisé", source_id="fr")
    reprint = _paper(doi="10.1016/j.orcp.2022.01.001", pages="55-63", source_id="reprint")
    bare = _paper(doi="", pages="", abstract="", source_id="bare")
    result = find_duplicates([english, translated, bare, reprint])
    group_of = result.group_ids()
    assert group_of[0] == group_of[1]
    assert group_of[1] != group_of[3]
    # Without the translation mark, titles this unlike disagree: a person decides.
    unmarked = find_duplicates([_paper(), translated])
    assert unmarked.groups == [[0], [1]]
    assert "title" in unmarked.possible()[0].reasons["rule"]


# --- strong conflicting evidence, recurring titles, hard negatives from labelled data ------

def test_every_automatic_merge_names_its_rule_and_scores():
    result = find_duplicates([_paper(), _paper(doi=""), _paper(title=_paper().title.upper())])
    merged = [p for p in result.pairs if p.decision == "duplicate"]
    assert merged
    for pair in merged:
        assert pair.reasons["rule"] and isinstance(pair.reasons["title"], float)


def test_two_dois_keep_otherwise_identical_records_apart_and_say_why():
    result = find_duplicates([_paper(), _paper(doi="10.1016/j.orcp.2021.02.099")])
    assert result.groups == [[0], [1]]
    (pair,) = result.possible()
    assert pair.reasons["doi"] == "different"
    assert "identifier" in pair.reasons["rule"]


@pytest.mark.parametrize(("written", "key"), [
    ("https://doi.org/10.21203/RS.3.RS-99/V2", "10.21203/rs.3.rs-99"),
    ("doi:10.1101/2020.05.01.123456v3", "10.1101/2020.05.01.123456"),
    ("10.5281/zenodo.123.v1", "10.5281/zenodo.123"),
    ("10.1002/14651858.CD001234.pub2", "10.1002/14651858.cd001234.pub2"),
    ("10.1016/s0140-6736(20)30183-5", "10.1016/s0140-6736(20)30183-5"),
])
def test_doi_variants_that_name_one_item(written, key):
    assert fingerprint(Record(title="x", doi=written)).doi == key


def test_titles_that_disagree_are_not_merged_however_well_the_rest_agrees():
    other = _paper(title="Sleep hygiene education for adolescents: a cluster trial", doi="")
    result = find_duplicates([_paper(doi=""), other])
    assert result.groups == [[0], [1]]


@pytest.mark.parametrize(("title", "generic"), [
    ("Editorial introduction", True), ("Editor's comments", True),
    ("Remarks from the editor", True), ("Book review: The innovator's dilemma", True),
    ("Table of contents", True), ("Reply", True),
    ("Introduction of a nurse-led clinic for heart failure", False),
])
def test_generic_titles(title, generic):
    assert fingerprint(Record(title=title)).generic is generic


def test_a_recurring_title_needs_its_pages_not_only_title_authors_and_year():
    editorial = dict(title="Editor's comments", authors=["Rivera, Ana"], year=2016,
                     journal="MIS Quarterly", volume="40")
    same_pages = find_duplicates([Record(**editorial, pages="1-2"),
                                  Record(**editorial, pages="1-2")])
    no_pages = find_duplicates([Record(**editorial, issue="1"), Record(**editorial, issue="1")])
    assert same_pages.groups == [[0, 1]]
    assert "recurring title" in same_pages.pairs[0].reasons["rule"]
    assert no_pages.groups == [[0], [1]]


def test_other_issues_or_page_ranges_keep_a_recurring_title_apart():
    records = [_paper(title="Editorial", issue=issue, pages=pages, doi="", abstract="")
               for issue, pages in (("1", "5-12"), ("2", "5-6"), ("3", "5-12"))]
    result = find_duplicates(records)
    assert result.groups == [[0], [1], [2]]


def test_an_issue_column_of_record_numbers_is_ignored():
    # Reference managers export their record number where the issue belongs: one per record.
    works = [_paper(title=f"Trial {n} of a {w} intervention for adults with chronic pain",
                    doi="", pages=f"{100 + 10 * n}-{105 + 10 * n}")
             for n, w in enumerate(["walking", "yoga", "pilates", "swimming", "cycling",
                                    "dance", "tai chi", "rowing", "hiking", "climbing",
                                    "boxing", "skating", "skiing", "golf", "tennis"])]
    copies = [Record.from_dict(w.to_dict()) for w in works]
    records = works + copies
    for number, record in enumerate(records, start=1000):
        record.issue = str(number)
    result = find_duplicates(records)
    assert sorted(result.groups) == sorted([k, k + len(works)] for k in range(len(works)))


LABELLED = Path("/work/shared/data/dedup")
LABELLED_SETS = ("asysd_diabetes", "sra_cytology_screening", "sra_respiratory")


def _labelled_hard_negatives(name: str) -> tuple[list[Record], list[str], dict]:
    """Records of distinct works (by the answer key) that share a title, a first author and
    year, or a volume and page range; return them, their answer-key groups, and the pairs."""
    from benchmarks.dedup import hard_negatives, read_labelled

    path = LABELLED / f"{name}.csv"
    if not path.exists():
        pytest.skip(f"labelled deduplication set {path} is absent")
    records, _, truth = read_labelled(path)
    pairs = hard_negatives(records, truth)
    chosen = sorted({i for found in pairs.values() for pair in found for i in pair})
    return [records[i] for i in chosen], [truth[i] for i in chosen], pairs


@pytest.mark.parametrize("name", LABELLED_SETS)
def test_distinct_works_sharing_title_author_year_or_pages_never_merge(name):
    records, truth, pairs = _labelled_hard_negatives(name)
    assert len(pairs["title"]) >= 10 and len(pairs["first author and year"]) >= 100
    result = find_duplicates(records)
    mixed = [[(truth[i], records[i].title[:60]) for i in group]
             for group in result.groups if len({truth[i] for i in group}) > 1]
    assert not mixed


def test_online_first_pagination_joins_its_printed_record_through_the_doi():
    online = _paper(pages="1-9", volume="", issue="", year=2020, source_id="online")
    online_bare = _paper(pages="1-9", volume="", issue="", year=2020, doi="", source_id="bare")
    printed = _paper(source_id="print")
    printed_bare = _paper(doi="", abstract="", source_id="print bare")
    result = find_duplicates([online, online_bare, printed, printed_bare])
    assert result.groups == [[0, 1, 2, 3]]
