"""Screening: ranking, cold start, honest simulation, stopping advice, embeddings."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from reviewkit.embeddings import embed
from reviewkit.errors import FormatError, NotFoundError
from reviewkit.files import read_simulation_csv, simulate_csv
from reviewkit.screening import (
    Ranker,
    estimate_remaining,
    rank_by_criteria,
    simulate,
    stopping_advice,
)
from reviewkit.screening.model import MODELS
from reviewkit.screening.simulation import record_texts
from reviewkit.screening.stopping import (
    STOPPING_RULES,
    estimate_remaining_by_rate,
    first_safe_position,
    random_sample_needed,
    stopping_trace,
)

SYNERGY = Path("/work/shared/data/synergy")

# A small review: emicizumab pharmacokinetics is relevant, the rest is what a search also finds.
RELEVANT = [
    "Emicizumab pharmacokinetics in children with haemophilia A: plasma concentration over time",
    "Population pharmacokinetics of emicizumab prophylaxis in haemophilia A with inhibitors",
    "Emicizumab plasma levels and dosing interval: a pharmacokinetic model in haemophilia A",
    "Pharmacokinetic modelling of subcutaneous emicizumab in adults with haemophilia A",
    "Emicizumab pharmacokinetics and clearance in infants with severe haemophilia A",
    "Steady-state emicizumab concentrations with weekly and monthly dosing in haemophilia A",
]
IRRELEVANT = [
    "Factor VIII gene therapy outcomes in haemophilia A: five-year follow-up",
    "Joint bleeding and physiotherapy in adults with haemophilia B",
    "Cost of illness of von Willebrand disease in European countries",
    "Dental extraction in patients taking warfarin: bleeding risk",
    "Immune tolerance induction with plasma-derived factor VIII concentrates",
    "Quality of life of carriers of haemophilia: a questionnaire survey",
    "Thrombosis after hip replacement surgery and low molecular weight heparin",
    "Platelet function testing before cardiac surgery",
    "Iron deficiency anaemia in pregnant women: oral versus intravenous iron",
    "Genetic counselling for families with bleeding disorders",
    "Recombinant factor IX with extended half-life in haemophilia B",
    "Bleeding scores in children referred for easy bruising",
    "Anticoagulation reversal with prothrombin complex concentrate",
    "Menstrual bleeding in adolescents with von Willebrand disease",
    "Physical activity and sport participation in boys with haemophilia",
    "Fibrinogen concentrate in postpartum haemorrhage: a randomised trial",
    "Inhibitor development in previously untreated patients with haemophilia A",
    "Home treatment programmes for haemophilia in low-income countries",
]
TEXTS = RELEVANT + IRRELEVANT
LABELS = [1] * len(RELEVANT) + [0] * len(IRRELEVANT)
IDS = [f"r{i:02d}" for i in range(len(TEXTS))]


class HashingEncoder:
    """A stand-in sentence model: a bag of hashed words, enough to make similar texts close."""

    def __init__(self, dimensions: int = 64):
        self.dimensions = dimensions
        self.calls = 0

    def encode(self, texts):
        self.calls += 1
        rows = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in zip(rows, texts, strict=True):
            for word in text.lower().split():
                digest = hashlib.md5(word.strip(".,:;()").encode()).digest()
                row[int.from_bytes(digest[:4], "little") % self.dimensions] += 1.0
        return rows


class RecordingLabels:
    """Labels that log every read, so a test can see when the simulation looked."""

    def __init__(self, values):
        self._values = list(values)
        self.reads: list[int] = []

    def __len__(self):
        return len(self._values)

    def __getitem__(self, index):
        self.reads.append(index)
        return self._values[index]

    def __iter__(self):
        raise AssertionError("the simulation must not read all labels at once")


def test_relevant_records_rank_above_irrelevant_after_a_few_labels():
    labels = {0: 1, 1: 1, len(RELEVANT): 0, len(RELEVANT) + 1: 0, len(RELEVANT) + 2: 0}
    ranking = Ranker(random_state=0).fit(TEXTS, labels).rank()
    unscreened_relevant = set(range(len(RELEVANT))) - set(labels)
    assert set(ranking[: len(unscreened_relevant)]) == unscreened_relevant
    assert not set(ranking) & set(labels)


def test_rank_skips_excluded_records_and_scores_every_record():
    ranker = Ranker().fit(TEXTS, {0: 1, 10: 0})
    assert 2 not in ranker.rank(exclude={2})
    assert ranker.scores().shape == (len(TEXTS),)


def test_ranker_follows_the_estimator_contract():
    ranker = Ranker(exploration=0.1, random_state=3)
    assert ranker.get_params()["exploration"] == 0.1
    assert not [name for name in vars(ranker) if name.endswith("_")]
    assert ranker.fit(TEXTS, {0: 1, 9: 0}) is ranker
    fresh = clone(ranker)
    assert fresh.get_params() == ranker.get_params()
    assert not hasattr(fresh, "scores_")


@pytest.mark.parametrize("model", list(MODELS))
def test_every_model_ranks_relevant_records_first(model):
    labels = {0: 1, 1: 1, len(RELEVANT): 0, len(RELEVANT) + 1: 0}
    ranker = Ranker(model=model, encoder=HashingEncoder(), random_state=0).fit(TEXTS, labels)
    order = ranker.rank()
    relevant_left = set(range(2, len(RELEVANT)))
    # The four other relevant records among the first six of the 20 left.
    assert len(relevant_left & set(order[:6])) >= 3, (model, order)
    assert ranker.used_classifier_ and len(ranker.scores()) == len(TEXTS)


def test_an_unknown_model_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="tfidf_svm, tfidf_logistic"):
        Ranker(model="bert").fit(TEXTS, {0: 1, 9: 0})
    with pytest.raises(ValueError, match="unknown screening model 'bert'"):
        simulate(IDS, TEXTS, LABELS, model="bert")


def test_exploration_is_reproducible_by_random_state():
    def ranking(seed):
        return Ranker(exploration=0.5, random_state=seed).fit(TEXTS, {0: 1, 9: 0}).rank()

    assert ranking(7) == ranking(7)
    assert sorted(ranking(7)) == sorted(Ranker().fit(TEXTS, {0: 1, 9: 0}).rank())


def test_without_relevant_decisions_the_criteria_lead():
    ranker = Ranker(criteria="emicizumab pharmacokinetics").fit(TEXTS, {9: 0})
    assert ranker.rank()[0] < len(RELEVANT)


@pytest.mark.parametrize("use_embeddings", [False, True])
def test_rank_by_criteria_puts_matching_records_first(use_embeddings):
    criteria = "Studies of emicizumab pharmacokinetics or plasma concentration in haemophilia A"
    encoder = HashingEncoder()
    embeddings = embed(TEXTS, model=encoder) if use_embeddings else None
    ranking = rank_by_criteria(TEXTS, criteria, embeddings=embeddings, model=encoder)
    assert sorted(ranking) == list(range(len(TEXTS)))
    top = ranking[: len(RELEVANT)]
    assert sum(index < len(RELEVANT) for index in top) >= len(RELEVANT) - 1


def test_rank_by_criteria_without_criteria_keeps_the_file_order():
    assert rank_by_criteria(TEXTS, "  ") == list(range(len(TEXTS)))


def test_simulate_reads_each_label_only_when_it_asks_for_that_record():
    labels = RecordingLabels(LABELS)
    order = simulate(IDS, TEXTS, labels, prior_included=["r02"], prior_excluded=["r10"], seed=1)
    assert sorted(order) == sorted(IDS)
    # Priors come from the reviewer's own lists; every other label is read once, in turn.
    assert [IDS[index] for index in labels.reads] == order[2:]


def test_simulate_puts_priors_first_and_finds_relevant_records_early():
    order = simulate(IDS, TEXTS, LABELS, prior_included=["r00"], prior_excluded=["r20", "r21"])
    assert order[:3] == ["r00", "r20", "r21"]
    relevant_left = set(IDS[1 : len(RELEVANT)])
    # One slip allowed: with one relevant example a shared phrase can mislead once.
    assert relevant_left <= set(order[3 : 3 + len(relevant_left) + 1])


def test_simulate_without_priors_starts_from_the_criteria_ranking():
    labels = RecordingLabels(LABELS)
    order = simulate(IDS, TEXTS, labels, criteria="emicizumab pharmacokinetics")
    assert IDS.index(order[0]) < len(RELEVANT)


def test_simulate_is_deterministic_for_a_seed():
    def run(seed):
        return simulate(IDS, TEXTS, LABELS, prior_included=["r01"], prior_excluded=["r22"], seed=seed)

    assert run(4) == run(4)


def test_simulate_rejects_unknown_priors():
    with pytest.raises(NotFoundError, match="r99"):
        simulate(IDS, TEXTS, LABELS, prior_included=["r99"])


def test_simulate_csv_writes_the_screening_order(tmp_path):
    source = tmp_path / "review.csv"
    pd.DataFrame(
        {
            "record_id": IDS,
            "title": TEXTS,
            "abstract": [""] * len(TEXTS),
            "label_included": LABELS,
        }
    ).to_csv(source, index=False)
    output = tmp_path / "order.csv"
    order = simulate_csv(source, output, prior_included=["r00"], prior_excluded=["r07"], seed=2)
    written = pd.read_csv(output, dtype=str)
    assert list(written.columns) == ["record_id"]
    assert written["record_id"].tolist() == order
    assert order[:2] == ["r00", "r07"]


def test_simulate_csv_names_a_missing_column(tmp_path):
    source = tmp_path / "review.csv"
    pd.DataFrame({"record_id": ["a"], "title": ["x"]}).to_csv(source, index=False)
    with pytest.raises(FormatError, match="abstract, label_included"):
        simulate_csv(source, tmp_path / "order.csv")


def test_nothing_left_to_screen_is_safe_to_stop():
    advice = stopping_advice([1, 0, 1, 0, 0], 5, recall_target=0.95)
    assert advice.safe_to_stop
    assert advice.estimate.upper == 0
    assert "Every record" in advice.plain_words


def test_few_records_screened_is_not_safe_to_stop():
    advice = stopping_advice([1, 1, 0, 0, 0, 0, 0, 0, 0, 0], 2000)
    assert not advice.safe_to_stop
    assert "keep screening" in advice.plain_words
    assert advice.estimate.upper > advice.max_missed


def test_a_long_run_without_relevant_records_is_safe_to_stop():
    decisions = [1] * 30 + [0, 1] * 10 + [0] * 1500
    advice = stopping_advice(decisions, 2000, recall_target=0.9)
    assert advice.safe_to_stop, advice.plain_words
    assert advice.p_value < 0.05
    assert "safe to stop" in advice.plain_words


def test_a_random_sample_with_relevant_records_is_not_safe():
    ranked = [1] * 40 + [0] * 200
    sample = [0] * 95 + [1] * 5  # 5 % of a random sample relevant: many are left
    advice = stopping_advice(ranked + sample, 3000, random_from=len(ranked))
    assert not advice.safe_to_stop
    assert advice.estimate.method == "random sample"
    assert advice.estimate.expected > 50


@pytest.mark.parametrize("target", [0.8, 0.95, 1.0])
def test_stricter_targets_never_stop_earlier(target):
    decisions = [1] * 30 + [0, 1] * 10 + [0] * 400
    loose = stopping_advice(decisions, 2000, recall_target=0.8)
    strict = stopping_advice(decisions, 2000, recall_target=target)
    assert strict.p_value >= loose.p_value - 1e-12
    assert strict.safe_to_stop <= loose.safe_to_stop


def test_remaining_estimate_shrinks_as_the_run_without_relevant_grows():
    early = estimate_remaining([1] * 20 + [0] * 50, 5000)
    later = estimate_remaining([1] * 20 + [0] * 1500, 5000)
    assert later.upper < early.upper
    assert later.expected < early.expected


# A ranked run as an active learner produces it: steady finds, then a fall, then nothing.
RANKED = [1] * 20 + [0, 1] * 20 + [0, 0, 0, 1] * 8 + [0] * 150


@pytest.mark.parametrize("rule", list(STOPPING_RULES))
def test_the_trace_gives_the_advice_after_every_decision(rule):
    trace = stopping_trace(RANKED, 1500, rule=rule)
    for end in (1, 40, 95, 150, 200, len(RANKED)):
        assert trace[end - 1] == stopping_advice(RANKED[:end], 1500, rule=rule).safe_to_stop
    first = first_safe_position(RANKED, 1500, rule=rule)
    assert first is None or (trace[first - 1] and not any(trace[: first - 1]))


def test_the_counting_rule_stops_before_the_exact_test_when_finds_have_dried_up():
    counting = first_safe_position(RANKED, 1500, rule="counting")
    exact = first_safe_position(RANKED, 1500, rule="hypergeometric")
    assert counting is not None and counting > 92  # not before the last find
    assert exact is None or counting < exact
    advice = stopping_advice(RANKED[:counting], 1500, rule="counting")
    assert advice.safe_to_stop and advice.model.method == "counting process"
    assert advice.model.upper <= advice.max_missed < advice.estimate.upper


def test_the_rate_estimate_grows_when_finds_keep_coming():
    drying = estimate_remaining_by_rate([1] * 30 + [0, 1] * 10 + [0] * 120, 2000)
    steady = estimate_remaining_by_rate([1] * 30 + [0, 1] * 70, 2000)
    assert steady.upper > drying.upper and steady.expected > drying.expected
    assert estimate_remaining_by_rate([0] * 50, 2000) is None


def test_a_random_sample_of_the_advised_size_proves_the_target():
    ranked = [1] * 40 + [0] * 60
    advice = stopping_advice(ranked, 1000)
    needed = advice.random_needed
    assert needed == random_sample_needed(900, advice.max_missed)
    enough = stopping_advice(ranked + [0] * needed, 1000, random_from=len(ranked))
    short = stopping_advice(ranked + [0] * (needed - 1), 1000, random_from=len(ranked))
    assert enough.safe_to_stop and not short.safe_to_stop
    assert f"about {needed:,} more records drawn at random" in advice.plain_words


@pytest.mark.parametrize("rule", list(STOPPING_RULES))
def test_the_advice_speaks_in_whole_records(rule):
    for end in (30, 80, 150):
        words = stopping_advice(RANKED[:end], 1500, rule=rule).plain_words
        assert not re.search(r"\d\.\d", words), words
        assert "relevant records are left (up to" in words


def test_the_heuristic_waits_for_ten_percent_and_fifty_misses():
    assert not stopping_advice([1] * 10 + [0] * 60, 1000, rule="heuristic").safe_to_stop
    assert stopping_advice([1] * 10 + [0] * 100, 1000, rule="heuristic").safe_to_stop
    assert not stopping_advice([1] * 10 + [0] * 100 + [1], 1000, rule="heuristic").safe_to_stop


def test_an_unknown_rule_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="counting, hypergeometric, heuristic"):
        stopping_advice([1, 0], 10, rule="knee")


@pytest.mark.skipif(not SYNERGY.exists(), reason="SYNERGY sets not found at /work/shared/data/synergy")
def test_on_a_real_review_the_counting_rule_stops_sooner_with_every_include_found():
    frame = read_simulation_csv(SYNERGY / "Donners_2021.csv")
    ids, labels = frame["record_id"].tolist(), frame["label_included"].tolist()
    first_in, first_out = labels.index(1), labels.index(0)
    order = simulate(ids, record_texts(frame), labels, prior_included=[ids[first_in]],
                     prior_excluded=[ids[first_out]], seed=1)
    label_of = dict(zip(ids, labels, strict=True))
    in_order = [label_of[record_id] for record_id in order]
    counting = first_safe_position(in_order, len(ids), rule="counting")
    exact = first_safe_position(in_order, len(ids), rule="hypergeometric")
    assert counting < exact
    # 15 includes: 95 % recall means finding all 15 before the stop.
    assert sum(in_order[:counting]) == sum(labels) == 15


def test_embed_returns_unit_float32_rows_and_reports_progress():
    seen = []
    vectors = embed(TEXTS, model=HashingEncoder(), batch_size=5, progress=lambda d, t: seen.append(d))
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 64)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert seen[-1] == len(TEXTS) and len(seen) == -(-len(TEXTS) // 5)


@pytest.mark.slow
def test_real_model_ranks_matching_records_first_by_criteria():
    from reviewkit.embeddings import load_model

    model = load_model()
    embeddings = embed(TEXTS, model=model)
    assert embeddings.shape == (len(TEXTS), 384)
    ranking = rank_by_criteria(
        TEXTS, "emicizumab pharmacokinetics", embeddings=embeddings, model=model
    )
    assert sum(index < len(RELEVANT) for index in ranking[: len(RELEVANT)]) >= len(RELEVANT) - 1


def test_the_rate_model_waits_until_there_is_enough_to_fit():
    # After include, exclude, exclude (a maybe is not a decision) the model is not offered.
    early = stopping_advice([1, 0, 0], 66, rule="counting")
    assert early.model is None and not early.safe_to_stop
    assert "too early to estimate" in early.plain_words
    assert "3 of 66 records have been decided" in early.plain_words
    assert "relevant records are left (up to" not in early.plain_words
    # Two relevant records among many decisions are still too few to fit a rate to.
    assert stopping_advice([1, 1] + [0] * 40, 1500).model is None
    later = stopping_advice(RANKED[:60], 1500)
    assert later.model is not None and "too early" not in later.plain_words
    assert not any(stopping_trace([1, 1] + [0] * 200, 1500, rule="counting"))


def test_large_review_features_are_made_in_a_child_process_that_does_not_rerun_main(
        monkeypatch, tmp_path):
    """The Screen page makes a big review's TF-IDF features in a child process. In the app,
    ``__main__`` is the page script; the child must not run it (multiprocessing's spawn did,
    failed, and the work fell back into the server), and it must work from any folder."""
    import subprocess
    import sys
    import types

    from reviewkit.screening import queue
    from reviewkit.screening.model import text_features

    page = tmp_path / "page.py"
    page.write_text("raise SystemExit('the page script ran in the child')\n", encoding="utf-8")
    fake_main = types.ModuleType("__main__")
    fake_main.__file__ = str(page)
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    monkeypatch.chdir(tmp_path)
    ran = []
    real_run = subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: ran.append(a[0]) or real_run(*a, **k))
    texts = [f"Peer support group {i} for carers in ward {i % 7}" for i in range(50)]
    expected = text_features(texts)

    def no_fallback(_texts):
        raise AssertionError("the child process failed; the features were made here")

    monkeypatch.setattr("reviewkit.screening.model.text_features", no_fallback)
    made = queue.features_in_a_process(texts)
    assert ran and ran[0][1:] == ["-m", "reviewkit.screening.model"]
    assert (made != expected).nnz == 0 and made.shape[0] == 50


def test_a_large_review_takes_the_criteria_order_from_a_child_process(monkeypatch):
    """From FEATURES_IN_A_PROCESS_FROM records the criteria ranking is made off the page's
    run: the records keep their own order at first, then the order is the one
    rank_by_criteria gives, exactly."""
    import time

    from reviewkit.screening import queue

    monkeypatch.setattr(queue, "FEATURES_IN_A_PROCESS_FROM", 40)
    texts = [f"Record {i} on {'blue light and sleep' if i % 9 == 0 else 'garden design'} "
             f"in ward {i % 13}" for i in range(60)]
    ids = [1000 + i for i in range(60)]
    criteria = "Does blue light affect sleep?\nAdults"
    started = queue.Prioritiser(ids, texts, criteria)
    expected = [ids[i] for i in rank_by_criteria(texts, criteria)]
    deadline = time.monotonic() + 120
    while started.order() != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert started.order() == expected
    assert set(expected[:7]) == {ids[i] for i in range(0, 60, 9)}  # blue-light records first


def test_a_failed_retraining_leaves_the_order_and_the_next_decision_tries_again(caplog):
    # the texts are read in the retraining thread: a failure there (a database busy just then)
    # must not stop the prioritiser from ever learning again
    from reviewkit.screening import queue

    texts = [f"study {i} about {'sleep' if i % 3 == 0 else 'traffic'}" for i in range(30)]
    calls = []

    def read_texts() -> list[str]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        return texts

    ids = list(range(100, 130))
    ranker = queue.Prioritiser(ids, read_texts, "")
    ranker.update({100: 1, 101: 0}, wait=True)
    assert not ranker.learned and ranker.order() == ids
    assert "retraining the screening order failed" in caplog.text
    ranker.update({100: 1, 101: 0, 102: 0}, wait=True)
    assert ranker.learned and len(calls) == 2
    assert (ranker.order()[0] - 100) % 3 == 0  # another "sleep" study first, as the include
