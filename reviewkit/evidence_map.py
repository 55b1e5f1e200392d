"""Evidence and gap maps: which approaches have been studied for which outcomes.

Rows are the codebook's approaches, columns its outcomes; each cell lists the studies coded
with both.  An empty cell is a gap.  The map can be filtered by study design, year,
direction of effect, a cell's certainty and a study's appraised quality, drawn as an interactive
bubble chart (plotly), saved as one HTML file that opens offline, a CSV table, or a PNG/SVG
picture.  Certainty and quality come in from ``reviewkit.certainty.outcome_verdicts`` and
``reviewkit.synthesis.study_quality_labels`` (see :func:`certainty_and_quality`).
"""

from __future__ import annotations

import html
import io
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import plotly.graph_objects as go

from reviewkit.codebook import Codebook, load_codebook
from reviewkit.coding import record_codes_for_review
from reviewkit.errors import ReviewkitError
from reviewkit.export_cells import cell_writer
from reviewkit.store import Store, record_rows

COLOUR_BY = ("design", "direction", "certainty", "quality")
CERTAINTY_KEYS = ("high", "moderate", "low", "very_low", "")
CERTAINTY_NAMES = {"high": "High certainty", "moderate": "Moderate certainty",
                   "low": "Low certainty", "very_low": "Very low certainty",
                   "": "Certainty not yet rated"}
CERTAINTY_COLOURS = {"high": "#084594", "moderate": "#4292c6", "low": "#9ecae1",
                     "very_low": "#deebf7", "": "#bdbdbd"}
QUALITY_KEYS = ("0", "1", "2", "")
QUALITY_NAMES = {"0": "Higher quality", "1": "Middling quality", "2": "Lower quality",
                 "": "Quality not appraised"}
QUALITY_COLOURS = {"0": "#1b7837", "1": "#a6dba0", "2": "#c2a5cf", "": "#d9d9d9"}
DIRECTION_COLOURS = {"positive": "#1a9850", "mixed": "#f4a500", "none": "#8c8c8c",
                     "negative": "#d73027", "": "#9ecae1"}
DIRECTION_NAMES = {"positive": "Positive", "mixed": "Mixed", "none": "No effect",
                   "negative": "Negative", "": "Not recorded"}
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#ad494a")
_UNKNOWN_DESIGN = "Design not recorded"


@dataclass(frozen=True)
class CodedStudy:
    """A study as the map needs it.  ``directions`` may give a direction per outcome code."""

    record_id: int | str
    title: str
    year: int | None = None
    approaches: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    design: str = ""
    direction: str = ""
    finding: str = ""
    directions: dict[str, str] = field(default_factory=dict)
    # (approach, outcome) -> the direction recorded on the Synthesis page for that cell
    cell_directions: dict[tuple[str, str], str] = field(default_factory=dict)

    def direction_for(self, outcome: str) -> str:
        return self.directions.get(outcome) or self.direction or ""

    def direction_in(self, approach: str, outcome: str) -> str:
        """The direction in one cell: the synthesis's, else the coded one for the outcome."""
        return self.cell_directions.get((approach, outcome)) or self.direction_for(outcome)


@dataclass
class EvidenceMap:
    approaches: list[tuple[str, str]]  # rows: (code, label), codebook order
    outcomes: list[tuple[str, str]]  # columns: (code, label)
    cells: dict[tuple[str, str], list[CodedStudy]]  # only non-empty cells
    studies: list[CodedStudy]  # the studies left after filtering
    design_labels: dict[str, str] = field(default_factory=dict)
    filters: dict = field(default_factory=dict)
    # (approach, outcome) -> certainty level ('' = not yet rated), and its plain-words statement
    certainty: dict[tuple[str, str], str] = field(default_factory=dict)
    statements: dict[tuple[str, str], str] = field(default_factory=dict)
    quality: dict = field(default_factory=dict)  # record id -> quality key ('0'..'2', '')

    def certainty_of(self, approach: str, outcome: str) -> str:
        return self.certainty.get((approach, outcome), "")

    def quality_of(self, study: CodedStudy) -> str:
        return self.quality.get(study.record_id, "")

    def count(self, approach: str, outcome: str) -> int:
        return len(self.cells.get((approach, outcome), []))

    @property
    def gaps(self) -> list[tuple[str, str]]:
        """Approach × outcome pairs with no study, in map order."""
        return [(a, o) for a, _ in self.approaches for o, _ in self.outcomes
                if (a, o) not in self.cells]


