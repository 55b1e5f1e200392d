"""Replay a finished review to see in which order the ranker would have shown its records.

The simulation plays the reviewer: it asks the ranker for the next record, looks up that one
record's label, and tells the ranker.  A label is read only when its record is asked for, so the
simulation measures exactly what a reviewer using the app would have seen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reviewkit.errors import NotFoundError
from reviewkit.screening.model import (
    DEFAULT_MODEL,
    Ranker,
    check_model,
    rank_by_criteria,
    retrain_due,
)


def simulate(
    ids: list[str],
    texts: list[str],
    labels: Sequence[int],
    *,
    prior_included: Sequence[str] = (),
    prior_excluded: Sequence[str] = (),
    seed: int = 0,
    criteria: str = "",
    progress: Callable[[int, int], None] | None = None,
    model: str = DEFAULT_MODEL,
    encoder=None,
) -> list[str]:
    """Return the record ids in the order a reviewer would screen them, priors first.

    ``prior_included`` and ``prior_excluded`` are ids the reviewer already judged; their labels
    are taken from those lists.  Any other label is read when its record is asked for.  Without
    priors, screening starts from the ranking by ``criteria`` (the file's order when empty).
    ``progress(done, total)`` is called after each decision.  ``model`` names the ranker's
    model (:data:`~reviewkit.screening.model.MODELS`); ``encoder`` is the sentence model for
    the MiniLM ones (``None``: the bundled one).
    """
    ids = [str(record_id) for record_id in ids]
    if not len(ids) == len(texts) == len(labels):
        raise ValueError(f"{len(ids)} ids, {len(texts)} texts and {len(labels)} labels differ")
    position = {record_id: index for index, record_id in enumerate(ids)}
    if len(position) != len(ids):
        raise ValueError("record ids must be unique")
    known: dict[int, int] = {}
    for record_ids, label in ((prior_included, 1), (prior_excluded, 0)):
        for record_id in record_ids:
            if str(record_id) not in position:
                raise NotFoundError(f"prior record {record_id!r} is not among the records")
            known[position[str(record_id)]] = label
    order = list(known)
    total = len(ids)
    check_model(model)
    ranker = Ranker(random_state=seed, criteria=criteria, model=model, encoder=encoder)
    ranking: list[int] = [] if known else rank_by_criteria(texts, criteria)
    cursor = since_fit = 0
    while len(order) < total:
        if known and (cursor >= len(ranking) or retrain_due(len(known), since_fit)):
            ranking, cursor, since_fit = ranker.fit(texts, known).rank(), 0, 0
        while ranking[cursor] in known:
            cursor += 1
        index = ranking[cursor]
        cursor += 1
        known[index] = int(labels[index])  # the reviewer's answer, read only now
        order.append(index)
        since_fit += 1
        if progress is not None:
            progress(len(order), total)
    return [ids[index] for index in order]


def record_texts(frame) -> list[str]:
    """Join each record's title and abstract into the text the ranker reads (as the app does)."""
    from reviewkit.screening.queue import record_text

    return [record_text(t, a) for t, a in zip(frame["title"].astype(str), frame["abstract"].astype(str))]
