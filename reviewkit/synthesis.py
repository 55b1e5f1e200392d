"""Synthesis without meta-analysis (SWiM): direction of effect per study, approach and outcome.

For every approach × outcome cell the team records each included study's direction of effect
(with its sample size and design), how the studies were grouped and why, and a narrative
summary naming the studies it rests on.  Vote counting on direction (the sign test) is the
SWiM guideline's fallback when effect sizes cannot be combined; it is reported in plain words,
"4 of 5 studies found improvement", beside the two-sided sign-test p value.

Charts follow the effect-direction plot of Thomson & Thomson (2013) and Boon & Thomson (2021):
an upward arrow for improvement, a downward arrow for worsening, a sideways double arrow for no
clear effect or mixed findings; the arrow's size gives the sample size and its shading the
study's appraised quality.  The harvest plot (Ogilvie et al. 2008) stands each study as a bar in
the column of its direction: tall bars are studies that compared people or places with and
without the approach, and the shading is again quality.  Every chart has a table beside it.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from reviewkit.errors import ReviewkitError
from reviewkit.store import Review, Store
from reviewkit.store import synthesis as rows
from reviewkit.store.rows import now as _now

DIRECTIONS = ("positive", "negative", "no_clear", "mixed")
DIRECTION_NAMES = {"positive": "Improvement", "negative": "Worsening",
                   "no_clear": "No clear effect", "mixed": "Mixed or conflicting"}
_FOUND = {"positive": "improvement", "negative": "worsening", "no_clear": "no clear effect",
          "mixed": "mixed results"}
# Effect-direction plot symbols (text alternative and table): ▲ better, ▼ worse, ◄► neither.
DIRECTION_SYMBOLS = {"positive": "▲", "negative": "▼", "no_clear": "◄►", "mixed": "◄►"}
# The Code studies page records a direction per outcome in its own words; read them here.
FROM_CODING = {"positive": "positive", "negative": "negative", "none": "no_clear",
               "mixed": "mixed"}
TO_CODING = {v: k for k, v in FROM_CODING.items()}
# Sample size bands of the effect-direction plot (final sample size).
SIZE_BANDS = ((300, "large", "300 or more"), (50, "medium", "50 to 299"),
              (0, "small", "under 50"))
REVIEW_DESIGNS = frozenset({"review"})
COMPARATIVE = frozenset({"rct", "quasi_experimental", "cohort"})
QUALITY_NOT_APPRAISED = "quality not appraised"


@dataclass(frozen=True)
class StudyQualityLabel:
    """What the charts need of a study's appraisal: a plain label and a shade (0 best, 2 worst)."""

    label: str
    shade: int | None  # None: not appraised
    verified: bool = False


@dataclass(frozen=True)
class StudyDirection:
    """One study's direction of effect in one approach × outcome cell."""

    record_id: int
    title: str
    year: int | None
    design: str
    direction: str  # one of DIRECTIONS
    sample_size: int | None
    note: str
    source: str  # 'synthesis' (recorded here) or 'coding' (from the Code studies page)
    quality: StudyQualityLabel = StudyQualityLabel(QUALITY_NOT_APPRAISED, None)
    recorded_by: str = ""

    @property
    def review(self) -> bool:
        return self.design in REVIEW_DESIGNS

    @property
    def size_band(self) -> str:
        if self.sample_size is None:
            return "not reported"
        return next(name for floor, name, _ in SIZE_BANDS if self.sample_size >= floor)


