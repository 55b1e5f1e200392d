"""Screening: rank records for a reviewer, estimate what is left, and advise when to stop."""

from reviewkit.screening.model import Ranker, rank_by_criteria, retrain_due
from reviewkit.screening.simulation import simulate, simulate_csv
from reviewkit.screening.stopping import (
    RemainingEstimate,
    StoppingAdvice,
    estimate_remaining,
    stopping_advice,
)

__all__ = [
    "Ranker",
    "RemainingEstimate",
    "StoppingAdvice",
    "estimate_remaining",
    "rank_by_criteria",
    "retrain_due",
    "simulate",
    "simulate_csv",
    "stopping_advice",
]
