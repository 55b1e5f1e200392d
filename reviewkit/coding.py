"""Auto-coding: suggest codebook codes for studies, learn from researchers' calls, store codes.

A suggestion's confidence mixes three kinds of evidence about a text and a code:

* how close the text's meaning is to the code (sentence embeddings of the text against the
  code's label, description and synonyms), both in absolute terms and relative to the other
  codes of the scheme;
* the codebook's own words found in the text (labels and synonyms);
* researchers' earlier calls (``feedback``): texts confirmed for a code act as extra examples
  of it, texts rejected for a code push similar texts away from it.

The weights turn these into a probability-like score with a logistic curve.  They were fitted
on the project's case-study library (approach and outcome codes given by hand) plus unrelated
clinical abstracts as negatives, and rounded; study design leans mostly on the words a text
uses ("randomised", "interviews", "difference-in-difference").  ``benchmarks/autocoding.py``
measures precision and recall against hand-coded studies.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from reviewkit.codebook import (
    Codebook,
    code_word_forms,
    find_code_words,
    load_codebook,
    review_codebook,
    to_yaml,
)
from reviewkit.embeddings import embed
from reviewkit.errors import ReviewkitError
from reviewkit.records import Record
from reviewkit.screening.status import included_record_ids  # re-exported: callers import it here
from reviewkit.store import Review, Store, record_rows
from reviewkit.store import codes as code_rows
from reviewkit.store.rows import now as rows_now

DEFAULT_SCHEMES = ("approach", "outcome", "design")
DEFAULT_THRESHOLD = 0.4
DIRECTIONS = ("positive", "mixed", "none", "negative")

# Logistic weights per scheme: intercept, absolute similarity, similarity relative to the
# scheme's other codes (a z-score), strength of codebook words found.
_WEIGHTS = {
    "approach": (-4.6, 4.4, 0.6, 3.3),
    "outcome": (-4.2, 5.4, 0.7, 1.9),
    "design": (-3.4, 2.0, 0.4, 5.0),
}
_OTHER_SCHEMES = (-4.4, 5.0, 0.7, 2.5)
# Feedback: an example confirmed (rejected) for a code starts to pull a text towards (push it
# away from) that code at this cosine, with full force at _FEEDBACK_FULL (the same text).
_FEEDBACK_FLOOR, _FEEDBACK_FULL = 0.5, 1.0
_FEEDBACK_PULL, _FEEDBACK_PUSH = 5.0, 5.0
# At most this many suggestions per scheme and text: a study has one or two designs.
_MAX_PER_SCHEME = {"design": 2}
_MAX_DEFAULT = 5
# When a specific design is named, a vaguer one it usually sits inside is less likely:
# "a mixed method evaluation" is mixed methods first; "longitudinal survey" is a cohort.
_DESIGN_PRECEDENCE = ("rct", "quasi_experimental", "mixed_methods", "cohort", "review",
                      "qualitative", "cross_sectional", "evaluation", "case_study", "other")
_DESIGN_DAMPING = 2.5
# Texts longer than this many words are read in overlapping windows (the model reads ~200).
_WINDOW_WORDS, _MAX_WINDOWS = 150, 24


@dataclass(frozen=True)
class Suggestion:
    scheme: str
    code: str
    confidence: float
    matched: tuple[str, ...] = ()  # codebook words found in the text


@dataclass(frozen=True)
class Feedback:
    """A researcher's call on a code for a text: confirmed (accepted) or rejected."""

    text: str
    scheme: str
    code: str
    accepted: bool


def record_text(record: Record, *, full_text: bool = True) -> str:
    """The text coded for a record: title, abstract, keywords and (optionally) full text."""
    parts = [record.title, record.abstract, "; ".join(record.keywords)]
    if full_text:
        parts.append(record.full_text)
    return "\n".join(p.strip() for p in parts if p and p.strip())


def suggest_codes(texts: Sequence[str], codebook: Codebook | None = None, *,
                  schemes: Iterable[str] = DEFAULT_SCHEMES, model=None,
                  feedback: Iterable[Feedback | tuple] | None = None,
                  threshold: float = DEFAULT_THRESHOLD) -> list[list[Suggestion]]:
    """Suggest codes for each text, best first within each scheme, above ``threshold``.

    ``model`` is anything with ``.encode(texts)`` (the bundled MiniLM when None); ``feedback``
    holds researchers' earlier calls as :class:`Feedback` or ``(text, scheme, code, accepted)``.
    """
    scores = score_codes(texts, codebook, schemes=schemes, model=model, feedback=feedback)
    out = []
    for per_text in scores:
        chosen = []
        for scheme, ranked in per_text.items():
            keep = [s for s in ranked if s.confidence >= threshold]
            chosen.extend(keep[:_MAX_PER_SCHEME.get(scheme, _MAX_DEFAULT)])
        out.append(chosen)
    return out