def build_evidence_map(studies: Iterable, codebook: Codebook | None = None, *,
                       designs: Iterable[str] | None = None,
                       years: tuple[int | None, int | None] | None = None,
                       directions: Iterable[str] | None = None,
                       verdicts: dict | None = None, quality: dict | None = None,
                       certainty_levels: Iterable[str] | None = None,
                       qualities: Iterable[str] | None = None) -> EvidenceMap:
    """Place studies in approach × outcome cells, keeping those that pass the filters.

    ``studies`` are :class:`CodedStudy`, dicts, or any objects with the same attributes.
    ``designs`` and ``directions`` keep studies with one of the listed values; ``years`` is an
    inclusive (first, last) range where either end may be None (studies without a year are
    dropped when a range is given).  ``verdicts`` ((approach, outcome) -> OutcomeVerdict, from
    reviewkit.certainty.outcome_verdicts) and ``quality`` (record id -> StudyQualityLabel)
    let the map colour by certainty and quality; ``certainty_levels`` keeps the cells rated at
    one of those levels ('' for not yet rated), ``qualities`` the studies of those quality keys.
    """
    verdicts = verdicts or {}
    quality_keys = {rid: "" if q.shade is None else str(q.shade)
                    for rid, q in (quality or {}).items()}
    wanted_qualities = set(qualities) if qualities is not None else None
    codebook = codebook or load_codebook()
    wanted_designs = set(designs) if designs is not None else None
    wanted_directions = set(directions) if directions is not None else None
    first, last = years if years is not None else (None, None)
    kept = []
    for study in (as_coded_study(s) for s in studies):
        if wanted_designs is not None and study.design not in wanted_designs:
            continue
        if years is not None and (study.year is None
                                  or (first is not None and study.year < first)
                                  or (last is not None and study.year > last)):
            continue
        if wanted_directions is not None and not (
                {study.direction_for(o) for o in study.outcomes} | {study.direction}
                | set(study.cell_directions.values())
        ) & wanted_directions:
            continue
        if wanted_qualities is not None and quality_keys.get(study.record_id, "") \
                not in wanted_qualities:
            continue
        kept.append(study)
    cells: dict[tuple[str, str], list[CodedStudy]] = {}
    for study in kept:
        for approach in dict.fromkeys(study.approaches):
            for outcome in dict.fromkeys(study.outcomes):
                cells.setdefault((approach, outcome), []).append(study)
    levels = {key: (v.level or "") for key, v in verdicts.items()}
    if certainty_levels is not None:
        wanted_levels = set(certainty_levels)
        cells = {key: found for key, found in cells.items()
                 if levels.get(key, "") in wanted_levels}
        kept = [s for s in kept if any(s in found for found in cells.values())]
    return EvidenceMap(
        approaches=_axis(codebook, "approach", [a for s in kept for a in s.approaches]),
        outcomes=_axis(codebook, "outcome", [o for s in kept for o in s.outcomes]),
        cells=cells, studies=kept,
        design_labels={c.code: c.label for c in codebook.schemes["design"].codes}
        if "design" in codebook.schemes else {},
        filters={"designs": sorted(wanted_designs) if wanted_designs is not None else None,
                 "years": [first, last] if years is not None else None,
                 "directions": sorted(wanted_directions) if wanted_directions is not None
                 else None,
                 "certainty": sorted(set(certainty_levels)) if certainty_levels is not None
                 else None,
                 "quality": sorted(wanted_qualities) if wanted_qualities is not None else None},
        certainty=levels, statements={key: v.statement() for key, v in verdicts.items()},
        quality=quality_keys)


def certainty_and_quality(store: Store, review) -> tuple[dict, dict]:
    """The review's direction-and-certainty verdicts per cell and its studies' quality labels,
    ready for :func:`build_evidence_map` (the same verdicts the brief states)."""
    from reviewkit.certainty import outcome_verdicts
    from reviewkit.synthesis import study_quality_labels

    return outcome_verdicts(store, review), study_quality_labels(store, review.id)


