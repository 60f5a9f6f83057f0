"""Figures: one house style, colours fixed per method, byte-stable files.

Figure functions are pure (data in, :class:`~matplotlib.figure.Figure` out);
:func:`save_figure` writes PDF and PNG with metadata stripped, so that the
same data give the same bytes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
logging.getLogger("fontTools").setLevel(logging.WARNING)

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

STYLE = str(Path(__file__).with_name("paper.mplstyle"))
SINGLE_COLUMN = 3.3  # inches
DOUBLE_COLUMN = 6.9  # inches

# Okabe-Ito palette, fixed per method so that a method has one colour in every figure.
OKABE_ITO = {
    "blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "vermillion": "#D55E00",
    "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000",
}  # fmt: skip
METHOD_COLOURS = {
    "hijack": OKABE_ITO["blue"],
    "learned": "#44AA99",
    "joint": OKABE_ITO["black"],
    "multilayer": "#332288",
    "compa": OKABE_ITO["orange"],
    "pacheco": OKABE_ITO["green"],
    "qut_colink": OKABE_ITO["vermillion"],
    "courl_louvain": OKABE_ITO["purple"],
    "fraudar": OKABE_ITO["sky"],
    "co_url": OKABE_ITO["yellow"],
    "leiden": OKABE_ITO["blue"],
    "louvain": OKABE_ITO["vermillion"],
    "infomap": OKABE_ITO["green"],
    "label_propagation": OKABE_ITO["purple"],
    "components": OKABE_ITO["black"],
    # Okabe-Ito has eight colours; Leiden (CPM) shares the LFR figure with Infomap's green,
    # so it takes Paul Tol's wine rather than a hashed colour that may land near it.
    "leiden_cpm": "#882255",
    # Iterated Louvain beside Louvain once: Paul Tol's rose, apart from vermillion in greyscale.
    "louvain_iterated": "#CC6677",
}
_METADATA = {
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    "png": {"Software": None},
}


# Names outside METHOD_COLOURS (new baselines, variants) take a colour from Paul Tol's
# colour-blind-safe "muted" scheme, chosen by a hash of the name: stable across figures
# and runs, whatever else a figure shows.
_EXTRA_COLOURS = (
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
)
METHOD_LABELS = {
    "hijack": "ours",
    "learned": "ours, learned rule",
    "joint": "ours, 15-min windows",
    "multilayer": "ours, windows, multilayer",
    "compa": "COMPA",
    "pacheco": "Pacheco et al.",
    "qut_colink": "QUT co-link",
    "courl_louvain": "co-URL + Louvain",
    "synchrotrap": "SynchroTrap",
    "copycatch": "CopyCatch",
    "coornet": "CooRnet",
    "fraudar": "FRAUDAR",
    "co_url": "co-URL",
    "leiden": "Leiden",
    "leiden_cpm": "Leiden (CPM)",
    "louvain": "Louvain",
    "louvain_iterated": "Louvain (iterated)",
    "infomap": "Infomap",
    "label_propagation": "label propagation",
    "components": "components",
}
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")


def method_colour(name: str) -> str:
    """The fixed colour of a method; names without an assigned colour get a stable one.

    Examples
    --------
    >>> method_colour("hijack")
    '#0072B2'
    >>> method_colour("some_new_baseline") == method_colour("some_new_baseline")
    True
    """
    if name in METHOD_COLOURS:
        return METHOD_COLOURS[name]
    return _EXTRA_COLOURS[_stable_hash(name) % len(_EXTRA_COLOURS)]


def method_marker(name: str) -> str:
    """A fixed marker per method, so that curves stay apart in greyscale print."""
    names = list(METHOD_COLOURS)
    index = names.index(name) if name in names else _stable_hash(name)
    return _MARKERS[index % len(_MARKERS)]


#: The package's own methods: drawn on top of the baselines, with heavier lines; the variant
#: dashed with open markers, so that it does not hide the main method where both score the same.
OWN_METHODS = ("hijack", "learned", "joint", "multilayer")


def method_style(name: str) -> dict[str, Any]:
    """Line keywords of a method in sweep figures (colour, marker, line style, width, z-order):
    fixed per name, so that a method looks the same in every figure and in greyscale print.

    Examples
    --------
    >>> method_style("joint")["zorder"] > method_style("compa")["zorder"]
    True
    >>> method_style("multilayer")["linestyle"]
    '--'
    """
    style: dict[str, Any] = {
        "color": method_colour(name),
        "marker": method_marker(name),
        "linestyle": "-",
    }
    if name == OWN_METHODS[0]:
        style.update(linewidth=1.5, markersize=3.8, zorder=4)
    elif name in OWN_METHODS:
        style.update(
            linewidth=1.1, markersize=3.8, zorder=3.5, linestyle="--", markerfacecolor="white"
        )
    else:
        style.update(linewidth=0.9, markersize=3.0, zorder=2)
    return style


def method_label(name: str) -> str:
    """How a method is named in figures and tables (``name`` itself when unknown)."""
    return METHOD_LABELS.get(name, name.replace("_", " "))


def plain_text(text: object) -> str:
    """Text safe for a matplotlib label: ``$`` escaped so that attacker-written names are
    never parsed as mathtext.

    Examples
    --------
    >>> plain_text("win $5") == "win \\\\$5"
    True
    """
    return str(text).replace("$", r"\$")


def _stable_hash(name: str) -> int:
    return int(hashlib.sha1(name.encode()).hexdigest()[:8], 16)


@contextmanager
def paper_style() -> Iterator[None]:
    """Use the house style inside a ``with`` block."""
    with plt.style.context(STYLE):
        yield


def new_figure(
    width: float = SINGLE_COLUMN, height: float | None = None, **subplots: Any
) -> tuple[Figure, Any]:
    """A figure in the house style (``width`` in inches; golden-ratio height by default)."""
    with paper_style():
        fig, ax = plt.subplots(figsize=(width, height or width * 0.7), **subplots)  # type: ignore[arg-type]
    return fig, ax


def save_figure(
    fig: Figure, stem: str | Path, formats: tuple[str, ...] = ("pdf", "png")
) -> list[Path]:
    """Write ``stem.pdf`` and ``stem.png`` with metadata stripped (byte-stable), then close ``fig``."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    with paper_style():
        for fmt in formats:
            path = stem.with_suffix(f".{fmt}")
            fig.savefig(path, format=fmt, metadata=_METADATA.get(fmt, {}))
            paths.append(path)
    plt.close(fig)
    return paths
