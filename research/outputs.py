"""Writing a detection to disk: verdict tables, a summary, metrics, provenance.

Files that results depend on (``accounts.csv``, ``clusters.csv``,
``summary.json``, ``metrics.json``) are byte-stable: the same input, method
and seed give the same bytes. Timings, which vary from run to run, go to
``timings.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from research.detection import Detection
from research.provenance import provenance, to_json_text
from research.verdicts import explanations


def clusters_table(detection: Detection) -> pd.DataFrame:
    """The clusters table with an ``explanation`` column, as written to ``clusters.csv``."""
    table = detection.clusters.copy()
    if (
        len(table) and "explanation" not in table
    ):  # baselines bring their own (their rule, not ours)
        table["explanation"] = explanations(table)
    return table


def write_detection(
    detection: Detection,
    out_dir: str | Path,
    *,
    metrics: dict[str, Any] | None = None,
    **context: Any,
) -> Path:
    """Write ``accounts.csv``, ``clusters.csv``, ``summary.json``, ``timings.json``,
    ``provenance.json`` and, when given, ``metrics.json`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    detection.accounts.to_csv(
        out / "accounts.csv", index=False, float_format="%.6f", lineterminator="\n"
    )
    clusters_table(detection).to_csv(
        out / "clusters.csv", index=False, float_format="%.6f", lineterminator="\n"
    )
    summary = {
        **detection.summary(),
        "params": detection.params,
        "stats": _stable_stats(detection.stats),
        **context,
    }
    (out / "summary.json").write_text(to_json_text(summary))
    (out / "timings.json").write_text(to_json_text(detection.timings))
    (out / "provenance.json").write_text(
        to_json_text(provenance(seed=detection.seed, method=detection.method))
    )
    if metrics is not None:
        (out / "metrics.json").write_text(to_json_text(metrics))
    return out


def _stable_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """Stats without wall-clock entries (they belong in timings.json)."""
    if isinstance(stats, dict):
        return {k: _stable_stats(v) for k, v in stats.items() if k != "seconds"}
    if isinstance(stats, list):
        return [_stable_stats(v) for v in stats]  # type: ignore[return-value]
    return stats
