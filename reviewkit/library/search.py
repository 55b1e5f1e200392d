"""One search box over the library: plain words, forgiving of typos, by word and by meaning.

A query is read in three steps (``LibraryIndex.parse``): misspelt words are corrected against
the library's own vocabulary, the words are stemmed, and any phrase that is a codebook label or
synonym ("debt advice", "having a say") adds that code, so entries coded with it match even
when they use other words.  Two rankings follow: BM25 over the entry text (title, summary,
body, place, type, population and the labels and synonyms of its codes), and cosine similarity
of sentence embeddings.  They are fused by a weighted blend of the two scores, each scaled to
0-1, which beat reciprocal rank fusion on the judged queries (``fusion="rrf"`` keeps that
option).  Visibility and facet filters are applied before ranking, so a viewer's top results
are never padded or thinned by entries they cannot see.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from reviewkit.codebook import Codebook
from reviewkit.errors import NotFoundError, ReviewkitError
from reviewkit.library.bm25 import BM25
from reviewkit.library.entries import ENTRY_SCHEMES, LibraryEntry, bundled_codebook
from reviewkit.library.tokens import STOP_WORDS, stem, terms, words
from reviewkit.library.vectors import VectorCache
from reviewkit.library.visibility import Viewer, visible_to

MODES = ("fused", "lexical", "semantic")
FUSIONS = ("rrf", "blend")

# Facet name -> the LibraryEntry attribute that holds its value(s).
FACETS = {
    "place": "place",
    "local_authority": "local_authority",
    "type": "type",
    "approach": "approaches",
    "outcome": "outcomes",
    "domain": "domains",
}

# How much a word counts in each part of an entry.  Chosen on the judged queries in
# tests/data/library_queries.json (see benchmarks/library.py).
FIELD_WEIGHTS = {
    "title": 3.0,
    "summary": 2.0,
    "place": 3.0,
    "type": 2.0,
    "population": 1.0,
    "body": 1.0,
    "code_words": 0.5,
    "codes": 1.0,
}
CODE_QUERY_WEIGHT = 1.0  # weight of a code matched through the codebook, against a typed word
RRF_K = 20  # reciprocal rank fusion's damping constant
FUSION_DEPTH = 100  # how far down each ranking fusion looks
BLEND_LEXICAL_SHARE = 0.6  # the word score's share of a blended score; meaning has the rest
# An entry matches a query when it shares a word or code with it, or is at least this close in
# meaning; result counts are the number of matches, not the length of the page shown.
MIN_MEANING = 0.3
# Added to a fused score (0-1) when the entry is at a place named in the query ("in Old Swan").
PLACE_BOOST = 0.35
PLACE_MIN_SHARE = 0.5  # ...when its score is at least this share of the best one
_PLACE_LEAD = re.compile(r"\b(?:in|at|near|around|from)\s*$", re.IGNORECASE)


def facet_values(entry: LibraryEntry, facet: str) -> tuple[str, ...]:
    """Return the values ``entry`` has for ``facet`` (several for the code facets)."""
    value = getattr(entry, FACETS[facet])
    return tuple(value) if isinstance(value, tuple) else (value,)


def code_token(scheme: str, code: str) -> str:
    # Not made of letters and digits only, so it can never collide with a word of the text.
    return f"code={scheme}.{code}"


def embedding_text(entry: LibraryEntry, *, with_body: bool = False) -> str:
    """Return the text embedded for ``entry``: title and summary, optionally the body too."""
    parts = [entry.title, entry.summary]
    if with_body:
        parts.append(_body_text(entry.body))
    return "\n".join(part for part in parts if part)


def _body_text(body: str) -> str:
    # Headings such as "What happened" are in every entry and say nothing about this one.
    return "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("#"))


@dataclass(frozen=True)
class SearchHit:
    """One result: the entry, its score in the chosen mode, and the scores behind it."""

    entry: LibraryEntry
    score: float
    lexical_score: float = 0.0
    semantic_score: float | None = None
    matched_codes: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict:
        """Return the fields a results list shows: id, title, type, score and summary."""
        return {"id": self.entry.id, "title": self.entry.title, "type": self.entry.type,
                "score": round(float(self.score), 4), "summary": self.entry.summary}


@dataclass(frozen=True)
class ParsedQuery:
    """How a typed query was read."""

    text: str
    corrected: str
    corrections: tuple[tuple[str, str], ...] = ()
    terms: tuple[str, ...] = ()
    codes: tuple[tuple[str, str], ...] = ()
    places: tuple[str, ...] = ()  # place names found in the query, as the library spells them

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.codes and not self.places


@dataclass
class _Vocabulary:
    """Words of the library, for spelling correction: the surface forms and their frequency."""

    words: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    stems: frozenset[str] = frozenset()


def _code_phrases(codebook: Codebook) -> dict[tuple[str, ...], set[tuple[str, str]]]:
    phrases: dict[tuple[str, ...], set[tuple[str, str]]] = {}
    for scheme, code in _entry_codes(codebook):
        for phrase in code.words():
            key = tuple(terms(phrase))
            if key:
                phrases.setdefault(key, set()).add((scheme, code.code))
    return phrases


def _entry_codes(codebook: Codebook):
    """Yield (scheme, Code) for every code of the schemes library entries are coded with."""
    for scheme in ENTRY_SCHEMES.values():
        if scheme in codebook.schemes:
            for code in codebook.schemes[scheme].codes:
                yield scheme, code


def _code_words(codebook: Codebook) -> dict[tuple[str, str], list[str]]:
    return {(scheme, code.code): [t for phrase in code.words() for t in terms(phrase)]
            for scheme, code in _entry_codes(codebook)}


def _entry_fields(entry: LibraryEntry,
                  code_words: dict[tuple[str, str], list[str]]) -> dict[str, list[str]]:
    return {
        "title": terms(entry.title),
        "summary": terms(entry.summary),
        "place": terms(f"{entry.place} {entry.local_authority}"),
        "type": terms(entry.type),
        "population": terms(entry.population),
        "body": terms(_body_text(entry.body)),
        "code_words": [t for key in entry.codes() for t in code_words.get(key, ())],
        "codes": [code_token(scheme, code) for scheme, code in entry.codes()],
    }


def _top(scores: np.ndarray, candidates: np.ndarray, depth: int) -> np.ndarray:
    """Return the candidate row numbers with the highest scores, best first."""
    if candidates.size > depth:
        part = np.argpartition(-scores[candidates], depth - 1)[:depth]
        candidates = candidates[part]
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order]


class LibraryIndex:
    """A searchable library.  Build it with ``LibraryIndex.build(entries)``."""

    def __init__(self, entries: list[LibraryEntry], *, lexical: BM25, vocabulary: _Vocabulary,
                 phrases: dict, vectors: np.ndarray | None, model=None,
                 codebook: Codebook | None = None, fusion: str = "blend"):
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, not {fusion!r}")
        self.entries = list(entries)
        self.lexical = lexical
        self.vectors = vectors
        self.model = model
        self.codebook = codebook or bundled_codebook()
        self.fusion = fusion
        self._vocabulary = vocabulary
        self._phrases = phrases
        self._longest_phrase = max((len(k) for k in phrases), default=1)
        self._rows_by_id = {entry.id: row for row, entry in enumerate(self.entries)}
        self._facet_rows = self._index_facets()
        self._visible_masks: dict[Viewer, np.ndarray] = {}
        self._query_vectors: dict[str, np.ndarray] = {}
        self._place_rows = self._index_places()

    def _index_places(self) -> dict[str, np.ndarray]:
        """Map each place name (lower case) to the entries at it: "old swan", "huyton"."""
        rows: dict[str, set[int]] = {}
        for row, entry in enumerate(self.entries):
            for value in (entry.place, entry.local_authority):
                for name in place_names(value):
                    rows.setdefault(name.lower(), set()).add(row)
        return {name: np.asarray(sorted(found), dtype=np.int64) for name, found in rows.items()}

    def _take_places(self, query: str) -> tuple[str, tuple[str, ...]]:
        """Cut place names (and an "in" before them) out of ``query``; return both."""
        found = []
        for name in sorted(self._place_rows, key=len, reverse=True):
            match = re.search(rf"\b{re.escape(name)}\b", query, re.IGNORECASE)
            if match:
                found.append(name)
                before = _PLACE_LEAD.sub("", query[:match.start()])
                query = f"{before} {query[match.end():]}"
        return " ".join(query.split()), tuple(found)

    # -- building -----------------------------------------------------------------------

    @classmethod
    def build(cls, entries: Iterable[LibraryEntry], *, model=None,
              codebook: Codebook | None = None, semantic: bool = True,
              vectors: np.ndarray | None = None, cache: VectorCache | None = None,
              embed_body: bool = False, fusion: str = "blend") -> LibraryIndex:
        """Index ``entries``.

        ``model`` is anything with ``.encode`` (None: the bundled MiniLM model).  Entry vectors
        come from ``vectors`` when given, else from ``cache`` (computing only new ones), else
        are embedded now; ``semantic=False`` builds a word-only index.
        """
        entries = list(entries)
        codebook = codebook or bundled_codebook()
        code_words = _code_words(codebook)
        documents = [_entry_fields(entry, code_words) for entry in entries]
        lexical = BM25(field_weights=FIELD_WEIGHTS).fit(documents)
        vocabulary = _build_vocabulary(entries, codebook, lexical)
        if semantic and vectors is None:
            texts = [embedding_text(entry, with_body=embed_body) for entry in entries]
            if cache is not None:
                vectors = cache.embed(texts, model=model)
                cache.save()
            else:
                from reviewkit.embeddings import embed

                vectors = embed(texts, model=model)
        if vectors is not None and len(vectors) != len(entries):
            raise ValueError("vectors must have one row per entry")
        return cls(entries, lexical=lexical, vocabulary=vocabulary,
                   phrases=_code_phrases(codebook), vectors=vectors if semantic else None,
                   model=model, codebook=codebook, fusion=fusion)

    def _index_facets(self) -> dict[str, dict[str, np.ndarray]]:
        rows: dict[str, dict[str, list[int]]] = {facet: {} for facet in FACETS}
        for row, entry in enumerate(self.entries):
            for facet in FACETS:
                for value in facet_values(entry, facet):
                    rows[facet].setdefault(value, []).append(row)
        return {facet: {value: np.asarray(found, dtype=np.int64) for value, found in by.items()}
                for facet, by in rows.items()}

    # -- who sees what ------------------------------------------------------------------

    def _visible_mask(self, viewer: Viewer) -> np.ndarray:
        mask = self._visible_masks.get(viewer)
        if mask is None:
            if len(self._visible_masks) > 256:
                self._visible_masks.clear()
            mask = np.fromiter((visible_to(entry, viewer) for entry in self.entries),
                               dtype=bool, count=len(self.entries))
            self._visible_masks[viewer] = mask
        return mask

    def _filter_mask(self, filters: Mapping[str, Iterable[str]] | None) -> np.ndarray | None:
        if not filters:
            return None
        unknown = sorted(set(filters) - set(FACETS))
        if unknown:
            raise ReviewkitError(f"Unknown filter {', '.join(unknown)}: filters can be "
                                 f"{', '.join(FACETS)}.")
        mask = np.ones(len(self.entries), dtype=bool)
        for facet, chosen in filters.items():
            chosen = set(chosen or ())
            if not chosen:
                continue
            facet_mask = np.zeros(len(self.entries), dtype=bool)
            for value in chosen:
                facet_mask[self._facet_rows[facet].get(value, np.empty(0, np.int64))] = True
            mask &= facet_mask
        return mask

    def visible(self, viewer: Viewer) -> list[LibraryEntry]:
        """Return every entry ``viewer`` may see (for browsing and export)."""
        mask = self._visible_mask(viewer)
        return [entry for entry, shown in zip(self.entries, mask, strict=True) if shown]

    def get(self, entry_id: str, *, viewer: Viewer) -> LibraryEntry:
        """Return the entry with ``entry_id`` if ``viewer`` may see it."""
        row = self._rows_by_id.get(entry_id)
        if row is None or not self._visible_mask(viewer)[row]:
            # The same answer whether it does not exist or is hidden: existence is not leaked.
            raise NotFoundError(f"There is no library entry '{entry_id}'.")
        return self.entries[row]

    def vector_for(self, entry: LibraryEntry) -> np.ndarray | None:
        """Return the embedding of an indexed entry (None for a word-only index)."""
        row = self._rows_by_id.get(entry.id)
        if self.vectors is None or row is None:
            return None
        return self.vectors[row]

    # -- reading a query ----------------------------------------------------------------

    def _correct(self, word: str) -> str:
        if (len(word) < 5 or word in STOP_WORDS or not word.isalpha()
                or stem(word) in self._vocabulary.stems):
            return word
        distance = 1 if len(word) <= 7 else 2
        found = process.extract(word, self._vocabulary.words, scorer=Levenshtein.distance,
                                score_cutoff=distance, limit=20)
        if not found:
            return word
        # the nearest spelling; among equally near ones, the word the library uses most
        best = min(found, key=lambda hit: (hit[1], -self._vocabulary.counts[hit[2]], hit[0]))
        return best[0]

    def parse(self, query: str) -> ParsedQuery:
        """Find place names, then correct, stem and match the rest to codebook codes."""
        original = query
        query, places = self._take_places(query)
        typed = words(query)
        corrected = [self._correct(word) for word in typed]
        corrections = tuple((a, b) for a, b in zip(typed, corrected, strict=True) if a != b)
        query_terms = [stem(w) for w in corrected if w not in STOP_WORDS]
        codes: list[tuple[str, str]] = []
        start = 0
        while start < len(query_terms):
            for length in range(min(self._longest_phrase, len(query_terms) - start), 0, -1):
                matched = self._phrases.get(tuple(query_terms[start:start + length]))
                if matched:
                    codes.extend(sorted(matched - set(codes)))
                    start += length
                    break
            else:
                start += 1
        text = " ".join(corrected) if corrections else " ".join(query.split())
        return ParsedQuery(text=original, corrected=text, corrections=corrections,
                           terms=tuple(query_terms), codes=tuple(codes), places=places)

    # -- scoring ------------------------------------------------------------------------

    def lexical_scores(self, parsed: ParsedQuery) -> np.ndarray:
        weights: Counter[str] = Counter(parsed.terms)
        for scheme, code in parsed.codes:
            weights[code_token(scheme, code)] += CODE_QUERY_WEIGHT
        return self.lexical.scores(weights)

    def semantic_scores(self, parsed: ParsedQuery) -> np.ndarray:
        if self.vectors is None:
            raise ReviewkitError("This library index was built without embeddings, so it "
                                 "cannot search by meaning.")
        key = parsed.corrected
        vector = self._query_vectors.get(key)
        if vector is None:
            vector = _embed_query(key, self.model)
            if len(self._query_vectors) > 1024:
                self._query_vectors.clear()
            self._query_vectors[key] = vector
        # einsum runs on this thread; a BLAS matrix-vector product wakes worker threads,
        # which costs more than the product itself on a busy machine.
        return np.einsum("ij,j->i", self.vectors, vector)

    def search(self, query: str, *, top: int = 10,
               filters: Mapping[str, Iterable[str]] | None = None, mode: str = "fused",
               viewer: Viewer) -> list[SearchHit]:
        """Return the best ``top`` entries for ``query`` that ``viewer`` may see.

        ``filters`` maps a facet (place, local_authority, type, approach, outcome, domain) to
        the values wanted: any of a facet's values, and every facet given.  A blank query lists
        the matching entries in library order.  A place named in the query ("in Old Swan")
        puts entries at that place first among those that match the rest of the query.
        """
        return self.search_counted(query, top=top, filters=filters, mode=mode,
                                   viewer=viewer)[0]

    def search_counted(self, query: str, *, top: int = 10,
                       filters: Mapping[str, Iterable[str]] | None = None,
                       mode: str = "fused", viewer: Viewer) -> tuple[list[SearchHit], int]:
        """Return the best ``top`` hits and how many entries match in all (for "N found")."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        mask = self._visible_mask(viewer)
        chosen = self._filter_mask(filters)
        if chosen is not None:
            mask = mask & chosen
        candidates = np.flatnonzero(mask)
        parsed = self.parse(query)
        at_place = np.zeros(len(self.entries), dtype=bool)
        for name in parsed.places:
            at_place[self._place_rows[name]] = True
        if not parsed.terms and not parsed.codes:
            if parsed.places:
                candidates = candidates[at_place[candidates]]
            if parsed.is_empty or top <= 0 or parsed.places:
                return ([SearchHit(self.entries[row], 0.0) for row in candidates[:max(top, 0)]],
                        int(candidates.size))
        if top <= 0:
            return [], 0
        if mode == "fused" and self.vectors is None:
            mode = "lexical"

        lexical = self.lexical_scores(parsed)
        semantic = self.semantic_scores(parsed) if mode != "lexical" else None
        if mode == "lexical":
            matching = candidates[lexical[candidates] > 0]
            final = lexical
        elif mode == "semantic":
            matching = candidates[semantic[candidates] >= MIN_MEANING]
            final = semantic
        else:
            final = self._fuse(lexical, semantic, candidates)
            matching = candidates[(final[candidates] > 0) & (
                (lexical[candidates] > 0) | (semantic[candidates] >= MIN_MEANING))]
        if parsed.places and matching.size:
            # Only entries that answer the rest of the query well move up for their place:
            # "loneliness in Old Swan" must not put Old Swan's air-pollution story first.
            final = final.copy()
            best = float(final[matching].max())
            relevant = np.zeros(len(self.entries), dtype=bool)
            relevant[matching[final[matching] >= PLACE_MIN_SHARE * best]] = True
            final[at_place & relevant] += PLACE_BOOST * best
        rows = _top(final, matching, top)
        codes = set(parsed.codes)
        return [SearchHit(
            entry=self.entries[row], score=float(final[row]), lexical_score=float(lexical[row]),
            semantic_score=None if semantic is None else float(semantic[row]),
            matched_codes=tuple(c for c in self.entries[row].codes() if c in codes),
        ) for row in rows], int(matching.size)

    def _fuse(self, lexical: np.ndarray, semantic: np.ndarray,
              candidates: np.ndarray) -> np.ndarray:
        fused = np.zeros(len(self.entries), dtype=np.float64)
        if candidates.size == 0:
            return fused
        by_words = _top(lexical, candidates[lexical[candidates] > 0], FUSION_DEPTH)
        by_meaning = _top(semantic, candidates, FUSION_DEPTH)
        if self.fusion == "rrf":
            for ranking in (by_words, by_meaning):
                fused[ranking] += 1.0 / (RRF_K + np.arange(1, ranking.size + 1))
            return fused
        pool = np.union1d(by_words, by_meaning)
        best_lexical = lexical[pool].max()
        words_part = lexical[pool] / best_lexical if best_lexical > 0 else 0.0
        low, high = semantic[pool].min(), semantic[pool].max()
        meaning_part = (semantic[pool] - low) / (high - low) if high > low else 1.0
        fused[pool] = (BLEND_LEXICAL_SHARE * words_part
                       + (1 - BLEND_LEXICAL_SHARE) * meaning_part) + 1e-9
        return fused

    def facet_counts(self, *, viewer: Viewer,
                     filters: Mapping[str, Iterable[str]] | None = None) -> dict[str, dict[str, int]]:
        """Count, per facet value, the entries ``viewer`` may see (within ``filters``)."""
        mask = self._visible_mask(viewer)
        chosen = self._filter_mask(filters)
        if chosen is not None:
            mask = mask & chosen
        return _count([self.entries[row] for row in np.flatnonzero(mask)])


