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
    readable_source,
    short_citation,
)
from reviewkit.briefs.render import to_docx, to_markdown, to_pdf
from reviewkit.briefs.strength import COMPARATIVE, REVIEW_DESIGNS, Strength, evidence_strength
from reviewkit.certainty import NOT_RATED
from reviewkit.codebook import Codebook, find_code_words, resolve, review_codebook
from reviewkit.document_formats import BRIEF_FORMATS
from reviewkit.errors import ReviewkitError
from reviewkit.evidence_map import CodedStudy, coded_studies_for_review
from reviewkit.prisma import PrismaCounts, prisma_counts
from reviewkit.rounds import changes_since_last_round
from reviewkit.screening.status import reviewers_required
from reviewkit.search_appendix import search_methods_text
from reviewkit.store import Review, Store

__all__ = ["ApproachEvidence", "Brief", "Strength", "approach_evidence", "build_brief",
           "build_gaps", "certainty_lines", "evidence_strength", "expected_outcomes", "find_approach", "render_brief", "review_state", "to_docx",
           "to_markdown", "to_pdf", "verdict_line"]

FORMATS = {"md": to_markdown, "docx": to_docx, "pdf": to_pdf}
assert list(FORMATS) == list(BRIEF_FORMATS)  # one list of names (document_formats)
# A brief stays 2–4 pages: per outcome, the studies with a written finding come first and at
# most this many are listed; the rest are counted.
STUDIES_PER_OUTCOME = 3
# ...and the studies themselves are listed under the first few outcomes (strongest evidence
# first); the others keep their one-line verdict.
OUTCOMES_WITH_STUDIES = 5
# ...and the closest local case studies and stories are listed; all that match are counted.
LOCAL_SHOWN = 5


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
    local: list = field(default_factory=list)  # (LibraryEntry, why): every match, closest first


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
        from reviewkit.synthesis import with_recorded_directions

        codebook.code("approach", approach)  # raises for an unknown code
        studies = with_recorded_directions(
            store, review, approach, [s for s in studies if approach in s.approaches])
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
                              entries=library_entries(store), top=None, codebook=codebook)
    return ApproachEvidence(
        approach=approach, approach_label=codebook.label("approach", approach) if approach else "All approaches",
        studies=studies, by_outcome=by_outcome, gaps=gaps,
        designs=Counter(s.design for s in studies if s.design), sources=sources,
        prisma=prisma_counts(store, review), local=local)


def _methods(review: Review, p: PrismaCounts, topic: str | None, strength: Strength) -> str:
    sources = p.identified_by_source + p.identified_other
    names = ", ".join(name for name, _ in sources)
    who = " by two reviewers each" if reviewers_required(review) >= 2 else ""
    scope = ""
    if topic:
        scope = (f" Of these, {_count(strength.n_primary, 'primary study', 'primary studies')} "
                 f"and {_count(strength.reviews, 'review', 'reviews')} are about this approach.")
    waiting = f" {p.awaiting_screening} records are still waiting to be screened." if p.awaiting_screening else ""
    return (f"The review searched {len(sources)} sources ({names}) and found "
            f"{p.identified} records. After removing {p.duplicates_removed} duplicates, "
            f"{p.screened} titles and abstracts were screened{who}. Then {p.assessed} full "
            f"texts were assessed, and {p.not_retrieved} could not be obtained. In the end "
            f"{p.included} studies were included.{waiting}{scope}")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def review_state(store: Store, review: Review) -> str:
    """'Interim: …' while records wait to be screened or conflicts are open, else ''."""
    from reviewkit.progress import review_progress

    stages = review_progress(store, review).stages
    waiting = sum(s.waiting for s in stages)
    conflicts = sum(s.conflicts for s in stages)
    maybes = sum(s.maybes for s in stages)
    if not waiting and not conflicts and not maybes:
        return ""
    parts = []
    if waiting:
        parts.append(f"{_count(waiting, 'record is', 'records are')} still to be screened")
    if conflicts:
        parts.append(f"{_count(conflicts, 'disagreement', 'disagreements')} between reviewers "
                     f"{'is' if conflicts == 1 else 'are'} still open")
    if maybes:
        parts.append(f"{_count(maybes, 'record', 'records')} marked maybe "
                     f"{'is' if maybes == 1 else 'are'} still to be decided")
    return ("Interim: " + ". ".join(parts) + ". What follows may change when screening is "
            "done.")