def as_coded_study(study) -> CodedStudy:
    """Accept a CodedStudy, a dict, or any object with the same attribute names."""
    if isinstance(study, CodedStudy):
        return study
    get = study.get if isinstance(study, dict) else (lambda name, default=None:
                                                      getattr(study, name, default))
    return CodedStudy(
        record_id=get("record_id"), title=get("title", "") or "", year=get("year"),
        approaches=_as_list(get("approaches", [])), outcomes=_as_list(get("outcomes", [])),
        design=get("design", "") or "", direction=get("direction", "") or "",
        finding=get("finding", "") or "", directions=dict(get("directions", None) or {}),
        cell_directions=dict(get("cell_directions", None) or {}))


def _as_list(value) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(";") if v.strip()]
    return list(value or [])


def _axis(codebook: Codebook, scheme: str, used: list[str]) -> list[tuple[str, str]]:
    known = [(c.code, c.label) for c in codebook.schemes[scheme].codes] \
        if scheme in codebook.schemes else []
    # codes no longer in the codebook still show, after the others, under their slug
    extra = [(c, c) for c in dict.fromkeys(used) if c not in {k for k, _ in known}]
    return known + extra


# -- from a stored review ----------------------------------------------------------------------


def coded_studies_for_review(store: Store, review_id: int) -> list[CodedStudy]:
    """Gather a review's included studies' confirmed codes, findings and record details into
    CodedStudy rows. A record coded and later excluded (or not yet through full text) is left
    out: which studies are included is answered by ``screening.status`` alone."""
    from reviewkit.screening.status import included_record_ids

    included = set(included_record_ids(store, store.review_by_id(review_id)))
    codes = record_codes_for_review(store, review_id, status="confirmed")
    by_record: dict[int, list] = {}
    for row in codes:
        if row.record_id in included:
            by_record.setdefault(row.record_id, []).append(row)
    if not by_record:
        return []
    from reviewkit.store.synthesis import current_directions
    from reviewkit.synthesis import TO_CODING

    with store.read() as conn:
        found = record_rows.summaries_by_id(conn, sorted(by_record))
        recorded: dict[int, dict] = {}
        for d in current_directions(conn, review_id):
            recorded.setdefault(d.record_id, {})[(d.approach, d.outcome)] = TO_CODING[d.direction]
    studies = []
    for record_id, rows in by_record.items():
        outcome_rows = [r for r in rows if r.scheme == "outcome"]
        designs = sorted((r for r in rows if r.scheme == "design"),
                         key=lambda r: -(r.confidence if r.confidence is not None else 2.0))
        said = Counter(r.direction for r in rows if r.direction)
        finding = next((r.finding for r in rows if r.finding), "")
        record = found.get(record_id)
        studies.append(CodedStudy(
            record_id=record_id, title=record.title if record else "",
            year=record.year if record else None,
            approaches=[r.code for r in rows if r.scheme == "approach"],
            outcomes=[r.code for r in outcome_rows],
            design=designs[0].code if designs else "",
            direction=said.most_common(1)[0][0] if said else "", finding=finding,
            directions={r.code: r.direction for r in outcome_rows if r.direction},
            cell_directions=recorded.get(record_id, {})))
    return studies


# -- drawing -------------------------------------------------------------------------------------


def map_figure(evidence_map: EvidenceMap, colour_by: str = "design", *,
               title: str = "Evidence map") -> go.Figure:
    """Draw the map as a bubble chart: bubble area = number of studies, colour = design or
    direction of effect.  Click a legend entry to hide or show that group."""
    fig = go.Figure(_bubble_traces(evidence_map, colour_by) + [_gap_trace(evidence_map)])
    _layout(fig, evidence_map, title)
    return fig


def _categories(evidence_map: EvidenceMap, colour_by: str, study: CodedStudy, approach: str,
                outcome: str) -> tuple[str, str]:
    """Return (category key, legend name) of a study in a cell."""
    if colour_by == "direction":
        key = study.direction_in(approach, outcome)
        return key, DIRECTION_NAMES.get(key, key)
    if colour_by == "certainty":
        key = evidence_map.certainty_of(approach, outcome)
        return key, CERTAINTY_NAMES.get(key, key)
    if colour_by == "quality":
        key = evidence_map.quality_of(study)
        return key, QUALITY_NAMES.get(key, key)
    key = study.design
    return key, evidence_map.design_labels.get(key, key) if key else _UNKNOWN_DESIGN


