"""Quality appraisal: how far each included study can be trusted, by a published tool.

Three kinds of tool, all plain data (:class:`Tool`):

* ``mmat`` — the Mixed Methods Appraisal Tool, 2018 version (Hong et al.), the default,
  because public-health evidence is mostly qualitative, non-randomised and mixed.  Two
  screening questions come first; when either is answered "no" or "can't tell" the tool's
  authors advise that further appraisal may not be feasible.  Then the five criteria of the
  study's design category (qualitative; quantitative randomised; quantitative
  non-randomised; quantitative descriptive; mixed methods).  MMAT's authors discourage one
  overall score, so a study is described as "met 4 of 5 MMAT criteria" beside the answers.
* ``sr_checklist`` — a checklist for systematic and other evidence reviews, written here
  after the items AMSTAR 2 and the JBI checklist for reviews ask about.
* tools the review's lead writes (:func:`save_custom_tool`).

The questions are in reviewkit's own words, from the tools' published criteria.  Answers are
``yes``, ``no`` or ``cant_tell`` per criterion, with an optional note each and an overall
judgement in words.  One appraiser and a second who verifies (``verify_appraisal``), or two
appraisers who agree a consensus (``differences``, ``agree_appraisal``).

:func:`study_quality` is what other outputs (synthesis tables, the evidence map, briefs)
read: one line per study, the same everywhere.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from reviewkit import accounts
from reviewkit.errors import NotFoundError, ReviewkitError
from reviewkit.export_cells import csv_bytes, xlsx_bytes
from reviewkit.store import Review, Store
from reviewkit.store import appraisal as rows
from reviewkit.store import extraction as extraction_rows

ANSWERS = ("yes", "no", "cant_tell")
ANSWER_NAMES = {"yes": "Yes", "no": "No", "cant_tell": "Can't tell"}
# Shown beside the colour in every chart and table, so no reader depends on colour alone.
ANSWER_SYMBOLS = {"yes": "+", "no": "−", "cant_tell": "?", None: ""}
ANSWER_COLOURS = {"yes": "#1a9850", "no": "#d73027", "cant_tell": "#fdd835", None: "#eeeeee"}
WORKFLOWS = {
    "verify": "One person appraises, a second verifies",
    "consensus": "Two people appraise, then agree",
}
DEFAULT_TOOL = "mmat"
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


@dataclass(frozen=True)
class Criterion:
    key: str
    text: str
    help: str = ""


@dataclass(frozen=True)
class Design:
    key: str
    label: str
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class Tool:
    key: str
    name: str
    short: str  # the name inside a plain-words label: "met 4 of 5 MMAT criteria"
    designs: tuple[Design, ...]
    screening: tuple[Criterion, ...] = ()
    description: str = ""
    custom: bool = False

    def design(self, key: str) -> Design:
        found = next((d for d in self.designs if d.key == key), None)
        if found is None:
            raise NotFoundError(f"{self.name} has no design category '{key}' (it has "
                                f"{', '.join(d.key for d in self.designs)}).")
        return found

    def criteria(self, design: str) -> tuple[Criterion, ...]:
        """Every question asked of a study of ``design``: screening first."""
        return self.screening + self.design(design).criteria


# -- MMAT 2018, in reviewkit's words ---------------------------------------------------------

_C = Criterion

MMAT = Tool(
    key="mmat",
    name="Mixed Methods Appraisal Tool (MMAT 2018)",
    short="MMAT",
    description=("For empirical studies of any design: two screening questions, then the five "
                 "questions of the study's design category. Report the answers and the "
                 "number of criteria met, not a single score."),
    screening=(
        _C("S1", "Does the study say clearly what question it sets out to answer?",
           "Look for research questions or objectives stated plainly, usually near the start."),
        _C("S2", "Can the data the study gathered answer that question?",
           "Think about whether the kind and amount of data collected fit the question. If "
           "either screening answer is No or Can't tell, further appraisal may not be "
           "feasible or useful."),
    ),
    designs=(
        Design("qualitative", "Qualitative", (
            _C("1.1", "Is a qualitative approach right for the question?",
               "For example the question is about experiences, meanings or how something "
               "works in practice."),
            _C("1.2", "Are the ways data were gathered fit to answer the question?",
               "Interviews, focus groups, observation or documents, described well enough "
               "to judge, and suited to the question."),
            _C("1.3", "Do the findings come from the data in a sound way?",
               "The analysis is described and the themes or findings follow from it."),
            _C("1.4", "Is the interpretation backed up well enough by the data?",
               "Quotations or other evidence support what the authors conclude."),
            _C("1.5", "Do sources, collection, analysis and interpretation hang together?",
               "The parts of the study are consistent with one another."),
        )),
        Design("randomised", "Quantitative randomised controlled trial", (
            _C("2.1", "Was allocation truly random and done properly?",
               "A random sequence, generated and concealed appropriately."),
            _C("2.2", "Were the groups alike at the start?",
               "Baseline characteristics are reported and similar between groups."),
            _C("2.3", "Are outcome data complete?",
               "Nearly all participants are in the analysis (roughly 80% or more), or "
               "missing data are handled soundly."),
            _C("2.4", "Were those assessing outcomes unaware of which group people were in?",
               "Blinded outcome assessment, or outcomes that cannot be swayed by knowing."),
            _C("2.5", "Did participants receive the intervention they were allocated to?",
               "Adherence is reported and acceptable."),
        )),
        Design("non_randomised", "Quantitative non-randomised", (
            _C("3.1", "Do the participants represent the people the study is about?",
               "How they were recruited and who took part, compared with the target group."),
            _C("3.2", "Are both the outcome and the intervention (or exposure) measured "
                      "appropriately?", "Valid measures, the same way in each group."),
            _C("3.3", "Are outcome data complete?",
               "Nearly all participants are in the analysis, or missing data are handled "
               "soundly."),
            _C("3.4", "Are confounders taken into account in the design and analysis?",
               "Differences between groups that could explain the result are measured and "
               "adjusted for (or designed out, e.g. difference-in-differences)."),
            _C("3.5", "Was the intervention delivered (or the exposure present) as intended "
                      "during the study?", "Implementation or fidelity is described."),
        )),
        Design("descriptive", "Quantitative descriptive", (
            _C("4.1", "Does the sampling strategy suit the question?",
               "Who was sampled and how, in relation to what the study wants to describe."),
            _C("4.2", "Does the sample represent the people the study is about?",
               "Its make-up compared with the target population."),
            _C("4.3", "Are the measurements appropriate?",
               "Clear, valid measures or survey questions."),
            _C("4.4", "Is the risk of bias from people not responding low?",
               "A response rate is given and non-responders are not likely to differ much."),
            _C("4.5", "Does the statistical analysis suit the question?",
               "Descriptive statistics or tests that fit the data and the question."),
        )),
        Design("mixed_methods", "Mixed methods", (
            _C("5.1", "Is there a good reason to use mixed methods for this question?",
               "The study says why both kinds of data are needed."),
            _C("5.2", "Are the qualitative and quantitative parts brought together to answer "
                      "the question?", "Integration is planned and carried out, not two "
                                       "separate studies side by side."),
            _C("5.3", "Is what comes out of bringing them together interpreted well?",
               "The combined findings are explained, not only listed."),
            _C("5.4", "Are differences between the quantitative and qualitative results "
                      "dealt with?", "Where the two kinds of result disagree the authors "
                                     "discuss why."),
            _C("5.5", "Does each part meet the quality standards of its own kind?",
               "Appraise the qualitative part with 1.1–1.5 and the quantitative part with "
               "the matching set; answer Yes only when both hold up."),
        )),
    ),
)

SR_CHECKLIST = Tool(
    key="sr_checklist",
    name="Checklist for evidence reviews (after AMSTAR 2 and JBI)",
    short="review checklist",
    description=("For systematic, rapid and scoping reviews used as evidence: how the review "
                 "searched, chose, appraised and combined its studies."),
    designs=(
        Design("review", "Evidence review", (
            _C("R1", "Are the question and the criteria for including studies stated?",
               "Population, approach, comparison and outcomes, or the equivalent."),
            _C("R2", "Was the method set out in advance (a protocol)?",
               "A registered or published protocol, and departures from it explained."),
            _C("R3", "Was the search wide enough?",
               "At least two databases plus other sources such as grey literature or "
               "reference lists, with the search terms reported."),
            _C("R4", "Did two people choose the studies independently?",
               "Or one chose and a second checked a sample, with agreement reported."),
            _C("R5", "Did two people extract the data?",
               "Or one extracted and a second checked."),
            _C("R6", "Are the excluded studies listed with reasons?",
               "At least those excluded after reading the full text."),
            _C("R7", "Are the included studies described in enough detail?",
               "Setting, population, approach, outcomes and design of each."),
            _C("R8", "Was the quality or risk of bias of included studies appraised with a "
                     "stated method?", "A named tool applied to each study."),
            _C("R9", "Were the studies combined in a suitable way?",
               "Meta-analysis where studies are alike enough, otherwise a structured "
               "synthesis whose grouping is explained."),
            _C("R10", "Is the quality of studies taken into account in the conclusions?",
               "Weaker studies weigh less, or the conclusions say how they bear on them."),
            _C("R11", "Are differences between study results looked at and explained?",
               "Heterogeneity discussed or explored."),
            _C("R12", "Is the chance of missing or unpublished studies considered?",
               "Publication or reporting bias discussed or tested."),
            _C("R13", "Are funding and conflicts of interest reported?",
               "For the review itself."),
        )),
    ),
)

BUILT_IN: dict[str, Tool] = {MMAT.key: MMAT, SR_CHECKLIST.key: SR_CHECKLIST}

# The codebook's study designs, mapped to the MMAT category a study of that design is
# usually appraised under (the appraiser can always choose another).
MMAT_CATEGORY_OF_DESIGN = {
    "qualitative": "qualitative", "rct": "randomised",
    "quasi_experimental": "non_randomised", "cohort": "non_randomised",
    "cross_sectional": "descriptive", "mixed_methods": "mixed_methods",
    "evaluation": "mixed_methods", "case_study": "qualitative",
}


# -- tools as plain data ---------------------------------------------------------------------


def tool_to_dict(tool: Tool) -> dict:
    def crit(items):
        return [{"key": c.key, "text": c.text, "help": c.help} for c in items]
    return {"key": tool.key, "name": tool.name, "short": tool.short,
            "description": tool.description, "screening": crit(tool.screening),
            "designs": [{"key": d.key, "label": d.label, "criteria": crit(d.criteria)}
                        for d in tool.designs]}


def tool_from_dict(data: dict, *, custom: bool = True) -> Tool:
    """Build a tool from plain data, refusing what cannot be asked (the message says what)."""
    if not isinstance(data, dict):
        raise ReviewkitError("An appraisal tool must be a mapping.")
    key = str(data.get("key") or "").strip()
    if not _KEY_RE.match(key):
        raise ReviewkitError(f"The tool key '{key}' must start with a lower-case letter and "
                             "hold only lower-case letters, digits and underscores.")
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        raise ReviewkitError(f"The tool '{key}' needs a name.")

    def criteria(items, where: str) -> tuple[Criterion, ...]:
        out = []
        for item in items or []:
            ckey = str((item or {}).get("key") or "").strip()
            text = " ".join(str((item or {}).get("text") or "").split())
            if not ckey or not text or len(ckey) > 20:
                raise ReviewkitError(f"Every question of {where} needs a short key (20 "
                                     "characters at most) and its text.")
            out.append(Criterion(ckey, text, " ".join(str(item.get("help") or "").split())))
        return tuple(out)

    screening = criteria(data.get("screening"), f"the tool '{name}'")
    designs = []
    for raw in data.get("designs") or []:
        dkey = str((raw or {}).get("key") or "").strip()
        if not _KEY_RE.match(dkey):
            raise ReviewkitError(f"The tool '{name}' has a design with a bad key '{dkey}'.")
        label = " ".join(str(raw.get("label") or dkey).split())
        items = criteria(raw.get("criteria"), f"the design '{label}'")
        if not items:
            raise ReviewkitError(f"The design '{label}' of the tool '{name}' has no questions.")
        designs.append(Design(dkey, label, items))
    if not designs:
        raise ReviewkitError(f"The tool '{name}' needs at least one design with questions.")
    for design in designs:
        own = [c.key for c in screening] + [c.key for c in design.criteria]
        if len(set(own)) != len(own):
            raise ReviewkitError(f"Two questions of the tool '{name}' share a key.")
    return Tool(key, name, " ".join(str(data.get("short") or name).split()), tuple(designs),
                screening, " ".join(str(data.get("description") or "").split()), custom)


def review_tools(store: Store, review_id: int) -> dict[str, Tool]:
    """The tools a review can use: the built-in ones, then the lead's own."""
    with store.read() as conn:
        own = rows.review_tools(conn, review_id)
    tools = dict(BUILT_IN)
    for definition in own:
        tool = tool_from_dict(definition)
        tools.setdefault(tool.key, tool)
    return tools