def score_codes(texts: Sequence[str], codebook: Codebook | None = None, *,
                schemes: Iterable[str] = DEFAULT_SCHEMES, model=None,
                feedback: Iterable[Feedback | tuple] | None = None
                ) -> list[dict[str, list[Suggestion]]]:
    """Score every code of each scheme for each text: [{scheme: [Suggestion, best first]}]."""
    codebook = codebook or load_codebook()
    schemes = list(schemes)
    texts = [t or "" for t in texts]
    if not texts:
        return []
    calls = [f if isinstance(f, Feedback) else Feedback(*f) for f in feedback or []]
    windows, owner = _windows(texts)
    vectors = embed(windows + [f.text for f in calls], model=model)
    window_vectors, call_vectors = vectors[:len(windows)], vectors[len(windows):]
    prototypes = _prototypes(codebook, schemes, model)
    results: list[dict[str, list[Suggestion]]] = [{} for _ in texts]
    for scheme in schemes:
        codes = [c.code for c in codebook.scheme(scheme).codes]
        if not codes:
            continue
        # similarity of every window to every prototype, then the best per text and code
        per_window = (window_vectors @ prototypes[scheme].T).reshape(len(windows), len(codes), -1)
        per_window = per_window.max(axis=2)
        sims = np.full((len(texts), len(codes)), -1.0, dtype=np.float32)
        np.maximum.at(sims, owner, per_window)
        confirmed = _closest_example(calls, call_vectors, window_vectors, owner, len(texts),
                                     scheme, codes, accepted=True)
        rejected = _closest_example(calls, call_vectors, window_vectors, owner, len(texts),
                                    scheme, codes, accepted=False)
        spread = sims.std(axis=1, keepdims=True)
        spread[spread == 0] = 1.0
        relative = (sims - sims.mean(axis=1, keepdims=True)) / spread
        pulls = _FEEDBACK_PULL * _strength(confirmed) - _FEEDBACK_PUSH * _strength(rejected)
        intercept, w_abs, w_rel, w_words = _WEIGHTS.get(scheme, _OTHER_SCHEMES)
        forms = code_word_forms(codebook, scheme)
        for i, text in enumerate(texts):
            words = find_code_words(codebook, scheme, text, forms=forms)
            logits = (intercept + w_abs * sims[i] + w_rel * relative[i] + pulls[i]
                      + w_words * np.array([words.get(c, (0.0, []))[0] for c in codes]))
            if scheme == "design":
                logits = _damp_vaguer_designs(logits, codes, words)
            ranked = sorted(
                (Suggestion(scheme, code, round(_sigmoid(z), 3), tuple(words.get(code, (0, []))[1]))
                 for code, z in zip(codes, logits, strict=True)),
                key=lambda s: -s.confidence)
            results[i][scheme] = ranked
    return results


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-float(z)))


