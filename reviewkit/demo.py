"""The ready-made demo review: the two source documents' reference lists as database exports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from reviewkit.errors import DuplicateImportError, ReviewkitError
from reviewkit.store import Review, Store

DEMO_DIR = Path(__file__).resolve().parent.parent / "corpora" / "demo"
LABELS = DEMO_DIR.parent / "demo_duplicates.json"
# The demo team: two reviewers screen every record; a lead settles disagreements.
REVIEWERS = ("demo-reviewer-1", "demo-reviewer-2")
LEAD = "demo-lead"
# Works on which the second reviewer disagreed: the first two are left open on purpose so the
# Conflicts page has something to show; the last two were settled by the lead.
OPEN_CONFLICTS = ("C05", "C30")
SETTLED_CONFLICTS = ("N20", "C23")


def load_demo_definition(folder: Path = DEMO_DIR) -> dict:
    """Read the demo review's question, criteria and list of export files."""
    path = folder / "review.json"
    if not path.exists():
        raise ReviewkitError(f"The demo review definition is missing: {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def ensure_demo_review(store: Store, *, folder: Path = DEMO_DIR, actor: str = "admin"
                       ) -> Review | None:
    """Create the demo review and import its files, unless it is there already.

    Safe to call on every start: files already imported are skipped.  Returns None when
    someone deleted the demo review: that choice stands (it can be restored from the deleted
    items) and the name stays taken by it.
    """
    definition = load_demo_definition(folder)
    name = definition["name"]
    review = store.find_review(name)
    if review is None:
        settings = {
            "exclusion_reasons": definition.get("exclusion_reasons", []),
            "keywords_include": definition.get("keywords_include", []),
            "keywords_exclude": definition.get("keywords_exclude", []),
            "demo": True,
            # the rapid-review reporting items (Stevens et al. 2024), for the methods text
            **definition.get("rapid_review", {}),
        }
        try:
            review = store.create_review(
                name, actor=actor, question=definition.get("question", ""),
                inclusion_criteria="\n".join(definition.get("inclusion_criteria", [])),
                exclusion_criteria="\n".join(definition.get("exclusion_criteria", [])),
                settings=settings)
        except ReviewkitError:
            # Another process (a second browser session) created it a moment ago, or the
            # demo was deleted and its name is still held by the deleted review.
            review = store.find_review(name)
            if review is None:
                return None
    from reviewkit.importing import import_file  # the readers of every format: only here

    for item in definition.get("files", []):
        path = folder / item["path"]
        try:
            import_file(store, review, path.read_bytes(), path.name, actor=actor,
                        database_name=item.get("database", ""),
                        search_date=item.get("search_date", ""),
                        search_query=item.get("query", ""), search=item.get("search"))
        except DuplicateImportError:
            continue
    review = store.get_review(name)
    if not review.settings.get("demo_screened") and (folder / "screening.csv").exists():
        seed_screening(store, review, folder)
        review = store.get_review(name)
    if review.settings.get("demo_screened") and not review.settings.get("demo_extracted"):
        seed_extraction_and_appraisal(store, review)
        review = store.get_review(name)
    return review


def work_records(store: Store, review: Review, labels_path: Path = LABELS) -> dict[str, list[int]]:
    """Map each demo work id (N01…, C01…) to the ids of its records in the review."""
    labels = json.loads(labels_path.read_text(encoding="utf-8"))
    by_file: dict[str, dict[str, int]] = {}
    batch_file = {b.id: b.filename for b in store.list_batches(review.id)}
    for stored in store.list_records(review.id):
        keys = by_file.setdefault(batch_file[stored.batch_id], {})
        keys[str(stored.position)] = stored.id
        if stored.record.source_id:
            keys.setdefault(stored.record.source_id, stored.id)
    out: dict[str, list[int]] = {}
    for item in labels["works"]:
        for ref in item["records"]:
            key = ref.get("record") or ref.get("record_id") or ref.get("key") or ref.get("rec_number")
            found = by_file.get(ref["file"], {}).get(str(key))
            if found is not None:
                out.setdefault(item["work"], []).append(found)
    return out


