"""The notebook API: load posts, look at them, detect, explain, report.

Two objects carry an analysis:

:class:`Dataset`
    Posts (any supported format) and, when known, ground truth, with pandas
    views (:meth:`~Dataset.accounts`, :meth:`~Dataset.apps`,
    :meth:`~Dataset.urls`, :meth:`~Dataset.activity`), the accounts x apps x
    URLs graph (:meth:`~Dataset.graph`), projections (:meth:`~Dataset.project`)
    and :meth:`~Dataset.detect`.
:class:`~research.detection.Detection`
    What a method found, knowing the dataset it ran on: ``.accounts``, ``.clusters``,
    ``.flagged``; :meth:`~research.detection.Detection.explain` a cluster in words and
    numbers (an :class:`~research.detection.Explanation`),
    :meth:`~research.detection.Detection.subgraph` as igraph or networkx,
    :meth:`~research.detection.Detection.evaluate` against truth,
    :meth:`~research.detection.Detection.report` (HTML) and
    :meth:`~research.detection.Detection.export` (GraphML, GEXF, CSV).

Both (and an explanation) render as compact HTML in Jupyter (data strings escaped).

Examples
--------
>>> import research
>>> data = research.Dataset.simulate("weheartit", seed=0, n_posts=30_000)
>>> found = data.detect(seed=0)
>>> found.flagged["top_app"].tolist()
['We Heart It']
>>> cluster = int(found.flagged["cluster"].iloc[0])
>>> found.explain(cluster).apps["app"].iloc[0]
'We Heart It'
>>> round(found.evaluate()["recall"], 2)
1.0
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from research.detection import Detection, Explanation, facts_table, stamp
from research.errors import ConfigError
from research.graph.codes import distinct_pairs, group_sizes, top_per_group
from research.graph.events import Events, encode
from research.posts import Posts
from research.report.escape import text as _esc
from research.truth import GroundTruth

__all__ = ["Dataset", "Detection", "Explanation", "from_posts", "load"]

_ROWS = 10  # rows shown by the HTML representations


def load(
    paths: str | Path | Iterable[str | Path],
    format: str | None = None,
    *,
    truth: str | Path | GroundTruth | None = "auto",
    progress: bool = False,
) -> Dataset:
    """Load posts from files or folders into a :class:`Dataset`.

    Parameters
    ----------
    paths
        A posts Parquet file or folder, a folder written by ``python -m research
        simulate`` (Parquet or Twitter v1.1 JSON), or raw platform exports
        (Twitter v1.1/v2 JSON, information-operations CSV, Mastodon JSON, CSV),
        which are read on the way.
    format
        Input format of raw exports (default: detected per file).
    truth
        Ground truth: a folder holding ``truth_accounts.parquet``, a
        :class:`~research.truth.GroundTruth`, ``None``, or ``"auto"`` (the
        input folder's truth files, when there are any).
    progress
        Show progress while reading.

    Returns
    -------
    Dataset

    Examples
    --------
    >>> import tempfile
    >>> from research.simulate import simulate
    >>> folder = simulate("weheartit", seed=0, n_posts=20_000).write(tempfile.mkdtemp())
    >>> data = load(folder)
    >>> len(data) > 20_000, data.truth is not None
    (True, True)
    """
    from research.io.loading import load_posts
    from research.truth import read_truth

    inputs = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    posts, info = load_posts(inputs, format, progress=progress)
    if isinstance(truth, str) and truth == "auto":
        folder = inputs[0] if len(inputs) == 1 and inputs[0].is_dir() else None
        truth = (
            folder if folder is not None and (folder / "truth_accounts.parquet").exists() else None
        )
    if truth is not None and not isinstance(truth, GroundTruth):
        truth = read_truth(truth)
    return Dataset(posts, truth, source=", ".join(str(p) for p in inputs), read_info=info)


def from_posts(posts: Posts, truth: GroundTruth | None = None) -> Dataset:
    """A :class:`Dataset` over a posts table already in memory."""
    return Dataset(posts, truth, source="posts table")


class Dataset:
    """Posts (and optional ground truth) with views, graphs and detection.

    Parameters
    ----------
    posts
        The posts table.
    truth
        Ground truth, when known.
    source
        Where the posts came from (shown in summaries).
    read_info
        How they were read (ingest counts for raw exports).
    """

    def __init__(
        self,
        posts: Posts,
        truth: GroundTruth | None = None,
        *,
        source: str = "",
        read_info: dict[str, Any] | None = None,
    ) -> None:
        self.posts = posts
        self.truth = truth
        self.source = source
        self.read_info = read_info or {}

    @classmethod
    def simulate(
        cls,
        preset: str = "weheartit",
        seed: int = 0,
        n_posts: int | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> Dataset:
        """A simulated platform under attack, with its ground truth (see :func:`research.simulate.simulate`)."""
        from research.simulate import simulate

        sim = simulate(preset, seed=seed, n_posts=n_posts, overrides=overrides)
        return cls(sim.posts, sim.truth, source=f"simulated {preset} (seed {seed})")

    def __len__(self) -> int:
        return len(self.posts)

    def __repr__(self) -> str:
        return f"Dataset({len(self.posts):,} posts, {self.events.n_accounts:,} accounts, source={self.source!r})"

    @cached_property
    def events(self) -> Events:
        """The posts' integer encoding (:func:`research.graph.events.encode`), computed once."""
        return encode(self.posts)

    def summary(self) -> dict[str, Any]:
        """Counts and time span."""
        ev = self.events
        times = ev.post_time
        return {
            "source": self.source,
            "posts": ev.n_posts,
            "accounts": ev.n_accounts,
            "apps": len(ev.apps),
            "urls": len(ev.urls),
            "domains": len(ev.domains),
            "links": len(ev.link_post),
            "posts_without_app": int(np.count_nonzero(ev.post_app < 0)),
            "first_post": stamp(times.min()) if len(times) else None,
            "last_post": stamp(times.max()) if len(times) else None,
            "truth": self.truth is not None,
            # What the input lacked and how it was read (research.io.loading.input_notes).
            "notes": list(self.read_info.get("notes", [])),
        }

    def accounts(self) -> pd.DataFrame:
        """One row per account, most active first.

        Columns: ``account``, ``name`` (screen name of its first post),
        ``posts``, ``links``, ``apps`` and ``urls`` (distinct), ``top_app``,
        ``first_post``, ``last_post``.
        """
        from research.report.profile import first_rows, names_at

        ev = self.events
        n = ev.n_accounts
        app = np.where(ev.post_app >= 0, ev.post_app, -1)
        known = app >= 0
        top_app = top_per_group(ev.post_account[known], app[known], n, len(ev.apps))[0]
        frame = pd.DataFrame(
            {
                "account": ev.accounts.values.to_pylist(),
                "name": names_at(self.posts, first_rows(ev)),
                "posts": group_sizes(ev.post_account, n),
                "links": group_sizes(ev.link_account, n),
                "apps": _distinct_per_group(ev.post_account[known], app[known], n, len(ev.apps)),
                "urls": _distinct_per_group(ev.link_account, ev.link_url, n, len(ev.urls)),
                "top_app": ev.apps.take(top_app),
                "first_post": _times(_reduce(np.minimum, ev.post_account, ev.post_time, n)),
                "last_post": _times(_reduce(np.maximum, ev.post_account, ev.post_time, n)),
            }
        )
        return _ranked(frame, "posts", "account")

    def apps(self) -> pd.DataFrame:
        """One row per app, most used first: ``app``, ``posts``, ``accounts``, ``links``,
        ``first_post``, ``last_post``."""
        ev = self.events
        n = len(ev.apps)
        known = ev.post_app >= 0
        link_known = ev.link_app >= 0
        frame = pd.DataFrame(
            {
                "app": ev.apps.values.to_pylist(),
                "posts": group_sizes(ev.post_app[known], n),
                "accounts": _distinct_per_group(
                    ev.post_app[known], ev.post_account[known], n, ev.n_accounts
                ),
                "links": group_sizes(ev.link_app[link_known], n),
                "first_post": _times(
                    _reduce(np.minimum, ev.post_app[known], ev.post_time[known], n)
                ),
                "last_post": _times(
                    _reduce(np.maximum, ev.post_app[known], ev.post_time[known], n)
                ),
            }
        )
        return _ranked(frame, "posts", "app")

    def urls(self, level: str = "url") -> pd.DataFrame:
        """One row per URL (or ``level="domain"``), most linked first: the name, ``links``,
        ``accounts``, ``apps`` (distinct), ``first_post``, ``last_post`` (and ``domain`` for URLs)."""
        ev = self.events
        if level == "url":
            codes, labels = ev.link_url, ev.urls
        elif level == "domain":
            codes, labels = ev.link_domain, ev.domains
        else:
            raise ConfigError(f"urls(level=...) takes 'url' or 'domain', got {level!r}")
        keep = codes >= 0
        n = len(labels)
        codes = codes[keep]
        app = ev.link_app[keep]
        via = app >= 0
        times = ev.link_time[keep]
        frame = pd.DataFrame(
            {
                level: labels.values.to_pylist(),
                "links": group_sizes(codes, n),
                "accounts": _distinct_per_group(codes, ev.link_account[keep], n, ev.n_accounts),
                "apps": _distinct_per_group(codes[via], app[via], n, len(ev.apps)),
                "first_post": _times(_reduce(np.minimum, codes, times, n)),
                "last_post": _times(_reduce(np.maximum, codes, times, n)),
            }
        )
        if level == "url":
            first_link = _reduce(np.minimum, ev.link_url, np.arange(len(ev.link_url)), n)
            domain = (
                ev.link_domain[np.clip(first_link, 0, max(len(ev.link_domain) - 1, 0))]
                if len(ev.link_domain)
                else first_link
            )
            frame.insert(1, "domain", ev.domains.take(np.where(first_link >= 0, domain, -1)))
        return _ranked(frame, "links", level)

    def activity(self, freq: str = "1h", *, by: str | None = None, top: int = 5) -> pd.DataFrame:
        """Posts per time bin (UTC): a ``posts`` column, or with ``by="app"`` one column per
        top app plus ``other``.

        Parameters
        ----------
        freq
            A pandas frequency ("15min", "1h", "1D").
        by
            ``None`` or ``"app"``.
        top
            Apps given their own column.
        """
        ev = self.events
        index = pd.to_datetime(ev.post_time, unit="s", utc=True)
        if by is None:
            return pd.Series(1, index=index, name="posts").resample(freq).sum().to_frame()
        if by != "app":
            raise ConfigError(f"activity(by=...) takes None or 'app', got {by!r}")
        apps = self.apps().head(top)["app"].tolist()
        names = np.asarray(ev.apps.take(ev.post_app), dtype=object)
        label = np.where(np.isin(names, apps), names, "other")
        frame = pd.DataFrame({"app": label, "n": 1}, index=index)
        table = frame.groupby([pd.Grouper(freq=freq), "app"])["n"].sum().unstack(fill_value=0)
        return table.reindex(columns=[a for a in [*apps, "other"] if a in table.columns])

    def graph(self) -> Any:
        """The accounts x apps x URLs graph (:class:`~research.graph.tripartite.Tripartite`)."""
        return self._graph

    @cached_property
    def _graph(self) -> Any:
        from research.graph.tripartite import tripartite

        return tripartite(self.events)

    def project(self, objects: str = "app_url", **params: Any) -> Any:
        """A co-action projection onto accounts (:func:`research.graph.projection.co_action`);
        ``params`` are :class:`~research.graph.projection.ProjectionSpec` fields."""
        from research.graph.projection import co_action

        return co_action(self.events, objects=objects, **params)

    def detect(
        self,
        method: str = "hijack",
        seed: int | None = 0,
        *,
        params: dict[str, Any] | None = None,
        progress: bool = False,
        **overrides: Any,
    ) -> Detection:
        """Run a detection method (see ``python -m research methods``).

        Parameters
        ----------
        method
            Method name (default: the package's method, ``hijack``).
        seed
            Seed of the method's randomness.
        params
            The method's parameters as a dict (e.g. from
            ``experiments.compose.method_from_config``).
        progress
            Show a progress bar.
        **overrides
            Parameters given by name; they update ``params``.

        Returns
        -------
        Detection
            The method's result, knowing this dataset's posts and truth.
        """
        from research.methods import run_method

        merged = {**(params or {}), **overrides}
        # The cached encoding is the default one; a method asked to encode differently encodes itself.
        same_encoding = not ({"include_platform_urls", "include_reposts"} & set(merged))
        detection = run_method(
            method,
            self.posts,
            merged,
            seed=seed,
            events=self.events if same_encoding else None,
            progress=progress,
        )
        return detection.with_data(self.posts, self.truth, self.events)

    def _repr_html_(self) -> str:
        s = self.summary()
        facts = [
            ("posts", f"{s['posts']:,}"), ("accounts", f"{s['accounts']:,}"), ("apps", f"{s['apps']:,}"),
            ("URLs", f"{s['urls']:,}"), ("domains", f"{s['domains']:,}"),
            ("from", f"{s['first_post']:%Y-%m-%d %H:%M}" if s["first_post"] is not None else "-"),
            ("to", f"{s['last_post']:%Y-%m-%d %H:%M}" if s["last_post"] is not None else "-"),
            ("ground truth", "yes" if s["truth"] else "no"),
        ]  # fmt: skip
        apps = self.apps().head(5)[["app", "posts", "accounts"]]
        notes = "".join(f"<p>Note: {_esc(n, 400)}</p>" for n in s["notes"])
        return (
            f"<div><strong>Dataset</strong> <code>{_esc(self.source, 120)}</code>"
            f"{facts_table(facts)}{notes}<p>Top apps</p>{apps.to_html(index=False, escape=True)}</div>"
        )


def _times(seconds: np.ndarray) -> pd.Series:
    valid = (seconds != np.iinfo(np.int64).max) & (seconds != np.iinfo(np.int64).min)
    return pd.Series(pd.to_datetime(np.where(valid, seconds, 0), unit="s", utc=True)).where(valid)


def _reduce(ufunc: Any, groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per-group min or max of ``values`` (int64 extremes for empty groups)."""
    start = np.iinfo(np.int64).max if ufunc is np.minimum else np.iinfo(np.int64).min
    out = np.full(n, start, dtype=np.int64)
    if len(groups):
        ufunc.at(out, groups, values.astype(np.int64))
    return out


def _distinct_per_group(
    groups: np.ndarray, values: np.ndarray, n: int, n_values: int
) -> np.ndarray:
    g, _v, _count = distinct_pairs(groups, values, max(n_values, 1))
    return group_sizes(g, n)


def _ranked(frame: pd.DataFrame, by: str, name: str) -> pd.DataFrame:
    return frame.sort_values([by, name], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )
