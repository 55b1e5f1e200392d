"""Everyday words to approaches: "help with money worries" → debt advice and financial inclusion.

A commissioner types what they have in mind (a problem, a service, a group of people, a place);
the codebook names approaches in its own words.  :func:`find_approaches` bridges the two with
the bundled sentence model: every approach is described by many short texts — its label,
description and synonyms, the titles and abstracts of the studies coded with it, the local
entries coded with it, and the codebook's outcome words its evidence links it to — and a phrase
scores against the closest of them.  Each match says which words it came from, and the nearest
approach is always returned, marked as not close when nothing really is.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from reviewkit.codebook import Codebook, normalize_phrase, resolve

# What each kind of text counts for: the codebook's own names for an approach are the surest
# sign, a study or case study only shows the approach at work, and an outcome word (from the
# outcomes the approach's evidence reports) only points towards it.  Chosen on the development
# half of tests/data/approach_phrasings.csv (benchmarks/approach_search.py).
WEIGHTS = {"name": 1.0, "everyday": 1.0, "description": 0.9, "study": 0.9, "local example": 0.9,
           "outcome": 0.9}
# Below this score a match is "not close": the nearest is still shown, and said to be a guess.
CLOSE = 0.45
# An outcome's words count for an approach by its share of that outcome's evidence, to this
# power (0: all alike; 1: in proportion).
OUTCOME_SHARE_POWER = 0.5
# Several texts of one approach near the phrase are surer than one: the mean of its best
# few scores is added, times this.
AGREEMENT = 2.0
AGREEMENT_TOP = 5
# A phrase that is a label or synonym (or holds one) is trusted over the model.
LEXICAL_SURE = 0.9
_STUDY_CHARS = 600
# Words as well as meaning: each approach's own words (labels, synonyms, everyday words,
# description) are also ranked by BM25, and the two rankings are fused by reciprocal rank
# (1 / (RRF_K + rank)), the word ranking counting LEXICAL times as much.  Chosen on the tuning
# parts of tests/data/approach_phrasings.csv (every part but held_out_2).
LEXICAL = 0.5
RRF_K = 3
_LEXICAL_FIELDS = {"name": 2.0, "everyday": 1.0, "description": 0.5}
EVERYDAY_WORDS = Path(str(resources.files("reviewkit") / "data" / "everyday_words.yaml"))


def everyday_words(path=EVERYDAY_WORDS) -> dict[str, list[str]]:
    """Read the everyday words kept for the bundled codebook's approaches."""
    from reviewkit import yaml_text

    data = yaml_text.load(Path(path).read_text(encoding="utf-8")) or {}
    return {str(code): [str(w) for w in words or []] for code, words in data.items()}  # title and the start of the abstract: enough to say what was done


@dataclass(frozen=True)
class ApproachMatch:
    """One approach a phrase may mean, with the score and the words it matched."""

    code: str
    label: str
    score: float
    matched: list[str]
    close: bool = True

    def why(self) -> str:
        """Say in a few words why this approach came up ("matched: debt, money advice")."""
        return "matched: " + ", ".join(self.matched) if self.matched else "nearest in meaning"


@dataclass
class ApproachIndex:
    """Every text that describes an approach, with its vector (rows of ``vectors``)."""

    codebook: Codebook
    texts: list[str]
    shown: list[str]  # what a match says it matched: the phrase, or a study's short title
    owners: list[str]  # approach code per text
    kinds: list[str]
    strengths: np.ndarray  # weight of each text (kind weight × link strength for outcome words)
    vectors: np.ndarray
    model: object = field(default=None, repr=False)
    lexical: object = field(default=None, repr=False)  # BM25 over each approach's own words
    lexical_codes: list[str] = field(default_factory=list)  # approach code per BM25 document


