"""Data extraction: the form, one-extracts-one-verifies, two-extract-and-reconcile, exports."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest
from openpyxl import load_workbook

from reviewkit import extraction, trash
from reviewkit.accounts import PermissionDenied
from reviewkit.errors import ReviewkitError

LEAD = "admin"  # the local admin leads every review
FIRST, SECOND = "maria", "tom"


def _audit(store, review, prefix, ids=None):
    """The review's audit lines whose action starts with ``prefix`` (about ``ids`` only)."""
    return [e for e in store.audit_entries(review.id) if e.action.startswith(prefix)
            and (ids is None or e.entity_id in {str(i) for i in ids})]


def test_the_starting_template_covers_a_public_health_study():
    form = extraction.default_form()
    labels = [f.label for f in form.fields]
    for wanted in ("Setting and place", "Population", "Approach as delivered", "Comparison",
                   "Outcome measure", "Result", "Direction of effect", "Follow-up",
                   "Cost where reported"):
        assert wanted in labels
    assert form.workflow == "verify"
    assert {f.key for f in form.outcome_fields} == {"measure", "result", "direction"}
    assert form.get("direction").kind == "choice"
    assert form.get("sample_size").kind == "number"


@pytest.mark.parametrize("field, message", [
    ({"key": "Bad Key", "label": "x"}, "key must start"),
    ({"key": "mode", "label": "Mode", "kind": "choice", "options": ["only one"]},
     "at least two options"),
    ({"key": "mode", "label": "Mode", "kind": "slider"}, "kind must be one of"),
    ({"key": "mode", "label": "Mode", "per": "arm"}, "per study or per outcome"),
])
def test_a_bad_field_is_refused_by_name(field, message):
    with pytest.raises(ReviewkitError, match=message):
        extraction.field_from_dict(field)


def test_only_the_lead_changes_the_form_and_each_change_is_audited(untouched):
    store, review, _ids = untouched
    form = extraction.review_form(store, review.id)
    added = extraction.with_field(form, extraction.Field(
        "delivery", "Delivered by", kind="multi_choice",
        options=("volunteers", "paid staff", "residents")))
    with pytest.raises(PermissionDenied, match="maria \\(researcher\\) may not change"):
        extraction.save_form(store, review, added, actor=FIRST)
    version, changes = extraction.save_form(store, review, added, actor=LEAD)
    assert version == 1 and changes == ["delivery added"]
    assert extraction.save_form(store, review, added, actor=LEAD) == (None, [])
    version, changes = extraction.save_form(
        store, review, replace(extraction.without_field(added, "cost"), workflow="reconcile"),
        actor=LEAD)
    assert version == 2 and changes == ["workflow verify -> reconcile", "cost removed"]
    saved = extraction.review_form(store, review.id)
    assert saved.workflow == "reconcile" and "cost" not in {f.key for f in saved.fields}
    lines = _audit(store, review, "extraction.form")
    assert [line.details["changes"] for line in lines] == [
        ["workflow verify -> reconcile", "cost removed"], ["delivery added"]]


@pytest.mark.parametrize("key, raw, stored", [
    ("sample_size", "3,5", 3.5),
    ("sample_size", " 41 ", 41),
    ("direction", "Favours The Approach", "favours the approach"),
    ("setting", "  Halton  ", "Halton"),
    ("setting", "", None),
])
def test_values_are_read_as_the_field_says(key, raw, stored):
    assert extraction.parse_value(extraction.default_form().get(key), raw) == stored


def test_several_choices_keep_the_form_order_and_refuse_strangers():
    item = extraction.Field("who", "Delivered by", kind="multi_choice",
                            options=("volunteers", "paid staff", "residents"))
    assert extraction.parse_value(item, "residents; Volunteers") == ["volunteers", "residents"]
    with pytest.raises(ReviewkitError, match="'Delivered by' may hold only.*not 'robots'"):
        extraction.parse_value(item, ["robots"])
    with pytest.raises(ReviewkitError, match="'Number of participants' needs a number, not 'many'"):
        extraction.parse_value(extraction.default_form().get("sample_size"), "many")


