"""The files the command line reads and writes, apart from bibliographic formats.

Domain modules take and return plain data (texts, labels, suggestions, clusterings); this
module turns a CSV into that data and the answer back into a CSV, for ``python -m reviewkit
code``, ``cluster`` and ``simulate``.  Bibliographic files are read and written by
:mod:`reviewkit.formats`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

from reviewkit.errors import FormatError, ReviewkitError
from reviewkit.export_cells import cell_writer, csv_bytes

STUDY_COLUMNS = ("record_id", "title", "abstract")
CODE_CSV_COLUMNS = ("record_id", "scheme", "code", "confidence")
SIMULATION_COLUMNS = ("record_id", "title", "abstract", "label_included")


# -- studies in, codes and clusters out ------------------------------------------------------

def read_study_csv(path: str | Path) -> list[dict[str, str]]:
    """Read a CSV with at least record_id, title and abstract columns."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        names = {n.strip().lower(): n for n in reader.fieldnames or []}
        missing = [c for c in STUDY_COLUMNS if c not in names]
        if missing:
            raise ReviewkitError(f"{path}: the CSV needs the column(s) {', '.join(missing)}.")
        return [{key: (row.get(names[key]) or "").strip() for key in STUDY_COLUMNS}
                for row in reader]


def study_texts(rows: Sequence[dict[str, str]]) -> list[str]:
    """Each study's title and abstract as one text, as coding and clustering read it."""
    return [f"{r['title']}\n{r['abstract']}".strip() for r in rows]


def code_csv(path: str | Path, output: str | Path, *, codebook=None, model=None,
             threshold: float | None = None) -> int:
    """Suggest codes for the studies in a CSV; write record_id,scheme,code,confidence rows and
    return how many were written."""
    from reviewkit.coding import DEFAULT_THRESHOLD, suggest_codes

    rows = read_study_csv(path)
    suggestions = suggest_codes(study_texts(rows), codebook, model=model,
                                threshold=DEFAULT_THRESHOLD if threshold is None else threshold)
    written = 0
    with open(output, "w", newline="", encoding="utf-8") as handle:
        writer = cell_writer(handle)
        writer.writerow(CODE_CSV_COLUMNS)
        for row, found in zip(rows, suggestions, strict=True):
            for s in found:
                writer.writerow([row["record_id"], s.scheme, s.code, f"{s.confidence:.3f}"])
                written += 1
    return written


def cluster_csv(path: str | Path, output: str | Path, k: int | None = None, *, model=None):
    """Cluster the studies in a CSV; write record_id,cluster_id,cluster_label rows and return
    the clustering."""
    from reviewkit.clustering import cluster_model, cluster_records, write_assignments

    rows = read_study_csv(path)
    texts = study_texts(rows)
    result = cluster_records(texts, k=k, model=cluster_model(len(texts), model))
    with open(output, "w", newline="", encoding="utf-8") as handle:
        write_assignments(handle, [row["record_id"] for row in rows], result)
    return result


# -- a labelled screening, replayed ------------------------------------------------------------

def read_simulation_csv(path: str | Path):
    """Read a labelled screening file (columns record_id, title, abstract, label_included)
    as a DataFrame, labels as 0/1 integers."""
    import pandas as pd

    frame = pd.read_csv(path, dtype={"record_id": str}, keep_default_na=False)
    missing = [column for column in SIMULATION_COLUMNS if column not in frame.columns]
    if missing:
        raise FormatError(f"missing column(s) {', '.join(missing)}", file=str(path))
    labels = pd.to_numeric(frame["label_included"], errors="coerce")
    bad = labels.isna() | ~labels.isin((0, 1))
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise FormatError("label_included must be 0 or 1", file=str(path), line=row + 2)
    frame["label_included"] = labels.astype(int)
    return frame


def simulate_csv(
    path: str | Path,
    output: str | Path,
    *,
    prior_included: Sequence[str] = (),
    prior_excluded: Sequence[str] = (),
    seed: int = 0,
    criteria: str = "",
    progress: Callable[[int, int], None] | None = None,
    stop_recall: float | None = None,
    stop_rule: str | None = None,
    model: str | None = None,
    encoder=None,
) -> list[str]:
    """Simulate screening the labelled CSV at ``path`` and write the order to ``output``.

    ``output`` gets one column, ``record_id``, in screening order with the priors first.  With
    ``stop_recall`` it gets a second, ``safe_to_stop``: 1 where the stopping advice by
    ``stop_rule`` after that record says the recall target is reached, else 0.  ``model``
    names the ranker's model and ``encoder`` the sentence model of the MiniLM ones.
    """
    from reviewkit.screening.model import DEFAULT_MODEL, check_model
    from reviewkit.screening.simulation import record_texts, simulate
    from reviewkit.screening.stopping import DEFAULT_RULE, check_stopping_choice, stopping_trace

    model, stop_rule = model or DEFAULT_MODEL, stop_rule or DEFAULT_RULE
    check_model(model)
    if stop_recall is not None:
        check_stopping_choice(stop_rule, stop_recall)
    frame = read_simulation_csv(path)
    order = simulate(
        frame["record_id"].tolist(), record_texts(frame), frame["label_included"].tolist(),
        prior_included=[str(record_id) for record_id in prior_included],
        prior_excluded=[str(record_id) for record_id in prior_excluded],
        seed=seed, criteria=criteria, progress=progress, model=model, encoder=encoder)
    columns, rows = ["record_id"], [[record_id] for record_id in order]
    if stop_recall is not None:
        label_of = dict(zip(frame["record_id"], frame["label_included"], strict=True))
        advice = stopping_trace([label_of[record_id] for record_id in order], len(order),
                                recall_target=stop_recall, rule=stop_rule)
        columns.append("safe_to_stop")
        rows = [[record_id, int(safe)] for (record_id,), safe in zip(rows, advice, strict=True)]
    Path(output).write_bytes(csv_bytes(columns, rows, lineterminator="\n"))
    return order
