"""Briefs: every number equals the database's count, and team-only stories stay out of public briefs."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest

from reviewkit.briefs import (
    LOCAL_SHOWN,
    approach_evidence,
    build_brief,
    find_approach,
    render_brief,
)
from reviewkit.codebook import load_codebook
from reviewkit.evidence_map import coded_studies_for_review
from reviewkit.library import Viewer, add_contribution, moderate
from reviewkit.prisma import prisma_counts
from reviewkit.progress import review_progress
from tests.test_library_contributions import BODY, CONSENT, FORM


@pytest.mark.parametrize("phrase", ["social prescribing", "community connectors", "debt advice",
                                    "participatory budgeting", "green space"])
def test_everyday_words_find_an_approach(phrase):
    assert find_approach(load_codebook(), phrase) is not None


def test_every_number_in_the_brief_is_the_database_count(store, demo):
    brief = build_brief(store, demo, approach="social_prescribing")
    p = prisma_counts(store, demo)
    studies = [s for s in coded_studies_for_review(store, demo.id) if "social_prescribing" in s.approaches]
    rows = dict(brief.prisma_rows)
    assert rows["Records identified"] == p.identified == sum(b.record_count for b in store.list_batches(demo.id))
    assert rows["Duplicates removed"] == p.duplicates_removed == store.count_duplicates(demo.id)
    assert rows["Titles and abstracts screened"] == p.screened
    assert rows["Full texts assessed"] == p.assessed
    assert rows["Full texts not retrieved"] == p.not_retrieved
    assert rows["Studies included in the review"] == p.included
    primary = [s for s in studies if s.design != "review"]
    assert rows["Primary studies on social prescribing and community navigation"] == len(primary)
    assert rows["Reviews on social prescribing and community navigation"] == len(studies) - len(primary)
    assert rows["Records still to screen"] == p.awaiting_screening
    # the text says the same numbers
    assert f"found {p.identified} records" in brief.methods
    assert f"removing {p.duplicates_removed} duplicates" in brief.methods
    assert f"{p.included} studies were included" in brief.methods
    assert brief.key_messages[0].startswith("Strength of the evidence: ")
    assert brief.title == "Evidence brief: Social prescribing and community navigation"
    per_outcome = Counter(o for s in studies for o in s.outcomes)
    codebook = load_codebook()
    assert {b.outcome: len(b.studies) + b.more for b in brief.findings} == \
        {codebook.label("outcome", o): n for o, n in per_outcome.items()}
    listed = {s.record_id for b in brief.findings for s in b.studies}
    assert len(brief.references) == len(listed) <= len(studies)
    # and the rendered files carry them
    markdown = render_brief(brief, "md").decode()
    assert f"found {p.identified} records" in markdown
    from pypdf import PdfReader

    pdf_text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(render_brief(brief, "pdf"))).pages)
    assert re.search(rf"Records identified\s+{p.identified}\b", pdf_text)
    assert 2 <= len(PdfReader(io.BytesIO(render_brief(brief, "pdf"))).pages) <= 4
    from docx import Document

    doc = Document(io.BytesIO(render_brief(brief, "docx")))
    cells = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert cells["Studies included in the review"] == str(p.included)


def test_team_only_stories_never_reach_a_public_brief(store, demo):
    team_story = dict(FORM, title="Social prescribing pilot in our team area", visibility="team",
                      approaches=["social_prescribing"], outcomes=["health_wellbeing"])
    public_story = dict(team_story, title="Social prescribing cafe open to all", visibility="public")
    team_id = add_contribution(store, front_matter=team_story, body=BODY, consent=CONSENT,
                               actor="peer", review_id=demo.id)
    public_id = add_contribution(store, front_matter=public_story, body=BODY, consent=CONSENT,
                                 actor="peer", review_id=demo.id)
    for entry_id in (team_id, public_id):
        moderate(store, entry_id, "publish", actor="admin")
    public = build_brief(store, demo, approach="social_prescribing", viewer=Viewer.public())
    titles = [e.title for e in public.local_examples]
    assert "Social prescribing pilot in our team area" not in titles
    assert "Social prescribing pilot in our team area" not in render_brief(public, "md").decode()
    team = approach_evidence(store, demo, "social_prescribing",
                             viewer=Viewer(team_review_ids={demo.id}))
    assert "Social prescribing pilot in our team area" in [e.title for e, _ in team.local]


def test_the_brief_counts_every_matching_local_entry_and_lists_the_closest(store, demo):
    matching = approach_evidence(store, demo, "volunteering_peer_support").local
    assert len(matching) > LOCAL_SHOWN  # the demo library has more than a brief lists
    brief = build_brief(store, demo, approach="volunteering_peer_support")
    assert (f"{len(matching)} local case studies or residents’ stories match."
            in brief.key_messages)
    assert f"This brief lists the {LOCAL_SHOWN} closest." in brief.key_messages
    assert [e.title for e in brief.local_examples] == [e.title for e, _ in matching][:LOCAL_SHOWN]


def test_dashboard_counts(store, demo):
    progress = review_progress(store, demo)
    ta, ft = progress.stages
    p = prisma_counts(store, demo)
    assert ta.decided == p.screened and ft.decided == p.assessed + p.not_retrieved
    assert progress.included == p.included
    assert set(ta.by_reviewer) == {"demo-reviewer-1", "demo-reviewer-2"}
    assert ta.conflicts == 2  # the two disagreements the demo leaves open
    assert progress.to_code == []  # the demo team coded every included study


# -- an honest brief: every claim checked against the data -----------------------------------


@pytest.fixture(scope="module")
def demo_briefs(tmp_path_factory):
    """The demo review and a brief for every approach in it (built once)."""
    from reviewkit.demo import ensure_demo_review
    from reviewkit.store import Store
    from tests.templates import copy_demo_database

    store = Store(copy_demo_database(tmp_path_factory.mktemp("briefs") / "demo.sqlite"))
    review = ensure_demo_review(store)  # finds the copied demo review
    codes = [c.code for c in load_codebook().scheme("approach").codes]
    return store, review, {code: build_brief(store, review, approach=code) for code in codes}


def test_reviews_and_primary_studies_are_counted_apart(demo_briefs):
    store, review, briefs = demo_briefs
    studies = coded_studies_for_review(store, review.id)
    for code, brief in briefs.items():
        mine = [s for s in studies if code in s.approaches]
        n_reviews = sum(s.design == "review" for s in mine)
        n_primary = len(mine) - n_reviews
        label = load_codebook().label("approach", code).lower()
        rows = dict(brief.prisma_rows)
        assert (rows[f"Primary studies on {label}"], rows[f"Reviews on {label}"]) == (n_primary, n_reviews)
        said = brief.key_messages[0]
        assert ("no primary study" in said) == (n_primary == 0)
        if n_primary:
            assert f" {n_primary} primary stud" in said
        assert (f"{n_reviews} review" in said) if n_reviews else ("no review" in said)
        # a review is never presented as a test of the approach
        design = {int(s.record_id): s.design for s in mine}
        for block in brief.findings:
            for finding in block.studies:
                assert finding.review == (design[finding.record_id] == "review")
        assert "tested" not in " ".join(brief.key_messages) or n_primary
    # social prescribing rests on reviews only: the brief says so and rates it very weak
    sp = briefs["social_prescribing"]
    assert "very weak" in sp.key_messages[0]
    assert "summarises other studies" in render_brief(sp, "md").decode()


def test_each_outcome_has_a_one_line_verdict_that_matches_its_studies(demo_briefs):
    from reviewkit.briefs import evidence_strength

    store, review, briefs = demo_briefs
    studies = coded_studies_for_review(store, review.id)
    codebook = load_codebook()
    for code, brief in briefs.items():
        for block in brief.findings:
            outcome = next(c.code for c in codebook.scheme("outcome").codes if c.label == block.outcome)
            found = [s for s in studies if code in s.approaches and outcome in s.outcomes]
            strength = evidence_strength(found, outcome)
            assert f"Strength of evidence: {strength.word} " in block.verdict
            assert "\n" not in block.verdict
            assert len(block.studies) + block.more == len(found)


@pytest.mark.parametrize(("designs", "directions", "word"), [
    ([], [], "no evidence"),
    (["review", "review"], [], "very weak"),
    (["case_study"], ["positive"], "very weak"),
    (["case_study", "qualitative", "other"], ["positive", "positive", ""], "weak"),
    (["cohort"], ["positive"], "weak"),
    (["cohort", "quasi_experimental"], ["positive", "positive"], "moderate"),
    (["rct", "cohort", "case_study"], ["positive", "positive", "positive"], "strong"),
    (["rct", "cohort", "case_study"], ["positive", "negative", "none"], "moderate"),
])
def test_strength_scale(designs, directions, word):
    from reviewkit.briefs import evidence_strength
    from reviewkit.evidence_map import CodedStudy

    studies = [CodedStudy(i, "t", design=d, direction=(directions[i] if i < len(directions) else ""))
               for i, d in enumerate(designs)]
    strength = evidence_strength(studies)
    assert strength.word == word
    assert strength.reviews == designs.count("review")
    assert strength.n_primary == len(designs) - designs.count("review")


def test_an_unfinished_review_says_interim_on_every_page(demo_briefs):
    from docx import Document
    from pypdf import PdfReader

    store, review, briefs = demo_briefs
    stages = review_progress(store, review).stages
    waiting, conflicts = sum(s.waiting for s in stages), sum(s.conflicts for s in stages)
    assert waiting and conflicts  # the demo leaves records to screen and two disagreements
    brief = briefs["community_governance"]
    assert brief.status.startswith("Interim:")
    assert f"{waiting} records are still to be screened" in brief.status
    assert f"{conflicts} disagreements between reviewers are still open" in brief.status
    pages = PdfReader(io.BytesIO(render_brief(brief, "pdf"))).pages
    assert len(pages) >= 2 and all("INTERIM" in page.extract_text() for page in pages)
    doc = Document(io.BytesIO(render_brief(brief, "docx")))
    assert brief.status in doc.sections[0].header.paragraphs[0].text
    assert brief.status in render_brief(brief, "md").decode().replace("\\", "")


def test_a_finished_review_is_not_called_interim(store):
    from pypdf import PdfReader

    from reviewkit.records import Record

    review = store.create_review("Finished", question="Does it work?")
    store.add_import(review.id, [Record(title="Parks and wellbeing", year=2020),
                                 Record(title="Green space and mood", year=2021)],
                     filename="s.ris", format="ris", sha256="f" * 64, size_bytes=1,
                     database_name="Scopus")
    for stored in store.list_records(review.id):
        for stage in ("title_abstract", "full_text"):
            store.add_decision(stored.id, stage=stage, decision="include", reviewer="r")
    brief = build_brief(store, review)
    assert brief.status == ""
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(render_brief(brief, "pdf"))).pages)
    assert "INTERIM" not in text and "Interim" not in text


def test_gaps_are_only_where_the_approach_is_expected_to_act(demo_briefs):
    from reviewkit.briefs import expected_outcomes

    store, review, briefs = demo_briefs
    studies = coded_studies_for_review(store, review.id)
    codebook = load_codebook()
    all_outcomes = {c.label for c in codebook.scheme("outcome").codes}
    for code, brief in briefs.items():
        mine = [s for s in studies if code in s.approaches]
        expected = {codebook.label("outcome", o) for o in expected_outcomes(codebook, code, mine)}
        for gap in brief.gaps:
            named = {o for o in all_outcomes if o in gap or o.lower() in gap}
            assert named and named <= expected, (code, gap)
            assert " no " in f" {gap.lower()}"  # worded as a gap, not as a finding
        assert len(brief.gaps) <= len(expected)
    # debt advice: its one primary study is of an 'other' design, so nothing was compared
    assert any("financial resilience" in g and "No study compared" in g
               for g in briefs["financial_inclusion"].gaps)


def test_what_a_brief_writes_from_the_data_reads_at_grade_six_or_below(demo_briefs):
    """The sentences reviewkit writes in each approach's brief (status, key messages, how the
    evidence was found, verdicts, how sure we are, gaps, the 'more studies' lines) read at
    Flesch-Kincaid grade 6 or below, each kind and all together. Study titles, findings,
    references, library entries and the search record's own wording are not ours: left out."""
    import textstat

    from reviewkit.briefs.render import more_line
    from reviewkit.search_appendix import search_methods_text

    store, review, briefs = demo_briefs
    searches = " " + search_methods_text(store, review, short=True)
    kinds: dict[str, list[str]] = {"status": [], "key messages": [], "methods": [],
                                   "verdicts": [], "certainty": [], "gaps": [], "more": []}
    for brief in briefs.values():
        kinds["status"] += [brief.status] if brief.status else []
        kinds["key messages"] += brief.key_messages
        assert brief.methods.endswith(searches)
        kinds["methods"].append(brief.methods[: -len(searches)])
        kinds["verdicts"] += [b.verdict for b in brief.findings]
        kinds["certainty"] += [b.certainty for b in brief.findings]
        kinds["more"] += [more_line(b) for b in brief.findings if b.more]
        kinds["gaps"] += brief.gaps
    assert all(kinds.values()), {k: len(v) for k, v in kinds.items()}  # the demo has each kind
    textstat.set_lang("en-GB")  # Pyphen's dictionary; plain "en" downloads one through NLTK
    as_text = lambda lines: " ".join(t if t.rstrip().endswith((".", "?", ":")) else t + "."  # noqa: E731
                                     for t in lines)
    grades = {kind: textstat.flesch_kincaid_grade(as_text(lines)) for kind, lines in kinds.items()}
    everything = as_text(line for lines in kinds.values() for line in lines)
    grades["all"] = textstat.flesch_kincaid_grade(everything)
    print(f"brief wording over {len(briefs)} approach briefs, "
          f"{textstat.sentence_count(everything)} sentences: FK grade {grades}")
    assert all(grade <= 6 for grade in grades.values()), grades


