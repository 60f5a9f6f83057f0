"""Co-action projections of the accounts x objects graph onto accounts, by engine.

Two accounts are linked when they act on the same object (a URL, a domain, an app, or a
joint (app, URL) pair), optionally within the same time window. What every projection
shares is in :mod:`research.graph.base`: the object kinds (:data:`OBJECTS`), the parameters
(:class:`ProjectionSpec`) and the result (:class:`Projection`). How the pairs are formed is
an *engine*, chosen by name with ``ProjectionSpec.window_mode`` (``window_mode`` in
``configs/projection/``, ``--set window_mode=...`` on the command line):

===========  ================================================================================
``buckets``  staggered buckets of ``window_s`` seconds, a sparse product ``B @ B.T``
             (:mod:`research.graph.buckets`); the default, and the one :func:`multiplex`
             fuses with the edge filters, block by block
``exact``    ``|t1 - t2| <= window_s``, a sorted range join: the co-link network of the
             coordination-network-toolkit (:mod:`research.graph.colink`)
===========  ================================================================================

**Adding an engine.** Write a function ``(events, spec, *, threads=None) -> Projection``
(:class:`~research.graph.base.Engine`) in a module of its own in ``research/graph/`` that
imports the types from :mod:`research.graph.base` (never this module, which imports every
engine); import it below and add one line to :data:`ENGINES`. Every engine then runs under
the contract test of ``tests/graph/test_projection.py``, and ``window_mode: <name>`` chooses it.

Callers import the projection's names from here (:func:`co_action`, :func:`multiplex`,
:func:`combine` and the types).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from research.errors import ConfigError, unknown_name
from research.graph.base import (
    OBJECTS,
    WEIGHTINGS,
    Actions,
    Engine,
    Projection,
    ProjectionSpec,
    actions,
)
from research.graph.buckets import bucket_projection, multiplex, pair_products
from research.graph.codes import dense_codes
from research.graph.colink import exact_projection
from research.graph.events import Events

__all__ = [
    "ENGINES",
    "OBJECTS",
    "WEIGHTINGS",
    "Actions",
    "Engine",
    "Projection",
    "ProjectionSpec",
    "actions",
    "co_action",
    "combine",
    "multiplex",
    "pair_products",
]

#: Projection engines by name (``ProjectionSpec.window_mode``); see the module docstring.
ENGINES: dict[str, Engine] = {
    "buckets": bucket_projection,
    "exact": exact_projection,
}


def co_action(
    events: Events, spec: ProjectionSpec | None = None, *, threads: int | None = None, **params: Any
) -> Projection:
    """Project accounts x objects onto accounts with the engine ``spec.window_mode`` names.

    Parameters
    ----------
    events
        Encoded posts (:func:`research.graph.events.encode`).
    spec
        A :class:`ProjectionSpec`; keyword arguments build one instead.
    threads
        Threads the engine may use (default: all cores, at most 2; the result does not
        depend on it).

    Returns
    -------
    Projection
        Upper-triangular weighted edges with their support.

    Raises
    ------
    ConfigError
        When no engine of that name is registered in :data:`ENGINES`.

    Examples
    --------
    >>> import datetime as dt
    >>> from research.posts import Posts
    >>> from research.graph.events import encode
    >>> t = dt.datetime(2014, 5, 1, 12)
    >>> rows = [{"post_id": str(i), "account_id": a, "timestamp": t + dt.timedelta(seconds=s),
    ...          "app_name": "We Heart It", "urls": [u]}
    ...         for i, (a, s, u) in enumerate([("a", 0, "http://x.com"), ("b", 30, "http://x.com"),
    ...                                        ("c", 86400, "http://x.com"), ("b", 40, "")])]
    >>> proj = co_action(encode(Posts.from_records(rows)), objects="app_url", window_s=60)
    >>> [(proj.accounts[i], proj.accounts[j]) for i, j in zip(proj.rows, proj.cols)], proj.support.tolist()
    ([('a', 'b')], [1])
    """
    spec = spec or ProjectionSpec(**params)
    try:
        engine = ENGINES[spec.window_mode]
    except KeyError:
        raise unknown_name("projection.window_mode", spec.window_mode, list(ENGINES)) from None
    return engine(events, spec, threads=threads)


def combine(projections: list[Projection], weights: list[float] | None = None) -> Projection:
    """Multiplex sum: edge weight and support add up over layers (weights per layer).

    Examples
    --------
    >>> from research.graph.events import Labels
    >>> a = Projection(Labels.__new__(Labels), np.array([0]), np.array([1]), np.array([2.0]), np.array([2]), {}, {})
    >>> b = Projection(a.accounts, np.array([0, 1]), np.array([1, 2]), np.array([1.0, 5.0]), np.array([1, 1]), {}, {})
    >>> c = combine([a, b], [1.0, 0.5])
    >>> c.rows.tolist(), c.cols.tolist(), c.weight.tolist(), c.support.tolist()
    ([0, 1], [1, 2], [2.5, 2.5], [3, 1])
    """
    if not projections:
        raise ConfigError("combine() needs at least one projection")
    weights = weights or [1.0] * len(projections)
    rows = np.concatenate([p.rows for p in projections])
    cols = np.concatenate([p.cols for p in projections])
    wgt = np.concatenate([p.weight * w for p, w in zip(projections, weights, strict=True)])
    sup = np.concatenate([p.support for p in projections]).astype(np.int64)
    n = max(int(max(rows.max(initial=0), cols.max(initial=0))) + 1, 1)
    uniq, inverse = dense_codes(rows * n + cols)
    return Projection(
        accounts=projections[0].accounts,
        rows=uniq // n,
        cols=uniq % n,
        weight=np.bincount(inverse, weights=wgt, minlength=len(uniq)),
        support=np.bincount(inverse, weights=sup, minlength=len(uniq)).astype(np.int32),
        params={
            "kind": "multiplex",
            "layers": [p.params for p in projections],
            "layer_weights": list(weights),
        },
        stats={"layers": [p.stats for p in projections]},
    )