def _windows(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """Split long texts into overlapping windows; return them and the text each belongs to."""
    windows, owner = [], []
    for i, text in enumerate(texts):
        words = text.split()
        if len(words) <= _WINDOW_WORDS:
            pieces = [text]
        else:
            step = _WINDOW_WORDS // 2
            starts = list(range(0, len(words) - step, step))
            if len(starts) > _MAX_WINDOWS:
                # keep the opening (title, abstract) and an even spread of the rest
                picks = np.linspace(1, len(starts) - 1, _MAX_WINDOWS - 1).round().astype(int)
                starts = [starts[0]] + [starts[j] for j in sorted(set(picks))]
            pieces = [" ".join(words[s:s + _WINDOW_WORDS]) for s in starts]
        windows.extend(pieces)
        owner.extend([i] * len(pieces))
    return windows, np.array(owner, dtype=int)


# (codebook text, schemes) -> (model, prototype vectors); the model is kept to compare by
# identity, so a new model object never reuses another's vectors.
_PROTOTYPE_CACHE: dict[tuple, tuple[object, dict[str, np.ndarray]]] = {}


def _prototypes(codebook: Codebook, schemes: list[str], model) -> dict[str, np.ndarray]:
    """Embed two descriptions of every code: label with description, label with synonyms."""
    key = (to_yaml(codebook), tuple(schemes))
    cached = _PROTOTYPE_CACHE.get(key)
    if cached is not None and cached[0] is model:
        return cached[1]
    texts, sizes = [], []
    for scheme in schemes:
        codes = codebook.scheme(scheme).codes
        for code in codes:
            texts.append(f"{code.label}. {code.description}")
            texts.append(f"{code.label}: {', '.join(code.synonyms)}")
        sizes.append(len(codes))
    vectors = embed(texts, model=model) if texts else np.zeros((0, 0), dtype=np.float32)
    found, start = {}, 0
    for scheme, size in zip(schemes, sizes, strict=True):
        found[scheme] = vectors[start:start + 2 * size]
        start += 2 * size
    if len(_PROTOTYPE_CACHE) >= 8:
        _PROTOTYPE_CACHE.clear()
    _PROTOTYPE_CACHE[key] = (model, found)
    return found


def _closest_example(calls: list[Feedback], call_vectors: np.ndarray,
                     window_vectors: np.ndarray, owner: np.ndarray, n_texts: int, scheme: str,
                     codes: list[str], *, accepted: bool) -> np.ndarray:
    """Cosine of each text to its closest confirmed (or rejected) example of each code."""
    closest = np.full((n_texts, len(codes)), -1.0, dtype=np.float32)
    for j, code in enumerate(codes):
        rows = [k for k, f in enumerate(calls)
                if f.scheme == scheme and f.code == code and f.accepted is accepted]
        if rows:
            per_window = (window_vectors @ call_vectors[rows].T).max(axis=1)
            np.maximum.at(closest[:, j], owner, per_window)
    return closest


def _strength(closest: np.ndarray) -> np.ndarray:
    span = _FEEDBACK_FULL - _FEEDBACK_FLOOR
    return np.clip((closest - _FEEDBACK_FLOOR) / span, 0, 1)


def _damp_vaguer_designs(logits: np.ndarray, codes: list[str], words: dict) -> np.ndarray:
    named = [c for c in _DESIGN_PRECEDENCE if words.get(c, (0.0,))[0] >= 0.5]
    if not named:
        return logits
    rank = {c: i for i, c in enumerate(_DESIGN_PRECEDENCE)}
    first = rank[named[0]]
    return np.array([z - _DESIGN_DAMPING if rank.get(c, len(rank)) > first else z
                     for c, z in zip(codes, logits, strict=True)])


# -- the record_codes table -----------------------------------------------------------------


@dataclass(frozen=True)
class RecordCode:
    """One current code on a record, as stored."""

    id: int
    record_id: int
    scheme: str
    code: str
    confidence: float | None
    source: str  # auto | human
    status: str  # suggested | confirmed | rejected
    direction: str
    finding: str
    coder: str
    created_at: datetime


def store_suggestions(store: Store, review_id: int, record_id: int,
                      suggestions: Iterable[Suggestion], actor: str) -> int:
    """Store auto suggestions for a record, replacing its earlier pending ones.

    Codes a person already confirmed or rejected for the record are left alone.  Returns how
    many suggestions were stored.
    """
    actor_id = store.ensure_user(actor).id
    now = rows_now()
    with store.write() as conn:
        current = code_rows.current_codes(conn, review_id, record_id)
        decided = {(r.scheme, r.code) for r in current if r.status != "suggested"}
        pending = [r.id for r in current if r.status == "suggested"]
        code_rows.supersede_rows(conn, pending, now)
        rows = [{"review_id": review_id, "record_id": record_id, "scheme": s.scheme,
                 "code": s.code, "confidence": float(s.confidence), "source": "auto",
                 "status": "suggested", "coder_id": actor_id, "created_at": now}
                for s in suggestions if (s.scheme, s.code) not in decided]
        code_rows.insert_codes(conn, rows)
        store.audit(conn, actor_id=actor_id, action="coding.suggest", entity="record",
                    entity_id=record_id, review_id=review_id,
                    details={"suggested": [f"{r['scheme']}:{r['code']}" for r in rows],
                             "replaced": len(pending)})
    return len(rows)


def confirm_code(store: Store, review_id: int, record_id: int, scheme: str, code: str,
                 actor: str) -> RecordCode:
    """A researcher confirms a code for a record (a suggestion, or a code of their own)."""
    return _decide(store, review_id, record_id, scheme, code, actor, status="confirmed")


def reject_code(store: Store, review_id: int, record_id: int, scheme: str, code: str,
                actor: str) -> RecordCode:
    """A researcher rejects a code for a record; it stays on file as feedback."""
    return _decide(store, review_id, record_id, scheme, code, actor, status="rejected")


def set_finding(store: Store, review_id: int, record_id: int, scheme: str, code: str,
                direction: str, finding: str, actor: str) -> RecordCode:
    """Record the direction of effect (positive|mixed|none|negative) and a one-line finding."""
    if direction not in DIRECTIONS:
        raise ReviewkitError(f"Unknown direction of effect '{direction}' "
                             f"(use one of {', '.join(DIRECTIONS)}).")
    finding = " ".join((finding or "").split())
    return _decide(store, review_id, record_id, scheme, code, actor, status="confirmed",
                   direction=direction, finding=finding)


def _decide(store: Store, review_id: int, record_id: int, scheme: str, code: str, actor: str,
            *, status: str, direction: str | None = None, finding: str | None = None
            ) -> RecordCode:
    actor_id = store.ensure_user(actor).id
    now = rows_now()
    with store.write() as conn:
        old = code_rows.latest_code(conn, review_id, record_id, scheme, code)
        if old is not None:
            code_rows.supersede_code(conn, review_id, record_id, scheme, code, now)
        values = {
            "review_id": review_id, "record_id": record_id, "scheme": scheme, "code": code,
            "confidence": old.confidence if old is not None else None,
            # a confirmed suggestion stays 'auto': that is how suggestion quality is measured
            "source": old.source if old is not None else "human",
            "status": status,
            "direction": direction if direction is not None else (old.direction if old else ""),
            "finding": finding if finding is not None else (old.finding if old else ""),
            "coder_id": actor_id, "created_at": now,
        }
        new_id = code_rows.insert_code(conn, values)
        action = "coding.finding" if direction is not None else f"coding.{status[:-2]}"
        store.audit(conn, actor_id=actor_id, action=action, entity="record",
                    entity_id=record_id, review_id=review_id,
                    details={"scheme": scheme, "code": code, "status": status,
                             "was": old.status if old is not None else None,
                             "direction": values["direction"], "finding": values["finding"]})
    return RecordCode(new_id, record_id, scheme, code, values["confidence"], values["source"],
                      status, values["direction"], values["finding"], actor, now)


def repoint_codes(store: Store, review_id: int, scheme: str, old: str, new: str,
                  actor: str) -> int:
    """Move every current use of code ``old`` to ``new`` (after merging codes); return count."""
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:
        return code_rows.repoint(conn, review_id, scheme, old, new, actor_id)


def record_codes_for_review(store: Store, review_id: int, status: str | None = "confirmed",
                            *, record_id: int | None = None) -> list[RecordCode]:
    """Return the review's current codes (of one status, or all when ``status`` is None).

    ``record_id`` keeps one record's codes only.  Codes of deleted records are left out; they
    come back when the record is restored.
    """
    with store.read() as conn:
        found = code_rows.review_code_rows(conn, review_id, status=status, record_id=record_id)
    return [RecordCode(r.id, r.record_id, r.scheme, r.code, r.confidence, r.source, r.status,
                       r.direction, r.finding, r.username, r.created_at) for r in found]


def review_feedback(store: Store, review_id: int) -> list[Feedback]:
    """Turn a review's confirmed and rejected codes into feedback for :func:`suggest_codes`."""
    decided = [c for c in record_codes_for_review(store, review_id, status=None)
               if c.status in ("confirmed", "rejected")]
    if not decided:
        return []
    ids = sorted({c.record_id for c in decided})
    with store.read() as conn:
        found = record_rows.texts_by_id(conn, ids)
    texts = {r.id: "\n".join(p for p in (r.title, r.abstract) if p) for r in found}
    return [Feedback(texts.get(c.record_id, ""), c.scheme, c.code, c.status == "confirmed")
            for c in decided if texts.get(c.record_id)]


# -- coding a review's included studies --------------------------------------------------

# The schemes a researcher codes a study by, in the order the Code studies page shows them.
CODING_SCHEMES = ("approach", "outcome", "design", "domain")
# A study counts as coded once it has a confirmed code in each of these (as on the progress
# view: an evidence map needs an approach and an outcome).
CODED_WHEN = frozenset({"approach", "outcome"})
_STATUS_ORDER = {"confirmed": 0, "suggested": 1, "rejected": 2}


@dataclass(frozen=True)
class StudyToCode:
    record_id: int
    title: str
    year: int | None
    coded: bool


@dataclass
class CodingQueue:
    """The included studies in the order they are coded: those still to code first."""

    studies: list[StudyToCode] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.studies)

    @property
    def order(self) -> list[int]:
        return [s.record_id for s in self.studies]

    @property
    def to_code(self) -> list[int]:
        return [s.record_id for s in self.studies if not s.coded]

    @property
    def coded(self) -> int:
        return sum(s.coded for s in self.studies)

    def get(self, record_id: int) -> StudyToCode | None:
        return next((s for s in self.studies if s.record_id == record_id), None)

    def neighbour(self, record_id: int | None, step: int) -> int | None:
        """The study ``step`` places before (negative) or after ``record_id``; None off the end."""
        order = self.order
        if record_id not in order:
            return order[0] if order and step > 0 else None
        position = order.index(record_id) + step
        return order[position] if 0 <= position < len(order) else None

    def next_to_code(self, after: int | None = None) -> int | None:
        """The next study still to code after ``after`` (wrapping round), never ``after``."""
        waiting = sorted(self.to_code)
        later = [rid for rid in waiting if after is None or rid > after]
        earlier = [rid for rid in waiting if after is not None and rid < after]
        return (later or earlier or [None])[0]


