"""Graph files for Gephi, igraph, networkx and spreadsheets, with verdicts as attributes.

Two graphs can be exported:

``coaction`` (default)
    Accounts linked by the co-action projection the method's detector saw:
    for the package's method, exactly its layers, windows, weighting and edge
    filters (rebuilt from ``detection.params``); for other methods, the
    package's default projection (recorded in the graph's ``projection``
    attribute). Edge attributes: ``weight``, ``support`` (shared windowed
    objects), ``cluster`` (the shared cluster, ``-1`` across clusters).
``tripartite``
    Accounts, apps and URLs (:mod:`research.graph.tripartite`): edges
    account-app and account-URL (``weight`` = posts/links, ``layer``) and
    app-URL among the exported accounts' links.

Account nodes carry ``cluster`` (``-1`` if none), ``flagged``, ``score``,
``attached``, ``n_posts`` and the cluster's evidence as ``cluster_<field>``
(``cluster_size``, ``cluster_top_app``, ``cluster_exclusivity``, ...).
Every node has ``kind`` and ``name``; ``label`` is what Gephi shows.

Formats: GraphML and GEXF (written with networkx; GEXF without its
modification date, so the same input gives the same bytes) and CSV node and
edge lists (``<stem>_nodes.csv``, ``<stem>_edges.csv``). Strings are cleaned
of characters XML cannot hold; the XML writers escape the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from research.errors import BudgetError, ConfigError
from research.graph.events import Events, encode
from research.report.escape import xml_text
from research.report.profile import aligned_membership, first_rows, names_at

EXPORT_FORMATS = ("graphml", "gexf", "csv")
GRAPHS = ("coaction", "tripartite")
SCOPES = ("flagged", "clustered", "all")
#: GraphML and GEXF go through networkx (~0.5 KB per edge in memory); beyond this, use CSV.
MAX_XML_EDGES = 2_000_000
_EVIDENCE_SKIP = {"cluster", "flagged", "score"}


def parse_formats(value: str | Iterable[str]) -> list[str]:
    """``"graphml,gexf"`` -> ``["graphml", "gexf"]``, refusing unknown names.

    Examples
    --------
    >>> parse_formats("gexf, csv")
    ['gexf', 'csv']
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    formats = [item.strip().lower() for item in items if item.strip()]
    bad = [f for f in formats if f not in EXPORT_FORMATS]
    if bad:
        raise ConfigError(
            f"unknown export format(s) {', '.join(bad)}; valid: {', '.join(EXPORT_FORMATS)}"
        )
    return list(dict.fromkeys(formats))


