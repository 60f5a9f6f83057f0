"""Every method on the same simulated platforms: one tidy table of runs, summaries, and table text.

:func:`compare_methods` simulates each (preset, seed) once, encodes it once,
runs each method on the same encoded posts and evaluates it. Runtime is the
method's own call on the encoded posts (encoding is shared, ~0.1 s at the
default size), without the optional ``describe`` stage of the baselines
(the package's evidence attached to their clusters for reading; it plays no
part in their decision). Timings are wall clock on whatever else the
machine is doing: read them as orders of magnitude.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from experiments.tools.latex import booktabs, escape
from research.evaluate import evaluate
from research.graph.events import encode
from research.methods import METHODS, run_method
from research.simulate import simulate

#: Columns of a comparison run, one row per (preset, seed, method).
RUN_COLUMNS = (
    "preset", "seed", "method", "n_posts", "f1", "precision", "recall", "fpr", "nmi_flagged", "ari_flagged",
    "purity", "bcubed_f1", "n_flagged", "seconds",
)  # fmt: skip


def compare_methods(
    presets: Iterable[str],
    seeds: Iterable[int],
    *,
    methods: Iterable[str] | None = None,
    params_of: Callable[[str], dict[str, Any]] | None = None,
    n_posts: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Run methods on simulated presets and evaluate them.

    Parameters
    ----------
    presets, seeds
        Simulator presets and seeds (each pair simulated once).
    methods
        Names from :data:`research.methods.METHODS` (default: all of them).
    params_of
        Parameters of each method by name (default: the method's own defaults).
    n_posts
        Platform size (default: each preset's).
    progress
        Called with a line of text after each run.

    Examples
    --------
    >>> runs = compare_methods(["weheartit"], [0], methods=["joint"], n_posts=20_000)
    >>> runs[["preset", "method"]].values.tolist(), bool(runs["f1"].iloc[0] > 0.5)
    ([['weheartit', 'joint']], True)
    """
    names = list(METHODS) if methods is None else list(methods)
    rows = []
    for preset in presets:
        for seed in seeds:
            sim = simulate(preset, seed=int(seed), n_posts=n_posts)
            events = encode(sim.posts)
            for name in names:
                params = dict(params_of(name) if params_of else {})
                if "describe" in params:
                    params["describe"] = False
                start = time.perf_counter()
                detection = run_method(name, sim.posts, params, seed=int(seed), events=events)
                seconds = time.perf_counter() - start - detection.timings.get("describe", 0.0)
                m = evaluate(detection.accounts, sim.truth)
                rows.append(
                    {
                        "preset": preset,
                        "seed": int(seed),
                        "method": name,
                        "n_posts": len(sim.posts),
                        **{k: m[k] for k in RUN_COLUMNS if k in m},
                        "seconds": seconds,
                    }
                )
                if progress:
                    progress(
                        f"{preset} seed {seed} {name}: F1 {m['f1']:.3f}  FPR {m['fpr']:.4f}  {seconds:.1f} s"
                    )
    return pd.DataFrame(rows, columns=list(RUN_COLUMNS))


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean (and spread) over seeds per (preset, method), in the order presets and methods first appear."""
    keys = ["preset", "method"]
    grouped = runs.groupby(keys, sort=False)
    table = grouped[
        ["f1", "precision", "recall", "fpr", "bcubed_f1", "nmi_flagged", "seconds"]
    ].mean()
    table["f1_min"] = grouped["f1"].min()
    table["f1_max"] = grouped["f1"].max()
    table["fpr_max"] = grouped["fpr"].max()
    table["n_seeds"] = grouped.size()
    table = table.reset_index()
    best = table.groupby("preset", sort=False)["f1"].transform("max")
    table["best_f1"] = np.isclose(table["f1"], best)
    return table


def _f1_cell(row: pd.Series) -> str:
    if row["n_seeds"] > 1 and row["f1_max"] - row["f1_min"] >= 0.0005:
        return f"{row['f1']:.3f} ({row['f1_min']:.3f}–{row['f1_max']:.3f})"
    return f"{row['f1']:.3f}"


def markdown_table(summary: pd.DataFrame) -> str:
    """The summary as a Markdown table (best F1 per preset in bold), by ``DataFrame.to_markdown``.

    Examples
    --------
    >>> s = pd.DataFrame({"preset": ["p"], "method": ["m"], "f1": [1.0], "precision": [1.0], "recall": [1.0],
    ...     "fpr": [0.0], "bcubed_f1": [1.0], "nmi_flagged": [1.0], "seconds": [0.5], "f1_min": [1.0], "f1_max": [1.0],
    ...     "fpr_max": [0.0], "n_seeds": [1], "best_f1": [True]})
    >>> print(markdown_table(s).splitlines()[2])
    | p        | m        | **1.000**      |       1.000 |    1.000 |       0.0000 |   1.000 |           0.5 |
    """
    cells = pd.DataFrame(
        {
            "preset": summary["preset"].astype(str),
            "method": summary["method"].astype(str),
            "F1 (min–max)": [
                f"**{_f1_cell(row)}**" if row["best_f1"] else _f1_cell(row)
                for _, row in summary.iterrows()
            ],
            "precision": summary["precision"].map("{:.3f}".format),
            "recall": summary["recall"].map("{:.3f}".format),
            "benign FPR": summary["fpr"].map("{:.4f}".format),
            "B³ F1": summary["bcubed_f1"].map("{:.3f}".format),
            "runtime (s)": summary["seconds"].map("{:.1f}".format),
        }
    )
    # Cells are formatted above (tabulate would reformat numbers); numbers align right.
    align = ("left", "left", "left", "right", "right", "right", "right", "right")
    return cells.to_markdown(index=False, disable_numparse=True, colalign=align) + "\n"


def latex_table(summary: pd.DataFrame) -> str:
    """The summary as a booktabs LaTeX tabular (best F1 per preset in bold; a rule between
    presets), written by :func:`experiments.tools.latex.booktabs` with every name escaped.

    Examples
    --------
    >>> s = pd.DataFrame({"preset": ["a_b", "a_b", "c"], "method": ["x&y", "z", "z"], "f1": [1.0, 0.5, 0.9],
    ...     "precision": [1.0] * 3, "recall": [1.0] * 3, "fpr": [0.0] * 3, "seconds": [0.5] * 3,
    ...     "best_f1": [True, False, True]})
    >>> print(latex_table(s), end="")
    \\begin{tabular}{llrrrrr}
    \\toprule
    Preset & Method & F1 & Precision & Recall & Benign FPR & Runtime (s) \\\\
    \\midrule
    a\\_b & x\\&y & \\textbf{1.000} & 1.000 & 1.000 & 0.0000 & 0.5 \\\\
     & z & 0.500 & 1.000 & 1.000 & 0.0000 & 0.5 \\\\
    \\midrule
    c & z & \\textbf{0.900} & 1.000 & 1.000 & 0.0000 & 0.5 \\\\
    \\bottomrule
    \\end{tabular}
    """
    preset = summary["preset"].astype(str)
    first = (preset != preset.shift()).to_numpy()
    cells = pd.DataFrame(
        {
            "Preset": [escape(p) if new else "" for p, new in zip(preset, first, strict=True)],
            "Method": summary["method"].map(escape),
            "F1": [
                f"\\textbf{{{row['f1']:.3f}}}" if row["best_f1"] else f"{row['f1']:.3f}"
                for _, row in summary.iterrows()
            ],
            "Precision": summary["precision"].map("{:.3f}".format),
            "Recall": summary["recall"].map("{:.3f}".format),
            "Benign FPR": summary["fpr"].map("{:.4f}".format),
            "Runtime (s)": summary["seconds"].map("{:.1f}".format),
        }
    )
    return booktabs(cells, column_format="llrrrrr", sections=np.flatnonzero(first).tolist())


def replace_block(
    text: str,
    block: str,
    start: str = "<!-- methods-table:start -->",
    end: str = "<!-- methods-table:end -->",
) -> str:
    """``text`` with the lines between the ``start`` and ``end`` markers replaced by ``block``.

    Examples
    --------
    >>> replace_block("a\\n<!-- s -->\\nold\\n<!-- e -->\\nb\\n", "new\\n", "<!-- s -->", "<!-- e -->")
    'a\\n<!-- s -->\\nnew\\n<!-- e -->\\nb\\n'
    """
    head, sep, rest = text.partition(start)
    if not sep or end not in rest:
        raise ValueError(f"markers {start!r} and {end!r} not found")
    _old, _sep, tail = rest.partition(end)
    return f"{head}{start}\n{block}{end}{tail}"
