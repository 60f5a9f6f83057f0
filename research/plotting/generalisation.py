"""Figures of the generalisation experiment: F1 per family and method, and where a method breaks.

Pure functions: a results table in (one row per method and test draw, as
``experiments/generalisation.py`` writes it), a ``Figure`` out.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from research.plotting import DOUBLE_COLUMN, method_colour, method_label, new_figure, paper_style

#: Knobs of the attack families drawn in the breakdown: (column, axis label, log scale).
KNOBS: tuple[tuple[str, str, bool], ...] = (
    ("knob_n_victims", "victims", True),
    ("knob_duration_days", "duration (days)", True),
    ("knob_posts_per_victim", "posts per victim (mean)", True),
    ("knob_n_waves", "waves", True),
    ("knob_wave_minutes", "wave length (minutes)", True),
    ("knob_fake_share", "share of fake accounts", False),
    ("knob_victim_activity", "victims' activity exponent", False),
    ("knob_camouflage_amount", "camouflage posts per attack post", False),
    ("knob_n_urls", "landing URLs", True),
    ("knob_shortener_share", "share through short links", False),
    ("knob_short_links_per_url", "short links per landing URL (0: one per post)", False),
    ("knob_host", "landing host", False),
    ("knob_text_mode", "texts", False),
    ("knob_timing", "timing", False),
)


def f1_by_family(results: pd.DataFrame, families: Sequence[str], methods: Sequence[str]) -> Figure:
    """One panel per attack family: each method's F1 on every test draw (dots) and its median
    (bar); methods in a fixed order and colour."""
    with paper_style():
        n = len(families)
        cols = 2 if n > 1 else 1
        rows = int(np.ceil(n / cols))
        fig, _ = new_figure(width=DOUBLE_COLUMN, height=1.9 * rows)
        fig.clear()
        axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
        rng = np.random.default_rng(0)  # horizontal jitter only; the same in every run
        for k, fam in enumerate(families):
            axis = axes[k // cols][k % cols]
            for i, method in enumerate(methods):
                f1 = results.loc[(results["family"] == fam) & (results["method"] == method), "f1"]
                f1 = f1.fillna(0.0).to_numpy()
                if len(f1) == 0:
                    continue
                x = i + rng.uniform(-0.18, 0.18, size=len(f1))
                colour = method_colour(method)
                axis.scatter(x, f1, s=6, color=colour, alpha=0.6, linewidths=0)
                axis.hlines(np.median(f1), i - 0.3, i + 0.3, color=colour, linewidth=1.6)
            axis.set_title(fam.replace("_", " "), fontsize=8)
            axis.set_xticks(range(len(methods)))
            axis.set_xticklabels([method_label(m) for m in methods], rotation=45, ha="right")
            axis.set_ylim(-0.04, 1.04)
            if k % cols == 0:
                axis.set_ylabel("F1 (per test draw)")
        for k in range(n, rows * cols):
            axes[k // cols][k % cols].set_visible(False)
        fig.tight_layout()
    return fig


def knob_breakdown(results: pd.DataFrame) -> Figure:
    """Where a method breaks: its F1 on every test draw against each knob of the draw (dots),
    with the median F1 in bins of the knob (line; categories: one bar each)."""
    knobs = [k for k in KNOBS if k[0] in results and results[k[0]].notna().any()]
    with paper_style():
        cols = 4
        rows = max(1, int(np.ceil(len(knobs) / cols)))
        fig, _ = new_figure(width=DOUBLE_COLUMN, height=1.45 * rows)
        fig.clear()
        axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
        f1 = results["f1"].fillna(0.0).to_numpy()
        for k, (column, label, log) in enumerate(knobs):
            axis = axes[k // cols][k % cols]
            values = results[column]
            if values.dtype == object or values.dtype == bool:
                cats = sorted(str(v) for v in values.dropna().unique())
                for i, cat in enumerate(cats):
                    mine = f1[(values.astype(str) == cat).to_numpy()]
                    axis.scatter(
                        np.full(len(mine), i), mine, s=4, color="#777777", alpha=0.5, linewidths=0
                    )
                    axis.hlines(
                        np.median(mine),
                        i - 0.3,
                        i + 0.3,
                        color=method_colour("hijack"),
                        linewidth=1.4,
                    )
                axis.set_xticks(range(len(cats)))
                axis.set_xticklabels(cats, rotation=30, ha="right")
            else:
                x = values.astype(float).to_numpy()
                axis.scatter(x, f1, s=4, color="#777777", alpha=0.5, linewidths=0)
                finite = np.isfinite(x) & ((x > 0) if log else True)
                if finite.sum() >= 4:
                    edges = np.quantile(x[finite], np.linspace(0, 1, 6))
                    centres, medians = [], []
                    for lo, hi in itertools.pairwise(edges):
                        mine = finite & (x >= lo) & (x <= hi)
                        if mine.any():
                            centres.append(np.median(x[mine]))
                            medians.append(np.median(f1[mine]))
                    axis.plot(centres, medians, color=method_colour("hijack"), linewidth=1.4)
                if log and (x[finite] > 0).all() and finite.any():
                    axis.set_xscale("log")
            axis.set_xlabel(label)
            axis.set_ylim(-0.04, 1.04)
            if k % cols == 0:
                axis.set_ylabel("F1")
        for k in range(len(knobs), rows * cols):
            axes[k // cols][k % cols].set_visible(False)
        fig.tight_layout()
    return fig


def ablation_grid(
    table: pd.DataFrame, clusterings: Sequence[str], decisions: Sequence[str]
) -> Figure:
    """Median F1 over every attack family of each clustering (rows) and decision (columns), as
    shaded cells with the F1 and the benign FPR written in them."""
    labels = {"flag_all": "flag every cluster", "rule": "verdict ladder"}
    with paper_style():
        fig, axis = new_figure(height=0.35 * len(clusterings) + 0.9)
        grid = np.full((len(clusterings), len(decisions)), np.nan)
        for i, c in enumerate(clusterings):
            for j, d in enumerate(decisions):
                row = table[(table["clustering"] == c) & (table["decision"] == d)]
                if len(row):
                    grid[i, j] = float(row["f1_median"].iloc[0])
                    fpr = float(row["fpr"].iloc[0])
                    colour = "white" if grid[i, j] > 0.55 else "black"
                    axis.text(j, i, f"F1 {grid[i, j]:.2f}\nFPR {100 * fpr:.2f}%", ha="center",
                              va="center", fontsize=6.5, color=colour)  # fmt: skip
        axis.imshow(grid, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        axis.grid(False)
        axis.set_xticks(range(len(decisions)))
        axis.set_xticklabels([labels.get(d, d) for d in decisions])
        axis.set_yticks(range(len(clusterings)))
        axis.set_yticklabels(
            [method_label(c) if c != "components" else "components" for c in clusterings]
        )
        axis.set_xlabel("decision")
        axis.set_ylabel("clustering")
        fig.tight_layout()
    return fig


def pr_curves(results: pd.DataFrame, families: Sequence[str], methods: Sequence[str]) -> Figure:
    """Precision-recall curves per attack family: each method's interpolated precision at each
    recall level, averaged over the test draws (columns ``pr_<level>``), with its mean average
    precision in the legend."""
    levels = sorted(float(c.removeprefix("pr_")) for c in results if c.startswith("pr_"))
    with paper_style():
        n = len(families)
        cols = 2 if n > 1 else 1
        rows = int(np.ceil(n / cols))
        fig, _ = new_figure(width=DOUBLE_COLUMN, height=1.9 * rows)
        fig.clear()
        axes = fig.subplots(rows, cols, squeeze=False, sharey=True, sharex=True)
        for k, fam in enumerate(families):
            axis = axes[k // cols][k % cols]
            for method in methods:
                part = results[(results["family"] == fam) & (results["method"] == method)]
                if len(part) == 0 or f"pr_{levels[0]:.2f}" not in part:
                    continue
                curve = [part[f"pr_{lv:.2f}"].mean() for lv in levels]
                ap = part["ap"].mean() if "ap" in part else float("nan")
                axis.plot(levels, curve, color=method_colour(method), linewidth=1.1,
                          label=f"{method_label(method)} (AP {ap:.2f})")  # fmt: skip
            axis.set_title(fam.replace("_", " "), fontsize=8)
            axis.set_xlim(0, 1)
            axis.set_ylim(0, 1.04)
            if k % cols == 0:
                axis.set_ylabel("precision")
            if k // cols == rows - 1:
                axis.set_xlabel("recall")
            axis.legend(fontsize=5.5, loc="lower left")
        for k in range(n, rows * cols):
            axes[k // cols][k % cols].set_visible(False)
        fig.tight_layout()
    return fig


def sensitivity_panels(results: pd.DataFrame) -> Figure:
    """One panel per setting: median F1 over the attack families' test draws (solid) and the
    pooled benign FPR (dashed, right axis, percent) against the setting's value; the chosen
    value is a vertical line."""
    settings = list(dict.fromkeys(results["setting"]))
    with paper_style():
        cols = 5  # 21 settings in five rows: the paper keeps its page count
        rows = max(1, int(np.ceil(len(settings) / cols)))
        fig, _ = new_figure(width=DOUBLE_COLUMN, height=1.35 * rows)
        fig.clear()
        axes = fig.subplots(rows, cols, squeeze=False)
        colour = method_colour("hijack")
        for k, name in enumerate(settings):
            axis = axes[k // cols][k % cols]
            part = results[results["setting"] == name].sort_values("value")
            x, labels = _positions(part["value"].tolist())
            axis.plot(x, part["f1_median"], color=colour, marker="o", markersize=2.5, linewidth=1.1)
            if labels is not None:  # a categorical setting (a linkage, a switch)
                axis.set_xticks(x, labels)
                axis.set_xlim(x[0] - 0.5, x[-1] + 0.5)
            elif x.min() >= 0 and x.max() >= 1000 * max(x.min(), 1.0):
                # A count from 0 to "no limit" (``max_outside``): decades, not a squashed line.
                axis.set_xscale("symlog", linthresh=1.0)
                powers = np.arange(0, int(np.log10(x.max())) + 1, 3)
                axis.set_xticks([0.0, *10.0**powers], ["0", *(f"$10^{{{p}}}$" for p in powers)])
            axis.set_ylim(-0.04, 1.04)
            chosen = np.flatnonzero(part["chosen"].astype(bool).to_numpy())
            if len(chosen):
                axis.axvline(x[chosen[0]], color="#555555", linestyle=":", linewidth=0.8)
            twin = axis.twinx()
            twin.plot(x, 100 * part["fpr"], color="#D55E00", linestyle="--", linewidth=0.9)
            twin.set_ylim(0, max(1.0, 100 * float(results["fpr"].max()) * 1.1))
            twin.tick_params(labelsize=5.5)
            axis.set_xlabel(name.replace("_", " "), fontsize=7)
            if k % cols == 0:
                axis.set_ylabel("median F1")
            if k % cols == cols - 1 or k == len(settings) - 1:
                twin.set_ylabel("benign FPR (%)", fontsize=6.5)
        for k in range(len(settings), rows * cols):
            axes[k // cols][k % cols].set_visible(False)
        fig.tight_layout()
    return fig


def _positions(values: list[object]) -> tuple[np.ndarray, list[str] | None]:
    """Where a setting's values go on the x axis: the numbers themselves, or ``0..k-1`` with
    the values as tick labels when any is not a number."""
    try:
        return np.array([float(v) for v in values]), None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return np.arange(len(values), dtype=float), [str(v) for v in values]
