"""What every projection shares: its input, its parameters and its result.

- :class:`Actions`: account-object-time triples, the input of every projection, made from
  encoded posts by the object kinds of :data:`OBJECTS` (``url``, ``domain``, ``app``, joint
  ``app_url`` ...), chosen by name with :func:`actions`;
- :class:`ProjectionSpec`: the parameters of one co-action projection;
- :class:`Projection`: the result, a weighted account x account graph as upper-triangular
  edge arrays;
- :class:`Engine`: what computes one from the other (registered by name in
  :data:`research.graph.projection.ENGINES`).

The engines (:mod:`research.graph.buckets`, :mod:`research.graph.colink`), the filters and
the views import this module; it imports nothing from ``graph/`` but what it is built on:
the encoded posts (:mod:`research.graph.events`) and the array helpers
(:mod:`research.graph.codes`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

import numpy as np
import scipy.sparse as sp

from research.errors import ConfigError, unknown_name
from research.graph.codes import pair_dense_codes
from research.graph.events import Events, Labels, link_site_spans, site_keys

Weighting = Literal["count", "idf", "jaccard", "overlap", "tfidf_cosine"]
OnBudget = Literal["lower_cap", "refuse"]


@dataclass(frozen=True)
class Actions:
    """Account-object-time triples: the input of a projection.

    ``obj`` codes run over ``0..n_objects-1``; ``object_labels`` names them.
    """

    name: str
    account: np.ndarray
    obj: np.ndarray
    time: np.ndarray
    n_accounts: int
    n_objects: int
    object_labels: Callable[[np.ndarray], Sequence[str | None]] = field(
        repr=False, default=lambda codes: [str(c) for c in codes]
    )
    #: Index of the post behind each action (exact windows count distinct posts, as CNT does).
    post: np.ndarray | None = field(repr=False, default=None)
    #: The objects' spans at a quantile (:func:`research.graph.codes.site_spans` of ``obj`` and
    #: ``time``), where they are kept for others too (sites: the evidence asks again); ``None``:
    #: computed by whoever needs them.
    spans: Callable[[float], np.ndarray] | None = field(repr=False, default=None)


def _link_actions(events: Events, obj: np.ndarray, name: str, labels: Labels) -> Actions:
    keep = obj >= 0
    return Actions(
        name=name,
        account=events.link_account[keep],
        obj=obj[keep],
        time=events.link_time[keep],
        n_accounts=events.n_accounts,
        n_objects=len(labels),
        object_labels=labels.take,
        post=events.link_post[keep],
    )


def _joint_actions(events: Events, obj: np.ndarray, name: str, labels: Labels) -> Actions:
    """(app, object) pairs per link; an unknown app is one more category, so that
    data without apps falls back to plain co-object actions."""
    keep = obj >= 0
    app = events.link_app[keep]
    app = np.where(app < 0, len(events.apps), app)
    n_obj = max(len(labels), 1)
    pair_keys, pair_codes = pair_dense_codes(app, obj[keep], len(events.apps) + 1, n_obj)

    def pair_labels(codes: np.ndarray) -> list[str]:
        keys = pair_keys[np.asarray(codes)]
        app_codes = keys // n_obj
        names = events.apps.take(np.where(app_codes >= len(events.apps), -1, app_codes))
        objects = labels.take(keys % n_obj)
        return [
            f"{a if a is not None else '(unknown app)'} | {o}"
            for a, o in zip(names, objects, strict=True)
        ]

    return Actions(
        name=name,
        account=events.link_account[keep],
        obj=pair_codes,
        time=events.link_time[keep],
        n_accounts=events.n_accounts,
        n_objects=len(pair_keys),
        object_labels=pair_labels,
        post=events.link_post[keep],
    )


def _url(ev: Events) -> Actions:
    return _link_actions(ev, ev.link_url, "url", ev.urls)


def _domain(ev: Events) -> Actions:
    return _link_actions(ev, ev.link_domain, "domain", ev.domains)


def _stem(ev: Events) -> Actions:
    labels, codes = ev.stems()
    return _link_actions(ev, codes, "stem", labels)


def _app(ev: Events) -> Actions:
    keep = ev.post_app >= 0
    return Actions(
        name="app",
        account=ev.post_account[keep],
        obj=ev.post_app[keep],
        time=ev.post_time[keep],
        n_accounts=ev.n_accounts,
        n_objects=len(ev.apps),
        object_labels=ev.apps.take,
        post=np.flatnonzero(keep),
    )


def _site(ev: Events) -> Actions:
    codes, labels = site_keys(ev)
    return replace(
        _link_actions(ev, codes, "site", labels),
        spans=functools.partial(link_site_spans, ev),
    )


def _app_url(ev: Events) -> Actions:
    return _joint_actions(ev, ev.link_url, "app_url", ev.urls)


def _app_stem(ev: Events) -> Actions:
    labels, codes = ev.stems()
    return _joint_actions(ev, codes, "app_stem", labels)


def _app_domain(ev: Events) -> Actions:
    return _joint_actions(ev, ev.link_domain, "app_domain", ev.domains)


#: Object kinds a projection can pair accounts on, by name.
OBJECTS: dict[str, Callable[[Events], Actions]] = {
    "url": _url,
    "stem": _stem,
    "domain": _domain,
    "app": _app,
    "app_url": _app_url,
    "app_stem": _app_stem,
    "app_domain": _app_domain,
    "site": _site,
}


def actions(events: Events, objects: str) -> Actions:
    """The account-object-time triples of one object kind (see :data:`OBJECTS`)."""
    try:
        build = OBJECTS[objects]
    except KeyError:
        raise unknown_name("projection object kind", objects, list(OBJECTS)) from None
    return build(events)


@dataclass(frozen=True)
class Projection:
    """A weighted account x account graph as upper-triangular edge arrays.

    Attributes
    ----------
    accounts
        Labels of all accounts (index space of ``rows``/``cols``).
    rows, cols
        Edge endpoints with ``rows < cols``, sorted by (row, col).
    weight
        Edge weights (meaning set by the weighting).
    support
        Number of shared (windowed) objects behind each edge.
    params
        How the projection was made.
    stats
        What it cost and what it dropped (pair products, dropped objects...).
    """

    accounts: Labels
    rows: np.ndarray
    cols: np.ndarray
    weight: np.ndarray
    support: np.ndarray
    params: dict[str, Any]
    stats: dict[str, Any]

    @property
    def n_edges(self) -> int:
        return len(self.rows)

    @property
    def n_accounts(self) -> int:
        return len(self.accounts)

    def matrix(self, values: Literal["weight", "support"] = "weight") -> sp.csr_matrix:
        """Symmetric sparse adjacency (``csr_matrix``, as igraph expects)."""
        data = self.weight if values == "weight" else self.support.astype(np.float64)
        n = self.n_accounts
        upper = sp.coo_matrix((data, (self.rows, self.cols)), shape=(n, n))
        return (upper + upper.T).tocsr()

    def select(self, mask: np.ndarray, **stats: Any) -> Projection:
        """The same projection with only the edges where ``mask`` holds."""
        return Projection(
            self.accounts,
            self.rows[mask],
            self.cols[mask],
            self.weight[mask],
            self.support[mask],
            self.params,
            {**self.stats, **stats},
        )


@dataclass(frozen=True)
class ProjectionSpec:
    """Parameters of a co-action projection (see module docstring)."""

    objects: str = "app_url"
    window_s: float | None = 900.0
    offsets: int = 2
    weighting: Weighting = "count"
    cap: int | None = 200
    pair_budget: float = 2.5e7
    on_budget: OnBudget = "lower_cap"
    #: The engine that forms the pairs, by name (:data:`research.graph.projection.ENGINES`):
    #: ``buckets`` (staggered bucketings, :mod:`research.graph.buckets`) or ``exact``
    #: (``|t1 - t2| <= window_s``, a sorted range join: :mod:`research.graph.colink`, the
    #: co-link network of CNT). Checked when the projection runs.
    window_mode: str = "buckets"
    #: Exact windows only: how the two directions of a pair combine (min, max, sum, mean).
    symmetric: str = "min"

    def __post_init__(self) -> None:
        if self.objects not in OBJECTS:
            raise unknown_name("projection object kind", self.objects, list(OBJECTS))
        if self.weighting not in WEIGHTINGS:
            raise unknown_name("projection weighting", self.weighting, list(WEIGHTINGS))
        if self.window_s is not None and self.window_s <= 0:
            raise ConfigError(f"projection.window_s must be positive or null, got {self.window_s}")
        if self.offsets < 1:
            raise ConfigError(f"projection.offsets must be at least 1, got {self.offsets}")
        if self.cap is not None and self.cap < 2:
            raise ConfigError(f"projection.cap must be at least 2 or null, got {self.cap}")
        if self.on_budget not in ("lower_cap", "refuse"):
            raise ConfigError(
                f"projection.on_budget must be lower_cap or refuse, got {self.on_budget!r}"
            )
        if self.symmetric not in ("min", "max", "sum", "mean"):
            raise ConfigError(
                f"projection.symmetric must be min, max, sum or mean, got {self.symmetric!r}"
            )


WEIGHTINGS = ("count", "idf", "jaccard", "overlap", "tfidf_cosine")


class Engine(Protocol):
    """A projection engine: encoded posts and a spec in, the projection onto accounts out.

    ``threads`` bounds the threads it may use (an engine may ignore it); the result must not
    depend on it. The projection's ``params`` are ``{"kind": "co_action", **spec.__dict__}``.
    """

    def __call__(
        self, events: Events, spec: ProjectionSpec, *, threads: int | None = None
    ) -> Projection: ...
