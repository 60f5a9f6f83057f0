"""Posts from whatever a user points at: posts Parquet, a ``simulate`` folder, or raw exports.

The one loading step behind ``detect``, :func:`research.load` and the
experiments' ``data.kind=file``: Parquet written by this package is read as
is; anything else goes through :func:`research.io.read` (format detection,
rejects, counts).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from research.errors import InputFileError, SchemaError
from research.io.accounting import Reject
from research.io.ingest import read
from research.io.options import ReadOptions
from research.posts import Posts, told_columns

__all__ = ["load_posts"]

_TRUTH_FILES = ("truth_accounts.parquet", "truth_posts.parquet", "scenario.json")
_DATA_NAME = re.compile(r"\.(json|jsonl|ndjson|csv|parquet)(\.(gz|bz2|zst))?$")


def load_posts(
    inputs: Sequence[Path],
    fmt: str | None = None,
    *,
    progress: bool = True,
    column_map: Mapping[str, str] | None = None,
    on_reject: Callable[[Reject], None] | None = None,
) -> tuple[Posts, dict[str, Any]]:
    """Posts from Parquet files/folders, a ``simulate`` folder, or raw exports.

    Parameters
    ----------
    inputs
        Paths to read (``-`` is standard input, read as raw exports).
    fmt
        The format of raw exports (default: detected per file).
    progress
        Show a progress bar while reading raw exports.
    column_map
        Raw CSV/Parquet: source column -> posts column (``--map``); any map reads the
        inputs as raw exports.
    on_reject
        Raw exports: called with every rejected row (see :func:`research.io.read`).

    Returns
    -------
    posts : Posts
        The posts read.
    info : dict
        How they were read: ``{"format": "parquet", "inputs": [...]}`` or
        ``{"format": "raw", "ingest": <summary>}``.

    Raises
    ------
    InputFileError
        If a path does not exist, or raw exports cannot be read.

    Examples
    --------
    >>> import tempfile
    >>> from research.simulate import simulate
    >>> folder = simulate("weheartit", seed=0, n_posts=2_000).write(tempfile.mkdtemp())
    >>> posts, info = load_posts([folder], progress=False)
    >>> info["format"], len(posts) > 2_000
    ('parquet', True)
    """
    from research.posts import concat_posts, read_posts

    inputs = [Path(p) for p in inputs]
    for path in inputs:
        if str(path) != "-" and not path.exists() and not path.is_symlink():
            raise InputFileError(f"{path}: no such file or directory")

    inputs = _without_truth(inputs)

    def is_parquet(path: Path) -> bool:
        if str(path) == "-":
            return False
        if path.is_dir():
            return (path / "posts.parquet").exists() or any(path.glob("*.parquet"))
        return path.suffix == ".parquet"

    notes: list[str] = []
    if fmt in (None, "parquet") and not column_map and all(is_parquet(p) for p in inputs):
        try:
            parts = [
                read_posts(p / "posts.parquet" if (p / "posts.parquet").exists() else p)
                if p.is_dir()
                else read_posts(p)
                for p in inputs
            ]
            posts = concat_posts(parts)
            return posts, _noted(
                {"format": "parquet", "inputs": [str(p) for p in inputs]}, input_notes(posts)
            )
        except SchemaError as err:
            # A table another tool wrote (times as text with a bad value, links as one string,
            # a column under another name): read it as raw rows, which keeps every readable
            # row, rejects the others with their reason, and names missing columns with a hint.
            notes.append(f"not read whole as a posts table ({err}); read row by row instead")
    options = ReadOptions(format=fmt, column_map=dict(column_map or {}))
    posts, summary = read(list(inputs), options, progress=progress, on_reject=on_reject)
    unreadable = summary.unreadable()
    if unreadable:
        first = next((r for r in summary.rejects if r.file in unreadable[0]), None)
        example = f" (first: {first.detail or first.snippet[:80]!r})" if first is not None else ""
        raise InputFileError("; ".join(unreadable) + example)
    return posts, _noted({"format": "raw", "ingest": summary.to_dict()}, notes)


def _noted(info: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """``info`` with ``notes`` (what the input lacked and how it was read), when there are any."""
    return {**info, "notes": notes} if notes else info


def input_notes(posts: Posts) -> list[str]:
    """What the input lacked and how it was told (:func:`research.posts.told_columns`): a
    table without ``is_repost`` makes a retweet storm look like accounts posting alike."""
    import pyarrow.compute as pc

    notes = []
    told = told_columns(posts)
    if "is_repost" in told:
        marked = int(pc.sum(posts.table.column("is_repost")).as_py() or 0)
        posts_marked = f"{marked:,} post{'' if marked == 1 else 's'}"
        notes.append(
            f"the input has no is_repost column: {posts_marked} opening with 'RT @' taken as "
            "reposts, every other post as the author's own (reposts without that mark, e.g. a "
            "retweet storm, will look like accounts posting alike)"
        )
    if "domains" in told:
        notes.append("the input has no domains column: each URL's registered domain was used")
    return notes


def _without_truth(inputs: Sequence[Path]) -> list[Path]:
    """Folders that hold ground truth beside raw exports (``simulate --format twitter-v1``)
    become their data files, so that the truth tables are not read as posts."""
    out: list[Path] = []
    for path in inputs:
        if (
            path.is_dir()
            and (path / _TRUTH_FILES[0]).exists()
            and not (path / "posts.parquet").exists()
        ):
            out += sorted(
                p for p in path.iterdir()
                if p.is_file() and p.name not in _TRUTH_FILES and not p.name.startswith(".") and _DATA_NAME.search(p.name)
            )  # fmt: skip
        else:
            out.append(path)
    return out