def graph_tables(
    posts: Any,
    detection: Any,
    *,
    graph: str = "coaction",
    scope: str = "clustered",
    events: Events | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """Node and edge tables of an exported graph, and graph-level attributes.

    Parameters
    ----------
    posts
        The posts the detection was run on.
    detection
        A :class:`~research.detection.Detection` (any method).
    graph
        ``"coaction"`` or ``"tripartite"`` (see the module docstring).
    scope
        Which accounts: ``"flagged"`` (in flagged clusters), ``"clustered"``
        (in any cluster) or ``"all"`` (coaction: every account with an edge;
        tripartite: every account).
    events
        The posts' default encoding, if at hand.

    Returns
    -------
    nodes, edges, attributes
        ``nodes`` has an ``id`` column (the node key) and attribute columns;
        ``edges`` has ``source`` and ``target`` (node ids) and attribute columns.

    Examples
    --------
    >>> from research.simulate import simulate
    >>> from research.pipeline import run_pipeline
    >>> sim = simulate("weheartit", seed=0, n_posts=30_000)
    >>> found = run_pipeline(sim.posts, seed=0)
    >>> nodes, edges, _ = graph_tables(sim.posts, found, scope="flagged")
    >>> bool(nodes["flagged"].all()), nodes["cluster_top_app"].unique().tolist()
    (True, ['We Heart It'])
    """
    if graph not in GRAPHS:
        raise ConfigError(f"unknown export graph {graph!r}; valid: {', '.join(GRAPHS)}")
    if scope not in SCOPES:
        raise ConfigError(f"unknown export scope {scope!r}; valid: {', '.join(SCOPES)}")
    if graph == "coaction":
        return _coaction_tables(posts, detection, scope, events)
    return _tripartite_tables(posts, detection, scope, events)


def _account_nodes(events: Events, detection: Any, codes: np.ndarray, posts: Any) -> pd.DataFrame:
    """One row per account code: verdict, activity and the cluster's evidence."""
    accounts = detection.accounts
    membership = aligned_membership(events, accounts)
    index = pd.Index(accounts["account"].astype(str))
    ids = [str(v) for v in events.accounts.take(codes)]
    position = index.get_indexer(pd.Index(ids))
    found = position >= 0

    def column(name: str, default: Any, dtype: Any) -> np.ndarray:
        if name not in accounts:
            return np.full(len(codes), default, dtype=dtype)
        values = accounts[name].to_numpy()
        return np.where(found, values[np.maximum(position, 0)], default).astype(dtype)

    n_posts = np.bincount(events.post_account, minlength=events.n_accounts)[codes]
    names = names_at(posts, first_rows(events)[codes])
    frame = pd.DataFrame(
        {
            "id": ids,
            "kind": "account",
            "name": ids,
            "label": [f"@{n}" if n else i for n, i in zip(names, ids, strict=True)],
            "cluster": membership[codes].astype(np.int64),
            "flagged": column("flagged", False, bool),
            "score": column("score", 0.0, np.float64),
            "attached": column("attached", False, bool),
            "n_posts": n_posts.astype(np.int64),
        }
    )
    return frame.join(_evidence_columns(detection.clusters, frame["cluster"].to_numpy()))


def _evidence_columns(clusters: pd.DataFrame, cluster: np.ndarray) -> pd.DataFrame:
    """The cluster's evidence for each row, as ``cluster_<field>`` columns of one type each."""
    out: dict[str, Any] = {}
    if len(clusters) == 0:
        return pd.DataFrame(index=range(len(cluster)))
    row_of = pd.Index(clusters["cluster"].to_numpy())
    position = row_of.get_indexer(cluster)
    has = position >= 0
    for name in clusters.columns:
        if name in _EVIDENCE_SKIP:
            continue
        values = clusters[name]
        taken = values.iloc[np.maximum(position, 0)].reset_index(drop=True)
        key = f"cluster_{name}"
        if pd.api.types.is_bool_dtype(values):
            out[key] = np.where(has, taken.to_numpy(dtype=bool), False)
        elif pd.api.types.is_integer_dtype(values):
            out[key] = np.where(has, taken.to_numpy(dtype=np.int64), -1)
        elif pd.api.types.is_float_dtype(values):
            out[key] = np.where(has, taken.to_numpy(dtype=np.float64), np.nan)
        elif pd.api.types.is_datetime64_any_dtype(values):
            stamps = [v.isoformat() if not pd.isna(v) else "" for v in taken]
            out[key] = np.where(has, np.asarray(stamps, dtype=object), "")
        else:
            out[key] = np.where(has, np.asarray([xml_text(v) for v in taken], dtype=object), "")
    return pd.DataFrame(out)


def _selected(membership: np.ndarray, flagged_cluster: np.ndarray, scope: str) -> np.ndarray:
    if scope == "all":
        return np.ones(len(membership), dtype=bool)
    if scope == "clustered":
        return membership >= 0
    return (membership >= 0) & flagged_cluster[np.maximum(membership, 0)]


def _flagged_by_cluster(clusters: pd.DataFrame, n: int) -> np.ndarray:
    out = np.zeros(max(n, int(clusters["cluster"].max()) + 1 if len(clusters) else 0), dtype=bool)
    if len(clusters) and "flagged" in clusters:
        out[clusters["cluster"].to_numpy(dtype=np.int64)] = clusters["flagged"].to_numpy(dtype=bool)
    return out


def default_scope(graph: str) -> str:
    """The default scope of a graph: every clustered account for ``coaction``; flagged
    accounts for ``tripartite``, whose URL side grows with every member's history."""
    return "flagged" if graph == "tripartite" else "clustered"


def coaction_projection(
    posts: Any, detection: Any, events: Events | None = None
) -> tuple[Any, Events, str]:
    """The filtered co-action projection behind a detection, its events, and where it came from.

    For the package's method (``joint``), the projection its detector saw,
    rebuilt from ``detection.params``; for other methods, the package's
    default projection.
    """
    from research.graph.filters import apply_filters
    from research.spec import PIPELINE_METHODS, PipelineSpec, project

    if detection.method in PIPELINE_METHODS:
        spec = PipelineSpec.from_dict(dict(detection.params))
        source = f"the {detection.method} method's own projection and edge filters"
    else:
        spec = PipelineSpec()
        source = (
            f"the package's default projection (method {detection.method!r} builds its own graph)"
        )
    default_encoding = not spec.include_platform_urls and spec.include_reposts
    if events is None or not default_encoding:
        events = encode(
            posts,
            include_platform_urls=spec.include_platform_urls,
            include_reposts=spec.include_reposts,
        )
    projection, _layers, later = project(events, spec)
    return apply_filters(projection, later), events, source


def _coaction_tables(
    posts: Any, detection: Any, scope: str, events: Events | None
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    projection, events, source = coaction_projection(posts, detection, events)
    membership = aligned_membership(events, detection.accounts)
    flagged_cluster = _flagged_by_cluster(detection.clusters, int(membership.max(initial=-1)) + 1)
    keep = _selected(membership, flagged_cluster, scope)
    if scope == "all":
        keep = np.zeros(events.n_accounts, dtype=bool)
        keep[projection.rows] = True
        keep[projection.cols] = True
    edge_keep = keep[projection.rows] & keep[projection.cols]
    codes = np.flatnonzero(keep)
    nodes = _account_nodes(events, detection, codes, posts)
    ids = np.asarray(nodes["id"], dtype=object)
    local = np.full(events.n_accounts, -1, dtype=np.int64)
    local[codes] = np.arange(len(codes))
    rows, cols = projection.rows[edge_keep], projection.cols[edge_keep]
    same = (membership[rows] == membership[cols]) & (membership[rows] >= 0)
    edges = pd.DataFrame(
        {
            "source": ids[local[rows]] if len(rows) else np.array([], dtype=object),
            "target": ids[local[cols]] if len(cols) else np.array([], dtype=object),
            "weight": projection.weight[edge_keep].astype(np.float64),
            "support": projection.support[edge_keep].astype(np.int64),
            "cluster": np.where(same, membership[rows], -1).astype(np.int64),
        }
    )
    attributes = {
        "graph": "coaction",
        "scope": scope,
        "method": str(detection.method),
        "projection": source,
    }
    return nodes, edges, attributes


def _tripartite_tables(
    posts: Any, detection: Any, scope: str, events: Events | None
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    from research.graph.tripartite import tripartite

    events = events if events is not None else encode(posts)
    membership = aligned_membership(events, detection.accounts)
    flagged_cluster = _flagged_by_cluster(detection.clusters, int(membership.max(initial=-1)) + 1)
    codes = np.flatnonzero(_selected(membership, flagged_cluster, scope))
    sub = tripartite(events).restrict(codes)
    accounts = _account_nodes(events, detection, codes, posts)
    accounts["id"] = "account:" + accounts["id"]
    account_flagged = accounts["flagged"].to_numpy(dtype=bool)
    account_cluster = accounts["cluster"].to_numpy(dtype=np.int64)

    def objects(kind: str, labels: Any, incidence: Any, unit: str) -> pd.DataFrame:
        names = [xml_text(v) for v in labels.values.to_pylist()]
        binary = incidence.copy()
        binary.data[:] = 1.0
        flagged_users = (
            np.asarray(binary[account_flagged].sum(axis=0)).ravel()
            if len(account_flagged)
            else np.zeros(len(names))
        )
        frame = pd.DataFrame(
            {
                "id": [f"{kind}:{n}" for n in names],
                "kind": kind,
                "name": names,
                "label": names,
                "cluster": np.int64(-1),
                "flagged": False,
                "score": 0.0,
                "attached": False,
                "n_posts": np.asarray(incidence.sum(axis=0)).ravel().astype(np.int64),
                "n_accounts": np.asarray(binary.sum(axis=0)).ravel().astype(np.int64),
                "n_flagged_accounts": flagged_users.astype(np.int64),
            }
        )
        frame.attrs["unit"] = unit
        return frame

    apps = objects("app", sub.apps, sub.account_app, "posts")
    urls = objects("url", sub.urls, sub.account_url, "links")
    accounts["n_accounts"] = np.int64(1)
    accounts["n_flagged_accounts"] = account_flagged.astype(np.int64)
    nodes = pd.concat([accounts, apps, urls], ignore_index=True)
    # Evidence columns exist on accounts only; give objects typed blanks.
    for name in accounts.columns:
        if name.startswith("cluster_"):
            nodes[name] = _typed_blanks(nodes[name], nodes["kind"] == "account", accounts[name])

    tables = []
    for layer, matrix, left, right in (
        ("account-app", sub.account_app, accounts["id"], apps["id"]),
        ("account-url", sub.account_url, accounts["id"], urls["id"]),
        ("app-url", sub.app_url, apps["id"], urls["id"]),
    ):
        coo = matrix.tocoo()
        order = np.lexsort((coo.col, coo.row))
        row, col = coo.row[order], coo.col[order]
        on_account = layer.startswith("account")
        tables.append(
            pd.DataFrame(
                {
                    "source": left.to_numpy(dtype=object)[row]
                    if len(row)
                    else np.array([], dtype=object),
                    "target": right.to_numpy(dtype=object)[col]
                    if len(col)
                    else np.array([], dtype=object),
                    "weight": coo.data[order].astype(np.float64),
                    "layer": layer,
                    "cluster": account_cluster[row]
                    if on_account
                    else np.full(len(row), -1, dtype=np.int64),
                    "flagged": account_flagged[row]
                    if on_account
                    else np.zeros(len(row), dtype=bool),
                }
            )
        )
    edges = pd.concat(tables, ignore_index=True)
    attributes = {"graph": "tripartite", "scope": scope, "method": str(detection.method)}
    return nodes, edges, attributes


def _typed_blanks(column: pd.Series, keep: pd.Series, like: pd.Series) -> pd.Series:
    """``column`` where ``keep``, else the blank of ``like``'s type (False, -1, NaN or "")."""
    if pd.api.types.is_bool_dtype(like):
        return column.where(keep, False).astype(bool)
    if pd.api.types.is_integer_dtype(like):
        return column.where(keep, -1).astype(np.int64)
    if pd.api.types.is_float_dtype(like):
        return column.where(keep, np.nan).astype(np.float64)
    return column.where(keep, "").astype(object)


def export_graph(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    path: str | Path,
    fmt: str | None = None,
    attributes: dict[str, str] | None = None,
) -> list[Path]:
    """Write node and edge tables as GraphML, GEXF or CSV.

    Parameters
    ----------
    nodes, edges
        From :func:`graph_tables`.
    path
        Output file; for CSV, ``<stem>_nodes.csv`` and ``<stem>_edges.csv`` beside it.
    fmt
        ``"graphml"``, ``"gexf"`` or ``"csv"`` (default: from the suffix).
    attributes
        Graph-level attributes (GraphML only).

    Returns
    -------
    list of Path
        The files written.

    Examples
    --------
    >>> import tempfile, pathlib, networkx as nx
    >>> nodes = pd.DataFrame({"id": ["a", "b"], "kind": "account", "cluster": [0, 0]})
    >>> edges = pd.DataFrame({"source": ["a"], "target": ["b"], "weight": [2.0]})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "g.graphml"
    >>> [p.name for p in export_graph(nodes, edges, out)]
    ['g.graphml']
    >>> sorted(nx.read_graphml(out).nodes(data="cluster"))
    [('a', 0), ('b', 0)]
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in EXPORT_FORMATS:
        raise ConfigError(
            f"{path}: unknown export format {fmt!r}; valid: {', '.join(EXPORT_FORMATS)}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        stem = path.with_suffix("") if path.suffix == ".csv" else path
        node_path, edge_path = Path(f"{stem}_nodes.csv"), Path(f"{stem}_edges.csv")
        nodes.to_csv(node_path, index=False, lineterminator="\n")
        edges.to_csv(edge_path, index=False, lineterminator="\n")
        return [node_path, edge_path]
    if len(edges) > MAX_XML_EDGES:
        raise BudgetError(
            f"{path}: {len(edges):,} edges is more than {MAX_XML_EDGES:,} for {fmt}; "
            "export CSV instead, or a smaller scope (flagged)"
        )
    import networkx as nx

    graph = _networkx(nodes, edges, attributes or {})
    if fmt == "graphml":
        nx.write_graphml(graph, path)
    else:
        nx.write_gexf(graph, path)
        # networkx stamps today's date into <meta>; drop it so the file is byte-stable.
        raw = path.read_bytes()
        path.write_bytes(re.sub(rb' lastmodifieddate="[^"]*"', b"", raw, count=1))
    return [path]


def _networkx(nodes: pd.DataFrame, edges: pd.DataFrame, attributes: dict[str, str]) -> Any:
    import networkx as nx

    graph = nx.Graph(**{k: xml_text(v) for k, v in attributes.items()})
    node_columns = [c for c in nodes.columns if c != "id"]
    node_values = [_python_column(nodes[c]) for c in node_columns]
    ids = [xml_text(v) for v in nodes["id"]]
    graph.add_nodes_from(
        (key, dict(zip(node_columns, values, strict=True)))
        for key, values in zip(
            ids, zip(*node_values, strict=True) if node_values else [()] * len(ids), strict=True
        )
    )
    edge_columns = [c for c in edges.columns if c not in ("source", "target")]
    edge_values = [_python_column(edges[c]) for c in edge_columns]
    sources = [xml_text(v) for v in edges["source"]]
    targets = [xml_text(v) for v in edges["target"]]
    graph.add_edges_from(
        (s, t, dict(zip(edge_columns, values, strict=True)))
        for s, t, values in zip(
            sources,
            targets,
            zip(*edge_values, strict=True) if edge_values else [()] * len(sources),
            strict=True,
        )
    )
    return graph


def _python_column(series: pd.Series) -> list[Any]:
    """Plain Python values of one type per column (the XML writers type attributes by value)."""
    if pd.api.types.is_bool_dtype(series):
        return [bool(v) for v in series]
    if pd.api.types.is_integer_dtype(series):
        return [int(v) for v in series]
    if pd.api.types.is_float_dtype(series):
        return [float(v) for v in series]
    return [xml_text(v) for v in series]


def write_exports(
    posts: Any,
    detection: Any,
    out_dir: str | Path,
    formats: str | Iterable[str] = EXPORT_FORMATS,
    *,
    graph: str = "coaction",
    scope: str | None = None,
    events: Events | None = None,
    stem: str = "graph",
    progress: bool = False,
) -> list[Path]:
    """Write the graph in several formats into ``out_dir`` (``graph.graphml``, ``graph.gexf``,
    ``graph_nodes.csv``, ``graph_edges.csv``); returns the files written. ``scope`` defaults
    to :func:`default_scope`.

    Examples
    --------
    >>> import tempfile
    >>> from research.simulate import simulate
    >>> from research.pipeline import run_pipeline
    >>> sim = simulate("weheartit", seed=0, n_posts=30_000)
    >>> found = run_pipeline(sim.posts, seed=0)
    >>> [p.name for p in write_exports(sim.posts, found, tempfile.mkdtemp(), "gexf,csv")]
    ['graph.gexf', 'graph_nodes.csv', 'graph_edges.csv']
    """
    chosen = parse_formats(formats)
    out = Path(out_dir)
    bar = tqdm(
        total=len(chosen) + 1, desc="export: graph", bar_format="{desc} [{elapsed}]",
        disable=not progress, leave=False,
    )  # fmt: skip
    nodes, edges, attributes = graph_tables(
        posts, detection, graph=graph, scope=scope or default_scope(graph), events=events
    )
    bar.update(1)
    written: list[Path] = []
    for fmt in chosen:
        bar.set_description_str(f"export: {fmt}")
        suffix = {"graphml": ".graphml", "gexf": ".gexf", "csv": ".csv"}[fmt]
        written += export_graph(nodes, edges, out / f"{stem}{suffix}", fmt, attributes)
        bar.update(1)
    bar.close()
    return written