def get_tool(store: Store, review_id: int, key: str) -> Tool:
    tools = review_tools(store, review_id)
    if key not in tools:
        raise NotFoundError(f"There is no appraisal tool '{key}' in this review (there are "
                            f"{', '.join(tools)}).")
    return tools[key]


def save_custom_tool(store: Store, review: Review, definition: dict, *, actor: str) -> Tool:
    """Save a tool the review's lead wrote (a new version when the key is already used)."""
    accounts.require(store, actor, "review.manage", review_id=review.id)
    tool = tool_from_dict(definition)
    if tool.key in BUILT_IN:
        raise ReviewkitError(f"'{tool.key}' is a built-in tool; give yours another key.")
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:
        rows.write_tool(conn, review.id, tool_to_dict(tool), actor_id)
    return tool


def simple_tool(key: str, name: str, questions: list[str]) -> dict:
    """A one-design tool from a list of questions (what the page's form builds)."""
    return {"key": key, "name": name, "short": name,
            "designs": [{"key": "any", "label": "Any design", "criteria": [
                {"key": f"Q{i}", "text": q} for i, q in enumerate(questions, start=1)
                if q.strip()]}]}


# -- judging one appraisal -------------------------------------------------------------------


@dataclass(frozen=True)
class Judgement:
    """What a set of answers adds up to under a tool: never a single score."""

    tool: str
    design: str
    met: int  # criteria of the design answered yes
    total: int  # criteria of the design
    answered: int  # criteria of the design answered at all
    screening_passed: bool | None  # None for a tool without screening questions
    label: str


