"""Topic clustering and the embedding cache."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from reviewkit.clustering import (
    CLUSTER_CSV_COLUMNS,
    cluster_records,
    cluster_review,
    distinctive_terms,
)
from reviewkit.embedding_cache import (
    DEFAULT_MODEL_NAME,
    embeddings_for_records,
    forget_embeddings,
    model_name,
)
from reviewkit.errors import ReviewkitError
from reviewkit.files import cluster_csv
from reviewkit.records import Record
from tests.test_coding import WordCountModel

TOPICS = {
    "cats": ["cats", "kittens", "purring", "whiskers", "litter", "feline", "claws"],
    "rockets": ["rockets", "orbit", "launch", "satellites", "thrust", "booster", "payload"],
    "baking": ["bread", "flour", "yeast", "oven", "dough", "sourdough", "crust"],
}


def topic_texts(per_topic: int = 8, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    texts, truth = [], []
    for topic, words in TOPICS.items():
        for _ in range(per_topic):
            picked = rng.choice(words, size=5, replace=False)
            texts.append("A study of " + " and ".join(picked) + ".")
            truth.append(topic)
    return texts, truth


class RefusingModel:
    def encode(self, texts):
        raise AssertionError("the embeddings were given: nothing should be encoded")


def test_obvious_groups_are_recovered_and_k_is_chosen():
    texts, truth = topic_texts()
    found = cluster_records(texts, model=WordCountModel())
    assert found.k == 3
    assert adjusted_rand_score(truth, found.labels) == 1.0
    assert max(found.k_scores, key=found.k_scores.get) == 3
    assert found.quality > 0.2 and found.k_scores[3] > 0.2
    assert sum(found.sizes.values()) == len(texts)
    assert found.coords_2d.shape == (len(texts), 2)
    # each group is named by its own topic's words
    for group, label in found.cluster_labels.items():
        members = {truth[i] for i, g in enumerate(found.labels) if g == group}
        [topic] = members
        assert set(label.split(", ")) <= set(TOPICS[topic]), label


def test_k_can_be_fixed_and_groups_are_numbered_by_size():
    texts, _ = topic_texts()
    texts += ["A study of cats and kittens and whiskers and claws and feline."] * 4
    found = cluster_records(texts, model=WordCountModel(), k=2)
    assert found.k == 2 and found.k_scores == {}
    assert found.sizes[0] >= found.sizes[1]
    assert len(set(found.labels)) == 2


def test_given_embeddings_skip_the_model_and_tsne_works():
    texts, truth = topic_texts(per_topic=6)
    vectors = WordCountModel().encode(texts)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    found = cluster_records(texts, embeddings=vectors, model=RefusingModel(), projection="tsne")
    assert adjusted_rand_score(truth, found.labels) == 1.0
    assert found.coords_2d.shape == (18, 2)
    with pytest.raises(ReviewkitError):
        cluster_records(texts, embeddings=vectors[:3])
    with pytest.raises(ReviewkitError):
        cluster_records(texts, embeddings=vectors, projection="umap")


@pytest.mark.parametrize("n", [0, 1, 2])
def test_tiny_inputs_make_one_group_or_none(n):
    texts = ["Green space and parks.", "Debt advice."][:n]
    found = cluster_records(texts, model=WordCountModel())
    assert found.labels == [0] * n
    assert found.k == (1 if n else 0)
    assert found.coords_2d.shape == (n, 2)


def test_distinctive_terms_prefer_phrases_over_their_words():
    texts = ["social prescribing link workers"] * 3 + ["credit union debt advice"] * 3
    terms = distinctive_terms(texts, [0, 0, 0, 1, 1, 1])
    assert set(terms[0][:2]) == {"social prescribing", "link workers"}
    assert "social" not in terms[0] and "prescribing" not in terms[0]
    assert all("debt" not in t and "credit" not in t for t in terms[0])


@pytest.fixture
def stored(store):
    review = store.create_review("Clustering review")
    texts, truth = topic_texts(per_topic=5)
    store.add_import(review.id, [Record(title=t) for t in texts], filename="t.csv",
                     format="csv", sha256="b" * 64, size_bytes=1)
    ids = [s.id for s in store.list_records(review.id)]
    return review.id, ids, texts, truth


def test_embeddings_are_cached_per_record_model_and_text(store, stored):
    review_id, ids, texts, _ = stored
    model = WordCountModel()
    done = []
    first = embeddings_for_records(store, ids, texts, model=model,
                                   progress=lambda a, b: done.append((a, b)))
    assert model.texts == len(texts) and done[-1] == (len(texts), len(texts))
    again = embeddings_for_records(store, ids, texts, model=model)
    assert model.texts == len(texts)  # all from the cache
    np.testing.assert_allclose(first, again, rtol=1e-6)
    assert np.allclose(np.linalg.norm(again, axis=1), 1.0, atol=1e-5)

    changed = list(texts)
    changed[0] = "A study of rockets and orbit."
    embeddings_for_records(store, ids, changed, model=model)
    assert model.texts == len(texts) + 1  # only the changed text
    other = embeddings_for_records(store, ids[:2], changed[:2], model=model, name="other-model")
    assert other.shape[0] == 2 and model.texts == len(texts) + 3
    assert forget_embeddings(store, name="other-model") == 2
    with pytest.raises(ReviewkitError):
        embeddings_for_records(store, ids, texts[:-1], model=model)


def test_cluster_review_reads_the_store_and_fills_the_cache(store, stored):
    review_id, ids, _, truth = stored
    model = WordCountModel()
    record_ids, found = cluster_review(store, review_id, model=model)
    assert record_ids == ids
    assert adjusted_rand_score(truth, found.labels) == 1.0
    seen = model.texts
    cluster_review(store, review_id, model=model)
    assert model.texts == seen  # second time, nothing embedded


def test_model_names():
    assert model_name(None) == DEFAULT_MODEL_NAME
    assert model_name(WordCountModel()) == "word-count-test"
    assert model_name(RefusingModel()) == "RefusingModel"


def test_cluster_csv_writes_the_contract_columns(tmp_path):
    texts, truth = topic_texts(per_topic=4)
    source = tmp_path / "in.csv"
    with open(source, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "title", "abstract", "year"])
        for i, text in enumerate(texts):
            writer.writerow([f"R{i}", text, "", 2020])
    output = tmp_path / "clusters.csv"
    result = cluster_csv(source, output, k=3, model=WordCountModel())
    with open(output, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == CLUSTER_CSV_COLUMNS == ("record_id", "cluster_id", "cluster_label")
    assert [r[0] for r in rows[1:]] == [f"R{i}" for i in range(len(texts))]
    assert {int(r[1]) for r in rows[1:]} == {0, 1, 2}
    assert all(r[2] == result.cluster_labels[int(r[1])] for r in rows[1:])