def coding_queue(store: Store, review: Review) -> CodingQueue:
    """The review's included studies with titles and years, those still to code first."""
    ids = included_record_ids(store, review)
    if not ids:
        return CodingQueue()
    schemes: dict[int, set[str]] = {}
    for row in record_codes_for_review(store, review.id, status="confirmed"):
        schemes.setdefault(row.record_id, set()).add(row.scheme)
    with store.read() as conn:
        found = record_rows.summaries_by_id(conn, ids)
    studies = [StudyToCode(rid, found[rid].title or "", found[rid].year,
                           CODED_WHEN <= schemes.get(rid, set())) for rid in ids if rid in found]
    studies.sort(key=lambda s: (s.coded, s.record_id))
    return CodingQueue(studies)


def study_codes(store: Store, review_id: int, record_id: int,
                schemes: Iterable[str] = CODING_SCHEMES) -> dict[str, list[RecordCode]]:
    """One study's current codes grouped by scheme: confirmed, then suggested, then rejected,
    each group most confident first (a code a person added counts as certain)."""
    grouped: dict[str, list[RecordCode]] = {name: [] for name in schemes}
    for row in record_codes_for_review(store, review_id, status=None, record_id=record_id):
        grouped.setdefault(row.scheme, []).append(row)
    for rows in grouped.values():
        rows.sort(key=lambda c: (_STATUS_ORDER.get(c.status, 3),
                                 -(c.confidence if c.confidence is not None else 1.0), c.code))
    return grouped