def judge(tool: Tool, design: str, answers: dict) -> Judgement:
    """Count the design's criteria met and say so in plain words.

    With MMAT, a screening answer of No or Can't tell is reported first: the criteria are still
    counted (they may have been answered) but the label says the study did not pass screening.
    """
    chosen = tool.design(design)
    keys = [c.key for c in chosen.criteria]
    met = sum(answers.get(k) == "yes" for k in keys)
    answered = sum(answers.get(k) in ANSWERS for k in keys)
    passed = None
    label = f"met {met} of {len(keys)} {tool.short} criteria"
    if tool.screening:
        failing = [c.key for c in tool.screening if answers.get(c.key) != "yes"]
        passed = not failing
        if failing:
            said = ", ".join(f"{k} {ANSWER_NAMES.get(answers.get(k), 'not answered').lower()}"
                             for k in failing)
            label = f"did not pass {tool.short} screening ({said})"
    return Judgement(tool.key, design, met, len(keys), answered, passed, label)


def check_answers(tool: Tool, design: str, answers: dict) -> dict:
    """Keep the answers this tool and design ask for, refusing unknown answers by name."""
    asked = {c.key for c in tool.criteria(design)}
    out = {}
    for key, answer in (answers or {}).items():
        if key not in asked:
            raise ReviewkitError(f"{tool.name} asks no question '{key}' of a "
                                 f"{tool.design(design).label.lower()} study.")
        if answer in (None, ""):
            continue
        if answer not in ANSWERS:
            raise ReviewkitError(f"The answer to {key} must be yes, no or cant_tell, not "
                                 f"'{answer}'.")
        out[key] = answer
    return out


