"""Backward citation chasing offline: reference lists of attached PDFs matched to records."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from reviewkit.citations import add_candidates, chase_review, read_references, split_references
from reviewkit.cli import main
from reviewkit.records import Record
from reviewkit.search_record import search_records

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SEEDS = Path("/work/shared/seeds")

# The review's records: (title, year, doi).
IN_REVIEW = [
    ("Community connectors and loneliness in a northern town: a mixed-methods evaluation", 2018,
     "10.1111/hsc.2018.0101"),
    ("Social prescribing link workers in general practice: a realist review", 2020, ""),
    ("Time banking as a route to neighbourhood resilience", 2016, ""),
    ("Health champions and the uptake of community activities", 2014, "10.1093/heapro/dau011"),
    ("Green space, housing quality and mental wellbeing in deprived areas", 2019, ""),
    ("Participatory budgeting and perceived control over local decisions", 2021, ""),
    ("Credit unions and financial inclusion on social housing estates", 2015,
     "10.1332/175982715x14254645"),
    ("Asset mapping with residents: lessons from four neighbourhoods", 2017, ""),
    ("Digital inclusion programmes for older people: a systematic review", 2022, ""),
    ("Volunteering and wellbeing among unemployed adults: a cohort study", 2013,
     "10.1186/1471-2458-13-773"),
    # not cited below: a record that looks like a cited work but is another one
    ("Social prescribing for children and young people: a scoping review", 2023, ""),
    ("Resilience training for nurses: a randomised trial", 2020, ""),
]
CITING = ("Building resilient neighbourhoods: a rapid review", 2024)

# The citing paper's numbered reference list, and what each entry truly is: the index of the
# record in IN_REVIEW, or None for a work the review lacks.  Entries vary as real lists do:
# another case, a DOI with a prefix and no title match, a title cut by a line break.
NUMBERED = [
    ("Ward K, Ng L, Patel S. Community connectors and loneliness in a northern town: a "
     "mixed-methods evaluation. Health Soc Care Community 2018;26(4):512-20.", 0),
    ("Bell R, Okafor T et al. Social prescribing link workers in general practice: a realist "
     "review. Br J Gen Pract 2020;70(694):e1-e9.", 1),
    ("Seyfang G. Time banking as a route to neighbourhood resilience. Local Environ "
     "2016;21(2):150-66.", 2),
    ("White J, Woodall J. Champions for health: uptake of community activities. Health Promot "
     "Int 2014;29(3):400-9. https://doi.org/10.1093/HEAPRO/DAU011", 3),
    ("Moore T, Kesten J. GREEN SPACE, HOUSING QUALITY AND MENTAL WELLBEING IN DEPRIVED AREAS. "
     "Health Place 2019;58:102-13.", 4),
    ("Lee A. Participatory budgeting and perceived control over local decisions. Local Gov "
     "Stud 2021;47(1):1-20.", 5),
    ("Mosedale S. Credit unions on estates. J Poverty Soc Justice 2015;23(2):99-112. "
     "doi:10.1332/175982715X14254645", 6),
    ("Hart A, Gagnon E. Uniting resilience research and practice with an inequalities "
     "approach. SAGE Open 2016;6(4):1-13.", None),
    ("Ostrom E. Crossing the great divide: coproduction, synergy, and development. World Dev "
     "1996;24(6):1073-87.", None),
    ("Friedli L. What we have tried has not worked: the politics of assets based public "
     "health. Crit Public Health 2013;23(2):131-45. https://doi.org/10.1080/09581596.2012.748882",
     None),
    ("Kamerade D, Bennett MR. Volunteering and wellbeing among unemployed adults: a cohort "
     "study. BMC Public Health 2013;13:773.", 9),
    ("South J, Stansfield J, Amlot R et al. Sustaining and strengthening community resilience "
     "throughout the COVID-19 pandemic and beyond. Perspect Public Health 2020;140(6):305-8.",
     None),
]
# A second paper citing in author-year style; one work is cited by both papers.
AUTHOR_YEAR = [
    ("Fox, A. (2017) The Asset-Based Area. London: Think Local Act Personal.", None),
    ("Hart, A. and Gagnon, E. (2016) Uniting resilience research and practice with an "
     "inequalities approach. SAGE Open, 6(4), pp. 1-13.", None),
    ("Nel, P., Rowe, M. and Okafor, T. (2017) Asset mapping with residents: lessons from four "
     "neighbourhoods. Community Development Journal, 52(3), pp. 404-420.", 7),
    ("Age UK (2022) Digital inclusion programmes for older people: a systematic review. "
     "London: Age UK.", 8),
]


def _pdf(title: str, references: list[str], *, numbered: bool) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("DejaVu", fname=FONT)
    pdf.add_page()
    pdf.set_font("DejaVu", size=14)
    pdf.multi_cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=10)
    pdf.multi_cell(0, 5, "Background. Places differ in how they cope with shocks. " * 30,
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=12)
    pdf.cell(0, 8, "References", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)
    for n, text in enumerate(references, 1):
        pdf.multi_cell(0, 4.5, (f"{n}. " if numbered else "") + text, new_x="LMARGIN",
                       new_y="NEXT")
        pdf.ln(1)
    return bytes(pdf.output())


@pytest.fixture
def chased(store):
    review = store.create_review("Chasing")
    records = [Record(title=t, year=y, doi=d, authors=["Author, A."]) for t, y, d in IN_REVIEW]
    records += [Record(title=CITING[0], year=CITING[1]),
                Record(title="Neighbourhood assets and health: a second review", year=2023)]
    store.add_import(review.id, records, filename="search.ris", format="ris", sha256="c" * 64,
                     size_bytes=1)
    ids = store.kept_record_ids(review.id)
    for record_id, refs, numbered in ((ids[-2], NUMBERED, True), (ids[-1], AUTHOR_YEAR, False)):
        data = _pdf("A paper", [text for text, _ in refs], numbered=numbered)
        store.add_fulltext(record_id, filename=f"{record_id}.pdf",
                           sha256=hashlib.sha256(data).hexdigest(), content=data, text="x")
    return review, ids


def test_matching_precision_and_recall_on_a_known_reference_list(store, chased):
    review, ids = chased
    result = chase_review(store, review)
    assert result.full_texts == 2 and result.references == len(NUMBERED) + len(AUTHOR_YEAR)
    truth = {}
    for cited_by, refs in ((ids[-2], NUMBERED), (ids[-1], AUTHOR_YEAR)):
        for text, index in refs:
            truth[(cited_by, text[:25])] = None if index is None else ids[index]
    got = {(m.cited_by, m.work.text[:25]): m.record_id for m in result.matches}
    assert set(got) == set(truth)  # every entry read, none split or merged
    found = [k for k, v in got.items() if v is not None]
    right = [k for k in found if got[k] == truth[k]]
    relevant = [k for k, v in truth.items() if v is not None]
    precision, recall = len(right) / len(found), len(right) / len(relevant)
    print(f"citation matching on the example: precision {precision:.2f}, recall {recall:.2f} "
          f"({len(right)} right of {len(found)} matched, {len(relevant)} in the review)")
    assert precision == 1.0 and recall >= 0.9
    how = {m.work.text[:25]: m.how for m in result.matches}
    assert how["White J, Woodall J. Champ"] == "doi"  # title reworded, DOI with a prefix
    assert how["Moore T, Kesten J. GREEN "] == "title"
    # the unmatched become candidates; a work both papers cite is offered once, with both
    assert len(result.candidates) == 5
    hart = next(c for c in result.candidates if "Uniting resilience" in c.work.title)
    assert sorted(hart.cited_by) == sorted(ids[-2:])
    ostrom = next(c for c in result.candidates if c.work.title.startswith("Crossing"))
    assert (ostrom.work.year, ostrom.work.authors, ostrom.work.journal) == (1996, ["Ostrom E"],
                                                                           "World Dev")
    friedli = next(c for c in result.candidates if "Friedli" in c.work.text)
    assert friedli.work.doi == "10.1080/09581596.2012.748882"
    fox = next(c for c in result.candidates if "Asset-Based Area" in c.work.text)
    assert (fox.work.title, fox.work.year, fox.work.authors) == ("The Asset-Based Area", 2017,
                                                                 ["Fox, A"])


def test_confirmed_candidates_become_a_citation_searching_import(store, chased):
    review, ids = chased
    result = chase_review(store, review)
    chosen = [c for c in result.candidates if "Uniting resilience" in c.work.title
              or c.work.title.startswith("Crossing")]
    batch = add_candidates(store, review, chosen, actor="ana", searched="2026-12-06")
    assert batch.record_count == 2 and batch.database_name == "Citation searching"
    record = next(s.record for s in store.list_records(review.id) if s.batch_id == batch.id
                  and "Uniting" in s.record.title)
    assert sorted(record.extra["cited_by"]) == sorted(str(i) for i in ids[-2:])
    assert "Found by backward citation searching" in record.notes
    searched = next(s for s in search_records(store, review.id) if s.import_id == batch.id)
    assert searched.method == "citation searching"
    assert "reference lists of 2 full texts" in searched.notes
    # chasing again offers the rest only: the added works are now the review's records
    again = chase_review(store, review)
    assert len(again.candidates) == len(result.candidates) - 2
    # PRISMA counts them as identified by other methods, apart from the database search
    from reviewkit.prisma import prisma_counts

    counts = prisma_counts(store, review)
    assert sum(n for _, n in counts.identified_other) == 2
    assert sum(n for _, n in counts.identified_by_source) == len(IN_REVIEW) + 2


def test_cli_lists_and_adds_candidates(store, chased, database_url, tmp_path, capsys):
    out = tmp_path / "candidates.csv"
    assert main(["--database", database_url, "chase-citations", "--review", "Chasing",
                 "--output", str(out)]) == 0
    said = capsys.readouterr().out
    assert "16 references read from 2 full texts" in said and "5 cited works" in said
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("candidate,title,authors,year,doi")
    assert len(lines) == 6
    assert main(["--database", database_url, "chase-citations", "--review", "Chasing",
                 "--add", "2,9"]) == 1
    assert "--add takes candidate numbers from 1 to 5 (or 'all'); got '2,9'" in \
        capsys.readouterr().err
    assert len(store.list_batches(store.get_review("Chasing").id)) == 1  # nothing was added
    assert main(["--database", database_url, "chase-citations", "--review", "Chasing",
                 "--add", "1,3"]) == 0
    assert "2 cited works added" in capsys.readouterr().out


def test_reference_lists_of_the_seed_papers_split_into_their_entries():
    """The real reference lists of the two source documents, printed into PDFs."""
    if not SEEDS.exists():
        pytest.skip(f"{SEEDS} is absent: the source documents live in ../shared/seeds/")
    from reviewkit.formats.pdf import read_pdf_lines

    for name, numbered in (("000_8666ea977b08a9a8.txt", True), ("004_4eed072952ff7483.txt",
                                                                False)):
        text = (SEEDS / name).read_text(encoding="utf-8")
        entries = []
        for line in text[text.index("\nReferences\n"):].split("\n")[2:]:
            line = line.strip().replace("*", "")
            if line.startswith("- "):
                entries.append(line[2:])
            elif line and entries:
                entries[-1] += " " + line
        got = read_references(read_pdf_lines(_pdf("Paper", entries, numbered=numbered)))
        share = len(got) / len(entries)
        print(f"{name}: {len(entries)} printed, {len(got)} read")
        assert 0.9 <= share <= 1.05


def test_a_text_without_line_breaks_still_splits_when_numbered():
    text = " ".join(f"{n}. Author {n} A. A title number {n} about things. J Test 2001;1:1-2."
                    for n in range(1, 8))
    assert len(split_references(text)) == 7
    assert json.dumps([w.title for w in read_references("References\n" + text)][:2]) == \
        '["A title number 1 about things", "A title number 2 about things"]'
