"""The notebook API: load posts, look at them, detect, explain, report.

Three objects carry an analysis:

:class:`Dataset`
    Posts (any supported format) and, when known, ground truth, with pandas
    views (:meth:`~Dataset.accounts`, :meth:`~Dataset.apps`,
    :meth:`~Dataset.urls`, :meth:`~Dataset.activity`), the accounts x apps x
    URLs graph (:meth:`~Dataset.graph`), projections (:meth:`~Dataset.project`)
    and :meth:`~Dataset.detect`.
:class:`Findings`
    What a method found: ``.accounts``, ``.clusters``, ``.flagged``;
    :meth:`~Findings.explain` a cluster in words and numbers,
    :meth:`~Findings.subgraph` as igraph or networkx,
    :meth:`~Findings.evaluate` against truth, :meth:`~Findings.report` (HTML)
    and :meth:`~Findings.export` (GraphML, GEXF, CSV).
:class:`Explanation`
    One cluster's verdict, evidence, apps, domains, URLs, timeline and sample posts.

All three render as compact HTML in Jupyter (data strings escaped).

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
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from research.errors import ConfigError
from research.graph.codes import distinct_pairs, group_sizes
from research.graph.events import Events, encode
from research.posts import Posts
from research.report.escape import text as _esc
from research.truth import GroundTruth

__all__ = ["Dataset", "Explanation", "Findings", "from_posts", "load"]

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
            "first_post": _stamp(times.min()) if len(times) else None,
            "last_post": _stamp(times.max()) if len(times) else None,
            "truth": self.truth is not None,
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
        top_app = _top_by_group(ev.post_account[known], app[known], n, len(ev.apps))
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
        method: str = "joint",
        seed: int | None = 0,
        *,
        params: dict[str, Any] | None = None,
        progress: bool = False,
        **overrides: Any,
    ) -> Findings:
        """Run a detection method (see ``python -m research methods``).

        Parameters
        ----------
        method
            Method name (default: the package's method, ``joint``).
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
        Findings
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
        return Findings(self, detection)

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
        return (
            f"<div><strong>Dataset</strong> <code>{_esc(self.source, 120)}</code>"
            f"{_facts_table(facts)}<p>Top apps</p>{apps.to_html(index=False, escape=True)}</div>"
        )


class Findings:
    """What a method found in a :class:`Dataset`.

    Attributes
    ----------
    dataset
        The data it ran on.
    detection
        The method's :class:`~research.pipeline.Detection`.
    """

    def __init__(self, dataset: Dataset, detection: Any) -> None:
        self.dataset = dataset
        self.detection = detection

    def __repr__(self) -> str:
        s = self.detection.summary()
        return (
            f"Findings(method={s['method']!r}, seed={s['seed']}, {s['n_clusters']} clusters, "
            f"{s['n_flagged_clusters']} flagged, {s['n_flagged_accounts']} flagged accounts)"
        )

    @property
    def method(self) -> str:
        return str(self.detection.method)

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.detection.params)

    @property
    def seed(self) -> int | None:
        return self.detection.seed

    @property
    def clusters(self) -> pd.DataFrame:
        """One row per cluster: evidence, ``score``, ``flagged`` (the method's own columns)."""
        return self.detection.clusters

    @cached_property
    def accounts(self) -> pd.DataFrame:
        """One row per account: the method's verdict columns plus ``name`` (screen name)."""
        from research.report.profile import first_rows, names_at

        table = self.detection.accounts.copy()
        ev = self.dataset.events
        position = pd.Index(ev.accounts.values.to_pylist()).get_indexer(
            table["account"].astype(str)
        )
        rows = np.where(position >= 0, first_rows(ev)[np.maximum(position, 0)], -1)
        table.insert(1, "name", names_at(self.dataset.posts, rows))
        return table

    @property
    def flagged(self) -> pd.DataFrame:
        """The flagged clusters' rows, highest score first."""
        clusters = self.clusters
        if len(clusters) == 0 or "flagged" not in clusters:
            return clusters.iloc[0:0]
        flagged = clusters[clusters["flagged"].astype(bool)]
        return (
            flagged.sort_values(["score", "cluster"], ascending=[False, True])
            if "score" in flagged
            else flagged
        )

    @property
    def flagged_accounts(self) -> pd.DataFrame:
        """Rows of :attr:`accounts` in flagged clusters."""
        accounts = self.accounts
        return accounts[accounts["flagged"].astype(bool)]

    def summary(self) -> dict[str, Any]:
        """Counts (method, seed, clusters, flagged clusters and accounts)."""
        return self.detection.summary()

    @cached_property
    def _profiler(self) -> Any:
        from research.report.profile import Profiler

        return Profiler(
            self.dataset.posts, self.dataset.events, self.clusters, self.detection.accounts
        )

    def _check(self, cluster: int) -> int:
        cluster = int(cluster)
        ids = set(self.clusters["cluster"].tolist()) if len(self.clusters) else set()
        if cluster not in ids:
            span = (
                f"clusters run 0..{len(self.clusters) - 1}"
                if len(self.clusters)
                else "there are no clusters"
            )
            raise ConfigError(f"no cluster {cluster}; {span}")
        return cluster

    def members(self, cluster: int) -> pd.DataFrame:
        """Rows of :attr:`accounts` in one cluster."""
        cluster = self._check(cluster)
        accounts = self.accounts
        return accounts[accounts["cluster"] == cluster]

    def explain(self, cluster: int, *, top: int = 10, max_posts: int = 10) -> Explanation:
        """Why a cluster was (or was not) flagged, in words and numbers.

        Parameters
        ----------
        cluster
            Cluster id.
        top
            Rows of the app, domain and URL tables.
        max_posts
            Sample posts.
        """
        from research.report.profile import explanation

        cluster = self._check(cluster)
        profile = self._profiler.profile(cluster, top=top, max_posts=max_posts)
        evidence = pd.Series(
            {
                k: v
                for k, v in profile.evidence.items()
                if isinstance(v, int | float | np.integer | np.floating | bool | np.bool_)
            },
            dtype=object,
        )
        return Explanation(
            cluster=cluster,
            flagged=bool(profile.evidence.get("flagged", False)),
            text=explanation(profile.evidence, cluster, profile.size),
            evidence=evidence,
            apps=profile.apps,
            apps_before=profile.apps_before,
            domains=profile.domains,
            urls=profile.urls,
            timeline=profile.timeline.set_index("start"),
            sample=profile.sample,
            span=(_stamp(profile.span[0]), _stamp(profile.span[1])),
        )

    def timeline(self, cluster: int) -> pd.DataFrame:
        """Members' posts per time bin (``posts``) and those linking the top site (``top_site``)."""
        return self.explain(cluster, top=1, max_posts=0).timeline

    def subgraph(self, cluster: int, kind: str = "igraph", *, tripartite: bool = True) -> Any:
        """One cluster as a graph.

        Parameters
        ----------
        cluster
            Cluster id.
        kind
            ``"igraph"`` or ``"networkx"``.
        tripartite
            True: the members, the apps they posted through and the URLs they
            linked (:class:`~research.graph.tripartite.Tripartite`; vertex
            attributes ``kind``, ``name``, ``cluster``; edges ``layer``,
            ``weight``). False: the members alone, linked by the co-action
            projection the detector saw (edge ``weight``, ``support``).

        Examples
        --------
        >>> import research
        >>> found = research.Dataset.simulate("weheartit", seed=0, n_posts=30_000).detect()
        >>> g = found.subgraph(int(found.flagged["cluster"].iloc[0]))
        >>> sorted(set(g.vs["kind"]))
        ['account', 'app', 'url']
        """
        if kind not in ("igraph", "networkx"):
            raise ConfigError(f"subgraph(kind=...) takes 'igraph' or 'networkx', got {kind!r}")
        cluster = self._check(cluster)
        members = np.flatnonzero(self._profiler.membership == cluster)
        if tripartite:
            sub = self.dataset.graph().restrict(members)
            graph = sub.to_igraph() if kind == "igraph" else sub.to_networkx()
            n_members = len(members)
            if kind == "igraph":
                graph.vs["cluster"] = [cluster] * n_members + [-1] * (graph.vcount() - n_members)
            else:
                for _key, data in graph.nodes(data=True):
                    data["cluster"] = cluster if data["kind"] == "account" else -1
            return graph
        return self._coaction_subgraph(cluster, members, kind)

    @cached_property
    def _coaction(self) -> tuple[Any, np.ndarray]:
        from research.report.exports import coaction_projection

        projection, events, _source = coaction_projection(
            self.dataset.posts, self.detection, self.dataset.events
        )
        from research.report.profile import aligned_membership

        return projection, aligned_membership(events, self.detection.accounts)

    def _coaction_subgraph(self, cluster: int, members: np.ndarray, kind: str) -> Any:
        from research._igraph import ig

        projection, membership = self._coaction
        inside = (membership[projection.rows] == cluster) & (membership[projection.cols] == cluster)
        codes = np.flatnonzero(membership == cluster)
        local = np.full(len(membership), -1, dtype=np.int64)
        local[codes] = np.arange(len(codes))
        names = [str(v) for v in projection.accounts.take(codes)]
        src, dst = local[projection.rows[inside]], local[projection.cols[inside]]
        weight, support = (
            projection.weight[inside].tolist(),
            projection.support[inside].astype(int).tolist(),
        )
        if kind == "igraph":
            graph = ig.Graph(
                n=len(codes), edges=np.column_stack([src, dst]) if len(src) else [], directed=False
            )
            graph.vs["kind"] = ["account"] * len(codes)
            graph.vs["name"] = names
            graph.vs["cluster"] = [cluster] * len(codes)
            graph.es["weight"] = weight
            graph.es["support"] = support
            return graph
        import networkx as nx

        nx_graph = nx.Graph()
        nx_graph.add_nodes_from(
            (name, {"kind": "account", "name": name, "cluster": cluster}) for name in names
        )
        nx_graph.add_edges_from(
            (names[s], names[d], {"weight": w, "support": k})
            for s, d, w, k in zip(src, dst, weight, support, strict=True)
        )
        return nx_graph

    def evaluate(self) -> dict[str, Any]:
        """Metrics against the dataset's ground truth (:func:`research.evaluate.evaluate`)."""
        from research.evaluate import evaluate

        if self.dataset.truth is None:
            raise ConfigError(
                "this dataset has no ground truth; load it with research.load(..., truth=FOLDER) "
                "where FOLDER holds truth_accounts.parquet"
            )
        return evaluate(self.detection.accounts, self.dataset.truth)

    def report(self, path: str | Path, **caps: Any) -> Path:
        """Write the self-contained HTML report (see :func:`research.report.write_report`);
        ``caps`` are :class:`~research.report.ReportCaps` fields."""
        from research.report import ReportCaps, write_report

        metrics = self.evaluate() if self.dataset.truth is not None else None
        return write_report(
            self.dataset.posts,
            self.detection,
            path,
            metrics=metrics,
            events=self.dataset.events,
            caps=ReportCaps(**caps),
        )

    def export(
        self,
        path: str | Path,
        format: str | None = None,
        *,
        graph: str = "coaction",
        scope: str | None = None,
    ) -> list[Path]:
        """Write the graph with verdicts as attributes (see :mod:`research.report.exports`).

        Parameters
        ----------
        path
            Output file (``.graphml``, ``.gexf`` or ``.csv``: node and edge lists
            ``<stem>_nodes.csv`` and ``<stem>_edges.csv``).
        format
            ``"graphml"``, ``"gexf"`` or ``"csv"`` (default: from the suffix).
        graph
            ``"coaction"`` (accounts) or ``"tripartite"`` (accounts, apps, URLs).
        scope
            ``"flagged"``, ``"clustered"`` or ``"all"`` accounts (default:
            clustered for coaction, flagged for tripartite).

        Returns
        -------
        list of Path
            Files written.
        """
        from research.report.exports import default_scope, export_graph, graph_tables

        nodes, edges, attributes = graph_tables(
            self.dataset.posts,
            self.detection,
            graph=graph,
            scope=scope or default_scope(graph),
            events=self.dataset.events,
        )
        return export_graph(nodes, edges, path, format, attributes)

    def _repr_html_(self) -> str:
        s = self.summary()
        facts = [
            ("method", s["method"]), ("seed", s["seed"]), ("clusters", f"{s['n_clusters']:,}"),
            ("flagged clusters", f"{s['n_flagged_clusters']:,}"), ("flagged accounts", f"{s['n_flagged_accounts']:,}"),
        ]  # fmt: skip
        flagged = self.flagged
        columns = [
            c
            for c in (
                "cluster",
                "size",
                "top_app",
                "top_site",
                "verdict",
                "exclusivity",
                "history",
                "score",
            )
            if c in flagged
        ]
        shown = flagged.head(_ROWS)[columns]
        more = (
            f"<p>... and {len(flagged) - _ROWS} more flagged clusters (see <code>.flagged</code>)</p>"
            if len(flagged) > _ROWS
            else ""
        )
        table = (
            shown.to_html(index=False, escape=True, float_format=lambda v: f"{v:.3g}")
            if len(shown)
            else "<p>No cluster was flagged.</p>"
        )
        return f"<div><strong>Findings</strong>{_facts_table(facts)}{table}{more}</div>"