# -- storing appraisals ----------------------------------------------------------------------


def _require_included(store: Store, review: Review, record_id: int) -> None:
    from reviewkit.screening.status import included_record_ids

    if record_id not in included_record_ids(store, review):
        raise ReviewkitError(f"Record {record_id} is not an included study of the review "
                             f"'{review.name}', so it is not appraised.")


def appraise(store: Store, review: Review, record_id: int, *, actor: str, design: str,
             answers: dict, tool: str = DEFAULT_TOOL, notes: dict | None = None,
             overall: str = "", outcome: str = "", done: bool = True) -> Judgement:
    """Store the actor's appraisal of a study (for one outcome where ``outcome`` is given).

    ``done`` marks it ready for a second person; a draft can be changed without anyone seeing
    it as finished.  Returns what the answers add up to.
    """
    accounts.require(store, actor, "extract", review_id=review.id)
    _require_included(store, review, record_id)
    found = get_tool(store, review.id, tool)
    kept = check_answers(found, design, answers)
    notes = {k: " ".join(str(v).split()) for k, v in (notes or {}).items()
             if k in kept or k in {c.key for c in found.criteria(design)}}
    notes = {k: v for k, v in notes.items() if v}
    result = judge(found, design, kept)
    outcome = " ".join((outcome or "").split())
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:
        rows.write_appraisal(conn, review.id, record_id, tool=found.key, design=design,
                             outcome=outcome, kind="appraisal", answers=kept, notes=notes,
                             overall=" ".join(overall.split()),
                             status="done" if done else "draft", actor_id=actor_id,
                             summary=result.label)
    return result


