"""The Clusters page under AppTest on the demo review, and the plain functions it draws with."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from reviewkit.clustering import (
    CLUSTER_CSV_COLUMNS,
    MIN_AVERAGE_TOPIC_SIZE,
    assignments_csv,
    choose_k,
    cluster_figure,
    cluster_records,
    cluster_review,
    cluster_summary,
    cluster_table,
    included_record_ids,
    study_details,
)
from reviewkit.files import cluster_csv
from reviewkit.store import Store
from reviewkit.store.schema import embeddings
from tests.templates import demo_review
from tests.test_clustering import topic_texts
from tests.test_coding import WordCountModel

# The page as the app draws it, with the sidebar.  The test script also keeps a handle on the
# in-memory media store that AppTest sets up, so a test can read what a download would give.
PAGE = """
import streamlit as st
from streamlit import runtime
from reviewkit.ui import common
from reviewkit.ui import clusters_page as page
common.sidebar()
page.render()
st.session_state["_test_media"] = runtime.get_instance().media_file_mgr
"""


@pytest.fixture
def database_url(tmp_path, monkeypatch):
    import streamlit as st

    url = f"sqlite:///{tmp_path / 'clusters.sqlite'}"
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", url)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield url
    st.cache_resource.clear()


@pytest.fixture
def demo(database_url):
    """The store the page will open, holding the demo review, and that review."""
    store = Store(database_url)
    review = demo_review(store)
    yield store, review
    store.close()


def _page() -> AppTest:
    return AppTest.from_string(PAGE, default_timeout=180)


def _topics(at: AppTest):
    return at.dataframe[0].value


def _studies(at: AppTest):
    return at.dataframe[1].value


def _download(at: AppTest) -> bytes:
    url = at.download_button[0].proto.url
    file = at.session_state["_test_media"].read_file(url.rsplit("/", 1)[-1].split(".")[0])
    assert file is not None, url
    return file.content


def _embedding_rows(store: Store) -> list[tuple]:
    with store.read() as conn:
        return [tuple(r) for r in conn.execute(
            select(embeddings.c.record_id, embeddings.c.model, embeddings.c.text_sha256,
                   embeddings.c.vector).order_by(embeddings.c.record_id))]


# -- the page ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_page_groups_the_included_studies_into_topics(demo):
    store, review = demo
    included = included_record_ids(store, review)
    assert len(included) >= 10
    at = _page().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Clusters"
    assert at.get("plotly_chart"), "the 2-D map is drawn"
    topics = _topics(at)
    assert list(topics.columns) == ["Topic", "Label", "Studies", "Distinctive terms"]
    assert topics["Studies"].sum() == len(included)
    assert len(topics) >= 2 and all(topics["Label"].str.len() > 0)
    summary = next(m.value for m in at.markdown if "studies in" in m.value)
    assert f"{len(included)} studies in {len(topics)} topics" in summary
    assert "chosen automatically" in summary
    # topics of about five studies or more, not a dozen topics of one or two
    assert len(topics) <= len(included) // 5
    # the largest topic is shown first, with exactly as many studies as its size
    assert len(_studies(at)) == topics["Studies"].iloc[0]


@pytest.mark.slow
def test_a_chosen_number_of_topics_and_a_chosen_topic_lists_exactly_its_studies(demo):
    store, review = demo
    at = _page().run()
    at.selectbox(key="clusters_k").select(3).run()
    assert not at.exception, at.exception
    topics = _topics(at)
    assert len(topics) == 3
    assert "in 3 topics; you chose" in next(m.value for m in at.markdown if "topics" in m.value)

    # the same grouping, worked out here from the library, says which studies are in topic 2
    ids, expected = cluster_review(store, review.id, k=3,
                                   record_ids=included_record_ids(store, review))
    details = study_details(store, ids)
    at.selectbox(key="clusters_pick").select(1).run()
    assert not at.exception, at.exception
    shown = _studies(at)
    members = [rid for rid, label in zip(ids, expected.labels) if label == 1]
    assert sorted(shown["Title"]) == sorted(details[r]["title"] for r in members)
    assert len(shown) == topics["Studies"].iloc[1] == expected.sizes[1]
    assert list(shown.columns) == ["Title", "Year", "Journal"]


@pytest.mark.slow
def test_csv_download_has_the_cli_columns_and_every_study_once(demo):
    store, review = demo
    at = _page().run()
    at.radio(key="clusters_set").set_value("all").run()
    assert not at.exception, at.exception
    kept = store.kept_record_ids(review.id)
    rows = list(csv.reader(io.StringIO(_download(at).decode("utf-8"))))
    assert tuple(rows[0]) == CLUSTER_CSV_COLUMNS
    body = rows[1:]
    assert sorted(int(r[0]) for r in body) == sorted(kept)
    topics = _topics(at)
    assert topics["Studies"].sum() == len(kept)
    labels = dict(zip(topics["Topic"] - 1, topics["Label"]))
    for _, cluster_id, label in body:
        assert labels[int(cluster_id)] == label


@pytest.mark.slow
def test_embeddings_are_made_once_and_read_from_the_database_after(demo):
    store, review = demo
    included = included_record_ids(store, review)
    assert _embedding_rows(store) == []
    first = _page().run()
    assert not first.exception, first.exception
    stored = _embedding_rows(store)
    assert sorted(r[0] for r in stored) == sorted(included)  # one row per study

    # a new session (nothing kept in memory) reads the vectors back and rewrites none
    second = _page().run()
    assert not second.exception, second.exception
    assert _embedding_rows(store) == stored
    assert _topics(second).equals(_topics(first))
    # and, asked directly, nothing is left to embed: the progress callback is never called
    calls = []
    cluster_review(store, review.id, record_ids=included, progress=lambda *a: calls.append(a))
    assert calls == []


@pytest.mark.slow
def test_progress_is_reported_while_new_studies_are_embedded(demo):
    store, review = demo
    calls = []
    ids, _ = cluster_review(store, review.id, progress=lambda done, total: calls.append(
        (done, total)))
    assert calls and calls[-1] == (len(ids), len(ids))
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_page_without_included_studies_says_what_to_do(database_url, monkeypatch):
    monkeypatch.setenv("REVIEWKIT_NO_DEMO", "1")
    store = Store(database_url)
    store.create_review("Empty review")
    store.close()
    at = _page().run()
    assert not at.exception, at.exception
    assert "No study has been included yet" in at.info[0].value


# -- the functions behind it -------------------------------------------------------------------


def test_an_automatic_k_keeps_topics_of_several_studies():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(23, 16)).astype(np.float32)  # no real groups at all
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    k, scores = choose_k(vectors)
    assert 2 <= k <= 23 // MIN_AVERAGE_TOPIC_SIZE
    assert set(scores) == set(range(2, 23 // MIN_AVERAGE_TOPIC_SIZE + 1))
    # a small set is one topic's worth: k=2 without scores, as before
    assert choose_k(vectors[:7]) == (2, {})


def test_hover_text_shows_hostile_titles_as_text():
    texts, _ = topic_texts(per_topic=4)
    clustering = cluster_records(texts, model=WordCountModel(), k=3)
    ids = list(range(1, len(texts) + 1))
    details = {i: {"title": f"<b>x</b><script>alert({i})</script> & co", "year": 2020}
               for i in ids}
    figure = cluster_figure(ids, clustering, details)
    hovers = [h for trace in figure.data for h in trace.text]
    assert len(hovers) == len(texts)
    for hover in hovers:
        assert "<script>" not in hover and "<b>x" not in hover
        assert "&lt;b&gt;x&lt;/b&gt;&lt;script&gt;" in hover and "&amp; co" in hover
    # one trace per topic, and each point knows its record and topic
    assert len(figure.data) == 3
    for topic, trace in enumerate(figure.data):
        assert {c[1] for c in trace.customdata} == {topic}
        assert len(trace.x) == clustering.sizes[topic]


def test_summary_table_and_csv_agree_with_the_command_line(tmp_path):
    texts, _ = topic_texts(per_topic=5)
    data = tmp_path / "studies.csv"
    with open(data, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "title", "abstract"])
        for i, text in enumerate(texts):
            writer.writerow([f"r{i}", text, ""])
    out = tmp_path / "clusters.csv"
    clustering = cluster_csv(data, out, k=3, model=WordCountModel())
    ids = [f"r{i}" for i in range(len(texts))]
    assert assignments_csv(ids, clustering) == out.read_bytes()

    rows = cluster_table(clustering)
    assert [r["topic"] for r in rows] == [1, 2, 3]
    assert sum(r["studies"] for r in rows) == len(texts)
    assert all(r["terms"].startswith(r["label"].split(", ")[0]) for r in rows)
    assert cluster_summary(clustering, chosen_automatically=False) == \
        f"{len(texts)} studies in 3 topics; you chose the number of topics."
    assert "chosen automatically" in cluster_summary(clustering, chosen_automatically=True)
