"""Evidence by approach, and briefs a commissioner can take away (Markdown, Word, PDF).

``approach_evidence`` gathers everything the Evidence by approach page shows; ``build_brief``
turns it into a Brief; ``render`` lays a Brief out in each format.  Every number comes from
the database at the moment the brief is built.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from reviewkit.briefs.content import (
    Brief,
    LocalExample,
    OutcomeBlock,
    StudyFinding,
    harvard_reference,
    short_citation,
)
from reviewkit.briefs.render import DIRECTION_WORDS, to_docx, to_markdown, to_pdf
from reviewkit.codebook import Codebook, resolve, review_codebook
from reviewkit.errors import ReviewkitError
from reviewkit.evidence_map import CodedStudy, coded_studies_for_review
from reviewkit.prisma import PrismaCounts, prisma_counts
from reviewkit.store import Review, Store

__all__ = ["ApproachEvidence", "Brief", "approach_evidence", "build_brief", "find_approach",
           "render_brief", "to_docx", "to_markdown", "to_pdf"]

FORMATS = {"md": to_markdown, "docx": to_docx, "pdf": to_pdf}
# A brief stays 2–4 pages: per outcome, the studies with a written finding come first and at
# most this many are listed; the rest are counted.
STUDIES_PER_OUTCOME = 6


@dataclass
class ApproachEvidence:
    """What the review holds on one approach (or on every approach when ``approach`` is None)."""

    approach: str | None
    approach_label: str
    studies: list[CodedStudy]
    by_outcome: dict[str, list[CodedStudy]]
    gaps: list[str]  # outcome codes no included study measured
    designs: Counter
    sources: Counter  # database name -> included studies found there
    prisma: PrismaCounts
    local: list = field(default_factory=list)  # (LibraryEntry, why)


def find_approach(codebook: Codebook, phrase: str) -> str | None:
    """Turn everyday words ("community connectors", "debt advice") into an approach code."""
    found = resolve(codebook, phrase, "approach", limit=1)
    return found[0][0].code if found else None


def approach_evidence(store: Store, review: Review, approach: str | None, *, viewer=None
                      ) -> ApproachEvidence:
    """Gather the included studies, outcomes, gaps, sources and local entries for an approach."""
    from reviewkit.library import Viewer, entries_for_codes, library_entries

    codebook = review_codebook(store, review.id)
    studies = coded_studies_for_review(store, review.id)
    if approach:
        codebook.code("approach", approach)  # raises for an unknown code
        studies = [s for s in studies if approach in s.approaches]
    by_outcome: dict[str, list[CodedStudy]] = {}
    for outcome in codebook.scheme("outcome").codes:
        found = [s for s in studies if outcome.code in s.outcomes]
        if found:
            by_outcome[outcome.code] = found
    gaps = [c.code for c in codebook.scheme("outcome").codes if c.code not in by_outcome]
    batch_source = {b.id: b.database_name for b in store.list_batches(review.id)}
    groups = store.duplicate_groups(review.id)
    sources: Counter = Counter()
    batch_of = {s.id: s.batch_id for s in store.list_records(review.id)}
    for study in studies:
        ids = [int(study.record_id), *groups.get(int(study.record_id), [])]
        for name in {batch_source[batch_of[i]] for i in ids}:
            sources[name] += 1
    outcomes = sorted({o for s in studies for o in s.outcomes})
    local = entries_for_codes([approach] if approach else sorted({a for s in studies for a in s.approaches}),
                              outcomes, viewer=viewer or Viewer.public(),
                              entries=library_entries(store), top=5, codebook=codebook)
    return ApproachEvidence(
        approach=approach, approach_label=codebook.label("approach", approach) if approach else "All approaches",
        studies=studies, by_outcome=by_outcome, gaps=gaps,
        designs=Counter(s.design for s in studies if s.design), sources=sources,
        prisma=prisma_counts(store, review), local=local)


def _methods(review: Review, p: PrismaCounts, n_studies: int, approach_label: str) -> str:
    names = ", ".join(name for name, _ in p.identified_by_source)
    who = " by two reviewers each" if int(review.settings.get("reviewers_required", 1)) >= 2 else ""
    scope = f" Of these, {n_studies} tested {approach_label.lower()}." if approach_label != "All approaches" else ""
    return (f"The review searched {len(p.identified_by_source)} sources ({names}) and found "
            f"{p.identified} records. After removing {p.duplicates_removed} duplicates, "
            f"{p.screened} titles and abstracts were screened{who}, {p.assessed} full "
            f"texts were assessed ({p.not_retrieved} could not be obtained) and {p.included} "
            f"studies were included.{scope}")


def build_brief(store: Store, review: Review, *, approach: str | None = None, viewer=None) -> Brief:
    """Build the brief for one approach, or for the whole review when ``approach`` is None."""
    evidence = approach_evidence(store, review, approach, viewer=viewer)
    codebook = review_codebook(store, review.id)
    design = lambda code: codebook.label("design", code) if code else "design not coded"  # noqa: E731
    listed = {outcome: sorted(found, key=lambda s: (not s.finding, -(s.year or 0)))[:STUDIES_PER_OUTCOME]
              for outcome, found in evidence.by_outcome.items()}
    cited = {int(s.record_id) for found in listed.values() for s in found}
    records = {rid: store.get_record(rid).record for rid in sorted(cited)}
    findings = [OutcomeBlock(codebook.label("outcome", outcome), [
        StudyFinding(int(s.record_id), short_citation(records[int(s.record_id)]), design(s.design),
                     s.direction_for(outcome), s.finding) for s in found],
        more=len(evidence.by_outcome[outcome]) - len(found))
        for outcome, found in listed.items()]
    n = len(evidence.studies)
    topic = evidence.approach_label
    messages = [f"{n} included stud{'y' if n == 1 else 'ies'} "
                f"{'tested ' + topic.lower() if approach else 'were coded by approach and outcome'}."]
    directions = Counter(s.direction for s in evidence.studies if s.direction)
    if directions:
        messages.append("Reported effects: " + ", ".join(
            f"{count} {DIRECTION_WORDS.get(d, d)}" for d, count in directions.most_common()) + ".")
    if evidence.by_outcome:
        best = max(evidence.by_outcome, key=lambda o: len(evidence.by_outcome[o]))
        messages.append(f"The outcome studied most often was {codebook.label('outcome', best).lower()} "
                        f"({len(evidence.by_outcome[best])} studies).")
    messages.append(f"{len(evidence.gaps)} outcomes in the codebook have no study: these are gaps.")
    if evidence.local:
        messages.append(f"{len(evidence.local)} local case studies or residents' stories match.")
    examples = [LocalExample(e.id, e.title, e.type, e.place, e.summary, e.source)
                for e, _ in evidence.local]
    title = f"Evidence brief: {topic}" if approach else f"Evidence brief: {review.name}"
    return Brief(
        title=title,
        subtitle=f"From the review '{review.name}' · reviewkit · {date.today():%d %B %Y}",
        question=review.question or "No review question was written.",
        key_messages=messages,
        methods=_methods(review, evidence.prisma, n, topic),
        prisma_rows=[("Records identified", evidence.prisma.identified),
                     ("Duplicates removed", evidence.prisma.duplicates_removed),
                     ("Titles and abstracts screened", evidence.prisma.screened),
                     ("Excluded at title and abstract", evidence.prisma.excluded_screening),
                     ("Full texts assessed", evidence.prisma.assessed),
                     ("Full texts not retrieved", evidence.prisma.not_retrieved),
                     ("Studies included in the review", evidence.prisma.included)]
        + ([(f"Included studies on {topic.lower()}", n)] if approach else []),
        findings=findings,
        gaps=[codebook.label("outcome", g) for g in evidence.gaps],
        local_examples=examples,
        references=sorted(harvard_reference(r) for r in records.values()),  # the studies cited above
    )


def render_brief(brief: Brief, format: str) -> bytes:
    """Lay the brief out as 'md', 'docx' or 'pdf'."""
    if format not in FORMATS:
        raise ReviewkitError(f"A brief can be written as {', '.join(FORMATS)}, not '{format}'.")
    out = FORMATS[format](brief)
    return out.encode("utf-8") if isinstance(out, str) else out