def verify_appraisal(store: Store, review: Review, record_id: int, *, actor: str,
                     tool: str = DEFAULT_TOOL, outcome: str = "") -> str:
    """Verify another person's finished appraisal of a study; returns whose it was."""
    accounts.require(store, actor, "extract", review_id=review.id)
    _require_included(store, review, record_id)
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:
        standing = [a for a in rows.current_appraisals(conn, review.id, [record_id])
                    if a.tool == tool and a.outcome == outcome and a.kind == "appraisal"
                    and a.status != "draft"]
        others = [a for a in standing if a.appraiser != actor]
        if not others:
            raise ReviewkitError(
                f"{actor} appraised this study: a second person verifies it."
                if standing else "Nobody has finished appraising this study yet: there is "
                                 "nothing to verify.")
        target = others[-1]
        rows.verify_appraisal(conn, review.id, target.id, actor_id)
    return target.appraiser


@dataclass(frozen=True)
class AppraisalDifference:
    criterion: str
    answers: dict[str, str | None]  # appraiser -> answer


def differences(store: Store, review_id: int, record_id: int, *, tool: str = DEFAULT_TOOL,
                outcome: str = "") -> list[AppraisalDifference]:
    """Where two or more finished appraisals of a study disagree (design counts as 'design')."""
    with store.read() as conn:
        finished = [a for a in rows.current_appraisals(conn, review_id, [record_id])
                    if a.tool == tool and a.outcome == outcome and a.kind == "appraisal"
                    and a.status != "draft"]
    if len(finished) < 2:
        return []
    out = []
    designs = {a.appraiser: a.design for a in finished}
    if len(set(designs.values())) > 1:
        out.append(AppraisalDifference("design", designs))
    keys = sorted({k for a in finished for k in a.answers})
    for key in keys:
        said = {a.appraiser: a.answers.get(key) for a in finished}
        if len(set(said.values())) > 1:
            out.append(AppraisalDifference(key, said))
    return out