def suggest_for_records(store: Store, review_id: int, record_ids: Iterable[int], actor: str, *,
                        model=None, schemes: Iterable[str] = CODING_SCHEMES,
                        threshold: float = DEFAULT_THRESHOLD, batch_size: int = 8,
                        on_progress: Callable[[int, int], None] | None = None) -> dict[int, int]:
    """Suggest codes for records with the review's codebook and store them as pending.

    The review's confirmed and rejected codes so far are the feedback, so each correction
    shapes the next suggestions.  ``on_progress(done, total)`` is called after each batch.
    Returns how many suggestions were stored per record.
    """
    codebook = review_codebook(store, review_id)
    schemes = [name for name in schemes if name in codebook.schemes]
    feedback = review_feedback(store, review_id)
    ids = list(dict.fromkeys(record_ids))
    stored: dict[int, int] = {}
    if on_progress is not None:
        on_progress(0, len(ids))
    for start in range(0, len(ids), batch_size):
        batch = ids[start:start + batch_size]
        texts = [record_text(store.get_record(rid).record) for rid in batch]
        found = suggest_codes(texts, codebook, schemes=schemes, model=model, feedback=feedback,
                              threshold=threshold)
        for rid, suggestions in zip(batch, found, strict=True):
            stored[rid] = store_suggestions(store, review_id, rid, suggestions, actor)
        if on_progress is not None:
            on_progress(start + len(batch), len(ids))
    return stored


def code_use_counts(store: Store, review_id: int) -> dict[tuple[str, str], int]:
    """How many studies carry each confirmed code: {(scheme, code): studies}."""
    counts: dict[tuple[str, str], int] = {}
    for row in record_codes_for_review(store, review_id, status="confirmed"):
        counts[(row.scheme, row.code)] = counts.get((row.scheme, row.code), 0) + 1
    return counts
