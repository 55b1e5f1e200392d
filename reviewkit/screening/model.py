"""The screening ranker: which unscreened record a reviewer should see next.

Records are described by TF-IDF over words and word pairs (sublinear term frequency), fitted on
every record of the review: that uses the texts only, never a decision.  A linear support vector
machine learns from the decisions made so far, with relevant records weighted up (they are rare)
and with every *unscreened* record counted as a weak "not relevant" example.  Most unscreened
records are not relevant, so this tells the model early on what an ordinary record of the search
looks like, which one or two excluded records cannot.  The reviewer sees the record with the
highest score next.

Before any record is judged relevant there is nothing to learn from; records are then ranked by
their similarity to the review's eligibility criteria (:func:`rank_by_criteria`).

That is the default model, ``tfidf_svm``.  A model is a feature extractor and a classifier,
composed by name in :data:`MODELS` (``tfidf_nb``, ``tfidf_logistic``, ``minilm_logistic`` and
``minilm_svm`` besides); the weighting above (balancing) and the ranking by score with an
optional exploration share (the query) are shared by all.  A new model is one new small class
in :data:`FEATURES` or :data:`CLASSIFIERS` and one line in :data:`MODELS`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC
from sklearn.utils import check_random_state

# Retraining after every decision is affordable up to this many decisions; past it the model
# retrains after every ``n_labelled // RETRAIN_EVERY_DECISION_UNTIL`` decisions, which keeps a
# simulation of a large review tractable while each step moves the ranking very little.
RETRAIN_EVERY_DECISION_UNTIL = 1000


def retrain_due(n_labelled: int, decisions_since_fit: int) -> bool:
    """Say whether the ranker should be refitted, given the decisions made since the last fit.

    The app and the simulation both follow this rule, so a simulation measures the model the
    reviewer actually gets.

    >>> retrain_due(10, 1), retrain_due(2500, 1), retrain_due(2500, 2)
    (True, False, True)
    """
    interval = max(1, n_labelled // RETRAIN_EVERY_DECISION_UNTIL)
    return decisions_since_fit >= interval


def text_features(texts: list[str]) -> sparse.csr_matrix:
    """Turn texts into L2-normalised TF-IDF rows over words and word pairs."""
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_df=0.95, min_df=1)
    try:
        return vectorizer.fit_transform([text or "" for text in texts]).tocsr()
    except ValueError:  # no words at all, or every word in every record
        return sparse.csr_matrix((len(texts), 1))


class TfidfFeatures:
    """TF-IDF over words and word pairs (:func:`text_features`); needs no model."""

    def transform(self, texts: list[str], *, encoder=None) -> sparse.csr_matrix:
        return text_features(texts)


class MiniLMFeatures:
    """The bundled MiniLM sentence embeddings (``encoder``: anything with ``.encode``)."""

    def transform(self, texts: list[str], *, encoder=None) -> np.ndarray:
        from reviewkit.embeddings import embed

        return embed(texts, model=encoder)


class SVMClassifier:
    """A linear support vector machine (liblinear): ASReview's default classifier too."""

    def fit(self, features, y, weights, *, C: float, seed: int):
        # A looser tolerance than liblinear's default: the ranking is the same, the fit faster.
        self.model_ = LinearSVC(C=C, tol=1e-3, random_state=seed).fit(features, y,
                                                                      sample_weight=weights)
        return self

    def scores(self, features) -> np.ndarray:
        return self.model_.decision_function(features)


class LogisticClassifier:
    """L2-regularised logistic regression (liblinear)."""

    def fit(self, features, y, weights, *, C: float, seed: int):
        self.model_ = LogisticRegression(C=C, solver="liblinear", tol=1e-3, random_state=seed)
        self.model_.fit(features, y, sample_weight=weights)
        return self

    def scores(self, features) -> np.ndarray:
        return self.model_.decision_function(features)


class NaiveBayesClassifier:
    """Multinomial naive Bayes on non-negative features (TF-IDF), as in ASReview's ``nb``."""

    def fit(self, features, y, weights, *, C: float, seed: int):
        self.model_ = MultinomialNB(alpha=3.822).fit(features, y, sample_weight=weights)
        return self

    def scores(self, features) -> np.ndarray:
        log_odds = self.model_.predict_log_proba(features)
        return log_odds[:, 1] - log_odds[:, 0]


