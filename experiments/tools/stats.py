"""Intervals and precision for the paper's tables: seeded percentile bootstrap, clipped shares,
and a precision that is undefined (not 0) when a run flags nothing.

Why not Student-t: with 5-10 seeds and shares near
0 or 1, a t interval runs outside [0, 1] (COMPA's precision 0.16 ± 0.19 in issue 12). A
percentile bootstrap of the mean stays inside the range of the data, and a share's interval is
clipped to [0, 1] in any case.

Why NaN: a run that flags nothing has no precision (0 / 0). Counting it as 0 makes "nearly all
flags right, but some runs flag nothing" print as a low precision; dropping it silently hides
how often the method said nothing. :func:`precision_summary` keeps both: the mean over runs
that flagged something, and how many flagged nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    *,
    level: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
    share: bool = True,
) -> tuple[float, float, float]:
    """Mean and the percentile-bootstrap interval of the mean (NaNs left out).

    Parameters
    ----------
    values
        One value per run (seed).
    level
        Coverage of the interval.
    n_resamples
        Bootstrap resamples (with replacement, of the same size as the data).
    seed
        Seed of the resampling: the same data and seed give the same interval.
    share
        The values are shares: the interval is clipped to [0, 1].

    Returns
    -------
    ``(mean, low, high)``; all NaN without finite values; a single value is its own interval.

    Examples
    --------
    >>> mean, low, high = bootstrap_ci([0.0, 0.0, 0.0, 0.8, 0.0])
    >>> round(mean, 2), low, round(high, 2)
    (0.16, 0.0, 0.48)
    >>> bootstrap_ci([0.7])
    (0.7, 0.7, 0.7)
    >>> bootstrap_ci([0.9, 1.0, 1.0, 1.0], seed=1) == bootstrap_ci([0.9, 1.0, 1.0, 1.0], seed=1)
    True
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(x.mean())
    if len(x) == 1:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n_resamples, len(x)))].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    low, high = (float(v) for v in np.quantile(means, [alpha, 1.0 - alpha]))
    if share:
        low, high = max(low, 0.0), min(high, 1.0)
    return mean, low, high


def precision(tp: float, fp: float) -> float:
    """``tp / (tp + fp)``, NaN when nothing was flagged (``tp + fp == 0``).

    Examples
    --------
    >>> precision(9, 1), precision(0, 3)
    (0.9, 0.0)
    >>> precision(0, 0)
    nan
    """
    flagged = tp + fp
    return float(tp) / flagged if flagged > 0 else float("nan")


@dataclass(frozen=True)
class PrecisionSummary:
    """Precision over runs: the bootstrap mean and interval over the runs that flagged
    something, the number of runs, and how many flagged nothing (precision undefined)."""

    mean: float
    low: float
    high: float
    n_runs: int
    n_flagged_nothing: int

    def text(self, digits: int = 2) -> str:
        """How a table shows it: ``0.91 (0.85–0.97)``, with ``; k of n runs flagged nothing``
        when some did, and ``n/a (n of n runs flagged nothing)`` when all did.

        Examples
        --------
        >>> precision_summary([9, 8, 0], [1, 0, 0]).text()
        '0.95 (0.90–1.00); 1 of 3 runs flagged nothing'
        >>> precision_summary([0, 0], [0, 0]).text()
        'n/a (2 of 2 runs flagged nothing)'
        """
        if self.n_runs == self.n_flagged_nothing:
            return f"n/a ({self.n_flagged_nothing} of {self.n_runs} runs flagged nothing)"
        body = f"{self.mean:.{digits}f} ({self.low:.{digits}f}–{self.high:.{digits}f})"
        if self.n_flagged_nothing:
            body += f"; {self.n_flagged_nothing} of {self.n_runs} runs flagged nothing"
        return body


def precision_summary(
    tp: Sequence[float] | np.ndarray,
    fp: Sequence[float] | np.ndarray,
    *,
    level: float = 0.95,
    seed: int = 0,
) -> PrecisionSummary:
    """Precision of each run (NaN when it flagged nothing), summarised by :func:`bootstrap_ci`.

    Examples
    --------
    >>> s = precision_summary([4, 0, 5], [0, 0, 0])
    >>> s.mean, s.n_runs, s.n_flagged_nothing
    (1.0, 3, 1)
    """
    tp_arr, fp_arr = np.asarray(tp, dtype=np.float64), np.asarray(fp, dtype=np.float64)
    if tp_arr.shape != fp_arr.shape:
        raise ValueError(f"tp and fp differ in length: {tp_arr.shape} vs {fp_arr.shape}")
    per_run = np.array([precision(t, f) for t, f in zip(tp_arr, fp_arr, strict=True)])
    mean, low, high = bootstrap_ci(per_run, level=level, seed=seed, share=True)
    nothing = int(np.count_nonzero(np.isnan(per_run)))
    return PrecisionSummary(mean, low, high, len(per_run), nothing)