@dataclass(frozen=True)
class Explanation:
    """One cluster's verdict in words and numbers.

    Attributes
    ----------
    cluster, flagged
        The cluster and its verdict.
    text
        Why, in words (:func:`research.evidence.explain`).
    evidence
        The numbers behind it (the cluster's evidence row).
    apps, apps_before
        Apps of members' posts during the attack and before it, with shares.
    domains, urls
        What members linked during the attack, with shares.
    timeline
        Members' posts per bin (``posts``) and those linking the top domain.
    sample
        Sample posts during the attack.
    span
        Start (onset) and end of the attack, UTC.
    """

    cluster: int
    flagged: bool
    text: str
    evidence: pd.Series
    apps: pd.DataFrame
    apps_before: pd.DataFrame
    domains: pd.DataFrame
    urls: pd.DataFrame
    timeline: pd.DataFrame
    sample: pd.DataFrame
    span: tuple[pd.Timestamp, pd.Timestamp]

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        def table(frame: pd.DataFrame) -> str:
            return (
                frame.head(5).to_html(index=False, escape=True, float_format=lambda v: f"{v:.2f}")
                if len(frame)
                else "<p>none</p>"
            )

        numbers = self.evidence.to_frame("value")
        numbers["value"] = [
            f"{v:.3g}" if isinstance(v, float | np.floating) else _esc(v) for v in numbers["value"]
        ]
        sample = (
            self.sample.head(5)[["time", "account", "app", "text"]]
            if len(self.sample)
            else self.sample
        )
        return (
            f"<div><p><strong>Cluster {self.cluster}</strong>: {_esc(self.text)}</p>"
            f"<details><summary>Evidence</summary>{numbers.to_html(escape=True)}</details>"
            f"<p>Apps during the attack</p>{table(self.apps)}<p>Domains</p>{table(self.domains)}"
            f"<details><summary>Sample posts</summary>{table(sample)}</details></div>"
        )


def _stamp(seconds: Any) -> pd.Timestamp:
    return pd.Timestamp(int(seconds), unit="s", tz="UTC")


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


def _top_by_group(groups: np.ndarray, values: np.ndarray, n: int, n_values: int) -> np.ndarray:
    """Most frequent value per group (ties: smallest code; ``-1`` for empty groups)."""
    out = np.full(n, -1, dtype=np.int64)
    g, v, count = distinct_pairs(groups, values, max(n_values, 1))
    if len(g) == 0:
        return out
    order = np.lexsort((v, -count, g))
    g, v = g[order], v[order]
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    out[g[first]] = v[first]
    return out


def _ranked(frame: pd.DataFrame, by: str, name: str) -> pd.DataFrame:
    return frame.sort_values([by, name], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def _facts_table(facts: list[tuple[str, Any]]) -> str:
    cells = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in facts)
    return f"<table>{cells}</table>"