@dataclass(frozen=True)
class DirectionCount:
    """Vote count on direction for the primary studies of a cell (reviews are left out)."""

    positive: int
    negative: int
    no_clear: int
    mixed: int

    @property
    def total(self) -> int:
        return self.positive + self.negative + self.no_clear + self.mixed

    @property
    def sign_test_p(self) -> float | None:
        """Two-sided sign test of improvement against worsening (None with no such study)."""
        n = self.positive + self.negative
        if n == 0:
            return None
        from scipy.stats import binomtest

        return float(binomtest(self.positive, n, 0.5, alternative="two-sided").pvalue)

    def in_words(self) -> str:
        """'4 of 5 studies found improvement', and what the others found."""
        if self.total == 0:
            return "No primary study recorded a direction of effect"
        found = {"positive": self.positive, "negative": self.negative,
                 "no_clear": self.no_clear, "mixed": self.mixed}
        lead = max(DIRECTIONS, key=lambda d: found[d])  # ties: the order of DIRECTIONS
        if found[lead] == self.total:
            return (f"The one study found {_FOUND[lead]}" if self.total == 1
                    else f"All {self.total} studies found {_FOUND[lead]}")
        said = (f"{found[lead]} of {self.total} studies found {_FOUND[lead]}")
        rest = [f"{found[d]} {_FOUND[d]}" for d in DIRECTIONS if d != lead and found[d]]
        return f"{said} ({', '.join(rest)})"

    def sign_test_words(self) -> str:
        """The sign test in a sentence for a reader."""
        p = self.sign_test_p
        if p is None:
            return "No study found a clear improvement or worsening, so there is no sign test."
        n = self.positive + self.negative
        verdict = ("unlikely to be chance alone" if p < 0.05
                   else "could be chance with so few studies")
        return (f"Sign test: {self.positive} of {n} studies with a clear direction found "
                f"improvement (p = {p:.2f}, two-sided): {verdict}.")


@dataclass(frozen=True)
class SynthesisCell:
    """Everything the synthesis holds on one approach × outcome cell."""

    approach: str
    outcome: str
    studies: list[StudyDirection]
    grouping: str = ""
    grouping_reason: str = ""
    summary: str = ""
    summary_record_ids: list[int] = field(default_factory=list)
    written_by: str = ""

    @property
    def primary(self) -> list[StudyDirection]:
        return [s for s in self.studies if not s.review]

    @property
    def count(self) -> DirectionCount:
        said = Counter(s.direction for s in self.primary)
        return DirectionCount(said["positive"], said["negative"], said["no_clear"],
                              said["mixed"])


# -- reading ----------------------------------------------------------------------------------


def study_quality_labels(store: Store, review_id: int) -> dict[int, StudyQualityLabel]:
    """Each appraised study's quality label (empty while no appraisal tool is available)."""
    try:
        from reviewkit.appraisal import study_quality
    except ImportError:
        return {}
    out = {}
    for record_id, quality in study_quality(store, review_id).items():
        label = str(getattr(quality, "label", "") or QUALITY_NOT_APPRAISED)
        out[int(record_id)] = StudyQualityLabel(label, _shade(quality),
                                                bool(getattr(quality, "verified", False)))
    return out


def _shade(quality) -> int | None:
    """0 for the best appraisals, 1 middling, 2 weakest, from the share of criteria met
    (reviewkit.appraisal.StudyQuality: ``met`` of ``total``; failing the screening is 2)."""
    if getattr(quality, "screening_passed", None) is False:
        return 2
    met, total = getattr(quality, "met", None), getattr(quality, "total", None)
    if not isinstance(met, int) or not isinstance(total, int) or total <= 0:
        return None
    share = met / total
    return 0 if share >= 0.8 else 1 if share >= 0.4 else 2