# Vectors of texts already embedded, by model name: an index rebuilt after a new study is coded
# embeds only that study.  The bundled model's vectors are also kept on disk beside its ONNX
# copy, so a new process (the command line, a restarted app) does not embed them again.
_VECTORS: dict[tuple[str, str], np.ndarray] = {}
_READ_FROM_DISK: set[str] = set()


def _vector_file(name: str) -> Path:
    from reviewkit.embeddings import _models_dir

    return _models_dir() / f"approach-texts-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.npz"


def _read_disk(name: str) -> None:
    if name in _READ_FROM_DISK:
        return
    _READ_FROM_DISK.add(name)
    try:
        with np.load(_vector_file(name), allow_pickle=False) as data:
            for text, vector in zip(data["texts"].tolist(), data["vectors"], strict=True):
                _VECTORS.setdefault((name, text), vector)
    except (OSError, ValueError, KeyError):
        pass  # no file yet, or one from another version: embed again


def _write_disk(name: str) -> None:
    import os
    import tempfile

    mine = [(text, vector) for (owner, text), vector in _VECTORS.items() if owner == name]
    target = _vector_file(name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(suffix=".npz", dir=target.parent)
        with os.fdopen(handle, "wb") as out:
            np.savez(out, texts=np.array([t for t, _ in mine], dtype=str),
                     vectors=np.vstack([v for _, v in mine]).astype(np.float32))
        os.replace(temporary, target)
    except OSError:
        pass  # a read-only cache folder only costs the embedding next time


def _embed_cached(texts: list[str], model) -> np.ndarray:
    from reviewkit.embedding_cache import DEFAULT_MODEL_NAME, model_name
    from reviewkit.embeddings import embed

    name = model_name(model)
    on_disk = name == DEFAULT_MODEL_NAME  # never a test's stand-in model
    if on_disk:
        _read_disk(name)
    missing = sorted({t for t in texts if (name, t) not in _VECTORS})
    if missing:
        for text, vector in zip(missing, embed(missing, model=model), strict=True):
            _VECTORS[(name, text)] = vector
        if on_disk and len(missing) > 1:  # a phrase typed once is not worth a write
            _write_disk(name)
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.vstack([_VECTORS[(name, t)] for t in texts])


def _entry_text(entry) -> str:
    """The text that stands for a library entry in the index: its title and summary."""
    return f"{entry.title}. {entry.summary}"[:_STUDY_CHARS]


def forget_entry(entry) -> None:
    """Drop a library entry's text and vector from every cache, here and on disk.

    Used when consent for a story is withdrawn: its words must not stay in any cache.
    """
    from reviewkit.embedding_cache import DEFAULT_MODEL_NAME

    text = _entry_text(entry)
    for key in [k for k in _VECTORS if k[1] == text]:
        del _VECTORS[key]
    target = _vector_file(DEFAULT_MODEL_NAME)
    try:
        with np.load(target, allow_pickle=False) as data:
            texts, vectors = data["texts"].tolist(), data["vectors"]
    except (OSError, ValueError, KeyError):
        return
    keep = [i for i, t in enumerate(texts) if t != text]
    if len(keep) == len(texts):
        return
    import os
    import tempfile

    handle, temporary = tempfile.mkstemp(suffix=".npz", dir=target.parent)
    with os.fdopen(handle, "wb") as out:
        np.savez(out, texts=np.array([texts[i] for i in keep], dtype=str),
                 vectors=vectors[keep].astype(np.float32))
    os.replace(temporary, target)


def _short(title: str, size: int = 60) -> str:
    title = " ".join((title or "").split())
    return title if len(title) <= size else title[: size - 1].rstrip() + "…"


def build_approach_index(codebook: Codebook, *, studies: list[tuple[str, str, list[str], list[str]]]
                         = (), entries: list = (), model=None) -> ApproachIndex:
    """Describe every approach of ``codebook`` by its texts, and embed them.

    ``studies`` holds (title, abstract, approach codes, outcome codes) per coded study;
    ``entries`` are library entries (anything with title, summary, approaches, outcomes).
    ``model`` is anything with ``.encode``; None loads the bundled MiniLM.
    """
    approaches = codebook.scheme("approach").codes
    known = {c.code for c in approaches}
    everyday = everyday_words()
    rows: list[tuple[str, str, str, str, float]] = []  # text, shown, owner, kind, strength
    for code in approaches:
        for word in code.words():
            rows.append((word, word.lower(), code.code, "name", WEIGHTS["name"]))
        for word in everyday.get(code.code, []):
            rows.append((word, word, code.code, "everyday", WEIGHTS["everyday"]))
        if code.description:
            rows.append((code.description, code.label.lower(), code.code, "description",
                         WEIGHTS["description"]))
    evidence: list[tuple[list[str], list[str]]] = []
    for title, abstract, codes, outcomes in studies:
        text = f"{title}. {abstract or ''}"[:_STUDY_CHARS]
        for code in set(codes) & known:
            rows.append((text, f"a study: {_short(title)}", code, "study", WEIGHTS["study"]))
        evidence.append((list(codes), list(outcomes)))
    for entry in entries:
        text = _entry_text(entry)
        for code in set(entry.approaches) & known:
            rows.append((text, f"a local example: {_short(entry.title)}", code, "local example",
                         WEIGHTS["local example"]))
        evidence.append((list(entry.approaches), list(entry.outcomes)))
    # An outcome's words point to the approaches whose evidence reports it, in proportion.
    if "outcome" in codebook.schemes:
        per_outcome: dict[str, Counter] = {}
        for codes, outcomes in evidence:
            for outcome in outcomes:
                per_outcome.setdefault(outcome, Counter()).update(set(codes) & known)
        for outcome in codebook.scheme("outcome").codes:
            counts = per_outcome.get(outcome.code)
            if not counts:
                continue
            total = sum(counts.values())
            for code, count in counts.items():
                strength = WEIGHTS["outcome"] * (count / total) ** OUTCOME_SHARE_POWER
                for word in outcome.words():
                    rows.append((word, word.lower(), code, "outcome", strength))
    texts = [r[0] for r in rows]
    lexical_codes, lexical = _lexical_index(rows)
    return ApproachIndex(codebook=codebook, texts=texts, shown=[r[1] for r in rows],
                         owners=[r[2] for r in rows], kinds=[r[3] for r in rows],
                         strengths=np.array([r[4] for r in rows], dtype=np.float32),
                         vectors=_embed_cached(texts, model), model=model,
                         lexical=lexical, lexical_codes=lexical_codes)


def _lexical_index(rows) -> tuple[list[str], object]:
    """BM25 with one document per approach, made of its own words (not its studies)."""
    from reviewkit.library.bm25 import BM25
    from reviewkit.library.tokens import terms

    documents: dict[str, dict[str, list[str]]] = {}
    for text, _, owner, kind, _ in rows:
        if kind in _LEXICAL_FIELDS:
            documents.setdefault(owner, {}).setdefault(kind, []).extend(terms(text))
    codes = sorted(documents)
    if not codes:
        return [], None
    return codes, BM25(field_weights=_LEXICAL_FIELDS).fit([documents[c] for c in codes])


def approach_index_for_review(store, review, *, model=None) -> ApproachIndex:
    """Build the index from a review's codebook, its coded studies and the library."""
    from reviewkit.codebook import review_codebook
    from reviewkit.evidence_map import coded_studies_for_review
    from reviewkit.library import library_entries

    codebook = review_codebook(store, review.id)
    studies = []
    for study in coded_studies_for_review(store, review.id):
        record = store.get_record(int(study.record_id)).record
        studies.append((record.title, record.abstract, study.approaches, study.outcomes))
    return build_approach_index(codebook, studies=studies, entries=library_entries(store),
                                model=model)


def _words(text: str) -> set[str]:
    return set(normalize_phrase(text).split())


def find_approaches(index: ApproachIndex, phrase: str, *, top: int = 3) -> list[ApproachMatch]:
    """Return the approaches a phrase most likely means, best first (at least one).

    A match is ``close`` when its score reaches :data:`CLOSE`; when none is, the nearest are
    still returned so the reader always has somewhere to go.  An empty phrase gives [].
    """
    if not normalize_phrase(phrase):
        return []
    query = _embed_cached([" ".join(phrase.split())], index.model)[0]
    similarity = index.vectors @ query
    scores = similarity * index.strengths
    per_owner: dict[str, list[float]] = {}
    for i, owner in enumerate(index.owners):
        per_owner.setdefault(owner, []).append(float(scores[i]))
    final = {}
    for code, values in per_owner.items():
        values.sort(reverse=True)
        head = values[:AGREEMENT_TOP]
        final[code] = (values[0] + AGREEMENT * sum(head) / len(head)) / (1 + AGREEMENT)
    for code, sure in resolve(index.codebook, phrase, "approach", limit=3):
        if sure >= LEXICAL_SURE:
            final[code.code] = max(final.get(code.code, 0.0), sure)
    ranked = _fused(index, phrase, final)[:top]
    typed = _words(phrase)
    out = []
    for code in ranked:
        mine = [i for i, owner in enumerate(index.owners) if owner == code]
        mine.sort(key=lambda i: -scores[i])
        matched: list[str] = []
        for i in mine:
            words = index.shown[i]
            if index.kinds[i] in ("name", "everyday", "outcome"):
                # a word shown as "matched" should be near the phrase, or share a word with it
                if similarity[i] < 0.45 and not (_words(words) & typed):
                    continue
            elif i != mine[0]:
                continue  # a study or local example is named only when it is the closest text
            if words not in matched:
                matched.append(words)
            if len(matched) == 2:
                break
        out.append(ApproachMatch(code=code, label=index.codebook.label("approach", code),
                                 score=round(final[code], 3), matched=matched,
                                 close=final[code] >= CLOSE))
    return out


def _fused(index: ApproachIndex, phrase: str, meaning: dict[str, float]) -> list[str]:
    """Order approaches by reciprocal-rank fusion of meaning and word rankings."""
    from reviewkit.library.tokens import terms

    by_meaning = sorted(meaning, key=lambda c: -meaning[c])
    fused = {code: 1.0 / (RRF_K + rank) for rank, code in enumerate(by_meaning, 1)}
    if index.lexical is not None and LEXICAL > 0:
        query = Counter(terms(phrase))
        lexical = index.lexical.scores({t: float(n) for t, n in query.items()})
        hits = [(float(score), code) for score, code in zip(lexical, index.lexical_codes,
                                                            strict=True) if score > 0]
        for rank, (_, code) in enumerate(sorted(hits, key=lambda h: -h[0]), 1):
            if code in fused:
                fused[code] += LEXICAL / (RRF_K + rank)
    return sorted(fused, key=lambda c: (-fused[c], -meaning[c]))


def resolve_approach(store, review, phrase: str, *, model=None) -> ApproachMatch | None:
    """The approach a phrase most likely means in a review (None for an empty phrase)."""
    found = find_approaches(approach_index_for_review(store, review, model=model), phrase, top=1)
    return found[0] if found else None


def synonym_matches(codebook: Codebook, phrase: str, *, top: int = 3) -> list[str]:
    """The codebook's synonym matcher alone (the baseline the benchmark compares against)."""
    return [code.code for code, _ in resolve(codebook, phrase, "approach", limit=top)]


_SPLIT = re.compile(r"\s*;\s*")


def read_judged_phrasings(path) -> list[tuple[str, set[str], str, str]]:
    """Read the judged set: (phrase, acceptable approach codes, kind, split) per row."""
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        return [(row["phrase"], set(_SPLIT.split(row["approaches"].strip())), row["kind"],
                 row["split"]) for row in csv.DictReader(handle)]