def seed_screening(store: Store, review: Review, folder: Path = DEMO_DIR) -> None:
    """Play the demo team's work: deduplicate, screen twice, settle conflicts, full texts.

    Possible duplicates of works that end up included are confirmed by the lead; the others
    are left on the Deduplicate page for a visitor to try.
    """
    with (folder / "screening.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    from reviewkit.review_dedup import deduplicate_review  # only when the demo is built

    works = work_records(store, review)
    deduplicate_review(store, review, actor=LEAD)
    included = {r["work"] for r in rows if r["ft_decision"] == "include"}
    work_of = {rid: work for work, ids in works.items() for rid in ids}
    for pair in store.duplicate_pairs(review.id, status="possible"):
        work = work_of.get(pair["left_id"])
        if work is not None and work == work_of.get(pair["right_id"]) and work in included:
            store.decide_pair(pair["id"], "same", actor=LEAD)
    kept = set(store.kept_record_ids(review.id))
    # Every third work the team excluded is left unscreened, so a visitor can try screening
    # (with the model already trained on the team's decisions) without changing the evidence.
    excluded = sorted(r["work"] for r in rows if r["ta_decision"] == "exclude"
                      and r["work"] not in OPEN_CONFLICTS + SETTLED_CONFLICTS)
    left_for_visitor = set(excluded[::3])
    for row in rows:
        if row["work"] in left_for_visitor:
            continue
        for rid in sorted(set(works.get(row["work"], [])) & kept):
            _screen(store, rid, row)
    _code_included(store, review, rows, works, kept)
    _synthesise_demo(store, review, works, kept)
    store.update_review(review.id, actor=LEAD,
                        settings_update={"reviewers_required": 2, "demo_screened": True})


def _code_included(store: Store, review: Review, rows: list[dict], works: dict[str, list[int]],
                   kept: set[int]) -> None:
    """Code each included study by approach, outcome and design, with its key finding."""
    from reviewkit.coding import confirm_code, set_finding

    for row in rows:
        if row["ft_decision"] != "include":
            continue
        for rid in sorted(set(works.get(row["work"], [])) & kept)[:1]:
            for code in filter(None, row["approaches"].split(";")):
                confirm_code(store, review.id, rid, "approach", code.strip(), actor=LEAD)
            if row["design"]:
                confirm_code(store, review.id, rid, "design", row["design"].strip(), actor=LEAD)
            for code in filter(None, row["outcomes"].split(";")):
                set_finding(store, review.id, rid, "outcome", code.strip(),
                            direction=row["direction"], finding=row["finding"], actor=LEAD)


# The demo team's synthesis of three cells, in its own words from the two source documents:
# (approach, outcome) -> directions per work (direction, sample size, note), the grouping and
# its reason, the narrative summary with the works it rests on, and a certainty rating.
_GOVERNANCE = "community_governance"
DEMO_SYNTHESIS = {
    (_GOVERNANCE, "empowerment_control"): {
        "directions": {
            "N37": ("positive", 3000, "Household survey, about 3,000 homes a round: the share "
                    "who felt able to influence local decisions rose 7.5 points against "
                    "comparison areas (95% CI 1.6 to 13.5)."),
            "N13": ("mixed", None, "How much control passed to residents varied from place "
                    "to place."),
            "N14": ("negative", None, "Argues that handing responsibility to poorer places "
                    "can add to their load."),
            "C11": ("no_clear", None, "Early local work; no change measured yet."),
            "C41": ("no_clear", None, "Describes the set-up of a poverty truth commission; "
                    "no outcome measured."),
        },
        "grouping": "Primary studies of resident-led governance in English neighbourhoods; "
                    "the two reviews are shown but not counted",
        "reason": "The reviews summarise studies that may include these ones, so counting "
                  "them as well would count the same evidence twice.",
        "summary": "Only one study compared places with and without the approach: in the "
                   "Neighbourhood Resilience Programme more residents came to feel they could "
                   "influence local decisions than in comparison areas. The other studies are "
                   "surveys, case studies and commentaries. Some describe residents gaining a "
                   "say; others warn that shifting responsibility onto disadvantaged places "
                   "can weigh on them, and early local examples had not yet shown a change.",
        "rests_on": ("N37", "N13", "N14", "C11", "C41"),
        "rating": ("grade", "low", "More say for residents over local decisions", {
            "risk_of_bias": ("serious", "One study compared areas with and without the "
                             "programme; the rest are case studies, a survey and commentary."),
            "inconsistency": ("serious", "One study found worsening and two found no clear "
                              "change, against one clear gain."),
        }, True),
    },
    (_GOVERNANCE, "mental_health"): {
        "directions": {
            "N37": ("mixed", 3000, "A small, uncertain drop in anxiety (95% CI 0.08 to 10.1 "
                    "points); no change in depression."),
        },
        "grouping": "", "reason": "",
        "summary": "Signs of better mental health are weak: the one comparative study found a "
                   "small drop in anxiety with a very wide margin of error and no change in "
                   "depression.",
        "rests_on": ("N37",),
        "rating": ("grade", "very_low", "Better mental health for residents", {
            "risk_of_bias": ("serious", "Most studies did not compare with areas without "
                             "the approach."),
            "imprecision": ("very_serious", "The anxiety estimate's interval runs from almost "
                            "nothing to ten points."),
        }, False),
    },
    (_GOVERNANCE, "social_cohesion"): {
        "directions": {},
        "grouping": "", "reason": "",
        "summary": "Residents who took part in resident-led programmes describe new and wider "
                   "social ties as one of the main gains, often valuing doing things together "
                   "above the money spent.",
        "rests_on": ("N45", "N37"),
        "rating": ("cerqual", "moderate", "Taking part builds wider social ties between "
                   "residents", {
                       "methodological_limitations": ("minor", "Interviews were with people "
                                                      "who took part, not those who did not."),
                       "adequacy": ("moderate", "Two studies, from programmes in England."),
                   }, True),
    },
}


def _synthesise_demo(store: Store, review: Review, works: dict[str, list[int]],
                     kept: set[int]) -> None:
    """Record the demo team's directions, summaries and certainty for a few cells."""
    from reviewkit.certainty import certainty_ratings, rate_certainty, verify_rating
    from reviewkit.synthesis import record_direction, write_cell

    first = {work: sorted(set(ids) & kept)[0] for work, ids in works.items() if set(ids) & kept}
    for (approach, outcome), cell in DEMO_SYNTHESIS.items():
        for work, (direction, size, note) in cell["directions"].items():
            if work in first:
                record_direction(store, review, first[work], approach, outcome,
                                 direction=direction, sample_size=size, note=note, actor=LEAD)
        write_cell(store, review, approach, outcome, grouping=cell["grouping"],
                   grouping_reason=cell["reason"], summary=cell["summary"],
                   record_ids=[first[w] for w in cell["rests_on"] if w in first], actor=LEAD)
        framework, level, finding, concerns, verified = cell["rating"]
        rate_certainty(store, review, approach, outcome, framework=framework, level=level,
                       finding=finding, concerns=concerns, actor=REVIEWERS[0])
        if verified:
            rating = certainty_ratings(store, review.id)[(approach, outcome)]
            verify_rating(store, review, rating.id, actor=LEAD)


def _screen(store: Store, rid: int, row: dict) -> None:
    first, second = REVIEWERS
    ta = row["ta_decision"]
    store.add_decision(rid, stage="title_abstract", decision=ta, reviewer=first,
                       reason=row["ta_reason"] if ta == "exclude" else "")
    if row["work"] in OPEN_CONFLICTS + SETTLED_CONFLICTS:
        other = "include" if ta == "exclude" else "exclude"
        store.add_decision(rid, stage="title_abstract", decision=other, reviewer=second,
                           reason=row["ta_reason"] if other == "exclude" else "Wrong study design")
        if row["work"] in OPEN_CONFLICTS:
            return
        store.add_decision(rid, stage="title_abstract", decision=ta, reviewer=LEAD,
                           reason=row["ta_reason"], kind="resolution")
    else:
        store.add_decision(rid, stage="title_abstract", decision=ta, reviewer=second,
                           reason=row["ta_reason"] if ta == "exclude" else "")
    ft = row["ft_decision"]
    if ta == "include" and ft:
        for reviewer in REVIEWERS:
            store.add_decision(rid, stage="full_text", decision=ft, reviewer=reviewer,
                               reason=row["ft_reason"] if ft == "exclude" else "")


# -- extraction and quality appraisal of a handful of included studies ------------------------
#
# Entered from what the source documents (../shared/seeds: the NRP paper and the Champs rapid
# review) say about each study, in our own words.  Where the documents are silent, a field is
# left empty and an appraisal question is answered "can't tell".

_YES = "yes"
_CANT = "cant_tell"

DEMO_EXTRACTION: dict[str, dict] = {
    "N37": {
        "study": {
            "setting": "Nine disadvantaged neighbourhoods ('Neighbourhoods for Learning') in "
                       "North West England, 2014-2019, beside nine comparison areas.",
            "population": "Residents of the neighbourhoods; a household survey of about 3,000 "
                          "households at each wave; interviews with 41 people (8 community "
                          "facilitators, 19 Resident Advisers, 14 from councils, voluntary "
                          "groups and business).",
            "approach": "The Neighbourhood Resilience Programme: residents, academic leads and a "
                        "community facilitator chose local priorities, ran resident-led "
                        "enquiries with peer researchers and took small local actions across "
                        "five resilience domains.",
            "comparison": "Nine comparison areas surveyed at the same two waves "
                          "(difference-in-differences).",
            "sample_size": 3000,
            "follow_up": "Baseline 2015/16, repeated 2018/19 at the end of the programme.",
        },
        "outcomes": {
            "empowerment_control": {
                "measure": "Share of residents agreeing they can influence decisions about their "
                           "area (survey question, four-point scale).",
                "result": "Up 4 points in programme areas and down 3 in comparison areas: "
                          "+7.5 points relative to comparison (95% CI 1.6 to 13.5).",
                "direction": "favours the approach"},
            "mental_health": {
                "measure": "Share reporting symptoms of anxiety, and of depression (survey).",
                "result": "Anxiety about 5 points lower, with a very wide confidence interval; no "
                          "effect on depression.",
                "direction": "mixed or inconsistent"},
            "social_cohesion": {
                "measure": "Semi-structured interviews; survey measures of social conditions.",
                "result": "Interviewees described wider and deeper connections between residents "
                          "and organisations; the survey's social measures showed no change.",
                "direction": "mixed or inconsistent"},
        },
        "verified": True,
    },
    "N15": {
        "study": {
            "setting": "Big Local areas in England (a place-based community empowerment "
                       "initiative).",
            "population": "Residents involved in Big Local.",
            "approach": "Residents taking part in running their area's Big Local.",
            "follow_up": "Longitudinal survey (waves not given in the source documents).",
        },
        "outcomes": {
            "mental_health": {
                "measure": "Mental wellbeing in a longitudinal survey of residents.",
                "result": "Personal benefits of taking part were unevenly spread; for some, "
                          "involvement harmed wellbeing.",
                "direction": "mixed or inconsistent"},
        },
        "verified": False,
    },
    "N45": {
        "study": {
            "setting": "Big Local areas in England.",
            "population": "Residents and others involved in a large place-based community "
                          "empowerment initiative.",
            "approach": "Residents deciding together how to spend money allocated to their area.",
        },
        "outcomes": {
            "social_cohesion": {
                "measure": "Qualitative interviews.",
                "result": "Doing things together mattered more than spending the money; wider "
                          "social connections were a main gain.",
                "direction": "favours the approach"},
        },
        "verified": True,
    },
    "C06": {
        "study": {
            "setting": "Social prescribing services (evidence reviewed by Champs for Cheshire "
                       "and Merseyside).",
            "population": "People referred from primary care to non-clinical community support.",
            "approach": "Referral through a link worker to arts, reading, exercise, befriending, "
                        "volunteering, self-help and advice.",
            "comparison": "As in the reviewed evaluations (not given in the source documents).",
        },
        "outcomes": {
            "health_wellbeing": {
                "measure": "Various, across the evaluations reviewed.",
                "result": "A large body of evidence, but too weak to show that social prescribing "
                          "works or is worth its cost.",
                "direction": "not reported"},
        },
        "verified": True,
    },
}

# MMAT for empirical studies, the review checklist for the review.  N15 waits for a second
# person; the others were checked.
DEMO_APPRAISAL: dict[str, dict] = {
    "N37": {"tool": "mmat", "design": "mixed_methods", "answers": {
        "S1": _YES, "S2": _YES, "5.1": _YES, "5.2": _YES, "5.3": _YES, "5.4": _YES,
        "5.5": _CANT},
        "notes": {"5.5": "Survey methods and response are reported elsewhere, not in this paper."},
        "overall": "Survey and interviews are brought together well; the survey's own quality "
                   "cannot be judged from this paper.", "verified": True},
    "N15": {"tool": "mmat", "design": "non_randomised", "answers": {
        "S1": _YES, "S2": _YES, "3.1": _CANT, "3.2": _CANT, "3.3": _CANT, "3.4": _CANT,
        "3.5": _YES},
        "overall": "Under review when cited; the source documents give its findings only.",
        "verified": False},
    "N45": {"tool": "mmat", "design": "qualitative", "answers": {
        "S1": _YES, "S2": _YES, "1.1": _YES, "1.2": _YES, "1.3": _CANT, "1.4": _YES,
        "1.5": _CANT},
        "overall": "A qualitative approach fits a question about what involvement meant to "
                   "people.", "verified": True},
    "C06": {"tool": "sr_checklist", "design": "review", "answers": {
        "R1": _YES, "R2": _CANT, "R3": _CANT, "R4": _CANT, "R5": _CANT, "R6": _CANT,
        "R7": _YES, "R8": _YES, "R9": _CANT, "R10": _YES, "R11": _CANT, "R12": _CANT,
        "R13": _CANT},
        "overall": "A systematic review that judged its evidence weak.", "verified": True},
}


def seed_extraction_and_appraisal(store: Store, review: Review) -> None:
    """Give a handful of the demo's included studies extracted data and an appraisal: the
    first demo reviewer extracts and appraises, the second verifies."""
    from reviewkit import appraisal, extraction
    from reviewkit.screening.status import included_record_ids

    first, second = REVIEWERS
    included = set(included_record_ids(store, review))
    works = work_records(store, review)
    for work, data in DEMO_EXTRACTION.items():
        found = sorted(set(works.get(work, [])) & included)
        if not found:
            continue
        rid = found[0]
        extraction.enter_values(store, review, rid, data["study"], actor=first)
        for outcome, values in data["outcomes"].items():
            extraction.enter_values(store, review, rid, values, actor=first, outcome=outcome)
        extraction.mark_done(store, review, rid, actor=first)
        if data["verified"]:
            extraction.verify_study(store, review, rid, actor=second)
        judged = DEMO_APPRAISAL.get(work)
        if judged:
            appraisal.appraise(store, review, rid, actor=first, tool=judged["tool"],
                               design=judged["design"], answers=judged["answers"],
                               notes=judged.get("notes"), overall=judged["overall"])
            if judged["verified"]:
                appraisal.verify_appraisal(store, review, rid, actor=second, tool=judged["tool"])
    store.update_review(review.id, actor=LEAD, settings_update={"demo_extracted": True})