def synthesis_cells(store: Store, review: Review, *, approach: str | None = None,
                    outcome: str | None = None) -> dict[tuple[str, str], SynthesisCell]:
    """Every approach × outcome cell with studies, or one approach's (or one cell's).

    A cell holds the included studies coded with both codes and any study given a direction
    for it here.  A study's direction is the one recorded on the Synthesis page, else the one
    the Code studies page holds for that outcome (marked ``source='coding'``).
    """
    from reviewkit.evidence_map import coded_studies_for_review

    coded = coded_studies_for_review(store, review.id)
    quality = study_quality_labels(store, review.id)
    with store.read() as conn:
        recorded = rows.current_directions(conn, review.id, approach=approach, outcome=outcome)
        written = {(c.approach, c.outcome): c for c in
                   rows.current_cells(conn, review.id, approach=approach, outcome=outcome)}
    by_id = {int(s.record_id): s for s in coded}
    members: dict[tuple[str, str], dict[int, StudyDirection]] = {}
    for study in coded:
        for a in study.approaches:
            if approach is not None and a != approach:
                continue
            for o in study.outcomes:
                if outcome is not None and o != outcome:
                    continue
                said = FROM_CODING.get(study.direction_for(o))
                if said:
                    members.setdefault((a, o), {})[int(study.record_id)] = StudyDirection(
                        int(study.record_id), study.title, study.year, study.design, said,
                        None, study.finding, "coding",
                        quality.get(int(study.record_id), StudyQualityLabel(
                            QUALITY_NOT_APPRAISED, None)))
                else:
                    members.setdefault((a, o), {})
    missing = sorted({d.record_id for d in recorded} - set(by_id))
    titles = {rid: (row.title or "", row.year)
              for rid, row in store.record_summaries(missing).items()} if missing else {}
    for d in recorded:
        study = by_id.get(d.record_id)
        title, year = (study.title, study.year) if study else titles.get(d.record_id, ("", None))
        members.setdefault((d.approach, d.outcome), {})[d.record_id] = StudyDirection(
            d.record_id, title, year, d.design or (study.design if study else ""), d.direction,
            d.sample_size, d.note, "synthesis",
            quality.get(d.record_id, StudyQualityLabel(QUALITY_NOT_APPRAISED, None)),
            d.recorded_by)
    cells = {}
    for key in sorted(set(members) | set(written)):
        text = written.get(key)
        studies = sorted(members.get(key, {}).values(),
                         key=lambda s: (s.review, DIRECTIONS.index(s.direction), -(s.year or 0)))
        cells[key] = SynthesisCell(key[0], key[1], studies,
                                   text.grouping if text else "",
                                   text.grouping_reason if text else "",
                                   text.summary if text else "",
                                   list(text.record_ids) if text else [],
                                   text.written_by if text else "")
    return cells


def with_recorded_directions(store: Store, review: Review, approach: str, studies: list) -> list:
    """The approach's coded studies with each direction recorded on the Synthesis page put in
    place of the coded one, so that the brief's verdicts count what the synthesis counts."""
    from dataclasses import replace

    with store.read() as conn:
        recorded = rows.current_directions(conn, review.id, approach=approach)
    said: dict[int, dict[str, str]] = {}
    for d in recorded:
        said.setdefault(d.record_id, {})[d.outcome] = TO_CODING[d.direction]
    return [replace(s, directions={**s.directions, **said[int(s.record_id)]})
            if int(s.record_id) in said else s for s in studies]


def synthesis_cell(store: Store, review: Review, approach: str, outcome: str) -> SynthesisCell:
    """One cell (empty when nothing is coded or recorded for it)."""
    found = synthesis_cells(store, review, approach=approach, outcome=outcome)
    return found.get((approach, outcome), SynthesisCell(approach, outcome, []))


# -- writing ----------------------------------------------------------------------------------


def _check_cell(store: Store, review: Review, approach: str, outcome: str) -> None:
    from reviewkit.codebook import review_codebook

    codebook = review_codebook(store, review.id)
    codebook.code("approach", approach)
    codebook.code("outcome", outcome)


def _check_actor(store: Store, review: Review, actor: str) -> int:
    from reviewkit.accounts import require

    require(store, actor, "code", review_id=review.id)
    return store.ensure_user(actor).id


def _clean(text: str | None) -> str:
    return " ".join(str(text or "").split())


def record_direction(store: Store, review: Review, record_id: int, approach: str, outcome: str,
                     *, direction: str, sample_size: int | str | None = None, design: str = "",
                     note: str = "", actor: str) -> int:
    """Record (or change) an included study's direction of effect for one cell."""
    if direction not in DIRECTIONS:
        raise ReviewkitError(f"Unknown direction of effect '{direction}': use one of "
                             f"{', '.join(DIRECTIONS)}.")
    size = _sample_size(sample_size)
    _check_cell(store, review, approach, outcome)
    actor_id = _check_actor(store, review, actor)
    from reviewkit.coding import included_record_ids

    if int(record_id) not in set(included_record_ids(store, review)):
        raise ReviewkitError(f"Record {record_id} is not an included study of the review "
                             f"'{review.name}': only included studies are synthesised.")
    with store.write() as conn:
        return rows.save_direction(conn, review.id, int(record_id), approach, outcome,
                                   direction=direction, sample_size=size,
                                   design=_clean(design), note=_clean(note),
                                   actor_id=actor_id, now=_now())


