"""Figures: one house style, colours fixed per method, byte-stable files.

Figure functions are pure (data in, :class:`~matplotlib.figure.Figure` out);
:func:`save_figure` writes PDF and PNG with metadata stripped, so that the
same data give the same bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
    "joint": OKABE_ITO["blue"],
    "compa": OKABE_ITO["orange"],
    "pacheco": OKABE_ITO["green"],
    "qut_colink": OKABE_ITO["vermillion"],
    "evilcohort": OKABE_ITO["purple"],
    "fraudar": OKABE_ITO["sky"],
    "co_url": OKABE_ITO["yellow"],
    "leiden": OKABE_ITO["blue"],
    "louvain": OKABE_ITO["vermillion"],
    "infomap": OKABE_ITO["green"],
    "label_propagation": OKABE_ITO["purple"],
    "components": OKABE_ITO["black"],
}
_METADATA = {
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
    "png": {"Software": None},
}


def method_colour(name: str) -> str:
    """The fixed colour of a method (grey for unknown names)."""
    return METHOD_COLOURS.get(name, "#7f7f7f")


@contextmanager
def paper_style() -> Iterator[None]:
    """Use the house style inside a ``with`` block."""
    with plt.style.context(STYLE):
        yield


def new_figure(width: float = SINGLE_COLUMN, height: float | None = None, **subplots: object) -> tuple[Figure, object]:
    """A figure in the house style (``width`` in inches; golden-ratio height by default)."""
    with paper_style():
        fig, ax = plt.subplots(figsize=(width, height or width * 0.7), **subplots)  # type: ignore[arg-type]
    return fig, ax


def save_figure(fig: Figure, stem: str | Path, formats: tuple[str, ...] = ("pdf", "png")) -> list[Path]:
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
