"""The accounts x apps x URLs graph as sparse biadjacency matrices.

An attack leaves its fingerprint on three kinds of things at once: the
**accounts** that post, the **app** that posts for them, and the **URLs**
pushed. :class:`Tripartite` holds that graph as three sparse count matrices
over shared label arrays:

===================  =========================================================
``account_app``      accounts x apps: posts of each account through each app
``account_url``      accounts x URLs: links of each account to each URL
``account_app_url``  accounts x (app, URL) pairs: links to each URL through
                     each app (``pair_app``, ``pair_url`` name the pairs)
===================  =========================================================

The apps x URLs layer (:attr:`Tripartite.app_url`) is the column sum of the
third. All share one account index (``events.accounts``), so that a
projection onto accounts is a sparse product (``account_url @ account_url.T``
counts shared URLs) and a cluster's footprint is a row selection. igraph and
networkx views are built at the edge, with the vertex attributes ``kind``
(``"account"``, ``"app"``, ``"url"``) and ``name``, and the edge attributes
``layer`` (``"account-app"``, ``"account-url"``, ``"app-url"``) and
``weight`` (the count).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from research._igraph import ig
from research.graph.codes import dense_codes
from research.graph.events import Events, Labels

KINDS = ("account", "app", "url")
LAYERS = ("account-app", "account-url", "app-url")


@dataclass(frozen=True)
class Tripartite:
    """Accounts x apps x URLs as sparse count matrices sharing label arrays.

    Attributes
    ----------
    accounts, apps, urls
        Labels of the codes (``accounts[i]`` is row ``i`` of ``account_app``
        and ``account_url``).
    account_app
        ``csr_matrix`` accounts x apps: number of posts (posts with no known
        app are not in it).
    account_url
        ``csr_matrix`` accounts x URLs: number of links.
    account_app_url
        ``csr_matrix`` accounts x (app, URL) pairs: number of links to the
        pair's URL posted through its app.
    pair_app, pair_url
        App and URL code of each pair (column of ``account_app_url``).
    """

    accounts: Labels
    apps: Labels
    urls: Labels
    account_app: sp.csr_matrix
    account_url: sp.csr_matrix
    account_app_url: sp.csr_matrix
    pair_app: np.ndarray
    pair_url: np.ndarray

    @property
    def app_url(self) -> sp.csr_matrix:
        """``csr_matrix`` apps x URLs: number of links to each URL posted through each app."""
        totals = np.asarray(self.account_app_url.sum(axis=0)).ravel()
        return _counts(self.pair_app, self.pair_url, (len(self.apps), len(self.urls)), totals)

    @property
    def shape(self) -> tuple[int, int, int]:
        """Numbers of accounts, apps and URLs."""
        return len(self.accounts), len(self.apps), len(self.urls)

    def __repr__(self) -> str:
        a, p, u = self.shape
        return (
            f"Tripartite({a} accounts, {p} apps, {u} URLs; edges: {self.account_app.nnz} account-app, "
            f"{self.account_url.nnz} account-url, {self.app_url.nnz} app-url)"
        )

    def co_url(self) -> sp.csr_matrix:
        """Accounts x accounts: number of distinct URLs both linked (diagonal zero).

        Examples
        --------
        >>> from research.posts import Posts
        >>> from research.graph.events import encode
        >>> import datetime as dt
        >>> t = dt.datetime(2014, 5, 1)
        >>> posts = Posts.from_records([{"post_id": str(i), "account_id": a, "timestamp": t,
        ...     "app_name": "A", "urls": ["http://x.com/1"]} for i, a in enumerate("abb")])
        >>> tripartite(encode(posts)).co_url().toarray().tolist()
        [[0.0, 1.0], [1.0, 0.0]]
        """
        binary = self.account_url.copy()
        binary.data[:] = 1.0
        shared = (binary @ binary.T).tocsr()
        shared.setdiag(0)
        shared.eliminate_zeros()
        return shared

    def restrict(self, accounts: np.ndarray) -> Tripartite:
        """The subgraph of some accounts, their apps and their URLs.

        Parameters
        ----------
        accounts
            Account codes (rows) to keep, in the order wanted.

        Returns
        -------
        Tripartite
            Over the given accounts and only the apps and URLs they used; the
            app-URL layer counts only these accounts' links.

        Examples
        --------
        >>> from research.posts import Posts
        >>> from research.graph.events import encode
        >>> import datetime as dt
        >>> t = dt.datetime(2014, 5, 1)
        >>> posts = Posts.from_records([
        ...     {"post_id": "1", "account_id": "a", "timestamp": t, "app_name": "A", "urls": ["http://x.com/1"]},
        ...     {"post_id": "2", "account_id": "b", "timestamp": t, "app_name": "B", "urls": ["http://y.com/2"]}])
        >>> sub = tripartite(encode(posts)).restrict(np.array([1]))
        >>> sub.shape, sub.apps[0], sub.urls[0]
        ((1, 1, 1), 'B', 'http://y.com/2')
        """
        accounts = np.asarray(accounts, dtype=np.int64)
        rows_app = self.account_app[accounts]
        rows_url = self.account_url[accounts]
        rows_pair = self.account_app_url[accounts]
        app_codes = np.unique(rows_app.indices)
        url_codes = np.unique(rows_url.indices)
        pair_codes = np.unique(rows_pair.indices)
        # Renumber the kept pairs' apps and URLs within the kept apps and URLs.
        return Tripartite(
            accounts=Labels(self.accounts.values.take(accounts)),
            apps=Labels(self.apps.values.take(app_codes)),
            urls=Labels(self.urls.values.take(url_codes)),
            account_app=rows_app[:, app_codes].tocsr(),
            account_url=rows_url[:, url_codes].tocsr(),
            account_app_url=rows_pair[:, pair_codes].tocsr(),
            pair_app=np.searchsorted(app_codes, self.pair_app[pair_codes]),
            pair_url=np.searchsorted(url_codes, self.pair_url[pair_codes]),
        )

    def to_igraph(self) -> ig.Graph:
        """An undirected igraph graph over accounts, apps and URLs.

        Vertices are ordered accounts, then apps, then URLs; attributes ``kind``
        and ``name`` (and ``code``, the index within its kind). Edges carry
        ``layer`` and ``weight``.

        Examples
        --------
        >>> from research.posts import Posts
        >>> from research.graph.events import encode
        >>> import datetime as dt
        >>> posts = Posts.from_records([{"post_id": "1", "account_id": "a",
        ...     "timestamp": dt.datetime(2014, 5, 1), "app_name": "A", "urls": ["http://x.com/1"]}])
        >>> g = tripartite(encode(posts)).to_igraph()
        >>> g.vs["kind"], g.vs["name"], sorted(g.es["layer"])
        (['account', 'app', 'url'], ['a', 'A', 'http://x.com/1'], ['account-app', 'account-url', 'app-url'])
        """
        kind, name, code, src, dst, layer, weight = self._arrays()
        graph = ig.Graph(
            n=len(kind), edges=np.column_stack([src, dst]) if len(src) else [], directed=False
        )
        graph.vs["kind"] = kind
        graph.vs["name"] = name
        graph.vs["code"] = code
        graph.es["layer"] = layer
        graph.es["weight"] = weight
        return graph

    def to_networkx(self) -> Any:
        """A networkx ``Graph`` with the same vertices, edges and attributes as :meth:`to_igraph`.

        Node keys are ``"account:<id>"``, ``"app:<name>"`` and ``"url:<url>"``
        (an account id may equal an app name); ``name`` holds the bare label.
        """
        import networkx as nx

        kind, name, code, src, dst, layer, weight = self._arrays()
        keys = [f"{k}:{n}" for k, n in zip(kind, name, strict=True)]
        graph = nx.Graph()
        graph.add_nodes_from(
            (key, {"kind": k, "name": n, "code": c})
            for key, k, n, c in zip(keys, kind, name, code, strict=True)
        )
        graph.add_edges_from(
            (keys[s], keys[d], {"layer": la, "weight": w})
            for s, d, la, w in zip(src, dst, layer, weight, strict=True)
        )
        return graph

    def _arrays(
        self,
    ) -> tuple[list[str], list[str], list[int], np.ndarray, np.ndarray, list[str], list[float]]:
        n_acc, n_app, n_url = self.shape
        kind = ["account"] * n_acc + ["app"] * n_app + ["url"] * n_url
        name = [
            str(v)
            for v in self.accounts.values.to_pylist()
            + self.apps.values.to_pylist()
            + self.urls.values.to_pylist()
        ]
        code = list(range(n_acc)) + list(range(n_app)) + list(range(n_url))
        offsets = ((0, n_acc), (0, n_acc + n_app), (n_acc, n_acc + n_app))
        src_parts, dst_parts, layer, weight = [], [], [], []
        for matrix, (row_offset, col_offset), layer_name in zip(
            (self.account_app, self.account_url, self.app_url), offsets, LAYERS, strict=True
        ):
            coo = matrix.tocoo()
            order = np.lexsort((coo.col, coo.row))
            src_parts.append(coo.row[order].astype(np.int64) + row_offset)
            dst_parts.append(coo.col[order].astype(np.int64) + col_offset)
            layer += [layer_name] * coo.nnz
            weight += coo.data[order].astype(float).tolist()
        return kind, name, code, np.concatenate(src_parts), np.concatenate(dst_parts), layer, weight


def tripartite(events: Events) -> Tripartite:
    """Build the accounts x apps x URLs graph of encoded posts.

    Parameters
    ----------
    events
        Encoded posts (:func:`research.graph.events.encode`).

    Returns
    -------
    Tripartite
        Count matrices sharing ``events``' account, app and URL codes.

    Examples
    --------
    >>> import datetime as dt
    >>> from research.posts import Posts
    >>> from research.graph.events import encode
    >>> t = dt.datetime(2014, 5, 1)
    >>> posts = Posts.from_records([
    ...     {"post_id": "1", "account_id": "a", "timestamp": t, "app_name": "We Heart It", "urls": ["http://x.com/1"]},
    ...     {"post_id": "2", "account_id": "a", "timestamp": t, "app_name": "We Heart It", "urls": ["http://x.com/1"]},
    ...     {"post_id": "3", "account_id": "b", "timestamp": t, "app_name": "", "urls": ["http://x.com/1"]}])
    >>> g = tripartite(encode(posts))
    >>> g.account_app.toarray().tolist(), g.account_url.toarray().tolist(), g.app_url.toarray().tolist()
    ([[2.0], [0.0]], [[2.0], [1.0]], [[2.0]])
    """
    n_acc, n_app, n_url = len(events.accounts), len(events.apps), len(events.urls)
    known = events.post_app >= 0
    account_app = _counts(events.post_account[known], events.post_app[known], (n_acc, n_app))
    account_url = _counts(events.link_account, events.link_url, (n_acc, n_url))
    link_app = events.link_app
    via_app = link_app >= 0
    pair_keys, pair = dense_codes(link_app[via_app] * max(n_url, 1) + events.link_url[via_app])
    account_app_url = _counts(events.link_account[via_app], pair, (n_acc, len(pair_keys)))
    return Tripartite(
        accounts=events.accounts,
        apps=events.apps,
        urls=events.urls,
        account_app=account_app,
        account_url=account_url,
        account_app_url=account_app_url,
        pair_app=(pair_keys // max(n_url, 1)).astype(np.int64),
        pair_url=(pair_keys % max(n_url, 1)).astype(np.int64),
    )


def _counts(
    rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], values: np.ndarray | None = None
) -> sp.csr_matrix:
    """A ``csr_matrix`` of pair counts (duplicates summed; igraph takes ``csr_matrix``)."""
    data = (
        np.ones(len(rows), dtype=np.float64)
        if values is None
        else np.asarray(values, dtype=np.float64)
    )
    matrix = sp.csr_matrix((data, (rows, cols)), shape=shape)
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix
