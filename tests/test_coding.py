"""Auto-coding: suggestions on clear texts, learning from feedback, codes in the database."""

from __future__ import annotations

import csv
import re
import zlib

import numpy as np
import pytest

from reviewkit.codebook import load_codebook
from reviewkit.coding import (
    Feedback,
    Suggestion,
    confirm_code,
    record_codes_for_review,
    record_text,
    reject_code,
    repoint_codes,
    review_feedback,
    score_codes,
    set_finding,
    store_suggestions,
    suggest_codes,
)
from reviewkit.errors import ReviewkitError
from reviewkit.files import CODE_CSV_COLUMNS, code_csv
from reviewkit.records import Record


class WordCountModel:
    """A stand-in for the sentence model: words hashed into 511 counts plus one dimension all
    texts share (texts sharing words are close).  Counts its calls and texts."""

    name = "word-count-test"
    _stop = frozenset("the and for with their they was were that this from into are has had "
                      "its not but who how our".split())

    def __init__(self):
        self.calls = 0
        self.texts = 0

    def encode(self, texts):
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), 512), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                if len(word) > 2 and word not in self._stop:
                    out[i, zlib.crc32(word[:6].encode()) % 511] += 1
        # a share every text has, as real sentence vectors do: unrelated texts sit near 0.25
        out[:, 511] = 0.6 * np.linalg.norm(out[:, :511], axis=1)
        return out


@pytest.fixture(scope="module")
def codebook():
    return load_codebook()


@pytest.fixture
def model():
    return WordCountModel()


def codes_of(suggestions, scheme):
    return [s.code for s in suggestions if s.scheme == scheme]


CLEAR_TEXTS = [
    ("Social prescribing link workers in general practice. GPs referred patients to link "
     "workers who connected them with community groups; loneliness and social isolation fell.",
     {"approach": "social_prescribing", "outcome": "reduced_isolation"}),
    ("Debt advice and credit unions in a deprived ward: a money advice service helped families "
     "avoid loan sharks and payday loans, improving financial resilience.",
     {"approach": "financial_inclusion", "outcome": "financial_resilience"}),
    ("Participatory budgeting: residents voted on how to spend a community chest, and said they "
     "felt more empowerment and control over decisions in their area.",
     {"approach": "participatory_budgeting", "outcome": "empowerment_control"}),
    ("Opening up green space: new parks, community gardens and allotments were created, and "
     "people reported better mental health and less anxiety.",
     {"approach": "green_blue_space", "outcome": "mental_health"}),
]


@pytest.mark.parametrize(("text", "expected"), CLEAR_TEXTS)
def test_clear_texts_get_the_obvious_codes(codebook, model, text, expected):
    [found] = suggest_codes([text], codebook, model=model)
    for scheme, code in expected.items():
        assert codes_of(found, scheme)[:2].count(code) == 1, (scheme, found)
    for s in found:
        assert isinstance(s, Suggestion) and 0 <= s.confidence <= 1


@pytest.mark.parametrize(("text", "design"), [
    ("A cluster randomised controlled trial in 40 schools.", "rct"),
    ("We used a difference-in-difference analysis against comparison areas.",
     "quasi_experimental"),
    ("Semi-structured interviews and focus groups with residents, analysed thematically.",
     "qualitative"),
    ("A systematic review and meta-analysis of 30 studies.", "review"),
    ("A mixed method evaluation combining a survey with interviews.", "mixed_methods"),
    ("Findings from a longitudinal household survey in two waves.", "cohort"),
    ("A one-off questionnaire of 500 tenants.", "cross_sectional"),
])
def test_design_follows_the_words_the_text_uses(codebook, model, text, design):
    [found] = suggest_codes([text], codebook, schemes=["design"], model=model)
    assert codes_of(found, "design")[0] == design
    assert len(codes_of(found, "design")) <= 2


def test_threshold_and_ordering(codebook, model):
    text = CLEAR_TEXTS[0][0]
    [strict] = suggest_codes([text], codebook, model=model, threshold=0.95)
    [loose] = suggest_codes([text], codebook, model=model, threshold=0.0)
    assert len(strict) < len(loose)
    assert all(s.confidence >= 0.95 for s in strict)
    [scores] = score_codes([text], codebook, model=model)
    assert set(scores) == {"approach", "outcome", "design"}
    ranked = [s.confidence for s in scores["approach"]]
    assert ranked == sorted(ranked, reverse=True)
    assert len(ranked) == len(codebook.scheme("approach").codes)
    hit = next(s for s in scores["approach"] if s.code == "social_prescribing")
    assert "social prescribing" in hit.matched