FEATURES = {"tfidf": TfidfFeatures, "minilm": MiniLMFeatures}
CLASSIFIERS = {"svm": SVMClassifier, "logistic": LogisticClassifier, "nb": NaiveBayesClassifier}
# Every model a review (or ``simulate --model``) can choose: name -> (features, classifier).
MODELS = {
    "tfidf_svm": ("tfidf", "svm"),
    "tfidf_logistic": ("tfidf", "logistic"),
    "tfidf_nb": ("tfidf", "nb"),
    "minilm_logistic": ("minilm", "logistic"),
    "minilm_svm": ("minilm", "svm"),
}
DEFAULT_MODEL = "tfidf_svm"


def check_model(name: str) -> None:
    """Raise ``ValueError`` naming the models when ``name`` is not one of them."""
    if name not in MODELS:
        raise ValueError(f"unknown screening model {name!r}; choose one of {', '.join(MODELS)}")


class Ranker(BaseEstimator):
    """Rank unscreened records by how likely they are to be relevant.

    ``C`` is the classifier's regularisation, ``relevant_weight`` how much more all relevant
    decisions weigh than all not-relevant ones, ``unscreened_weight`` the weight of all
    unscreened records (as weak negatives) relative to all not-relevant decisions,
    ``max_unscreened`` and ``max_excluded`` how many unscreened records and not-relevant
    decisions at most the classifier sees (a random subset, same total weight; for speed),
    ``exploration`` the share of places in the ranking given to a random record instead, and
    ``criteria`` the eligibility criteria used while no record has been judged relevant,
    ``model`` the name of a model in :data:`MODELS` and ``encoder`` the sentence model the
    MiniLM models embed with (``None``: the bundled one).
    """

    def __init__(
        self,
        *,
        model: str = DEFAULT_MODEL,
        encoder=None,
        C: float = 0.2,
        relevant_weight: float = 9.8,
        unscreened_weight: float = 0.5,
        max_unscreened: int = 2000,
        max_excluded: int = 3000,
        exploration: float = 0.0,
        criteria: str = "",
        random_state=None,
    ):
        self.model = model
        self.encoder = encoder
        self.C = C
        self.relevant_weight = relevant_weight
        self.unscreened_weight = unscreened_weight
        self.max_unscreened = max_unscreened
        self.max_excluded = max_excluded
        self.exploration = exploration
        self.criteria = criteria
        self.random_state = random_state

    def fit(self, texts: list[str], labels: Mapping[int, int], *,
            features: sparse.csr_matrix | None = None) -> Ranker:
        """Learn from ``labels`` (record index -> 1 relevant, 0 not) and score every record.

        Refitting on the same texts reuses their features, so a retrain after one more decision
        only trains the classifier.  ``features`` gives ``text_features(texts)`` made
        elsewhere (in another process, say) instead of making them here.
        """
        check_model(self.model)
        texts = list(texts)
        fingerprint = (len(texts), hash(tuple(texts)), self.model)
        if getattr(self, "fingerprint_", None) != fingerprint:
            if features is not None:
                self.features_ = features
            else:
                extractor = FEATURES[MODELS[self.model][0]]()
                self.features_ = extractor.transform(texts, encoder=self.encoder)
            self.fingerprint_ = fingerprint
        n = len(texts)
        self.labels_ = {int(i): int(v) for i, v in labels.items()}
        if any(not 0 <= i < n for i in self.labels_):
            raise IndexError(f"labels name a record outside the {n} texts")
        self.random_state_ = check_random_state(self.random_state)
        relevant = [i for i, v in self.labels_.items() if v == 1]
        if not relevant:
            key = (fingerprint[:2], self.criteria)
            if getattr(self, "criteria_key_", None) != key:
                self.criteria_scores_ = _criteria_scores(texts, self.criteria)
                self.criteria_key_ = key
            self.scores_ = self.criteria_scores_
            self.used_classifier_ = False
            return self
        self.scores_ = self._classifier_scores(n)
        self.used_classifier_ = True
        return self

    def _classifier_scores(self, n: int) -> np.ndarray:
        screened = np.fromiter(self.labels_, dtype=np.int64, count=len(self.labels_))
        decided = np.fromiter(self.labels_.values(), dtype=np.int64, count=len(self.labels_))
        n_labelled = len(screened)
        n_relevant = int(decided.sum())
        n_excluded = n_labelled - n_relevant
        unscreened = np.setdiff1d(np.arange(n), screened)
        # Random subsets carry the same total weight and keep a retrain fast at scale.
        unscreened = self._at_most(unscreened, self.max_unscreened)
        kept_excluded = self._at_most(screened[decided == 0], self.max_excluded)
        keep = (decided == 1) | np.isin(screened, kept_excluded)
        screened, decided = screened[keep], decided[keep]
        # Relevant decisions together weigh ``relevant_weight`` times the not-relevant ones;
        # the unscreened records together weigh ``unscreened_weight`` times those again.
        excluded_total = n_relevant / self.relevant_weight
        weight_each_excluded = excluded_total / len(kept_excluded) if n_excluded else 0.0
        weight_each_unscreened = (
            self.unscreened_weight * excluded_total / len(unscreened) if len(unscreened) else 0.0
        )
        rows = np.concatenate([screened, unscreened])
        y = np.concatenate([decided, np.zeros(len(unscreened), dtype=np.int64)])
        weights = np.concatenate(
            [
                np.where(decided == 1, 1.0, weight_each_excluded),
                np.full(len(unscreened), weight_each_unscreened),
            ]
        )
        keep = weights > 0
        rows, y, weights = rows[keep], y[keep], weights[keep]
        if y.min() == y.max():  # every record judged relevant: nothing to tell apart
            return np.zeros(n)
        # Scale so that the regularisation means the same whatever the number of rows.
        weights *= n_labelled / weights.sum()
        classifier = CLASSIFIERS[MODELS[self.model][1]]()
        classifier.fit(self.features_[rows], y, weights, C=self.C,
                       seed=self.random_state_.randint(2**31 - 1))
        return classifier.scores(self.features_)

    def _at_most(self, indexes: np.ndarray, limit: int) -> np.ndarray:
        if len(indexes) <= limit:
            return indexes
        return np.sort(self.random_state_.choice(indexes, limit, replace=False))

    def scores(self) -> np.ndarray:
        """Return each record's score (higher is more likely relevant)."""
        return self.scores_

    def rank(self, *, exclude: set[int] | None = None) -> list[int]:
        """Return the unscreened record indexes, the likeliest relevant first.

        Records in ``exclude`` are left out as well as the screened ones.  With ``exploration``
        above zero, that share of places goes to a record drawn at random from the rest.
        """
        skip = set(self.labels_) | set(exclude or ())
        candidates = np.array([i for i in range(len(self.scores_)) if i not in skip], dtype=int)
        # Stable sort on the negated score: ties keep the records' own order.
        order = candidates[np.argsort(-self.scores_[candidates], kind="stable")]
        if self.exploration <= 0 or len(order) < 2:
            return order.tolist()
        return _mix_in_random(order, self.exploration, self.random_state_)