def _colour(colour_by: str, key: str, order: list[str]) -> str:
    if colour_by == "direction":
        return DIRECTION_COLOURS.get(key, "#7f7f7f")
    if colour_by == "certainty":
        return CERTAINTY_COLOURS.get(key, "#7f7f7f")
    if colour_by == "quality":
        return QUALITY_COLOURS.get(key, "#7f7f7f")
    if not key:
        return "#c7c7c7"
    return _PALETTE[order.index(key) % len(_PALETTE)]


def _bubble_traces(evidence_map: EvidenceMap, colour_by: str) -> list[go.Scatter]:
    if colour_by not in COLOUR_BY:
        raise ReviewkitError(f"Colour the map by one of {', '.join(COLOUR_BY)}, "
                             f"not '{colour_by}'.")
    row = {code: i for i, (code, _) in enumerate(evidence_map.approaches)}
    col = {code: j for j, (code, _) in enumerate(evidence_map.outcomes)}
    labels = dict(evidence_map.approaches) | {f"o:{c}": lab for c, lab in evidence_map.outcomes}
    # every category, in a stable order, so each has one legend entry and colour
    per_cell: dict[tuple[str, str], dict[str, list[CodedStudy]]] = {}
    names: dict[str, str] = {}
    for (approach, outcome), studies in evidence_map.cells.items():
        split = per_cell.setdefault((approach, outcome), {})
        for study in studies:
            key, name = _categories(evidence_map, colour_by, study, approach, outcome)
            split.setdefault(key, []).append(study)
            names[key] = name
    if colour_by in ("direction", "certainty", "quality"):
        fixed = {"direction": DIRECTION_COLOURS, "certainty": CERTAINTY_KEYS,
                 "quality": QUALITY_KEYS}[colour_by]
        order = [k for k in fixed if k in names]
    else:
        known = [k for k in evidence_map.design_labels if k in names]
        order = known + sorted(k for k in names if k not in known and k) + \
            ([""] if "" in names else [])
    biggest = max((len(v) for split in per_cell.values() for v in split.values()), default=1)
    traces = []
    for key in order:
        xs, ys, sizes, texts = [], [], [], []
        for (approach, outcome), split in per_cell.items():
            if key not in split:
                continue
            present = [k for k in order if k in split]
            # side by side inside the cell, so every category in it stays visible
            offset = (present.index(key) - (len(present) - 1) / 2) * min(0.25, 0.8 / len(present))
            studies = split[key]
            xs.append(col[outcome] + offset)
            ys.append(row[approach])
            sizes.append(len(studies))
            texts.append(_hover(labels[approach], labels[f"o:{outcome}"], names[key], studies,
                                evidence_map.statements.get((approach, outcome), "")))
        traces.append(go.Scatter(
            x=xs, y=ys, mode="markers", name=html.escape(names[key]), text=texts,
            hovertemplate="%{text}<extra></extra>", legendgroup=key,
            marker={"size": sizes, "sizemode": "area", "sizemin": 4,
                    "sizeref": 2.0 * biggest / (34 ** 2), "color": _colour(colour_by, key, order),
                    "opacity": 0.85, "line": {"width": 1, "color": "white"}}))
    return traces


def _hover(approach: str, outcome: str, category: str, studies: list[CodedStudy],
           statement: str = "") -> str:
    shown = studies[:12]
    lines = [f"<b>{html.escape(approach)}</b> → <b>{html.escape(outcome)}</b>",
             f"{html.escape(category)}: {len(studies)} stud{'y' if len(studies) == 1 else 'ies'}"]
    if statement:
        lines.append(html.escape(_shorten(statement, 160)))
    for s in shown:
        year = f" ({s.year})" if s.year else ""
        lines.append(f"• {html.escape(_shorten(s.title, 80))}{year}")
    if len(studies) > len(shown):
        lines.append(f"… and {len(studies) - len(shown)} more")
    return "<br>".join(lines)