def test_unrelated_and_empty_texts_get_no_suggestions(codebook, model):
    found = suggest_codes(["Pharmacokinetics of emicizumab in haemophilia A.", ""], codebook,
                          model=model, schemes=["approach"])
    assert found == [[], []]
    assert suggest_codes([], codebook, model=model) == []


def test_rejections_remove_a_suggestion_for_similar_texts(codebook, model):
    text = "Older residents met weekly at a lunch club in the church hall."
    [before] = suggest_codes([text], codebook, model=model, schemes=["approach"])
    assert "volunteering_peer_support" in codes_of(before, "approach")
    calls = [Feedback(text, "approach", "volunteering_peer_support", False)]
    [after] = suggest_codes([text + " Tea was served."], codebook, model=model,
                            schemes=["approach"], feedback=calls)
    assert "volunteering_peer_support" not in codes_of(after, "approach")


def test_confirmations_teach_a_code_the_codebook_words_miss(codebook, model):
    taught = "Neighbours planted bulbs along the canal towpath and cleared the reed beds."
    later = "Neighbours planted bulbs along the canal towpath and cleared the reed beds again."
    [before] = suggest_codes([later], codebook, model=model, schemes=["approach"])
    assert "green_blue_space" not in codes_of(before, "approach")
    # plain tuples work as feedback too
    [after] = suggest_codes([later], codebook, model=model, schemes=["approach"],
                            feedback=[(taught, "approach", "green_blue_space", True)])
    assert codes_of(after, "approach")[0] == "green_blue_space"
    [unrelated] = suggest_codes(["Payday loans and debt advice for tenants."], codebook,
                                model=model, schemes=["approach"],
                                feedback=[(taught, "approach", "green_blue_space", True)])
    assert "green_blue_space" not in codes_of(unrelated, "approach")


def test_long_texts_are_read_in_windows(codebook, model):
    filler = " ".join(["The weather was mild and the meeting ran late."] * 60)
    text = "A report on local services. " + filler + " The scheme offered debt advice and " \
        "credit union accounts to every household."
    [found] = suggest_codes([text], codebook, model=model, schemes=["approach"])
    assert "financial_inclusion" in codes_of(found, "approach")


def test_record_text_joins_the_fields_worth_reading():
    record = Record(title="Title", abstract="Abstract.", keywords=["a", "b"], full_text="Body")
    assert record_text(record) == "Title\nAbstract.\na; b\nBody"
    assert record_text(record, full_text=False) == "Title\nAbstract.\na; b"


@pytest.fixture
def coded_review(store):
    review = store.create_review("Coding review")
    store.add_import(review.id, [Record(title="Link workers and loneliness",
                                        abstract="Social prescribing reduced loneliness."),
                                 Record(title="Parks", abstract="Green space and wellbeing.")],
                     filename="studies.csv", format="csv", sha256="a" * 64, size_bytes=10)
    ids = [s.id for s in store.list_records(review.id)]
    return review.id, ids


