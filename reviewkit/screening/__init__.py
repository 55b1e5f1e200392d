"""Screening: rank records for a reviewer, estimate what is left, and advise when to stop.

The model and simulation names load on first use, so that pages which only need the stopping
advice or the queue do not wait for scikit-learn to import (seconds on a fresh server).
"""

from importlib import import_module

from reviewkit.screening.stopping import (
    STOPPING_RULES,
    RemainingEstimate,
    StoppingAdvice,
    estimate_remaining,
    estimate_remaining_by_rate,
    first_safe_position,
    stopping_advice,
    stopping_methods_text,
    stopping_trace,
)

_LAZY = {"Ranker": "model", "rank_by_criteria": "model", "retrain_due": "model",
         "simulate": "simulation"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"reviewkit.screening.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'reviewkit.screening' has no attribute {name!r}")


__all__ = [
    "STOPPING_RULES",
    "Ranker",
    "RemainingEstimate",
    "StoppingAdvice",
    "estimate_remaining",
    "estimate_remaining_by_rate",
    "first_safe_position",
    "rank_by_criteria",
    "retrain_due",
    "simulate",
    "stopping_advice",
    "stopping_methods_text",
    "stopping_trace",
]