def _sample_size(value) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        size = int(str(value).strip().replace(",", ""))
    except ValueError:
        raise ReviewkitError(f"Sample size '{value}' is not a whole number.") from None
    if size < 0:
        raise ReviewkitError(f"Sample size {size} cannot be negative.")
    return size


def clear_direction(store: Store, review: Review, record_id: int, approach: str, outcome: str,
                    *, actor: str) -> bool:
    """Withdraw a study's recorded direction for a cell (it stays in the history)."""
    actor_id = _check_actor(store, review, actor)
    with store.write() as conn:
        return rows.clear_direction(conn, review.id, int(record_id), approach, outcome,
                                    actor_id=actor_id, now=_now())


def write_cell(store: Store, review: Review, approach: str, outcome: str, *, grouping: str,
               grouping_reason: str, summary: str, record_ids: Iterable[int], actor: str) -> int:
    """Save a cell's grouping and the reason for it, and the team's narrative summary with the
    studies it rests on."""
    _check_cell(store, review, approach, outcome)
    actor_id = _check_actor(store, review, actor)
    ids = list(dict.fromkeys(int(r) for r in record_ids))
    grouping, reason, summary = _clean(grouping), _clean(grouping_reason), str(summary or "").strip()
    if grouping and not reason:
        raise ReviewkitError("Say why the studies were grouped this way (the grouping reason "
                             "is empty).")
    if summary and not ids:
        raise ReviewkitError("Name the studies the narrative summary rests on.")
    with store.write() as conn:
        unknown = sorted(set(ids) - rows.live_record_ids(conn, review.id, ids))
        if unknown:
            raise ReviewkitError(f"Records {', '.join(map(str, unknown))} are not live records "
                                 f"of the review '{review.name}'.")
        return rows.save_cell(conn, review.id, approach, outcome, grouping=grouping,
                              grouping_reason=reason, summary=summary, record_ids=ids,
                              actor_id=actor_id, now=_now())


# -- tables and text alternatives ---------------------------------------------------------------


TABLE_COLUMNS = ("record_id", "study", "year", "design", "sample_size", "size_band", "quality",
                 "direction", "symbol", "source", "note")


def direction_table(cell: SynthesisCell, design_label=lambda code: code) -> list[dict]:
    """The effect-direction table of a cell: one row per study (reviews last)."""
    return [{"record_id": s.record_id, "study": s.title, "year": s.year,
             "design": design_label(s.design) if s.design else "not coded",
             "sample_size": s.sample_size, "size_band": s.size_band, "quality": s.quality.label,
             "direction": DIRECTION_NAMES[s.direction], "symbol": DIRECTION_SYMBOLS[s.direction],
             "source": "recorded in the synthesis" if s.source == "synthesis"
             else "from coding", "note": s.note}
            for s in cell.studies]


def direction_table_csv(cells: Iterable[SynthesisCell], *, approach_label=lambda c: c,
                        outcome_label=lambda c: c, design_label=lambda c: c) -> bytes:
    """All the cells' effect-direction tables in one CSV (UTF-8)."""
    from reviewkit.export_cells import cell_writer

    buffer = io.StringIO()
    writer = cell_writer(buffer, lineterminator="\n")
    writer.writerow(("approach", "outcome", *TABLE_COLUMNS))
    for cell in cells:
        for row in direction_table(cell, design_label):
            writer.writerow((approach_label(cell.approach), outcome_label(cell.outcome),
                             *[row[c] if row[c] is not None else "" for c in TABLE_COLUMNS]))
    return buffer.getvalue().encode("utf-8")


