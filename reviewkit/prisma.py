"""PRISMA 2020 flow diagram: counts from the review's data, drawn as SVG and PNG."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reviewkit.review_settings import setting_value
from reviewkit.screening.rapid import RapidSummary, rapid_prisma_lines, rapid_summary, votes_needed
from reviewkit.screening.status import FT, TA, statuses_by_stage
from reviewkit.screening.stopping import StoppingAdvice, stopping_advice
from reviewkit.store import Review, Store

# Search methods that PRISMA 2020 reports as "other methods" (the rest are databases and
# registers); the method is each import's search record (reviewkit.search_record).
OTHER_METHODS = ("website", "citation searching", "other")


@dataclass
class PrismaCounts:
    """The numbers in each box of the PRISMA 2020 flow diagram.

    For an updated review (``round_number`` above 0) the flow counts only the records new in
    that round, and ``previous_included`` holds the studies included from earlier rounds.
    """

    identified_by_source: list[tuple[str, int]]
    duplicates_removed: int
    screened: int
    excluded_screening: int
    awaiting_screening: int
    sought: int
    not_retrieved: int
    assessed: int
    excluded_full_text: dict[str, int] = field(default_factory=dict)
    awaiting_full_text: int = 0
    included: int = 0
    stopping: StoppingAdvice | None = None  # the stopping advice on the screening decisions
    rapid: RapidSummary | None = None  # calibration and checks, in rapid-review mode
    # sources found by other methods (citation searching, websites), as (label, records)
    identified_other: list[tuple[str, int]] = field(default_factory=list)
    round_number: int = 0
    previous_included: int | None = None  # studies included in the previous version

    @property
    def identified(self) -> int:
        return sum(n for _, n in self.identified_by_source) + sum(
            n for _, n in self.identified_other)

    @property
    def total_included(self) -> int:
        """Studies included in the review as it now stands (previous version and new)."""
        return self.included + (self.previous_included or 0)


@dataclass
class _Flow:
    screened: int
    excluded_screening: int
    awaiting_screening: int
    sought: int
    not_retrieved: int
    assessed: int
    excluded_full_text: dict[str, int]
    awaiting_full_text: int
    included: int


def _flow(kept: list[int], title_abstract: list, full_text: list, need_title_abstract,
          need_full_text: Callable[[list[int]], object]) -> tuple[_Flow, list[int]]:
    """Follow ``kept`` records through both screening stages by their final decisions.

    ``need_*`` is what ``record_statuses`` takes as ``reviewers_required`` (for full text,
    made from the records that passed); returns the flow and the records that passed.
    """
    status = statuses_by_stage(
        {TA: title_abstract, FT: full_text}, kept,
        reviewers_required=lambda stage, ids, _decisions: (
            need_title_abstract if stage == TA else need_full_text(ids)))
    screened = [s for s in status.stages[TA].values() if s.state == "decided"]
    passed = status.records_at(FT)
    full = [s for s in status.stages[FT].values() if s.state == "decided"]
    reasons = Counter((s.reason or "No reason given") for s in full if s.final == "exclude")
    return _Flow(
        screened=len(screened),
        excluded_screening=sum(s.final == "exclude" for s in screened),
        awaiting_screening=len(kept) - len(screened),
        sought=len(passed),
        not_retrieved=sum(s.final == "not_retrieved" for s in full),
        assessed=sum(s.final in ("include", "exclude") for s in full),
        excluded_full_text=dict(reasons.most_common()),
        awaiting_full_text=len(passed) - len(full),
        included=sum(s.final == "include" for s in full)), passed


# PRISMA 2020 lists records found by other methods by method, not by source.
_METHOD_NAMES = {"website": "Websites", "citation searching": "Citation searching",
                 "other": "Other methods"}


def _by_source(origins: list, *, other: bool) -> list[tuple[str, int]]:
    found: Counter = Counter()
    for o in origins:
        if (o.method in OTHER_METHODS) == other:
            found[_METHOD_NAMES[o.method] if other else o.source] += 1
    return sorted(found.items())


def prisma_counts(store: Store, review: Review, *, round_number: int | None = None
                  ) -> PrismaCounts:
    """Count every PRISMA box from the stored imports, merges and final decisions.

    With ``round_number`` (1 or more), count the flow diagram for an updated review: the
    records imported in that round go through the boxes, and the studies included from the
    earlier rounds (as decided now) are the previous version's.
    """
    from reviewkit.store.rounds import record_origins

    with store.read() as conn:
        origins = record_origins(conn, review.id)
    title_abstract = store.current_decisions(review.id, stage=TA)
    full_text = store.current_decisions(review.id, stage=FT)
    kept = [o.id for o in origins if o.duplicate_of is None]
    need_title_abstract = votes_needed(store, review, TA, kept, title_abstract)

    def need_full_text(passed: list[int]):
        return votes_needed(store, review, FT, passed, full_text)

    flow, passed = _flow(kept, title_abstract, full_text, need_title_abstract, need_full_text)
    previous = None
    if round_number:
        # the votes each record needs are the whole review's, whichever part is counted
        need_full_text_here = need_full_text(passed)

        def part(ids: list[int]) -> _Flow:
            return _flow(ids, title_abstract, full_text, need_title_abstract,
                         lambda _passed: need_full_text_here)[0]

        previous = part([o.id for o in origins
                         if o.round < round_number and o.duplicate_of is None]).included
        origins = [o for o in origins if o.round == round_number]
        flow = part([o.id for o in origins if o.duplicate_of is None])
    return PrismaCounts(
        identified_by_source=_by_source(origins, other=False),
        identified_other=_by_source(origins, other=True),
        duplicates_removed=sum(o.duplicate_of is not None for o in origins),
        stopping=review_stopping_advice(store, review), rapid=rapid_summary(store, review),
        round_number=round_number or 0, previous_included=previous, **vars(flow))


def review_stopping_advice(store: Store, review: Review) -> StoppingAdvice | None:
    """Advise on stopping title/abstract screening by the review's own rule and recall target.

    ``None`` before the first decision.  The rule and target are the review's settings
    ``stop_rule`` and ``stop_recall``, chosen by its lead.
    """
    from reviewkit.screening.queue import labels_from

    labels = labels_from(store, review)  # in the order the decisions were made
    if not labels:
        return None
    return stopping_advice(list(labels.values()), len(store.kept_record_ids(review.id)),
                           recall_target=setting_value(review, "stop_recall"),
                           rule=setting_value(review, "stop_rule"))


@dataclass
class Box:
    x: int
    y: int
    w: int
    h: int
    lines: list[str]
    heading: bool = False


WIDTH, HEIGHT = 900, 760
# An updated review's diagram adds a column on the left for the previous version, and a row
# at the bottom for the total.
PREVIOUS_COLUMN, TOTAL_ROW = 250, 120
_LINE = 18


def _top_height(c: PrismaCounts) -> int:
    """The identification row's height: taller when many sources are listed."""
    return max(150, 36 + len(_source_lines(c)) * _LINE)


