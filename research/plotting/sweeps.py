"""Figures of sweeps: a metric against a varied property, one line per method, with confidence bands.

Every function takes a summary table as made by :func:`experiments.tools.results.summarise`
(columns ``<metric>``, ``<metric>_lo``, ``<metric>_hi`` per metric) and returns a
:class:`~matplotlib.figure.Figure`; nothing is written to disk here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, PercentFormatter

from research.plotting import (
    SINGLE_COLUMN,
    method_label,
    method_style,
    new_figure,
    paper_style,
)

#: How metrics are named on axes (with their units).
METRIC_LABELS = {
    "f1": "F1 (accounts)",
    "precision": "precision",
    "recall": "recall",
    "fpr": "benign FPR (%)",
    "nmi": "NMI with planted",
    "seconds": "wall time (s)",
    "peak_mb": "peak memory (MB)",
    "n_clusters": "clusters found",
    "disconnected_share": "disconnected clusters (%)",
    "disconnected": "disconnected clusters",
}
_PERCENT = {"fpr", "disconnected_share"}
# Metrics that live in [0, 1]: their confidence intervals are clipped to it (a t-interval
# from a few seeds can overshoot) and shares get at least a 0-0.5% axis.
_BOUNDED = {"f1", "precision", "recall", "nmi", "ari", "fpr", "disconnected_share"}
_MIN_PERCENT_TOP = 0.5


def _x_positions(values: Sequence[object]) -> tuple[np.ndarray, list[str] | None]:
    """Numeric x values, or 0..k-1 with tick labels when the axis is categorical."""
    try:
        return np.asarray(values, dtype=np.float64), None
    except (TypeError, ValueError):
        labels = [str(v) for v in values]
        return np.arange(len(labels), dtype=np.float64), labels


def draw_metric(
    axis: Axes,
    summary: pd.DataFrame,
    x: str,
    metric: str,
    *,
    by: str = "method",
    order: Sequence[str] | None = None,
    band: bool = True,
) -> None:
    """Draw one metric against ``x`` on ``axis``: a line per ``by`` value, markers at the
    means, error bars and a light band for the confidence interval.

    Examples
    --------
    >>> s = pd.DataFrame({"method": ["joint"], "k": [1], "f1": [0.9], "f1_lo": [0.8], "f1_hi": [1.1]})
    >>> fig, ax = new_figure()
    >>> draw_metric(ax, s, "k", "f1")
    >>> ax.get_ylabel()
    'F1 (accounts)'
    """
    order = list(order) if order is not None else sorted(summary[by].unique())
    categories = None
    for name in order:
        rows = summary[summary[by] == name].sort_values(x, kind="stable")
        if rows.empty:
            continue
        xs, labels = _x_positions(rows[x].tolist())
        categories = labels or categories
        scale = 100.0 if metric in _PERCENT else 1.0
        mean = rows[metric].to_numpy(dtype=np.float64) * scale
        lo = rows[f"{metric}_lo"].to_numpy(dtype=np.float64) * scale
        hi = rows[f"{metric}_hi"].to_numpy(dtype=np.float64) * scale
        if metric in _BOUNDED:
            lo, hi = np.clip(lo, 0, scale), np.clip(hi, 0, scale)
        style = method_style(name)
        axis.errorbar(
            xs, mean, yerr=np.vstack([mean - lo, hi - mean]).clip(min=0), capsize=1.5, elinewidth=0.6,
            label=method_label(name), **style,
        )  # fmt: skip
        if band and len(xs) > 1:
            axis.fill_between(xs, lo, hi, color=style["color"], alpha=0.08, linewidth=0, zorder=1)
    if categories is not None:
        axis.set_xticks(np.arange(len(categories)), categories)
    if metric in _PERCENT:
        top = max(
            _MIN_PERCENT_TOP,
            1.15
            * float(np.nanmax(summary[f"{metric}_hi"].to_numpy(dtype=np.float64) * 100, initial=0)),
        )
        axis.set_ylim(0, top)
        axis.yaxis.set_major_formatter(PercentFormatter(decimals=None))
    axis.set_ylabel(METRIC_LABELS.get(metric, metric))


def _log_axis(axis: Axes, which: str = "x") -> None:
    """Log scale with plain tick labels and no minor labels: at 1, 2, 5 x powers of ten over
    short ranges, at powers of ten only over more than about a decade and a half (where
    1-2-5 labels would collide in a narrow panel)."""
    target = axis.xaxis if which == "x" else axis.yaxis
    (axis.set_xscale if which == "x" else axis.set_yscale)("log")
    low, high = axis.dataLim.intervalx if which == "x" else axis.dataLim.intervaly
    decades = np.log10(high / low) if low > 0 and high > 0 else 0.0
    target.set_major_locator(LogLocator(base=10, subs=(1.0,) if decades > 1.6 else (1.0, 2.0, 5.0)))
    target.set_major_formatter(FuncFormatter(_plain_tick))
    target.set_minor_formatter(NullFormatter())


def metric_curves(
    summary: pd.DataFrame,
    x: str,
    metrics: Sequence[str] = ("f1", "fpr"),
    *,
    xlabel: str,
    facet: str | None = None,
    facet_labels: Mapping[str, str] | None = None,
    facet_order: Sequence[object] | None = None,
    by: str = "method",
    order: Sequence[str] | None = None,
    xscale: str = "linear",
    ylims: Mapping[str, tuple[float, float]] | None = None,
    width: float = SINGLE_COLUMN,
    panel_height: float = 1.45,
) -> Figure:
    """Metrics against a swept property: one column of panels per metric, one row per
    ``facet`` value, one line per method; a shared legend above.

    Parameters
    ----------
    summary
        Means and confidence bounds per (``by``, ``x``[, ``facet``]).
    x
        The swept column.
    metrics
        Metric columns, one panel each.
    xlabel
        Axis label of ``x`` with its unit.
    facet
        A column whose values split the panels into rows (e.g. camouflage mode).
    facet_order
        Rows top to bottom (default: sorted values).
    order
        Methods in legend order (default: sorted).
    xscale
        ``linear``, ``log`` or ``symlog``.
    ylims
        Fixed y limits per metric (e.g. ``{"f1": (0, 1.02)}``).

    Examples
    --------
    >>> s = pd.DataFrame({"method": ["joint"] * 2, "k": [1, 2], "f1": [0.5, 1.0], "f1_lo": [0.4, 0.9],
    ...                   "f1_hi": [0.6, 1.0], "fpr": [0.0, 0.0], "fpr_lo": [0.0, 0.0], "fpr_hi": [0.0, 0.0]})
    >>> fig = metric_curves(s, "k", xlabel="k (items)")
    >>> fig.get_supxlabel(), len(fig.axes)
    ('k (items)', 2)
    """
    if facet is None:
        facets: list[object] = [None]
    else:
        present = set(summary[facet].unique())
        facets = (
            [v for v in facet_order if v in present]
            if facet_order is not None
            else sorted(present, key=str)
        )
    order = list(order) if order is not None else sorted(summary[by].unique())
    ylims = dict(ylims or {"f1": (-0.02, 1.04)})
    with paper_style():
        fig, axes = new_figure(
            width, panel_height * len(facets) + 0.35, nrows=len(facets), ncols=len(metrics), squeeze=False,
            sharex=True,
        )  # fmt: skip
        for r, value in enumerate(facets):
            rows = summary if facet is None else summary[summary[facet] == value]
            for c, metric in enumerate(metrics):
                axis = axes[r][c]
                draw_metric(axis, rows, x, metric, by=by, order=order)
                if xscale == "log":
                    _log_axis(axis)
                elif xscale != "linear":
                    axis.set_xscale(xscale)
                if metric in ylims:
                    axis.set_ylim(*ylims[metric])
                if r == len(facets) - 1 and len(metrics) == 1:
                    axis.set_xlabel(xlabel)
                if facet is not None and c == 0:
                    # One title per row, over the row's first panel: titles over every panel collide.
                    title = (facet_labels or {}).get(str(value), f"{facet} = {value}")
                    axis.set_title(title, fontsize=7, pad=3, loc="left")
        if len(metrics) > 1:
            # One label under the grid: per-column labels collide in a single column.
            fig.supxlabel(xlabel, fontsize=8, y=0.0, va="bottom")
        _legend_above(fig, axes[0][0], order)
        fig.tight_layout(
            pad=0.3, h_pad=0.6, w_pad=0.8, rect=(0, 0.04 if len(metrics) > 1 else 0, 1, 1)
        )
    return fig


def _legend_above(fig: Figure, axis: Axes, order: Sequence[str]) -> None:
    handles, labels = axis.get_legend_handles_labels()
    if not handles:
        return
    # Up to 3 entries in a row; more in two rows (a column-major fill keeps the package's own
    # methods, listed first, in the first column).
    ncol = len(handles) if len(handles) <= 3 else -(-len(handles) // 2)
    fig.legend(
        handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=ncol, handlelength=1.5,
        columnspacing=0.6, handletextpad=0.3, borderaxespad=0.2, fontsize=6.0 if len(handles) > 3 else None,
    )  # fmt: skip


def _plain_tick(value: float, _pos: int) -> str:
    """Ticks as plain numbers (10, 100, 1k, 1M), not powers of ten."""
    for unit, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= unit:
            return f"{value / unit:g}{suffix}"
    return f"{value:g}"


def scaling_figure(
    summary: pd.DataFrame,
    x: str = "n_posts",
    *,
    order: Sequence[str] | None = None,
    width: float = SINGLE_COLUMN,
) -> Figure:
    """Wall time and peak memory against dataset size, log-log, one line per method.

    Examples
    --------
    >>> s = pd.DataFrame({"method": ["joint"] * 2, "n_posts": [1e4, 1e5], "seconds": [0.1, 1.0],
    ...   "seconds_lo": [0.1, 0.9], "seconds_hi": [0.1, 1.1], "peak_mb": [10.0, 50.0],
    ...   "peak_mb_lo": [9.0, 45.0], "peak_mb_hi": [11.0, 55.0]})
    >>> [a.get_yscale() for a in scaling_figure(s).axes]
    ['log', 'log']
    """
    order = list(order) if order is not None else sorted(summary["method"].unique())
    with paper_style():
        fig, axes = new_figure(width, 1.8, ncols=2)
        for axis, metric in zip(axes, ("seconds", "peak_mb"), strict=True):  # type: ignore[call-overload]
            draw_metric(axis, summary, x, metric, order=order, band=False)
            _log_axis(axis, "x")
            _log_axis(axis, "y")
            axis.set_xlabel("posts in dataset")
        _legend_above(fig, axes[0], order)  # type: ignore[index]
        fig.tight_layout(pad=0.3, w_pad=0.8)
    return fig