def test_suggest_confirm_reject_and_findings_are_stored_and_audited(store, coded_review):
    review_id, (first, second) = coded_review
    stored = store_suggestions(store, review_id, first, [
        Suggestion("approach", "social_prescribing", 0.91),
        Suggestion("outcome", "reduced_isolation", 0.8),
        Suggestion("design", "rct", 0.45)], "robot")
    assert stored == 3
    pending = record_codes_for_review(store, review_id, status="suggested")
    assert {(c.scheme, c.code, c.source) for c in pending} == {
        ("approach", "social_prescribing", "auto"), ("outcome", "reduced_isolation", "auto"),
        ("design", "rct", "auto")}

    confirmed = confirm_code(store, review_id, first, "approach", "social_prescribing", "alice")
    assert (confirmed.status, confirmed.source, confirmed.confidence) == ("confirmed", "auto", 0.91)
    reject_code(store, review_id, first, "design", "rct", "alice")
    confirm_code(store, review_id, first, "design", "qualitative", "alice")  # a human code
    with pytest.raises(ReviewkitError):
        set_finding(store, review_id, first, "outcome", "reduced_isolation", "upwards", "", "bob")
    finding = set_finding(store, review_id, first, "outcome", "reduced_isolation", "positive",
                          "  Loneliness   fell after six months. ", "bob")
    assert finding.finding == "Loneliness fell after six months."

    # a fresh round of suggestions replaces pending ones but leaves people's calls alone
    store_suggestions(store, review_id, first, [Suggestion("design", "rct", 0.5),
                                                Suggestion("outcome", "mental_health", 0.6)],
                      "robot")
    current = {(c.scheme, c.code): c for c in record_codes_for_review(store, review_id, None)}
    assert current[("design", "rct")].status == "rejected"
    assert current[("outcome", "mental_health")].status == "suggested"
    assert current[("outcome", "reduced_isolation")].direction == "positive"
    assert current[("design", "qualitative")].source == "human"
    # one current row per code: earlier ones are superseded, never deleted
    assert len(current) == len(record_codes_for_review(store, review_id, None))
    confirmed = {(c.scheme, c.code) for c in record_codes_for_review(store, review_id)}
    assert confirmed == {("approach", "social_prescribing"), ("outcome", "reduced_isolation"),
                         ("design", "qualitative")}
    actions = [e.action for e in store.audit_entries(review_id)]
    for action in ("coding.suggest", "coding.confirm", "coding.reject", "coding.finding"):
        assert action in actions


def test_feedback_from_the_review_and_repointing(store, coded_review):
    review_id, (first, second) = coded_review
    confirm_code(store, review_id, first, "approach", "environmental_assets", "alice")
    confirm_code(store, review_id, second, "approach", "environmental_assets", "alice")
    confirm_code(store, review_id, second, "approach", "green_blue_space", "alice")
    reject_code(store, review_id, first, "design", "rct", "alice")
    calls = review_feedback(store, review_id)
    assert Feedback("Link workers and loneliness\nSocial prescribing reduced loneliness.",
                    "design", "rct", False) in calls
    assert sum(c.accepted for c in calls) == 3

    moved = repoint_codes(store, review_id, "approach", "environmental_assets",
                          "green_blue_space", "alice")
    assert moved == 2
    codes = record_codes_for_review(store, review_id)
    assert sorted((c.record_id, c.code) for c in codes if c.scheme == "approach") == [
        (first, "green_blue_space"), (second, "green_blue_space")]
    assert any(e.action == "coding.repoint" for e in store.audit_entries(review_id))


def test_code_csv_writes_the_contract_columns(tmp_path, model):
    source = tmp_path / "studies.csv"
    source.write_text(
        "record_id,title,abstract,journal\n"
        "S1,Debt advice in Sefton,Credit unions and money advice for young people.,X\n"
        "S2,Unrelated,Pharmacokinetics of a new drug.,Y\n", encoding="utf-8")
    output = tmp_path / "codes.csv"
    written = code_csv(source, output, model=model)
    with open(output, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == CODE_CSV_COLUMNS == ("record_id", "scheme", "code", "confidence")
    assert len(rows) - 1 == written > 0
    assert ["S1", "approach", "financial_inclusion"] in [r[:3] for r in rows[1:]]
    assert {r[1] for r in rows[1:]} <= {"approach", "outcome", "design"}
    assert all(0 <= float(r[3]) <= 1 for r in rows[1:])

    broken = tmp_path / "broken.csv"
    broken.write_text("id,title\n1,x\n", encoding="utf-8")
    with pytest.raises(ReviewkitError, match="record_id"):
        code_csv(broken, tmp_path / "out.csv", model=model)


@pytest.mark.slow
def test_real_model_codes_a_clear_abstract():
    text = ("Evaluating social prescribing: GPs referred isolated older patients to link "
            "workers, who connected them with befriending and community groups. Interviews "
            "with 30 patients described less loneliness.")
    [found] = suggest_codes([text], load_codebook())
    assert codes_of(found, "approach")[0] == "social_prescribing"
    assert "reduced_isolation" in codes_of(found, "outcome")
    assert codes_of(found, "design")[0] in ("qualitative", "evaluation")