def agree_appraisal(store: Store, review: Review, record_id: int, *, actor: str, design: str,
                    answers: dict, tool: str = DEFAULT_TOOL, notes: dict | None = None,
                    overall: str = "", outcome: str = "") -> Judgement:
    """Store the appraisal two appraisers agreed on (a verified consensus)."""
    accounts.require(store, actor, "extract", review_id=review.id)
    _require_included(store, review, record_id)
    found = get_tool(store, review.id, tool)
    kept = check_answers(found, design, answers)
    result = judge(found, design, kept)
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:
        rows.write_appraisal(conn, review.id, record_id, tool=found.key, design=design,
                             outcome=" ".join((outcome or "").split()), kind="consensus",
                             answers=kept, notes={k: v for k, v in (notes or {}).items() if v},
                             overall=" ".join(overall.split()), status="verified",
                             actor_id=actor_id, summary=result.label)
    return result


# -- what each study ends with ---------------------------------------------------------------


@dataclass(frozen=True)
class StudyQuality:
    """One study's appraisal as every output shows it.

    ``label`` is the plain-words summary ("met 4 of 5 MMAT criteria"); ``verified`` is true
    once a second person verified it or two appraisers agreed it.
    """

    record_id: int
    tool: str
    tool_name: str
    design: str
    design_label: str
    met: int
    total: int
    label: str
    verified: bool
    screening_passed: bool | None
    answers: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    overall: str = ""
    appraisers: tuple[str, ...] = ()
    verified_by: str | None = None
    outcome: str = ""


_RANK = {"draft": 0, "done": 1, "verified": 2}


def final_appraisals(store: Store, review: Review, *, tool: str | None = None,
                     record_ids: list[int] | None = None) -> dict[tuple[int, str, str], StudyQuality]:
    """The standing appraisal of each (study, tool, outcome): the agreed one, else the most
    advanced (verified, then finished, then draft; the latest of equals)."""
    from reviewkit.screening.status import included_record_ids

    ids = included_record_ids(store, review) if record_ids is None else list(record_ids)
    tools = review_tools(store, review.id)
    with store.read() as conn:
        standing = rows.current_appraisals(conn, review.id, ids)
    grouped: dict[tuple[int, str, str], list] = {}
    for a in standing:
        if tool is None or a.tool == tool:
            grouped.setdefault((a.record_id, a.tool, a.outcome), []).append(a)
    out = {}
    for place, found in grouped.items():
        agreed = [a for a in found if a.kind == "consensus"]
        best = agreed[-1] if agreed else max(
            (a for a in found), key=lambda a: (_RANK.get(a.status, 0), a.id))
        chosen_tool = tools.get(best.tool)
        if chosen_tool is None:
            continue
        result = judge(chosen_tool, best.design, best.answers)
        out[place] = StudyQuality(
            record_id=best.record_id, tool=best.tool, tool_name=chosen_tool.name,
            design=best.design, design_label=chosen_tool.design(best.design).label,
            met=result.met, total=result.total, label=result.label,
            verified=best.status == "verified", screening_passed=result.screening_passed,
            answers=dict(best.answers), notes=dict(best.notes), overall=best.overall,
            appraisers=tuple(sorted({a.appraiser for a in found if a.kind == "appraisal"})),
            verified_by=best.verified_by, outcome=best.outcome)
    return out


def study_quality(store: Store, review_id: int) -> dict[int, StudyQuality]:
    """Each appraised included study's quality, by record id: the one source every output uses.

    Per study, the study-level appraisal (not one for a single outcome) with the review's
    default tool, MMAT, when there is one, else with another tool; a study appraised only
    per outcome gets the appraisal that met the fewest criteria (the cautious reading).
    ``StudyQuality.label`` says it in plain words ("met 4 of 5 MMAT criteria"; "did not pass
    MMAT screening (S2 can't tell)"), and ``verified`` says whether a second person checked.
    """
    review = store.review_by_id(review_id)
    out: dict[int, StudyQuality] = {}
    ranked = sorted(final_appraisals(store, review).values(),
                    key=lambda q: (q.record_id, q.outcome != "", q.tool != DEFAULT_TOOL,
                                   q.met / q.total if q.total else 0))
    for quality in ranked:
        out.setdefault(quality.record_id, quality)
    return out


