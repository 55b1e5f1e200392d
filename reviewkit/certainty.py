"""How sure we are of what the studies say, per approach × outcome, in GRADE's or CERQual's terms.

GRADE rates a body of evidence on an effect (risk of bias, inconsistency, indirectness,
imprecision, publication bias); GRADE-CERQual rates a finding of qualitative studies
(methodological limitations, coherence, adequacy of data, relevance).  Both end in one of four
levels.  One person rates, with a reason for every concern; a second person verifies.

:func:`outcome_verdicts` is the one place that puts a cell's direction of effect and its
certainty together: the evidence map, the brief, the Evidence by approach page and the public
site all call it, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from reviewkit.errors import ReviewkitError
from reviewkit.store import Review, Store
from reviewkit.store import synthesis as rows
from reviewkit.synthesis import DirectionCount, SynthesisCell, synthesis_cells

LEVELS = ("high", "moderate", "low", "very_low")
LEVEL_NAMES = {"high": "high", "moderate": "moderate", "low": "low", "very_low": "very low"}
# The plain words every output uses for a level (the brief, the pages, the site, the map).
LEVEL_WORDS = {
    "high": "We are confident (high certainty)",
    "moderate": "We are fairly sure (moderate certainty)",
    "low": "We are not very sure (low certainty)",
    "very_low": "We are not sure (very low certainty)",
}
NOT_RATED = "Certainty not yet rated"
# Map colours by level, dark to light, and grey for a cell not yet rated.
LEVEL_COLOURS = {"high": "#084594", "moderate": "#4292c6", "low": "#9ecae1",
                 "very_low": "#deebf7", None: "#bdbdbd"}


@dataclass(frozen=True)
class Framework:
    name: str
    rates: str
    domains: dict[str, str]  # code -> plain name
    concerns: tuple[str, ...]  # from none to the most serious
    # how many levels each concern takes off (GRADE: serious 1, very serious 2)
    steps: dict[str, int]


FRAMEWORKS = {
    "grade": Framework(
        "GRADE", "an effect",
        {"risk_of_bias": "Risk of bias", "inconsistency": "Inconsistency",
         "indirectness": "Indirectness", "imprecision": "Imprecision",
         "publication_bias": "Publication bias"},
        ("none", "serious", "very_serious"), {"none": 0, "serious": 1, "very_serious": 2}),
    "cerqual": Framework(
        "CERQual", "a qualitative finding",
        {"methodological_limitations": "Methodological limitations", "coherence": "Coherence",
         "adequacy": "Adequacy of data", "relevance": "Relevance"},
        ("none", "minor", "moderate", "serious"),
        {"none": 0, "minor": 0, "moderate": 1, "serious": 1}),
}
CONCERN_NAMES = {"none": "no concerns", "minor": "minor concerns", "moderate": "moderate concerns",
                 "serious": "serious concerns", "very_serious": "very serious concerns"}


@dataclass(frozen=True)
class Concern:
    level: str
    reason: str = ""


@dataclass(frozen=True)
class CertaintyRating:
    id: int
    approach: str
    outcome: str
    framework: str
    level: str
    finding: str
    concerns: dict[str, Concern]
    rated_by: str
    rated_at: datetime
    verified_by: str | None = None
    verified_at: datetime | None = None

    @property
    def verified(self) -> bool:
        return self.verified_by is not None

    def reasons(self) -> list[str]:
        """Each domain with a concern, and why, in a line."""
        names = FRAMEWORKS[self.framework].domains
        return [f"{names.get(d, d)}: {CONCERN_NAMES.get(c.level, c.level)} — {c.reason}"
                for d, c in self.concerns.items() if c.level != "none"]


def certainty_words(level: str | None) -> str:
    """The plain words for a level: 'We are fairly sure (moderate certainty)'.

    >>> certainty_words("very_low")
    'We are not sure (very low certainty)'
    >>> certainty_words(None)
    'Certainty not yet rated'
    """
    if level is None:
        return NOT_RATED
    if level not in LEVEL_WORDS:
        raise ReviewkitError(f"Unknown certainty level '{level}': use one of "
                             f"{', '.join(LEVELS)}.")
    return LEVEL_WORDS[level]


def suggested_level(framework: str, concerns: dict, *, start: str = "high") -> str:
    """The level a rating reaches from ``start`` after its concerns (a suggestion only).

    >>> suggested_level("grade", {"risk_of_bias": "serious", "imprecision": "serious"}, start="high")
    'low'
    """
    steps = _framework(framework).steps
    down = sum(steps.get(_concern_level(c), 0) for c in concerns.values())
    return LEVELS[min(LEVELS.index(start) + down, len(LEVELS) - 1)]


def _concern_level(value) -> str:
    if isinstance(value, Concern):
        return value.level
    if isinstance(value, dict):
        return str(value.get("concern") or value.get("level") or "none")
    if isinstance(value, (tuple, list)):
        return str(value[0])
    return str(value)


def _concern_reason(value) -> str:
    if isinstance(value, Concern):
        return value.reason
    if isinstance(value, dict):
        return str(value.get("reason") or "")
    if isinstance(value, (tuple, list)) and len(value) > 1:
        return str(value[1])
    return ""


def _framework(name: str) -> Framework:
    if name not in FRAMEWORKS:
        raise ReviewkitError(f"Unknown certainty framework '{name}': use grade (effects) or "
                             "cerqual (qualitative findings).")
    return FRAMEWORKS[name]


def check_concerns(framework: str, concerns: dict) -> dict[str, dict]:
    """Return the concerns as stored ({domain: {concern, reason}}) or say what is wrong."""
    spec = _framework(framework)
    unknown = sorted(set(concerns) - set(spec.domains))
    if unknown:
        raise ReviewkitError(f"{spec.name} has no domain {', '.join(unknown)} (it has "
                             f"{', '.join(spec.domains)}).")
    out = {}
    for domain in spec.domains:
        value = concerns.get(domain, "none")
        level, reason = _concern_level(value), " ".join(_concern_reason(value).split())
        if level not in spec.concerns:
            raise ReviewkitError(f"{spec.domains[domain]}: '{level}' is not a {spec.name} "
                                 f"concern (use {', '.join(spec.concerns)}).")
        if level != "none" and not reason:
            raise ReviewkitError(f"{spec.domains[domain]}: say why there are "
                                 f"{CONCERN_NAMES[level]} (the reason is empty).")
        out[domain] = {"concern": level, "reason": reason}
    return out


def _rating(row: rows.RatingRow) -> CertaintyRating:
    concerns = {d: Concern(str(v.get("concern", "none")), str(v.get("reason", "")))
                for d, v in row.concerns.items()}
    return CertaintyRating(row.id, row.approach, row.outcome, row.framework, row.level,
                           row.finding, concerns, row.rated_by, row.rated_at, row.verified_by,
                           row.verified_at)


def certainty_ratings(store: Store, review_id: int, *, approach: str | None = None
                      ) -> dict[tuple[str, str], CertaintyRating]:
    """The standing rating of each rated approach × outcome cell."""
    with store.read() as conn:
        return {(r.approach, r.outcome): _rating(r)
                for r in rows.current_ratings(conn, review_id, approach=approach)}


def rate_certainty(store: Store, review: Review, approach: str, outcome: str, *,
                   framework: str, level: str, concerns: dict, finding: str = "",
                   actor: str) -> int:
    """Rate a cell (replacing its standing rating, which must then be verified afresh)."""
    from reviewkit.accounts import require
    from reviewkit.codebook import review_codebook

    if level not in LEVELS:
        raise ReviewkitError(f"Unknown certainty level '{level}': use one of {', '.join(LEVELS)}.")
    stored = check_concerns(framework, concerns)
    codebook = review_codebook(store, review.id)
    codebook.code("approach", approach)
    codebook.code("outcome", outcome)
    require(store, actor, "code", review_id=review.id)
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:
        return rows.save_rating(conn, review.id, approach, outcome, framework=framework,
                                level=level, finding=" ".join(str(finding or "").split()),
                                concerns=stored, actor_id=actor_id, now=datetime.now(UTC))


def verify_rating(store: Store, review: Review, rating_id: int, *, actor: str) -> None:
    """A second person confirms a rating; the person who rated it cannot."""
    from reviewkit.accounts import require

    require(store, actor, "code", review_id=review.id)
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:
        row = rows.rating_row(conn, int(rating_id))
        if row is None or row.review_id != review.id:
            raise ReviewkitError(f"No certainty rating {rating_id} in the review '{review.name}'.")
        if row.superseded_at is not None:
            raise ReviewkitError("This rating has been replaced by a newer one; verify that "
                                 "one instead.")
        if row.rated_by == actor_id:
            raise ReviewkitError(f"{actor} made this rating, so someone else must verify it.")
        if row.verified_by is not None:
            raise ReviewkitError("This rating is verified already.")
        rows.mark_verified(conn, review.id, row.id, actor_id=actor_id, now=datetime.now(UTC))


# -- direction and certainty together: the one function every output calls ---------------------


@dataclass(frozen=True)
class OutcomeVerdict:
    """Direction of effect and certainty for one approach × outcome cell."""

    approach: str
    outcome: str
    count: DirectionCount
    n_reviews: int
    rating: CertaintyRating | None
    appraised: int  # studies in the cell with a quality appraisal
    n_studies: int
    record_ids: list[int] = field(default_factory=list)

    @property
    def level(self) -> str | None:
        return self.rating.level if self.rating else None

    @property
    def certainty(self) -> str:
        """'We are fairly sure (moderate certainty)', or 'Certainty not yet rated'."""
        return certainty_words(self.level)

    @property
    def direction(self) -> str:
        return self.count.in_words()

    @property
    def quality(self) -> str:
        if not self.appraised:
            return "quality not appraised"
        return f"quality appraised for {self.appraised} of {self.n_studies} studies"

    def statement(self) -> str:
        """One sentence: what the studies found, then how sure we are, in plain words."""
        if self.rating is None:
            sure = f"{NOT_RATED}."
        else:
            check = "" if self.rating.verified else " — not yet checked by a second person"
            sure = (f"{self.certainty} of this ({FRAMEWORKS[self.rating.framework].name}"
                    f"{check}).")
        return f"{self.direction}. {sure}"


def verdict_from_cell(cell: SynthesisCell, rating: CertaintyRating | None) -> OutcomeVerdict:
    """Put a synthesis cell and its rating together."""
    return OutcomeVerdict(cell.approach, cell.outcome, cell.count,
                          sum(1 for s in cell.studies if s.review), rating,
                          sum(1 for s in cell.studies if s.quality.shade is not None),
                          len(cell.studies), [s.record_id for s in cell.studies])


def outcome_verdicts(store: Store, review: Review, *, approach: str | None = None
                     ) -> dict[tuple[str, str], OutcomeVerdict]:
    """Direction and certainty for every cell with studies or a rating (one approach's, or all)."""
    cells = synthesis_cells(store, review, approach=approach)
    ratings = certainty_ratings(store, review.id, approach=approach)
    out = {}
    for key in sorted(set(cells) | set(ratings)):
        cell = cells.get(key) or SynthesisCell(key[0], key[1], [])
        out[key] = verdict_from_cell(cell, ratings.get(key))
    return out