def read_direction_csv(data: bytes) -> list[dict]:
    """Read back :func:`direction_table_csv` (for checks and round trips)."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def cell_text(cell: SynthesisCell, *, approach_label: str, outcome_label: str) -> str:
    """The plain-text alternative to a cell's charts: the count, the sign test, each study."""
    lines = [f"{approach_label} → {outcome_label}: {cell.count.in_words()}.",
             cell.count.sign_test_words()]
    for s in cell.studies:
        size = f"n = {s.sample_size}" if s.sample_size is not None else "sample size not reported"
        kind = "review" if s.review else "primary study"
        lines.append(f"{DIRECTION_SYMBOLS[s.direction]} {s.title} ({s.year or 'n.d.'}; {kind}; "
                     f"{size}; {s.quality.label}): {DIRECTION_NAMES[s.direction].lower()}.")
    return "\n".join(lines)


# -- charts -------------------------------------------------------------------------------------

_QUALITY_FILL = {0: "#1a1a1a", 1: "#8c8c8c", 2: "#ffffff", None: "#ffffff"}
_QUALITY_HATCH = {None: "///"}
_SIZE_POINTS = {"large": 18, "medium": 13, "small": 9, "not reported": 9}


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def _save(fig, format: str) -> bytes:
    if format not in ("png", "svg"):
        raise ReviewkitError(f"Save the chart as png or svg, not '{format}'.")
    out = io.BytesIO()
    fig.savefig(out, format=format, bbox_inches="tight",
                metadata={"Date": None} if format == "svg" else None)
    return out.getvalue()


def _short(text: str, size: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= size else text[:size - 1].rstrip() + "…"


def _draw_arrow(ax, x: float, y: float, study: StudyDirection) -> None:
    marker = {"positive": "^", "negative": "v", "no_clear": "D", "mixed": "D"}[study.direction]
    if study.direction in ("no_clear", "mixed"):
        # ◄► : two small triangles side by side
        size = _SIZE_POINTS[study.size_band] * 0.75
        for dx, m in ((-0.12, "<"), (0.12, ">")):
            ax.plot(x + dx, y, marker=m, markersize=size, markerfacecolor=_QUALITY_FILL[
                study.quality.shade], markeredgecolor="black", linestyle="none")
        return
    ax.plot(x, y, marker=marker, markersize=_SIZE_POINTS[study.size_band],
            markerfacecolor=_QUALITY_FILL[study.quality.shade], markeredgecolor="black",
            linestyle="none")


def effect_direction_plot(cells: list[SynthesisCell], format: str = "png", *,
                          approach_label=lambda c: c, outcome_label=lambda c: c,
                          title: str = "Effect direction plot") -> bytes:
    """Draw the effect-direction plot of one or more cells: studies down, outcomes across.

    ▲ improvement, ▼ worsening, ◄► no clear effect or mixed; arrow size = sample size band;
    fill = appraised quality (black high, grey moderate, white low or not appraised).  The
    last row gives each column's vote count in words.
    """
    cells = [c for c in cells if c.studies]
    studies: dict[int, StudyDirection] = {}
    for cell in cells:
        for s in cell.studies:
            studies.setdefault(s.record_id, s)
    order = sorted(studies.values(), key=lambda s: (s.review, -(s.year or 0), s.title))
    row = {s.record_id: i for i, s in enumerate(order)}
    fig = _figure(max(6.0, 2.6 + 1.9 * len(cells)), max(2.4, 1.3 + 0.42 * (len(order) + 1)))
    ax = fig.add_subplot()
    for j, cell in enumerate(cells):
        for s in cell.studies:
            _draw_arrow(ax, j, row[s.record_id], s)
        count = cell.count
        ax.text(j, len(order), f"{count.positive} of {count.total} improved\n"
                f"{count.positive}▲ {count.negative}▼ {count.no_clear + count.mixed}◄►",
                ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(cells)))
    ax.set_xticklabels([_short(f"{approach_label(c.approach)} → {outcome_label(c.outcome)}"
                               if len({x.approach for x in cells}) > 1
                               else outcome_label(c.outcome), 34) for c in cells],
                       rotation=20 if len(cells) > 2 else 0, ha="right" if len(cells) > 2
                       else "center", fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(order) + 1))
    ax.set_yticklabels([_short(f"{s.title} ({s.year or 'n.d.'})", 48) +
                        (" [review]" if s.review else "") for s in order] +
                       ["Vote count (primary studies)"], fontsize=8)
    ax.set_xlim(-0.6, max(len(cells), 1) - 0.4)
    ax.set_ylim(len(order) + 0.6, -0.6)
    ax.grid(True, color="#eeeeee")
    ax.set_title(title, fontsize=10, loc="left", pad=28)
    fig.text(0.01, -0.02, "▲ improvement   ▼ worsening   ◄► no clear effect or mixed · "
             "size: sample 300+ / 50–299 / under 50 or not reported · fill: quality high "
             "(black), moderate (grey), low or not appraised (white)", fontsize=7, ha="left")
    return _save(fig, format)