def verdict_line(strength: Strength, codebook: Codebook, *,
                 quality: str = "quality not appraised") -> str:
    """One line: what the primary studies found, and how strong the evidence is."""
    effect = strength.effect()
    return (f"{effect[0].upper()}{effect[1:]}. Strength of evidence: {strength.word} "
            f"{strength.dots()}. It rests on "
            f"{strength.rests_on(lambda c: codebook.label('design', c), quality)}.")


def certainty_lines(store: Store, review: Review, approach: str | None
                    ) -> dict[str, tuple[str, str]]:
    """Per outcome of an approach: (the verdict's quality words, the plain-words statement of
    direction and certainty), both from reviewkit.certainty.outcome_verdicts.  For the whole
    review (no approach) certainty is rated per approach, so nothing is stated here."""
    from reviewkit.certainty import outcome_verdicts

    if approach is None:
        return {}
    return {outcome: (verdict.quality, verdict.statement()) for (_, outcome), verdict
            in outcome_verdicts(store, review, approach=approach).items()}


def expected_outcomes(codebook: Codebook, approach: str, studies: list[CodedStudy]) -> list[str]:
    """Outcomes an approach is expected to act on: its studies report them, or the codebook's
    own words for the approach name them."""
    code = codebook.code("approach", approach)
    named = find_code_words(codebook, "outcome", " . ".join([code.description, *code.words()]))
    found = [o for s in studies for o in s.outcomes]
    return list(dict.fromkeys([*found, *named]))