# -- summary table, chart and exports --------------------------------------------------------


@dataclass(frozen=True)
class SummaryRow:
    record_id: int
    study: str
    year: int | None
    quality: StudyQuality


def summary_rows(store: Store, review: Review, *, tool: str = DEFAULT_TOOL) -> list[SummaryRow]:
    """One row per appraised study (study-level appraisals with ``tool``), in record order."""
    qualities = sorted((q for (rid, t, o), q in final_appraisals(store, review, tool=tool).items()
                        if not o), key=lambda q: q.record_id)
    with store.read() as conn:
        about = extraction_rows.titles_and_years(conn, [q.record_id for q in qualities])
    return [SummaryRow(q.record_id, *about.get(q.record_id, ("", None)), q) for q in qualities]


def short_study(row: SummaryRow, width: int = 48) -> str:
    """A study's name for a chart row: the title cut to ``width`` characters, and the year."""
    title = " ".join((row.study or f"Record {row.record_id}").split())
    if len(title) > width:
        title = title[:width - 1].rstrip() + "…"
    return f"{title} ({row.year})" if row.year else title


def _criteria_columns(tool: Tool, summary: list[SummaryRow]) -> list[str]:
    """The chart's columns: screening, then the criteria of each design used, in tool order."""
    used = {r.quality.design for r in summary}
    cols = [c.key for c in tool.screening]
    for design in tool.designs:
        if design.key in used:
            cols.extend(c.key for c in design.criteria)
    return cols


def traffic_light(store: Store, review: Review, *, tool: str = DEFAULT_TOOL, fmt: str = "png"
                  ) -> bytes:
    """A traffic-light chart of the appraisals: a row per study, a column per criterion.

    Each cell is coloured (green yes, red no, yellow can't tell, grey not asked) and carries a
    symbol (+, −, ?), so it reads without colour too.  ``fmt`` is ``png`` or ``svg``.
    """
    summary = summary_rows(store, review, tool=tool)
    return draw_traffic_light(get_tool(store, review.id, tool), summary, fmt=fmt)


def draw_traffic_light(tool: Tool, summary: list[SummaryRow], *, fmt: str = "png") -> bytes:
    """Draw the chart for rows already gathered (see :func:`traffic_light`)."""
    if fmt not in ("png", "svg"):
        raise ReviewkitError(f"The chart can be a png or an svg, not '{fmt}'.")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import Patch

    cols = _criteria_columns(tool, summary) if summary else [c.key for c in tool.screening]
    height = max(2.2, 0.42 * len(summary) + 1.6)
    width = max(6.0, 0.5 * len(cols) + 5.5)
    fig, ax = plt.subplots(figsize=(width, height))
    try:
        for y, row in enumerate(summary):
            asked = {c.key for c in tool.criteria(row.quality.design)}
            for x, key in enumerate(cols):
                answer = row.quality.answers.get(key) if key in asked else None
                colour = ANSWER_COLOURS[answer] if key in asked else "#ffffff"
                ax.add_patch(plt.Rectangle((x - 0.45, y - 0.45), 0.9, 0.9, facecolor=colour,
                                           edgecolor="#555555" if key in asked else "#dddddd",
                                           linewidth=0.6))
                if key in asked:
                    ax.text(x, y, ANSWER_SYMBOLS[answer] or "·", ha="center", va="center",
                            fontsize=11, fontweight="bold",
                            color="#000000" if answer in ("cant_tell", None) else "#ffffff")
            ax.text(len(cols) - 0.3, y, f"{row.quality.met}/{row.quality.total}"
                    + ("" if row.quality.verified else " *"), va="center", fontsize=9)
        ax.set_aspect("equal")
        ax.set_xlim(-0.6, len(cols) + 0.6)
        ax.set_ylim(len(summary) - 0.5 if summary else 0.5, -0.6)
        ax.set_xticks(range(len(cols)), cols, fontsize=9)
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(summary)), [short_study(r) for r in summary], fontsize=9)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        ax.tick_params(length=0)
        legend = [Patch(facecolor=ANSWER_COLOURS[a], edgecolor="#555555",
                        label=f"{ANSWER_SYMBOLS[a]}  {ANSWER_NAMES[a]}") for a in ANSWERS]
        legend.append(Patch(facecolor="#eeeeee", edgecolor="#555555", label="·  Not answered"))
        ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=4,
                  frameon=False, fontsize=9)
        title = f"{tool.name}: criteria met per study"
        if not summary:
            title += " (no study appraised yet)"
        ax.set_title(title + "\n* not yet verified by a second person", fontsize=10, loc="left")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=150, metadata={"Date": None} if fmt == "svg" else None)
    finally:
        plt.close(fig)
    return buffer.getvalue()