def diagram_size(c: PrismaCounts) -> tuple[int, int]:
    """Return the diagram's width and height in pixels (larger for an updated review, and
    when many sources are listed)."""
    grow = _top_height(c) - 150
    if c.previous_included is None:
        return WIDTH, HEIGHT + grow
    return WIDTH + PREVIOUS_COLUMN, HEIGHT + TOTAL_ROW + grow


def _capped(pairs: list[tuple[str, int]], room: int, rest: str) -> list[str]:
    """One line per source, the last line summing whatever does not fit in ``room``."""
    shown = [f"  {name} (n = {n})" for name, n in pairs[:room]]
    if len(pairs) > room:
        shown[-1] = f"  {rest} (n = {sum(n for _, n in pairs[room - 1:])})"
    return shown


def _source_lines(c: PrismaCounts) -> list[str]:
    if not c.identified_other:
        return ["from databases:", *_capped(c.identified_by_source, 5, "other sources")]
    return ["from databases and registers:",
            *_capped(c.identified_by_source, 5, "other sources"),
            "via other methods:", *_capped(c.identified_other, 3, "other methods")]


def _layout(c: PrismaCounts) -> tuple[list[Box], list[tuple[int, int, int, int]]]:
    updated = c.previous_included is not None
    reasons = [f"  {reason} (n = {n})" for reason, n in list(c.excluded_full_text.items())[:6]]
    screened = [f"Records screened (n = {c.screened})"]
    if c.awaiting_screening:
        screened.append(f"Still to screen (n = {c.awaiting_screening})")
        if c.stopping is not None and c.stopping.safe_to_stop:
            screened.append(f"  stopped by the {c.stopping.rule} rule, "
                            f"{c.stopping.recall_target:.0%} recall target")
    rapid_screened, rapid_excluded = rapid_prisma_lines(c.rapid)
    assessed = [f"Reports assessed for eligibility (n = {c.assessed})"]
    if c.awaiting_full_text:
        assessed.append(f"Still to assess (n = {c.awaiting_full_text})")
    shift = PREVIOUS_COLUMN if updated else 0
    left, right, w = 130 + shift, 520 + shift, 340
    identified = "New records identified" if updated else "Records identified"
    included = "New studies included in review" if updated else "Studies included in review"
    boxes = [
        Box(0, 20, 110, 150, ["Identification"], heading=True),
        Box(0, 200, 110, 400, ["Screening"], heading=True),
        Box(0, 630, 110, 100 + (TOTAL_ROW if updated else 0), ["Included"], heading=True),
        Box(left, 20, w, 150, [f"{identified} (n = {c.identified})", *_source_lines(c)]),
        Box(right, 20, w, 150, ["Records removed before screening:",
                                f"  Duplicate records removed (n = {c.duplicates_removed})"]),
        Box(left, 200, w, 80, screened + rapid_screened),
        Box(right, 200, w, 80, [f"Records excluded (n = {c.excluded_screening})",
                                *rapid_excluded]),
        Box(left, 310, w, 80, [f"Reports sought for retrieval (n = {c.sought})"]),
        Box(right, 310, w, 80, [f"Reports not retrieved (n = {c.not_retrieved})"]),
        Box(left, 420, w, 180, assessed),
        Box(right, 420, w, 180, [f"Reports excluded (n = {sum(c.excluded_full_text.values())})", *reasons]),
        Box(left, 630, w, 100, [f"{included} (n = {c.included})"]),
    ]
    mid = left + w // 2
    arrows = [
        (left + w, 95, right, 95), (mid, 170, mid, 200), (left + w, 240, right, 240),
        (mid, 280, mid, 310), (left + w, 350, right, 350), (mid, 390, mid, 420),
        (left + w, 510, right, 510), (mid, 600, mid, 630),
    ]
    if updated:
        earlier = 130 + PREVIOUS_COLUMN // 2 - 10
        boxes[3:3] = [  # read first: the previous version comes before the new records
            Box(130, 20, PREVIOUS_COLUMN - 20, 150, [
                "Previous version", "Studies included in the", "previous version of the",
                f"review (n = {c.previous_included})"])]
        boxes += [
            Box(130, 630 + TOTAL_ROW - 10, left + w - 130, 90, [
                f"Total studies included in review (n = {c.total_included})",
                f"  previous version (n = {c.previous_included}), new in update "
                f"{c.round_number} (n = {c.included})"]),
        ]
        arrows += [(earlier, 170, earlier, 630 + TOTAL_ROW - 10),
                   (mid, 730, mid, 630 + TOTAL_ROW - 10)]
    # a taller identification row pushes every row below it down
    grow = _top_height(c) - 150
    for box in boxes:
        if box.y == 20:
            box.h += grow
        else:
            box.y += grow
    arrows = [(x1, y1 + grow if y1 >= 170 else y1, x2, y2 + grow if y2 >= 170 else y2)
              for x1, y1, x2, y2 in arrows]
    return boxes, arrows


