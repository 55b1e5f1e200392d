"""Briefs: every number equals the database's count, and team-only stories stay out of public briefs."""

from __future__ import annotations

import io
import re
from collections import Counter

import pytest

from reviewkit.briefs import approach_evidence, build_brief, find_approach, render_brief
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
    assert rows["Included studies on social prescribing and community navigation"] == len(studies)
    # the text says the same numbers
    assert f"found {p.identified} records" in brief.methods
    assert f"removing {p.duplicates_removed} duplicates" in brief.methods
    assert f"{p.included} studies were included" in brief.methods
    assert brief.key_messages[0].startswith(f"{len(studies)} included stud")
    per_outcome = Counter(o for s in studies for o in s.outcomes)
    codebook = load_codebook()
    assert {b.outcome: len(b.studies) + b.more for b in brief.findings} == \
        {codebook.label("outcome", o): n for o, n in per_outcome.items()}
    assert len(brief.gaps) == len(codebook.scheme("outcome").codes) - len(per_outcome)
    assert len(brief.references) == len(studies)
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


def test_dashboard_counts(store, demo):
    progress = review_progress(store, demo)
    ta, ft = progress.stages
    p = prisma_counts(store, demo)
    assert ta.decided == p.screened and ft.decided == p.assessed + p.not_retrieved
    assert progress.included == p.included
    assert set(ta.by_reviewer) == {"demo-reviewer-1", "demo-reviewer-2"}
    assert ta.conflicts == 2  # the two disagreements the demo leaves open
    assert progress.to_code == []  # the demo team coded every included study