def _shorten(text: str, size: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= size else text[:size - 1].rstrip() + "…"


def _gap_trace(evidence_map: EvidenceMap) -> go.Scatter:
    row = {code: i for i, (code, _) in enumerate(evidence_map.approaches)}
    col = {code: j for j, (code, _) in enumerate(evidence_map.outcomes)}
    gaps = evidence_map.gaps
    return go.Scatter(
        x=[col[o] for _, o in gaps], y=[row[a] for a, _ in gaps], mode="markers",
        name="No studies (gap)", hoverinfo="skip", legendgroup="gap",
        marker={"symbol": "square", "size": 5, "color": "#e6e6e6"})


def _layout(fig: go.Figure, evidence_map: EvidenceMap, title: str) -> None:
    rows, cols = len(evidence_map.approaches), len(evidence_map.outcomes)
    fig.update_layout(
        title={"text": html.escape(title)}, template="plotly_white",
        height=max(420, 190 + 30 * rows), width=max(760, 550 + 58 * cols),
        margin={"l": 330, "r": 220, "t": 210, "b": 40},
        legend={"orientation": "h", "y": -0.02, "yanchor": "top", "x": 0,
                "itemsizing": "constant"},
        hoverlabel={"align": "left"})
    fig.update_xaxes(tickvals=list(range(cols)), ticktext=[html.escape(_shorten(lab, 40)) for _, lab in
                                                          evidence_map.outcomes],
                     side="top", tickangle=-40, range=[-0.6, cols - 0.4], showgrid=True,
                     gridcolor="#f0f0f0", zeroline=False)
    fig.update_yaxes(tickvals=list(range(rows)), ticktext=[html.escape(_shorten(lab, 48)) for _, lab in
                                                          evidence_map.approaches],
                     range=[rows - 0.4, -0.6], showgrid=True, gridcolor="#f0f0f0",
                     zeroline=False)


# -- files ----------------------------------------------------------------------------------------


def map_html(evidence_map: EvidenceMap, *, title: str = "Evidence map",
             colour_by: str = "design") -> str:
    """Return one self-contained HTML page (plotly.js inlined; opens offline).

    Buttons switch the colours between study design, direction of effect and certainty; under the chart
    a table lists the studies in each cell and the number of gaps.
    """
    schemes = {"design": "study design", "direction": "direction of effect",
               "certainty": "certainty"}
    if colour_by not in schemes:
        colour_by = "design"
    groups = {name: _bubble_traces(evidence_map, name) for name in schemes}
    traces = [t for name in schemes for t in groups[name]]
    fig = go.Figure(traces + [_gap_trace(evidence_map)])
    for name, group in groups.items():
        for trace in group:
            trace.visible = name == colour_by
    buttons = [{"label": f"Colour by {words}", "method": "restyle",
                "args": [{"visible": [n == name for n in schemes for _ in groups[n]] + [True]}]}
               for name, words in schemes.items()]
    _layout(fig, evidence_map, title)
    fig.update_layout(updatemenus=[{
        "type": "buttons", "direction": "right", "x": 0, "y": 1.0, "xanchor": "left",
        "yanchor": "bottom", "pad": {"b": 150}, "active": list(schemes).index(colour_by),
        "buttons": buttons}])
    page = fig.to_html(full_html=True, include_plotlyjs=True, include_mathjax=False,
                       config={"displaylogo": False, "responsive": True})
    page = page.replace("<head>", f"<head><title>{html.escape(title)}</title>", 1)
    return page.replace("</body>", _table_html(evidence_map) + "</body>", 1)


def _table_html(evidence_map: EvidenceMap) -> str:
    labels = dict(evidence_map.approaches)
    outcome_labels = dict(evidence_map.outcomes)
    total = len(evidence_map.approaches) * len(evidence_map.outcomes)
    parts = ['<section style="font-family:sans-serif;max-width:1100px;margin:1em">',
             f"<p>{len(evidence_map.studies)} studies; {len(evidence_map.cells)} of {total} "
             f"approach–outcome cells hold evidence, {len(evidence_map.gaps)} are gaps.</p>",
             '<table style="border-collapse:collapse" border="1" cellpadding="4">',
             "<thead><tr><th>Approach</th><th>Outcome</th><th>Studies</th></tr></thead><tbody>"]
    for approach, _ in evidence_map.approaches:
        for outcome, _ in evidence_map.outcomes:
            studies = evidence_map.cells.get((approach, outcome))
            if not studies:
                continue
            items = "".join(
                f"<li>{html.escape(s.title)}{f' ({s.year})' if s.year else ''}"
                f"{' — ' + html.escape(s.finding) if s.finding else ''}</li>" for s in studies)
            parts.append(f"<tr><td>{html.escape(labels[approach])}</td>"
                         f"<td>{html.escape(outcome_labels[outcome])}</td>"
                         f"<td><ul style='margin:0'>{items}</ul></td></tr>")
    parts.append("</tbody></table></section>")
    return "\n".join(parts)


def map_rows(evidence_map: EvidenceMap) -> list[dict[str, str | int]]:
    """The map as a table, its text alternative: one row per approach, the number of studies
    for each outcome (0 for a gap)."""
    return [{"Approach": label, **{outcome_label: evidence_map.count(code, outcome)
                                   for outcome, outcome_label in evidence_map.outcomes}}
            for code, label in evidence_map.approaches]


def map_bubbles_png(evidence_map: EvidenceMap, *, width: float = 9.0) -> bytes:
    """The map as a still picture (PNG, drawn by matplotlib, no browser needed): a dot in each
    filled cell, larger for more studies, the number of studies written beside it."""
    import textwrap

    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows, cols = evidence_map.approaches, evidence_map.outcomes
    figure = Figure(figsize=(width, 1.8 + 0.34 * len(rows)), dpi=120)
    axes = figure.subplots()
    points = [(c, r, evidence_map.count(a, o)) for r, (a, _) in enumerate(rows)
              for c, (o, _) in enumerate(cols) if evidence_map.count(a, o)]
    if points:
        axes.scatter([c for c, _, _ in points], [r for _, r, _ in points],
                     s=[60 + 40 * n for _, _, n in points], color="#005e78", alpha=0.8)
        for c, r, n in points:
            axes.annotate(str(n), (c, r), xytext=(7, 5), textcoords="offset points", fontsize=7)
    axes.set_yticks(range(len(rows)), [textwrap.shorten(label, 40, placeholder="…") for _, label in rows],
                    fontsize=7)
    axes.set_xticks(range(len(cols)), [textwrap.shorten(label, 28, placeholder="…") for _, label in cols],
                    rotation=60, ha="right", fontsize=7)
    axes.set_xlim(-0.5, len(cols) - 0.5)
    axes.set_ylim(len(rows) - 0.5, -0.5)
    axes.grid(True, color="#dddddd", linewidth=0.5)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


MAP_CSV_COLUMNS = ("approach", "approach_label", "outcome", "outcome_label", "studies",
                   "record_ids", "designs", "directions", "certainty", "certainty_statement")


def map_table_csv(evidence_map: EvidenceMap, *, include_gaps: bool = True) -> bytes:
    """Return the map as CSV (UTF-8): one row per cell, gaps included with 0 studies."""
    buffer = io.StringIO()
    writer = cell_writer(buffer, lineterminator="\n")
    writer.writerow(MAP_CSV_COLUMNS)
    for approach, approach_label in evidence_map.approaches:
        for outcome, outcome_label in evidence_map.outcomes:
            studies = evidence_map.cells.get((approach, outcome), [])
            if not studies and not include_gaps:
                continue
            designs = Counter(s.design or "not recorded" for s in studies)
            directions = Counter(s.direction_in(approach, outcome) or "not recorded"
                                 for s in studies)
            writer.writerow([
                approach, approach_label, outcome, outcome_label, len(studies),
                ";".join(str(s.record_id) for s in studies),
                "; ".join(f"{k}: {v}" for k, v in sorted(designs.items())),
                "; ".join(f"{k}: {v}" for k, v in sorted(directions.items())),
                evidence_map.certainty_of(approach, outcome) or "not rated",
                evidence_map.statements.get((approach, outcome), "")])
    return buffer.getvalue().encode("utf-8")


def map_image(evidence_map: EvidenceMap, format: str = "png", *, colour_by: str = "design",
              title: str = "Evidence map", scale: float = 2.0) -> bytes:
    """Return the map as a PNG or SVG picture, drawn by plotly's exporter (kaleido).

    Needs the ``kaleido`` package and a Chromium browser on the machine (Debian's chromium
    works offline); takes a few seconds because it starts the browser.
    """
    if format not in ("png", "svg"):
        raise ReviewkitError(f"Save the map as png or svg, not '{format}'.")
    fig = map_figure(evidence_map, colour_by, title=title)
    try:
        return fig.to_image(format=format, scale=scale if format == "png" else 1)
    except (ImportError, ValueError, RuntimeError) as exc:
        raise ReviewkitError(
            "Saving the map as a picture needs the 'kaleido' package and Chromium "
            f"(apt-get install chromium); the HTML and CSV exports work without them. ({exc})"
        ) from exc
