"""Screening: rank records for a reviewer, estimate what is left, and advise when to stop."""

from reviewkit.screening.model import Ranker, rank_by_criteria, retrain_due
from reviewkit.screening.simulation import simulate, simulate_csv
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
    "simulate_csv",
    "stopping_advice",
    "stopping_methods_text",
    "stopping_trace",
]
