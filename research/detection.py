"""What a method found, as one object that knows the data it ran on.

Every method (the package's and the baselines, :mod:`research.methods`) returns a
:class:`Detection`: how it was made (``method``, ``params``, ``seed``), the clustering,
the clusters table with evidence and verdicts, the accounts table, timings and sizes.
As igraph's ``VertexClustering`` knows its graph, a detection knows its posts (and,
when known, their ground truth), so that it can :meth:`~Detection.explain` a cluster in
words and numbers, show its :meth:`~Detection.subgraph`, :meth:`~Detection.evaluate`
itself and write its :meth:`~Detection.report`. The CLI, the report, the notebook API
and the experiments all read the same object: one :meth:`~Detection.explain`, one
:meth:`~Detection.summary`.

Examples
--------
>>> from research.methods import run_method
>>> from research.simulate import simulate
>>> sim = simulate("weheartit", seed=0, n_posts=30_000)
>>> found = run_method("hijack", sim.posts, seed=0)       # knows sim.posts
>>> found.summary()["n_flagged_clusters"]
1
>>> why = found.explain(int(found.flagged["cluster"].iloc[0]))
>>> str(why).split(" is ")[1][:11], why.apps["app"].iloc[0]
('compromised', 'We Heart It')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from research.detect.clustering import Clustering
from research.errors import ConfigError

if TYPE_CHECKING:
    from research.graph.events import Events
    from research.posts import Posts
    from research.report.profile import ClusterProfile, Profiler
    from research.truth import GroundTruth

__all__ = ["Detection", "Explanation"]

_ROWS = 10  # rows shown by the HTML representation


@dataclass(repr=False)
class Detection:
    """What a method found: clusters with evidence, a verdict per account, and its data.

    Attributes
    ----------
    method, params, seed
        How it was made.
    clustering
        Cluster membership over all accounts.
    clusters
        One row per cluster: evidence, ``score``, ``flagged``.
    accounts
        One row per account: ``account``, ``cluster``, ``flagged``, ``score``.
    timings
        Seconds per stage.
    stats
        Sizes along the way (posts, edges before/after filters, ...).
    posts, truth
        The posts it ran on and their ground truth, when known (:meth:`with_data`):
        what :meth:`explain`'s tables, :meth:`subgraph`, :meth:`evaluate`,
        :meth:`report` and :meth:`export` read.
    events
        The posts' default encoding (:func:`research.graph.events.encode`), made on first
        use when not given.
    """

    method: str
    params: dict[str, Any]
    seed: int | None
    clustering: Clustering
    clusters: pd.DataFrame
    accounts: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    posts: Posts | None = field(default=None, compare=False)
    truth: GroundTruth | None = field(default=None, compare=False)
    events: Events | None = field(default=None, compare=False)

    def with_data(
        self,
        posts: Posts | None,
        truth: GroundTruth | None = None,
        events: Events | None = None,
    ) -> Detection:
        """Tell the detection which posts (and truth, and default encoding) it ran on;
        returns it."""
        self.posts = posts
        if truth is not None:
            self.truth = truth
        if events is not None:
            self.events = events
        return self

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"Detection(method={s['method']!r}, seed={s['seed']}, {s['n_clusters']} clusters, "
            f"{s['n_flagged_clusters']} flagged, {s['n_flagged_accounts']} flagged accounts)"
        )

    # --- the tables -------------------------------------------------------------------

    @property
    def flagged(self) -> pd.DataFrame:
        """The flagged clusters' rows, highest score first (ties by cluster id)."""
        clusters = self.clusters
        if len(clusters) == 0 or "flagged" not in clusters:
            return clusters.iloc[0:0]
        flagged = clusters[clusters["flagged"].astype(bool)]
        return (
            flagged.sort_values(["score", "cluster"], ascending=[False, True], kind="stable")
            if "score" in flagged
            else flagged
        )

    @property
    def flagged_accounts(self) -> pd.DataFrame:
        """Rows of :attr:`accounts` in flagged clusters (with ``name``, the screen name of each
        account's first post, when the posts are known)."""
        return self._named(self.accounts[self.accounts["flagged"].astype(bool)])

    def members(self, cluster: int) -> pd.DataFrame:
        """Rows of :attr:`accounts` in one cluster (with ``name`` when the posts are known)."""
        cluster = self._check(cluster)
        return self._named(self.accounts[self.accounts["cluster"] == cluster])

    def summary(self) -> dict[str, Any]:
        """Counts for a one-line report: method, seed, clusters, flagged clusters and accounts, and
        the campaigns the flagged clusters make (each flagged cluster its own for a method
        without the ``campaign`` column)."""
        n_flagged = int(self.clusters["flagged"].sum()) if len(self.clusters) else 0
        if "campaign" in self.clusters:
            n_campaigns = int(self.clusters["campaign"].to_numpy().max(initial=-1)) + 1
        else:
            n_campaigns = n_flagged
        return {
            "method": self.method,
            "seed": self.seed,
            "n_accounts": len(self.accounts),
            "n_clusters": len(self.clusters),
            "n_flagged_clusters": n_flagged,
            "n_flagged_accounts": int(self.accounts["flagged"].sum()),
            "n_campaigns": n_campaigns,
        }

    # --- one cluster ------------------------------------------------------------------

    def explain(self, cluster: int, *, top: int = 10, max_posts: int = 10) -> Explanation:
        """Why a cluster was (or was not) flagged, in words (``str(...)``) and numbers.

        The words and the evidence come from the clusters table; the tables of what the
        members did (apps, domains, URLs, timeline, sample posts) from the posts, on first
        use.

        Parameters
        ----------
        cluster
            Cluster id.
        top
            Rows of the app, domain and URL tables.
        max_posts
            Sample posts.
        """
        cluster = self._check(cluster)
        row = dict(self.clusters.iloc[self._row_of[cluster]])
        size = int(np.count_nonzero(self.accounts["cluster"].to_numpy() == cluster))
        evidence = pd.Series(
            {
                k: v
                for k, v in row.items()
                if isinstance(v, int | float | np.integer | np.floating | bool | np.bool_)
            },
            dtype=object,
        )
        return Explanation(
            cluster=cluster,
            flagged=bool(row.get("flagged", False)),
            text=sentence(row, cluster, size),
            evidence=evidence,
            profile=lambda: self._profiler.profile(cluster, top=top, max_posts=max_posts),
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
            sub = self._tripartite.restrict(members)
            graph = sub.to_igraph() if kind == "igraph" else sub.to_networkx()
            n_members = len(members)
            if kind == "igraph":
                graph.vs["cluster"] = [cluster] * n_members + [-1] * (graph.vcount() - n_members)
            else:
                for _key, data in graph.nodes(data=True):
                    data["cluster"] = cluster if data["kind"] == "account" else -1
            return graph
        return self._coaction_subgraph(cluster, kind)

    # --- the whole detection ------------------------------------------------------------

    def evaluate(self) -> dict[str, Any]:
        """Metrics against the ground truth (:func:`research.evaluate.evaluate`)."""
        from research.evaluate import evaluate

        if self.truth is None:
            raise ConfigError(
                "this detection has no ground truth; load the data with "
                "research.load(..., truth=FOLDER) where FOLDER holds truth_accounts.parquet"
            )
        return evaluate(self.accounts, self.truth)

    def report(self, path: str | Path, **caps: Any) -> Path:
        """Write the self-contained HTML report (see :func:`research.report.write_report`);
        ``caps`` are :class:`~research.report.ReportCaps` fields."""
        from research.report import ReportCaps, write_report

        metrics = self.evaluate() if self.truth is not None else None
        return write_report(
            self._posts(),
            self,
            path,
            metrics=metrics,
            events=self._events(),
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
            self._posts(),
            self,
            graph=graph,
            scope=scope or default_scope(graph),
            events=self._events(),
        )
        return export_graph(nodes, edges, path, format, attributes)

    def _repr_html_(self) -> str:
        s = self.summary()
        facts = [
            ("method", s["method"]), ("seed", s["seed"]), ("clusters", f"{s['n_clusters']:,}"),
            ("flagged clusters", f"{s['n_flagged_clusters']:,}"), ("flagged accounts", f"{s['n_flagged_accounts']:,}"),
        ]  # fmt: skip
        flagged = self.flagged
        shown_columns = ("cluster", "size", "top_app", "top_site", "verdict", "exclusivity", "history", "score")  # fmt: skip
        shown = flagged.head(_ROWS)[[c for c in shown_columns if c in flagged]]
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
        return f"<div><strong>Detection</strong>{facts_table(facts)}{table}{more}</div>"

    # --- helpers ------------------------------------------------------------------------

    @cached_property
    def _row_of(self) -> dict[int, int]:
        ids = self.clusters["cluster"].to_numpy() if len(self.clusters) else []
        return {int(c): i for i, c in enumerate(ids)}

    def _check(self, cluster: int) -> int:
        cluster = int(cluster)
        if cluster not in self._row_of:
            span = (
                f"clusters run 0..{len(self.clusters) - 1}"
                if len(self.clusters)
                else "there are no clusters"
            )
            raise ConfigError(f"no cluster {cluster}; {span}")
        return cluster

    def _posts(self) -> Posts:
        if self.posts is None:
            raise ConfigError(
                f"this {self.method} detection does not know its posts: run it through "
                "research.load(...).detect() or research.methods.run_method, or call "
                ".with_data(posts)"
            )
        return self.posts

    def _events(self) -> Events:
        if self.events is None:
            from research.graph.events import encode

            self.events = encode(self._posts())
        return self.events

    @cached_property
    def _profiler(self) -> Profiler:
        from research.report.profile import Profiler

        return Profiler(self._posts(), self._events(), self.clusters, self.accounts)

    @cached_property
    def _tripartite(self) -> Any:
        from research.graph.tripartite import tripartite

        return tripartite(self._events())

    def _named(self, rows: pd.DataFrame) -> pd.DataFrame:
        if self.posts is None:
            return rows
        from research.report.profile import first_rows, names_at

        ev = self._events()
        position = pd.Index(ev.accounts.values.to_pylist()).get_indexer(rows["account"].astype(str))
        first = np.where(position >= 0, first_rows(ev)[np.maximum(position, 0)], -1)
        named = rows.copy()
        named.insert(1, "name", names_at(self.posts, first))
        return named

    @cached_property
    def _coaction(self) -> tuple[Any, np.ndarray]:
        from research.report.exports import coaction_projection
        from research.report.profile import aligned_membership

        projection, events, _source = coaction_projection(self._posts(), self, self._events())
        return projection, aligned_membership(events, self.accounts)

    def _coaction_subgraph(self, cluster: int, kind: str) -> Any:
        import igraph as ig

        projection, membership = self._coaction
        inside = (membership[projection.rows] == cluster) & (membership[projection.cols] == cluster)
        codes = np.flatnonzero(membership == cluster)
        local = np.full(len(membership), -1, dtype=np.int64)
        local[codes] = np.arange(len(codes))
        names = [str(v) for v in projection.accounts.take(codes)]
        src, dst = local[projection.rows[inside]], local[projection.cols[inside]]
        weight = projection.weight[inside].tolist()
        support = projection.support[inside].astype(int).tolist()
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


class Explanation:
    """One cluster's verdict in words and numbers (:meth:`Detection.explain`).

    Attributes
    ----------
    cluster, flagged
        The cluster and its verdict.
    text
        Why, in words (also ``str(explanation)``): :func:`sentence`.
    evidence
        The numbers behind it (the cluster's row of the clusters table).
    apps, apps_before
        Apps of members' posts during the attack and before it, with shares.
    domains, urls
        What members linked during the attack, with shares.
    timeline
        Members' posts per bin (``posts``) and those linking the top site, indexed by the
        bin's start (UTC).
    sample
        Sample posts during the attack.
    span
        Start (onset) and end of the attack, UTC.

    The tables are read from the posts on first use (:class:`research.report.profile.Profiler`).
    """

    def __init__(
        self,
        cluster: int,
        flagged: bool,
        text: str,
        evidence: pd.Series,
        profile: Any,
    ) -> None:
        self.cluster = cluster
        self.flagged = flagged
        self.text = text
        self.evidence = evidence
        self._make_profile = profile

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Explanation(cluster={self.cluster}, flagged={self.flagged}, text={self.text!r})"

    @cached_property
    def _profile(self) -> ClusterProfile:
        return self._make_profile()  # type: ignore[no-any-return]

    @property
    def apps(self) -> pd.DataFrame:
        return self._profile.apps

    @property
    def apps_before(self) -> pd.DataFrame:
        return self._profile.apps_before

    @property
    def domains(self) -> pd.DataFrame:
        return self._profile.domains

    @property
    def urls(self) -> pd.DataFrame:
        return self._profile.urls

    @property
    def timeline(self) -> pd.DataFrame:
        return self._profile.timeline.set_index("start")

    @property
    def sample(self) -> pd.DataFrame:
        return self._profile.sample

    @property
    def span(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        start, end = self._profile.span
        return stamp(start), stamp(end)

    def _repr_html_(self) -> str:
        from research.report.escape import text as _esc

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


def sentence(row: dict[str, Any], cluster: int, size: int) -> str:
    """Why a cluster was (or was not) flagged, in words: the method's own sentence when its row
    carries one (``explanation``: the verdict ladder's, or a baseline's by its rule), else
    :func:`research.verdicts.explain` when the row has the package's evidence, else a plain
    verdict (methods with other evidence). Which one is decided by the columns present, so
    that an error inside ``explain`` is raised, not hidden.

    Examples
    --------
    >>> sentence({"flagged": True}, 3, 12)
    'Cluster 3 (12 accounts) is flagged.'
    >>> sentence({"flagged": False, "explanation": "Cluster 3 is not flagged by x: too small."}, 3, 2)
    'Cluster 3 is not flagged by x: too small.'
    """
    from research.evidence import EVIDENCE_COLUMNS
    from research.verdicts import explain

    own = row.get("explanation")
    if isinstance(own, str) and own:
        return own
    if all(name in row for name in EVIDENCE_COLUMNS):
        return explain(row)
    verdict = "is flagged" if row.get("flagged") else "is not flagged"
    return f"Cluster {cluster} ({size} accounts) {verdict}."


def stamp(seconds: Any) -> pd.Timestamp:
    """Seconds since the epoch as a UTC timestamp."""
    return pd.Timestamp(int(seconds), unit="s", tz="UTC")


def facts_table(facts: list[tuple[str, Any]]) -> str:
    """A two-column HTML table of (name, value) facts, both escaped."""
    from research.report.escape import text as _esc

    cells = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in facts)
    return f"<table>{cells}</table>"