def place_names(value: str) -> list[str]:
    """Split a place field into the names in it: "Stockbridge Village, Huyton" -> both."""
    names = []
    for part in re.split(r",|;|/|\(|\)| and | & ", value or ""):
        part = part.strip(" .")
        if part and len(part) >= 3 and not part.lower().startswith(
                ("not ", "all ", "nine ", "several", "one of", "see ", "including", "services ",
                 "near ", "north west", "cheshire and merseyside")):
            names.append(part)
    return names


def _embed_query(text: str, model) -> np.ndarray:
    """Embed one query on a single torch thread, restoring the thread count afterwards.

    A few words gain nothing from parallel threads, and waking them costs tens of
    milliseconds when the machine is busy (measured in benchmarks/library.py).
    """
    from reviewkit.embeddings import embed

    torch = sys.modules.get("torch")
    if torch is None:
        return embed([text], model=model)[0]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return embed([text], model=model)[0]
    finally:
        torch.set_num_threads(before)


def _build_vocabulary(entries: list[LibraryEntry], codebook: Codebook,
                      lexical: BM25) -> _Vocabulary:
    counts: Counter[str] = Counter()
    for entry in entries:
        text = " ".join([entry.title, entry.summary, entry.place, entry.local_authority,
                         entry.population, _body_text(entry.body)])
        counts.update(set(words(text)))
    for _, code in _entry_codes(codebook):
        counts.update(w for phrase in code.words() for w in set(words(phrase)) if w not in counts)
    kept = sorted(w for w in counts if len(w) >= 4 and w.isalpha())
    return _Vocabulary(words=kept, counts=[counts[w] for w in kept],
                       stems=frozenset(t for t in lexical.vocabulary_ if "=" not in t))