HARVEST_COLUMNS = ("negative", "no_clear", "mixed", "positive")


def harvest_plot(cells: list[SynthesisCell], format: str = "png", *,
                 outcome_label=lambda c: c, title: str = "Harvest plot") -> bytes:
    """Draw a harvest plot: one row per outcome, a column per direction, a bar per study.

    Tall bars: studies that compared people or places with and without the approach; middle:
    other primary studies; short: reviews.  Fill = appraised quality as in the effect-direction
    plot; each bar carries the study's record id.
    """
    cells = [c for c in cells if c.studies]
    fig = _figure(8.0, max(2.2, 0.8 + 1.0 * len(cells)))
    ax = fig.add_subplot()
    # one axes: a block of columns per direction, a band of 4 units per outcome (top down)
    width = max([sum(1 for s in c.studies if s.direction == d) for c in cells
                 for d in HARVEST_COLUMNS] + [3]) + 1
    for i, cell in enumerate(cells):
        base = (len(cells) - 1 - i) * 4.0
        for j, direction in enumerate(HARVEST_COLUMNS):
            found = [s for s in cell.studies if s.direction == direction]
            for k, s in enumerate(found):
                height = 1.0 if s.review else 3.0 if s.design in COMPARATIVE else 2.0
                x = j * width + k
                ax.bar(x, height, bottom=base, width=0.7, color=_QUALITY_FILL[s.quality.shade],
                       edgecolor="black", hatch=_QUALITY_HATCH.get(s.quality.shade))
                ax.text(x, base + height + 0.1, str(s.record_id), ha="center", va="bottom",
                        fontsize=6)
        ax.axhline(base - 0.2, color="#cccccc", linewidth=0.6)
    for j in range(1, len(HARVEST_COLUMNS)):
        ax.axvline(j * width - 0.8, color="#999999", linewidth=0.8)
    ax.set_xticks([j * width + (width - 2) / 2 for j in range(len(HARVEST_COLUMNS))])
    ax.set_xticklabels([DIRECTION_NAMES[d] for d in HARVEST_COLUMNS], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks([(len(cells) - 1 - i) * 4.0 + 1.5 for i in range(len(cells))])
    ax.set_yticklabels([_short(outcome_label(c.outcome), 30) for c in cells], fontsize=8)
    ax.set_xlim(-0.8, len(HARVEST_COLUMNS) * width - 0.8)
    ax.set_ylim(-0.4, max(len(cells), 1) * 4.0)
    ax.tick_params(length=0)
    for side in ("right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(title, fontsize=10, loc="left", pad=20)
    fig.text(0.01, -0.02, "Bar height: tall = compared with and without the approach, middle = "
             "other primary study, short = review · fill: quality high (black), moderate "
             "(grey), low (white), not appraised (hatched) · number: record id", fontsize=7,
             ha="left")
    return _save(fig, format)


def harvest_text(cells: list[SynthesisCell], *, outcome_label=lambda c: c) -> str:
    """The harvest plot as text: per outcome, the record ids in each direction column."""
    lines = []
    for cell in cells:
        parts = []
        for direction in HARVEST_COLUMNS:
            ids = [str(s.record_id) for s in cell.studies if s.direction == direction]
            parts.append(f"{DIRECTION_NAMES[direction].lower()}: {', '.join(ids) or 'none'}")
        lines.append(f"{outcome_label(cell.outcome)} — " + "; ".join(parts))
    return "\n".join(lines)


def sign_test_p(positive: int, negative: int) -> float | None:
    """Two-sided sign-test p value by hand (checks scipy's in the tests)."""
    n = positive + negative
    if n == 0:
        return None
    k = min(positive, negative)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)