def test_references_and_sources_are_readable(demo_briefs):
    _, _, briefs = demo_briefs
    for brief in briefs.values():
        text = render_brief(brief, "md").decode()
        assert "seed document" not in text and "reviewkit seed" not in text
        assert not re.search(r"\b\d{3}_[0-9a-f]{8,}", text)  # no internal file ids
        assert all(len(ex.source) <= 120 for ex in brief.local_examples)


def test_a_rendered_pdf_page_looks_like_a_brief(demo_briefs, tmp_path):
    """Render page 1 and the last page to images: the title band, the interim warning."""
    import shutil
    import subprocess

    from PIL import Image

    from reviewkit.briefs.render import ACCENT, INTERIM

    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm is not installed (apt-get install poppler-utils)")
    pdf = tmp_path / "brief.pdf"
    pdf.write_bytes(render_brief(demo_briefs[2]["financial_inclusion"], "pdf"))
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert 2 <= len(pages) <= 4

    def near(pixel, colour, slack=40):
        return all(abs(a - b) <= slack for a, b in zip(pixel[:3], colour, strict=True))

    for number, path in enumerate(pages, 1):
        image = Image.open(path).convert("RGB")
        width, height = image.size
        assert 1.35 < height / width < 1.48  # A4 upright
        bottom = [image.getpixel((x, y)) for y in range(int(height * 0.93), height)
                  for x in range(0, width, 2)]
        assert sum(near(p, INTERIM) for p in bottom) > 20, f"page {number} has no interim line"
        if number == 1:
            band = [image.getpixel((x, y)) for y in range(0, int(height * 0.03))
                    for x in range(0, width, 4)]
            assert sum(near(p, ACCENT, 10) for p in band) > 0.9 * len(band)  # the title band
            body = [image.getpixel((x, y)) for y in range(int(height * 0.2), int(height * 0.8))
                    for x in range(0, width, 4)]
            dark = sum(sum(p[:3]) < 300 for p in body)
            assert dark > 0.01 * len(body)  # the page carries text, not a blank render


