"""The statistics sweeps, comparisons and tournaments report: a Student-t interval of a mean
across seeds, and Welch's interval of a difference of means when runs cannot be paired."""

from __future__ import annotations

import numpy as np
from scipy import stats

LEVEL = 0.95


def interval(values: np.ndarray) -> tuple[float, float, float]:
    """(mean, low, high): a t interval at LEVEL; no width from a single value."""
    values = np.asarray(values, dtype=float)
    if not len(values):
        return np.nan, np.nan, np.nan
    mean = float(values.mean())
    if len(values) < 2:
        return mean, np.nan, np.nan
    half = stats.t.ppf((1 + LEVEL) / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return mean, mean - half, mean + half


def welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(difference, low, high) of two independent means, Welch's t interval at LEVEL."""
    diff = float(a.mean() - b.mean()) if len(a) and len(b) else np.nan
    if len(a) < 2 or len(b) < 2:
        return diff, np.nan, np.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = np.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff
    dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = stats.t.ppf((1 + LEVEL) / 2, dof) * se
    return diff, diff - half, diff + half