def _count(entries: Iterable[LibraryEntry]) -> dict[str, dict[str, int]]:
    counts = {facet: Counter() for facet in FACETS}
    for entry in entries:
        for facet in FACETS:
            counts[facet].update(facet_values(entry, facet))
    return {facet: dict(sorted(found.items(), key=lambda item: (-item[1], item[0])))
            for facet, found in counts.items()}


def facet_counts(hits_or_entries: Iterable[SearchHit | LibraryEntry], *,
                 viewer: Viewer | None = None) -> dict[str, dict[str, int]]:
    """Count facet values over search hits or entries, most common value first.

    Hits are counted as search returned them (search already applied its viewer).  Bare
    entries are first narrowed to those ``viewer`` may see, the public when none is given.
    When ``viewer`` is given, hits are narrowed by it too.
    """
    chosen = []
    for item in hits_or_entries:
        if isinstance(item, SearchHit):
            if viewer is None or visible_to(item.entry, viewer):
                chosen.append(item.entry)
        elif visible_to(item, viewer or Viewer.public()):
            chosen.append(item)
    return _count(chosen)


@lru_cache(maxsize=4)
def _public_index(entries: tuple[LibraryEntry, ...], model) -> LibraryIndex:
    return LibraryIndex.build(entries, model=model, cache=VectorCache())


def search_public(query: str, top: int = 10, *, store=None, folder=None,
               model=None) -> list[dict]:
    """Search the library as the public sees it; one dict per hit with id, title, type, score.

    The index (and the embedding model) is built once per process and entry vectors are kept
    in the data folder, so a later run embeds only the query.  ``store`` adds contributed
    entries; ``folder`` and ``model`` replace the case-study folder and the bundled model.
    """
    from reviewkit.library.entries import CASE_STUDIES_DIR, library_entries

    entries = tuple(library_entries(store, folder or CASE_STUDIES_DIR))
    hits = _public_index(entries, model).search(query, top=top, viewer=Viewer.public())
    return [{"id": hit.entry.id, "title": hit.entry.title, "type": hit.entry.type,
             "score": round(hit.score, 4)} for hit in hits]