def _mix_in_random(order: np.ndarray, share: float, rng: np.random.RandomState) -> list[int]:
    """Give each place, with chance ``share``, to a random record not yet placed."""
    best_first = order.tolist()
    shuffled = rng.permutation(order).tolist()
    explore = (rng.random_sample(len(order)) < share).tolist()
    placed: list[int] = []
    taken: set[int] = set()
    cursors = {True: 0, False: 0}  # how far each source has been read
    for slot in range(len(order)):
        source = shuffled if explore[slot] else best_first
        while source[cursors[explore[slot]]] in taken:
            cursors[explore[slot]] += 1
        pick = source[cursors[explore[slot]]]
        placed.append(pick)
        taken.add(pick)
    return placed


def rank_by_criteria(
    texts: list[str], criteria: str, *, embeddings: np.ndarray | None = None, model=None
) -> list[int]:
    """Rank records by similarity to the eligibility criteria, for the start of screening.

    ``embeddings`` (one L2-normalised row per text) add meaning-level similarity to the word
    overlap; ``model`` embeds the criteria the same way (``None`` loads the bundled model).
    With empty criteria the records keep their own order.
    """
    scores = _criteria_scores(list(texts), criteria)
    if embeddings is not None and criteria.strip():
        from reviewkit.embeddings import embed

        target = embed([criteria], model=model)[0]
        meaning = np.asarray(embeddings, dtype=np.float32) @ target
        scores = _standardise(scores) + _standardise(meaning)
    return np.argsort(-scores, kind="stable").tolist()


def _criteria_scores(texts: list[str], criteria: str) -> np.ndarray:
    """Cosine similarity of each text to the criteria in TF-IDF space (zeros without criteria)."""
    if not criteria.strip() or not texts:
        return np.zeros(len(texts))
    # Fit the vocabulary on records and criteria together, so the criteria's own words count.
    both = text_features(list(texts) + [criteria])
    return np.asarray((both[:-1] @ both[-1].T).todense()).ravel()


def _standardise(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else values - values.mean()


if __name__ == "__main__":  # the child process of ``queue.features_in_a_process``
    import io
    import json
    import os
    import sys

    if hasattr(os, "nice"):  # background work: the app's pages and the browser come first
        os.nice(10)

    _buffer = io.BytesIO()
    sparse.save_npz(_buffer, text_features(json.loads(sys.stdin.buffer.read())))
    sys.stdout.buffer.write(_buffer.getvalue())