# -- accessible files ---------------------------------------------------------------------------

def test_the_word_brief_has_real_headings_a_described_chart_and_its_table(demo_briefs):
    import io

    from docx import Document
    from docx.oxml.ns import qn

    from reviewkit.briefs.render import outcome_counts

    brief = demo_briefs[2]["financial_inclusion"]
    assert brief.findings
    doc = Document(io.BytesIO(render_brief(brief, "docx")))
    styles = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert styles[0] == ("Title", brief.title)
    assert ("Heading 1", "What the studies found") in styles
    assert [t for s, t in styles if s == "Heading 2"] == [b.outcome for b in brief.findings]
    assert doc.core_properties.title == brief.title and doc.core_properties.language == "en-GB"
    assert doc.styles["Normal"].element.rPr.find(qn("w:lang")).get(qn("w:val")) == "en-GB"
    [picture] = doc.inline_shapes
    described = picture._inline.docPr.get("descr")
    assert described.startswith("Bar chart") and all(b.outcome in described for b in brief.findings)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    chart_table = next(t for t in tables if t[0] == ["Outcome", "Studies"])
    assert [(o, int(n)) for o, n in chart_table[1:]] == outcome_counts(brief)
    assert [n for _, n in outcome_counts(brief)] == [len(b.studies) + b.more for b in brief.findings]


def test_the_pdf_brief_has_a_title_a_language_bookmarks_and_alt_text(demo_briefs):
    import io

    from pypdf import PdfReader

    brief = demo_briefs[2]["financial_inclusion"]
    reader = PdfReader(io.BytesIO(render_brief(brief, "pdf")))
    root = reader.trailer["/Root"]
    assert reader.metadata.title == brief.title and root["/Lang"] == "en-GB"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]

    def titles(outline):
        for item in outline:
            yield from titles(item) if isinstance(item, list) else [item.title]

    bookmarks = list(titles(reader.outline))
    assert bookmarks[0] == brief.title
    assert {"Key messages", "What the studies found", "References"} <= set(bookmarks)
    assert all(b.outcome in bookmarks for b in brief.findings)

    def alt_texts(node):
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            for child in node:
                yield from alt_texts(child)
        elif hasattr(node, "get"):  # a structure element (not a marked-content number)
            if "/Alt" in node:
                yield str(node["/Alt"])
            yield from alt_texts(node.get("/K", []))

    assert any(alt.startswith("Bar chart") for alt in alt_texts(root["/StructTreeRoot"]))
