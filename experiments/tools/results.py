"""Tidy results of many runs: cache keys, a per-run cache, and summaries with confidence intervals.

A *run* is one method on one dataset with one seed; its result is one row of
a tidy table (config keys, seed, metrics). Runs are keyed by a hash of their
resolved configuration, so that a rerun can skip what it has already done.
Summaries average over seeds and give a Student-t confidence interval of the
mean.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.tools.stats import bootstrap_ci

#: Bump when the meaning of a cached result changes (new metrics, changed evaluation),
#: so that old cache entries are not mistaken for new ones. 3: the evidence rule picks a
#: cluster's top domain by exclusive mass and leaves unsigned members unflagged (same
#: configs, other verdicts).
CACHE_VERSION = 3


def canonical_json(data: Any) -> str:
    """JSON with sorted keys and no whitespace: equal data give equal text.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [1.0, None]})
    '{"a":[1.0,null],"b":1}'
    """
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False, default=str)


def _method_source() -> str:
    """Hash of the modules a run's result depends on."""
    from experiments.protocol import METHOD_SOURCES, source_hash

    return source_hash(METHOD_SOURCES)


def run_key(config: dict[str, Any], *, kind: str = "detection") -> str:
    """The cache key of a run: SHA-256 of its resolved configuration, kind, cache version and
    the source of the simulator, graph, detectors, evidence, verdicts and baselines (a change
    there recomputes the run; a change to the report or the plots does not).

    Examples
    --------
    >>> run_key({"seed": 0}) == run_key({"seed": 0})
    True
    >>> run_key({"seed": 0}) == run_key({"seed": 1})
    False
    """
    text = canonical_json(
        {"config": config, "kind": kind, "cache_version": CACHE_VERSION, "source": _method_source()}
    )
    return hashlib.sha256(text.encode()).hexdigest()


class RunCache:
    """Finished runs on disk, one JSON file per run key (``<root>/<key[:2]>/<key>.json``).

    Files are written atomically (a temporary file renamed into place), so that
    parallel workers or cluster jobs sharing the directory never read half a file.

    Examples
    --------
    >>> import tempfile
    >>> cache = RunCache(tempfile.mkdtemp())
    >>> cache.get("ab12") is None
    True
    >>> cache.put("ab12", {"f1": 1.0})
    >>> cache.get("ab12")
    {'f1': 1.0}
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """Where the entry of ``key`` lives."""
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored entry, or ``None`` when absent or unreadable (a broken entry is recomputed)."""
        path = self.path(key)
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def put(self, key: str, entry: dict[str, Any]) -> None:
        """Store an entry atomically."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as handle:
            handle.write(
                json.dumps(entry, sort_keys=True, indent=1, allow_nan=False, default=str) + "\n"
            )
        os.replace(tmp, path)


def is_share(metric: str) -> bool:
    """Whether a metric is a share in [0, 1], so that its interval is clipped to that range.

    Examples
    --------
    >>> [is_share(m) for m in ("f1", "fpr_feed", "app_share", "seconds", "n_posts")]
    [True, True, True, False, False]
    """
    return (
        metric in ("f1", "precision", "recall", "fpr", "bcubed_f1", "ap", "nmi", "purity")
        or metric.startswith(("fpr_", "nmi_"))
        or metric.endswith("_share")
    )


def summarise(
    results: pd.DataFrame, by: Sequence[str], metrics: Sequence[str], *, level: float = 0.95
) -> pd.DataFrame:
    """Mean, percentile-bootstrap interval of the mean (clipped to [0, 1] for shares; see
    :mod:`experiments.tools.stats`) and count over seeds of each metric, per group.

    Parameters
    ----------
    results
        A tidy results table (one row per run).
    by
        Columns that define a point (method, axis values, preset...).
    metrics
        Metric columns to summarise.
    level
        Confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        One row per group: the ``by`` columns, then ``<metric>``,
        ``<metric>_lo``, ``<metric>_hi`` for each metric and ``n`` (runs).

    Examples
    --------
    >>> runs = pd.DataFrame({"method": ["a", "a", "b"], "seed": [0, 1, 0], "f1": [0.8, 1.0, 0.5]})
    >>> summarise(runs, ["method"], ["f1"])[["method", "f1", "n"]].to_dict("records")
    [{'method': 'a', 'f1': 0.9, 'n': 2}, {'method': 'b', 'f1': 0.5, 'n': 1}]
    """
    rows = []
    for keys, group in results.groupby(list(by), sort=True, dropna=False):
        row: dict[str, Any] = dict(
            zip(by, keys if isinstance(keys, tuple) else (keys,), strict=True)
        )
        for metric in metrics:
            mean, lo, hi = bootstrap_ci(
                group[metric].to_numpy(dtype=np.float64), level=level, share=is_share(metric)
            )
            row[metric], row[f"{metric}_lo"], row[f"{metric}_hi"] = mean, lo, hi
        row["n"] = len(group)
        rows.append(row)
    columns = [*by, *(f"{m}{s}" for m in metrics for s in ("", "_lo", "_hi")), "n"]
    return pd.DataFrame(rows, columns=columns)


def write_results(results: pd.DataFrame, path: str | Path) -> Path:
    """Write a results table as CSV with stable bytes (rows as given, fixed float format).

    Examples
    --------
    >>> import tempfile
    >>> path = write_results(pd.DataFrame({"seed": [0], "f1": [2 / 3]}), Path(tempfile.mkdtemp()) / "r.csv")
    >>> path.read_text()
    'seed,f1\\n0,0.6666666667\\n'
    >>> read_results(path)["f1"].round(3).tolist()
    [0.667]
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    results.to_csv(path, index=False, float_format="%.10g", lineterminator="\n")
    return path


def read_results(path: str | Path) -> pd.DataFrame:
    """Read a results table written by :func:`write_results`."""
    return pd.read_csv(path, keep_default_na=True)
