"""The bundled MiniLM run by ONNX Runtime gives the PyTorch model's vectors, in input order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reviewkit import embeddings
from reviewkit.formats import read_records

DEMO = Path(__file__).resolve().parent.parent / "corpora" / "demo"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_texts() -> list[str]:
    found = read_records((DEMO / "pubmed_export.nbib").read_bytes(), filename="pubmed_export.nbib")
    texts = [f"{r.title}\n{r.abstract}".strip() for r in found]
    # very short, empty and over-long texts too: padding and truncation must not change vectors
    return [*texts, "", "x", " ".join(texts)]


@pytest.fixture(scope="module")
def onnx_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REVIEWKIT_MODEL_DIR", str(folder))
        model = embeddings.load_onnx_model()
    assert list(folder.glob("*.onnx")) == [model.path]
    return model


def test_onnx_vectors_equal_the_pytorch_model(onnx_model, demo_texts):
    assert len(demo_texts) > 15
    fast = embeddings.embed(demo_texts, model=onnx_model, batch_size=8)
    reference = embeddings.embed(demo_texts, model=embeddings.load_torch_model(), batch_size=8)
    assert fast.shape == reference.shape == (len(demo_texts), 384)
    cosines = np.sum(fast * reference, axis=1)
    assert cosines.min() > 0.9999


def test_embed_returns_rows_in_the_order_given(onnx_model, demo_texts):
    together = embeddings.embed(demo_texts, model=onnx_model, batch_size=4)
    one_by_one = np.vstack([embeddings.embed([t], model=onnx_model) for t in demo_texts])
    assert np.allclose(together, one_by_one, atol=1e-4)
    # different texts really give different rows, so the order check above means something
    assert np.sum(together[0] * together[1]) < 0.99


def test_a_second_load_reuses_the_exported_file(onnx_model, monkeypatch):
    monkeypatch.setenv("REVIEWKIT_MODEL_DIR", str(onnx_model.path.parent))
    again = embeddings.load_onnx_model()
    assert again.path == onnx_model.path
    assert onnx_model.path.stat().st_mtime == again.path.stat().st_mtime


def test_torch_can_be_forced(monkeypatch):
    monkeypatch.setenv("REVIEWKIT_EMBEDDINGS", "torch")
    monkeypatch.setattr(embeddings, "_MODEL", None)
    model = embeddings.load_model()
    assert type(model).__name__ == "SentenceTransformer"


def test_the_large_review_profile_stays_close_and_is_cached_apart(onnx_model, demo_texts,
                                                                  monkeypatch):
    from reviewkit.clustering import FAST_ABOVE, cluster_model
    from reviewkit.embedding_cache import model_name

    monkeypatch.setenv("REVIEWKIT_MODEL_DIR", str(onnx_model.path.parent))
    monkeypatch.setattr(embeddings, "_FAST_MODEL", None)
    fast = embeddings.load_fast_model()
    assert fast.path.name.endswith("-int8.onnx") and fast.path.exists()
    assert model_name(fast) != model_name(onnx_model)  # never mixed in the cache
    full = embeddings.embed(demo_texts, model=onnx_model)
    quick = embeddings.embed(demo_texts, model=fast)
    cosines = np.sum(full * quick, axis=1)
    assert cosines.mean() > 0.9
    # a study is still nearest to its own full-model vector among all the studies
    nearest = np.argmax(quick @ full.T, axis=1)
    assert (nearest == np.arange(len(demo_texts))).mean() > 0.9
    assert cluster_model(FAST_ABOVE) is None
    assert cluster_model(FAST_ABOVE + 1) is fast
    assert cluster_model(FAST_ABOVE + 1, onnx_model) is onnx_model