SUMMARY_COLUMNS = ("record_id", "study", "year", "tool", "design", "criteria_met",
                   "criteria_total", "summary", "verified", "appraised_by", "verified_by",
                   "overall")


def summary_table(store: Store, review: Review, *, tool: str = DEFAULT_TOOL
                  ) -> tuple[list[str], list[list]]:
    """The summary table: one row per study, the counts and words, then each answer."""
    found = get_tool(store, review.id, tool)
    summary = summary_rows(store, review, tool=tool)
    cols = _criteria_columns(found, summary)
    header = [*SUMMARY_COLUMNS, *cols]
    body = []
    for row in summary:
        q = row.quality
        body.append([row.record_id, row.study, row.year if row.year is not None else "",
                     found.name, q.design_label, q.met, q.total, q.label,
                     "yes" if q.verified else "no", ", ".join(q.appraisers),
                     q.verified_by or "", q.overall,
                     *(ANSWER_NAMES.get(q.answers.get(c), "") for c in cols)])
    return header, body


def export_csv(store: Store, review: Review, *, tool: str = DEFAULT_TOOL) -> bytes:
    header, body = summary_table(store, review, tool=tool)
    return csv_bytes(header, body, bom=True)


def export_xlsx(store: Store, review: Review, *, tool: str = DEFAULT_TOOL) -> bytes:
    header, body = summary_table(store, review, tool=tool)
    found = get_tool(store, review.id, tool)
    questions = [[c.key, "screening", c.text, c.help] for c in found.screening]
    questions += [[c.key, d.label, c.text, c.help] for d in found.designs for c in d.criteria]
    return xlsx_bytes({"Appraisal": (header, body),
                       "Questions": (["key", "asked of", "question", "help"], questions)})


def suggested_design(store: Store, review_id: int, record_id: int, tool: Tool) -> str:
    """The design category to offer first: from the study's confirmed design code where the
    tool has the matching MMAT category, else the tool's first design."""
    from reviewkit.coding import study_codes

    keys = [d.key for d in tool.designs]
    for code in study_codes(store, review_id, record_id, ("design",))["design"]:
        category = MMAT_CATEGORY_OF_DESIGN.get(code.code)
        if code.status == "confirmed" and category in keys:
            return category
    return keys[0]


def own_appraisal(store: Store, review_id: int, record_id: int, person: str, *,
                  tool: str = DEFAULT_TOOL, outcome: str = "") -> rows.StoredAppraisal | None:
    """``person``'s own standing appraisal of a study (for a form to start from), if any."""
    with store.read() as conn:
        found = [a for a in rows.current_appraisals(conn, review_id, [record_id])
                 if a.kind == "appraisal" and a.appraiser == person and a.tool == tool
                 and a.outcome == outcome]
    return found[-1] if found else None