def prisma_text(counts: PrismaCounts) -> list[tuple[str, list[str]]]:
    """The diagram in words (its text alternative): each stage with its boxes' lines, in the
    order the diagram is read."""
    boxes, _ = _layout(counts)
    return [(stage.lines[0], [line.strip() for box in boxes if not box.heading
                              and stage.y <= box.y < stage.y + stage.h for line in box.lines])
            for stage in boxes if stage.heading]


def prisma_svg(counts: PrismaCounts) -> str:
    """Draw the flow diagram as a standalone SVG document."""
    boxes, arrows = _layout(counts)
    width, height = diagram_size(counts)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" '
             'font-size="13" role="img" aria-label="PRISMA 2020 flow diagram">',
             '<defs><marker id="arrow" markerWidth="10" markerHeight="8" refX="9" refY="4" '
             'orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#333"/></marker></defs>',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for b in boxes:
        fill = "#cfe3f5" if b.heading else "white"
        parts.append(f'<rect x="{b.x}" y="{b.y}" width="{b.w}" height="{b.h}" rx="6" '
                     f'fill="{fill}" stroke="#333"/>')
        if b.heading:
            cx, cy = b.x + b.w // 2, b.y + b.h // 2
            parts.append(f'<text x="{cx}" y="{cy}" text-anchor="middle" font-weight="bold" '
                         f'transform="rotate(-90 {cx} {cy})">{escape(b.lines[0])}</text>')
            continue
        for i, line in enumerate(b.lines):
            parts.append(f'<text x="{b.x + 10}" y="{b.y + 24 + i * _LINE}" xml:space="preserve">'
                         f'{escape(line)}</text>')
    for x1, y1, x2, y2 in arrows:
        parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#333" '
                     'stroke-width="1.5" marker-end="url(#arrow)"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def prisma_png(counts: PrismaCounts, *, scale: int = 2) -> bytes:
    """Draw the same diagram as a PNG image."""
    from PIL import Image, ImageDraw, ImageFont

    def font(size: int, bold: bool = False):
        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        try:
            return ImageFont.truetype(f"/usr/share/fonts/truetype/dejavu/{name}", size * scale)
        except OSError:
            return ImageFont.load_default()

    boxes, arrows = _layout(counts)
    width, height = diagram_size(counts)
    image = Image.new("RGB", (width * scale, height * scale), "white")
    draw = ImageDraw.Draw(image)
    regular, bold = font(13), font(13, bold=True)
    for b in boxes:
        shape = [b.x * scale, b.y * scale, (b.x + b.w) * scale, (b.y + b.h) * scale]
        draw.rounded_rectangle(shape, radius=6 * scale, outline="#333333", width=scale,
                               fill="#cfe3f5" if b.heading else "white")
        if b.heading:
            label = Image.new("RGBA", (b.h * scale, b.w * scale), (0, 0, 0, 0))
            ImageDraw.Draw(label).text((b.h * scale // 2, b.w * scale // 2), b.lines[0],
                                       font=bold, fill="black", anchor="mm")
            rotated = label.rotate(90, expand=True)
            image.paste(rotated, (b.x * scale, b.y * scale), rotated)
            continue
        for i, line in enumerate(b.lines):
            draw.text(((b.x + 10) * scale, (b.y + 12 + i * _LINE) * scale), line, font=regular,
                      fill="black")
    for x1, y1, x2, y2 in arrows:
        draw.line([x1 * scale, y1 * scale, x2 * scale, y2 * scale], fill="#333333", width=scale)
        if x1 == x2:
            head = [(x2 - 5) * scale, (y2 - 8) * scale, (x2 + 5) * scale, (y2 - 8) * scale]
        else:
            head = [(x2 - 8) * scale, (y2 - 5) * scale, (x2 - 8) * scale, (y2 + 5) * scale]
        draw.polygon([(head[0], head[1]), (head[2], head[3]), (x2 * scale, y2 * scale)],
                     fill="#333333")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