def test_one_extracts_and_a_second_verifies(untouched):
    store, review, ids = untouched
    study = ids[0]
    extraction.enter_values(store, review, study, {"setting": "Nine neighbourhoods, North West England",
                                                   "sample_size": "3000"}, actor=FIRST)
    extraction.enter_value(store, review, study, "direction", "favours the approach",
                           actor=FIRST, outcome="empowerment_control")
    assert extraction.study_extraction(store, review, study).status == "draft"
    with pytest.raises(ReviewkitError, match="Nobody has marked"):
        extraction.verify_study(store, review, study, actor=SECOND)
    extraction.mark_done(store, review, study, actor=FIRST)
    with pytest.raises(ReviewkitError, match="a second person verifies it"):
        extraction.verify_study(store, review, study, actor=FIRST)
    assert extraction.verify_study(store, review, study, actor=SECOND,
                                   corrections={"sample_size": "2950"}) == 3
    done = extraction.study_extraction(store, review, study)
    assert done.status == "verified" and done.verified_by == [SECOND]
    assert done.final == {("setting", ""): "Nine neighbourhoods, North West England",
                          ("sample_size", ""): 2950,
                          ("direction", "empowerment_control"): "favours the approach"}
    assert done.values[("sample_size", "")] == {FIRST: 3000}  # the extractor's own value stays
    # every value and status change left an audit line saying who and what
    actions = [(e.action, e.actor) for e in reversed(_audit(store, review, "extraction.", [study]))]
    assert actions == [("extraction.extraction", FIRST)] * 3 + [
        ("extraction.done", FIRST), ("extraction.consensus", SECOND),
        ("extraction.verified", SECOND)]
    fix = next(e for e in _audit(store, review, "extraction.consensus"))
    assert fix.details == {"field": "sample_size", "outcome": "", "before": "3000",
                           "after": "2950", "status": "verified"}


def test_changing_a_value_keeps_the_old_one_in_the_audit_log(untouched):
    store, review, ids = untouched
    extraction.enter_value(store, review, ids[1], "setting", "Widnes", actor=FIRST)
    extraction.enter_value(store, review, ids[1], "setting", "Widnes (same value)", actor=FIRST)
    extraction.enter_value(store, review, ids[1], "setting", "Widnes (same value)", actor=FIRST)
    lines = _audit(store, review, "extraction.extraction", [ids[1]])
    assert [(e.details["before"], e.details["after"]) for e in reversed(lines)] == [
        ("", "Widnes"), ("Widnes", "Widnes (same value)")]


def test_two_extract_and_reconcile_the_differences(untouched):
    store, review, ids = untouched
    study = ids[2]
    extraction.save_form(store, review, replace(extraction.review_form(store, review.id),
                                                workflow="reconcile"), actor=LEAD)
    extraction.enter_values(store, review, study, {"setting": "Crewe", "sample_size": 120},
                            actor=FIRST)
    extraction.enter_values(store, review, study, {"setting": "crewe", "sample_size": 112},
                            actor=SECOND)
    extraction.mark_done(store, review, study, actor=FIRST)
    assert extraction.study_extraction(store, review, study).status == "done"
    assert extraction.differences(store, review.id, study) == []  # one finished: nothing to compare
    extraction.mark_done(store, review, study, actor=SECOND)
    found = extraction.differences(store, review.id, study)
    # the same words in another case are not a difference
    assert found == [extraction.Difference("sample_size", "", {FIRST: 120, SECOND: 112})]
    middle = extraction.study_extraction(store, review, study)
    assert middle.status == "to reconcile"
    assert ("sample_size", "") not in middle.final and middle.final[("setting", "")] == "Crewe"
    extraction.reconcile(store, review, study, "sample_size", "116", actor=SECOND)
    assert extraction.differences(store, review.id, study) == []
    settled = extraction.study_extraction(store, review, study)
    assert settled.status == "verified" and settled.final[("sample_size", "")] == 116
    line = _audit(store, review, "extraction.consensus")[0]
    assert line.details["before"] == f"{FIRST}: 120 | {SECOND}: 112" and line.details["after"] == "116"


def test_a_commissioner_cannot_extract_and_excluded_studies_are_refused(untouched):
    store, review, ids = untouched
    store.ensure_user("cara", role="commissioner")
    with pytest.raises(PermissionDenied, match="cara \\(commissioner\\) may not extract"):
        extraction.enter_value(store, review, ids[0], "setting", "Halton", actor="cara")
    excluded = next(rid for rid in store.kept_record_ids(review.id) if rid not in ids)
    with pytest.raises(ReviewkitError, match="is not an included study"):
        extraction.enter_value(store, review, excluded, "setting", "Halton", actor=FIRST)
    with pytest.raises(ReviewkitError, match="asked per outcome: say which outcome"):
        extraction.enter_value(store, review, ids[0], "result", "better", actor=FIRST)
    assert _audit(store, review, "extraction.", ids) == []


def _extract_two(store, review, ids):
    extraction.enter_values(store, review, ids[0], {
        "setting": "=HYPERLINK(\"http://x\", \"click\")", "sample_size": 3000,
        "population": "Residents, aged 16+; both sexes"}, actor=FIRST)
    extraction.enter_value(store, review, ids[0], "direction", "favours the approach",
                           actor=FIRST, outcome="empowerment_control")
    extraction.enter_value(store, review, ids[0], "result", "+7.5 points (95% CI 1.6 to 13.5)",
                           actor=FIRST, outcome="empowerment_control")
    extraction.mark_done(store, review, ids[0], actor=FIRST)
    extraction.verify_study(store, review, ids[0], actor=SECOND)
    extraction.enter_values(store, review, ids[1], {"setting": "Halton", "sample_size": 2.5},
                            actor=SECOND)