def build_gaps(codebook: Codebook, evidence: ApproachEvidence) -> list[str]:
    """Gaps worded as gaps: only where the approach is expected to act."""
    label = lambda o: codebook.label("outcome", o)  # noqa: E731
    if evidence.approach is None:
        return [f"{label(o)}: no included study measured it." for o in evidence.gaps]
    gaps, uncompared = [], []
    for outcome in expected_outcomes(codebook, evidence.approach, evidence.studies):
        found = evidence.by_outcome.get(outcome, [])
        strength = evidence_strength(found, outcome)
        if not found:
            gaps.append(f"{label(outcome)}: the codebook says this approach should help here. "
                        "But no included study measured it.")
        elif not strength.n_primary:
            gaps.append(f"{label(outcome)}: only reviews talk about it. No primary study "
                        "measured it.")
        elif not sum(strength.primary[d] for d in COMPARATIVE):
            uncompared.append(label(outcome).lower())
    if uncompared:
        gaps.append("No study compared people or places with and without this approach. So we "
                    f"cannot yet say it caused what changed in {_listing(uncompared)}.")
    return gaps


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def build_brief(store: Store, review: Review, *, approach: str | None = None, viewer=None) -> Brief:
    """Build the brief for one approach, or for the whole review when ``approach`` is None."""
    evidence = approach_evidence(store, review, approach, viewer=viewer)
    codebook = review_codebook(store, review.id)
    design = lambda code: codebook.label("design", code) if code else "design not coded"  # noqa: E731
    listed = {outcome: sorted(found, key=lambda s: (s.design in REVIEW_DESIGNS, not s.finding,
                                                     -(s.year or 0)))[:STUDIES_PER_OUTCOME]
              for outcome, found in evidence.by_outcome.items()}
    strengths = {o: evidence_strength(found, o) for o, found in evidence.by_outcome.items()}
    order = sorted(listed, key=lambda o: (-strengths[o].level, -strengths[o].n_primary,
                                          -len(evidence.by_outcome[o])))
    # the whole review spans many approaches: fewer outcomes keep their study lists
    for outcome in order[OUTCOMES_WITH_STUDIES if approach else OUTCOMES_WITH_STUDIES - 2:]:
        listed[outcome] = []  # the verdict line only: the studies are in the app and above
    sure = certainty_lines(store, review, approach)
    unrated = ("quality not appraised", f"{NOT_RATED}." if approach else "")
    cited = {int(s.record_id) for found in listed.values() for s in found}
    records = {rid: store.get_record(rid).record for rid in sorted(cited)}
    findings = [OutcomeBlock(codebook.label("outcome", outcome), [
        StudyFinding(int(s.record_id), short_citation(records[int(s.record_id)]), design(s.design),
                     s.direction_for(outcome), s.finding, review=s.design in REVIEW_DESIGNS)
        for s in listed[outcome]],
        more=len(evidence.by_outcome[outcome]) - len(listed[outcome]),
        verdict=verdict_line(strengths[outcome], codebook, quality=sure.get(outcome, unrated)[0]),
        certainty=sure.get(outcome, unrated)[1])
        for outcome in order]
    overall = evidence_strength(evidence.studies)
    topic = evidence.approach_label
    status = review_state(store, review)
    gaps = build_gaps(codebook, evidence)
    messages = []
    if approach:
        messages.append(f"Strength of the evidence: {overall.word} {overall.dots()}. It rests on "
                        f"{overall.rests_on(lambda c: codebook.label('design', c))}.")
        if overall.n_primary:
            messages.append(f"What the primary studies found: {overall.effect()}.")
        if overall.reviews:
            one = overall.reviews == 1
            messages.append(f"{_count(overall.reviews, 'review sums', 'reviews sum')} up other "
                            f"studies. {'It does' if one else 'They do'} not test the approach "
                            f"{'itself' if one else 'themselves'}, so we count "
                            f"{'it' if one else 'them'} apart.")
    else:
        messages.append(f"{_count(overall.n_primary, 'primary study', 'primary studies')} and "
                        f"{_count(overall.reviews, 'review', 'reviews')} were coded by approach "
                        "and outcome.")
    if gaps:
        where = "on what this approach should change" if approach else "among the outcomes in the codebook"
        messages.append(f"{_count(len(gaps), 'gap', 'gaps')} in the evidence {where}. "
                        "See the list below.")
    changes = changes_since_last_round(store, review, evidence.studies)
    if changes is not None:
        messages.append(changes.plain_words())
    if evidence.local:
        messages.append(f"{_count(len(evidence.local), 'local case study or resident story matches', 'local case studies or residents’ stories match')}.")
        if len(evidence.local) > LOCAL_SHOWN:
            messages.append(f"This brief lists the {LOCAL_SHOWN} closest.")
    examples = [LocalExample(e.id, e.title, e.type, e.place, readable_source(e.summary, 260),
                             readable_source(e.source, 120))
                for e, _ in evidence.local[:LOCAL_SHOWN]]
    title = f"Evidence brief: {topic}" if approach else f"Evidence brief: {review.name}"
    p = evidence.prisma
    rows = [("Records identified", p.identified),
            ("Duplicates removed", p.duplicates_removed),
            ("Titles and abstracts screened", p.screened),
            ("Records still to screen", p.awaiting_screening),
            ("Excluded at title and abstract", p.excluded_screening),
            ("Full texts assessed", p.assessed),
            ("Full texts not retrieved", p.not_retrieved),
            ("Studies included in the review", p.included)]
    if approach:
        rows += [(f"Primary studies on {topic.lower()}", overall.n_primary),
                 (f"Reviews on {topic.lower()}", overall.reviews)]
    return Brief(
        title=title,
        subtitle=f"From the review '{review.name}' · reviewkit · {date.today():%d %B %Y}",
        question=review.question or "No review question was written.",
        key_messages=messages,
        methods=(_methods(review, p, topic if approach else None, overall) + " "
                 + search_methods_text(store, review, short=True)),
        prisma_rows=rows,
        findings=findings,
        gaps=gaps,
        local_examples=examples,
        references=sorted(harvard_reference(r) for r in records.values()),  # the studies cited above
        status=status,
    )


def render_brief(brief: Brief, format: str) -> bytes:
    """Lay the brief out as 'md', 'docx' or 'pdf'."""
    if format not in FORMATS:
        raise ReviewkitError(f"A brief can be written as {', '.join(FORMATS)}, not '{format}'.")
    out = FORMATS[format](brief)
    return out.encode("utf-8") if isinstance(out, str) else out