def _expected(store, review):
    out = {}
    for rid, study in extraction.study_extractions(store, review).items():
        for (key, outcome), value in study.final.items():
            out.setdefault((rid, outcome), {})[key] = value
    return out


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_exports_read_back_to_the_same_values(untouched, kind):
    store, review, ids = untouched
    _extract_two(store, review, ids)
    data = (extraction.export_csv if kind == "csv" else extraction.export_xlsx)(store, review)
    back = extraction.read_export(data, extraction.review_form(store, review.id),
                                  filename=f"x.{kind}")
    expected = _expected(store, review)
    assert {k: v for k, v in back.items() if v} == expected
    assert expected[(ids[0], "empowerment_control")]["result"].startswith("+7.5")
    assert expected[(ids[1], "")]["sample_size"] == 2.5
    if kind == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        # a value that looks like a formula is text in the spreadsheet
        assert rows[1][rows[0].index("setting")] == "'=HYPERLINK(\"http://x\", \"click\")"
        mine = [r for r in rows[1:] if r[0] in {str(ids[0]), str(ids[1])}]
        assert {r[0]: r[rows[0].index("status")] for r in mine} == {
            str(ids[0]): "verified", str(ids[1]): "draft"}
    else:
        book = load_workbook(io.BytesIO(data))
        assert book.sheetnames == ["Extraction", "Form"]
        cell = book["Extraction"].cell(2, book["Extraction"][1].index(
            next(c for c in book["Extraction"][1] if c.value == "setting")) + 1)
        assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
        assert [c.value for c in book["Form"][1]] == ["key", "label", "kind", "per", "options",
                                                       "help"]


def test_a_hand_edited_export_with_a_bad_cell_is_refused_by_row_and_column(untouched):
    store, review, ids = untouched
    _extract_two(store, review, ids)
    text = extraction.export_csv(store, review).decode("utf-8-sig").replace("3000", "lots")
    with pytest.raises(ReviewkitError, match="x.csv, row 2, column sample_size: .*not 'lots'"):
        extraction.read_export(text.encode(), extraction.review_form(store, review.id),
                               filename="x.csv")
    with pytest.raises(ReviewkitError, match="not a reviewkit extraction export"):
        extraction.read_export(b"a,b\n1,2\n", extraction.default_form(), filename="x.csv")


def test_a_deleted_study_leaves_the_export_and_comes_back_restored(untouched):
    store, review, ids = untouched
    _extract_two(store, review, ids)
    before = extraction.export_csv(store, review)
    trash.delete_record(store, ids[0], actor=LEAD, reason="entered twice")
    assert str(ids[0]) not in {r[0] for r in csv.reader(io.StringIO(
        extraction.export_csv(store, review).decode("utf-8-sig")))}
    trash.restore_record(store, ids[0], actor=LEAD)
    assert extraction.export_csv(store, review) == before


def test_the_command_line_writes_both_exports(demo_on_sqlite, tmp_path, capsys):
    from reviewkit.cli import main

    store, review, _ids = demo_on_sqlite
    for name in ("extraction.csv", "extraction.xlsx"):
        out = tmp_path / name
        assert main(["--database", store.url, "extraction-export", "--review", review.name,
                     "--output", str(out)]) == 0
        said = capsys.readouterr().out
        assert "4 studies extracted (3 verified)" in said and str(out) in said
        back = extraction.read_export(out.read_bytes(), extraction.review_form(store, review.id),
                                      filename=name)
        assert back and all(rid in extraction.study_extractions(store, review) for rid, _ in back)
    for name in ("appraisal.csv", "appraisal.svg", "appraisal.png"):
        assert main(["--database", store.url, "appraisal-export", "--review", review.name,
                     "--output", str(tmp_path / name)]) == 0
        assert "3 studies appraised with mmat (2 verified)" in capsys.readouterr().out
    assert (tmp_path / "appraisal.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["--database", store.url, "appraisal-export", "--review", review.name,
                 "--output", str(tmp_path / "appraisal.gif")]) == 1
    assert "must end in .csv, .xlsx, .png or .svg" in capsys.readouterr().err


def test_the_audit_page_says_each_change_in_words(untouched):
    from reviewkit.audit import describe

    store, review, ids = untouched
    _extract_two(store, review, ids)
    said = [describe(e) for e in store.audit_entries(review.id)
            if e.action.startswith("extraction.") and e.entity_id == str(ids[0])]
    assert f"tom verified maria's extraction of record {ids[0]}" in said
    assert f"maria marked the extraction of record {ids[0]} done" in said
    assert (f"maria extracted 'result' for empowerment_control from record {ids[0]}: "
            "'+7.5 points (95% CI 1.6 to 13.5)'") in said
