"""What every baseline shares: its interface, parameters, timing, and turning its verdict into a Detection.

A baseline is a parameters dataclass and one function decorated with
:func:`baseline`::

    @dataclass(frozen=True)
    class MyParams:
        threshold: float = 0.5
        describe: bool = True

    TUNING = {"threshold": (0.3, 0.5, 0.7)}

    @baseline("my_method", MyParams, stages=("projection", "detect"), tuning=TUNING)
    def my_method(posts, events, p, *, seed, timer) -> Found:
        ...

The decorator gives it the interface of every method in
:data:`research.methods.METHODS` (``posts, params, *, seed, events, progress``),
checks the parameters (:func:`parse_params`), times the stages, and assembles
the :class:`~research.detection.Detection` (:func:`finish`).

A baseline decides by its own published rule (which clusters it flags and
how it scores them). So that its output reads like the package's, each of
its clusters can also be described by the package's evidence
(:func:`research.evidence.group_evidence` of :func:`research.evidence.cluster_groups`:
top app and site, exclusivity, history, synchrony, ...) — as description only: the baseline's ``score`` and
``flagged`` replace the evidence rule's, and the ``explanation`` column says
in words which rule of the baseline flagged the cluster.

**Tuning spaces.** Every baseline declares ``tuning``: parameter -> the
candidate values its paper reports or motivates (the paper's own setting among
them), so that a selection command can give every method the same budget on
development data. The defaults stay the paper's settings.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd

from research.detect.clustering import Clustering
from research.detection import Detection
from research.errors import ConfigError
from research.evidence import cluster_groups, group_evidence
from research.graph.events import Events, encode
from research.graph.projection import Projection
from research.pipeline import StageTimer
from research.posts import Posts

P = TypeVar("P")

#: A tuning space: parameter -> candidate values (the paper's setting among them).
Tuning = Mapping[str, Sequence[Any]]


def parse_params(kind: type[P], params: dict[str, Any] | None, method: str) -> P:
    """Build a parameter dataclass from plain data; unknown keys raise :class:`ConfigError`."""
    params = dict(params or {})
    known = {f.name for f in fields(kind)}  # type: ignore[arg-type]
    unknown = set(params) - known
    if unknown:
        raise ConfigError(
            f"method {method!r}: unknown parameter(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(known))}"
        )
    try:
        return kind(**params)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"method {method!r}: {err}") from None


@dataclass(frozen=True)
class Verdict:
    """A baseline's decision on its clusters (arrays over clusters ``0..k-1``)."""

    score: np.ndarray
    flagged: np.ndarray
    reasons: list[str]
    columns: dict[str, np.ndarray]


@dataclass(frozen=True)
class Found:
    """What a baseline's own procedure found: its clusters, its decision on them, the graph
    its clusters live in (for the description, if any) and what to record in ``stats``."""

    clustering: Clustering
    verdict: Verdict
    projection: Projection | None = None
    stats: dict[str, Any] = field(default_factory=dict)


#: A baseline's own steps, ``(posts, events, p, *, seed, timer) -> Found``: encoded posts
#: and checked parameters in, its clusters and decision out.
Procedure = Callable[..., Found]


class Baseline(Generic[P]):
    """A published method under the package's interface (see the module docstring).

    Calling it runs the method: ``baseline(posts, params, seed=..., events=..., progress=...)``
    returns a :class:`~research.detection.Detection`. It also knows its name, its parameters
    dataclass (``params``), its tuning space (``tuning``) and its stages.
    """

    def __init__(
        self,
        procedure: Procedure,
        *,
        name: str,
        params: type[P],
        stages: tuple[str, ...],
        tuning: Tuning,
    ) -> None:
        functools.update_wrapper(self, procedure)
        self.procedure = procedure
        self.name = name
        self.params = params
        self.stages = stages
        unknown = set(tuning) - {f.name for f in fields(params)}  # type: ignore[arg-type]
        if unknown:
            raise TypeError(f"{name}: tuning names unknown parameter(s) {sorted(unknown)}")
        self.tuning: dict[str, tuple[Any, ...]] = {k: tuple(v) for k, v in tuning.items()}

    def __repr__(self) -> str:
        return f"<baseline {self.name}>"

    def check(self, params: dict[str, Any] | None = None) -> P:
        """The parameters as the dataclass (:class:`~research.errors.ConfigError` on an unknown
        name or an invalid value), without any data."""
        return parse_params(self.params, params, self.name)

    def defaults(self) -> dict[str, Any]:
        """The default parameters (its paper's settings) as plain data."""
        return asdict(self.params())  # type: ignore[call-overload]

    def __call__(
        self,
        posts: Posts,
        params: dict[str, Any] | None = None,
        *,
        seed: int | None = 0,
        events: Events | None = None,
        progress: bool = False,
    ) -> Detection:
        p = self.check(params)
        timer = StageTimer(("encode", *self.stages, "describe"), progress=progress, label=self.name)
        events = encoded(posts, events, timer)
        found = self.procedure(posts, events, p, seed=seed, timer=timer)
        return finish(
            self.name,
            asdict(p),  # type: ignore[call-overload]
            seed,
            posts,
            events,
            found.clustering,
            found.verdict,
            timer,
            describe=bool(getattr(p, "describe", True)),
            projection=found.projection,
            stats=found.stats,
        )


def baseline(
    name: str, params: type[P], *, stages: tuple[str, ...], tuning: Tuning
) -> Callable[[Procedure], Baseline[P]]:
    """Make a baseline of a procedure (see the module docstring): its docstring, name and
    module are the procedure's, so that its examples run as doctests."""

    def wrap(procedure: Procedure) -> Baseline[P]:
        return Baseline(procedure, name=name, params=params, stages=stages, tuning=tuning)

    return wrap


def cluster_weight_score(
    projection: Projection, clustering: Clustering
) -> tuple[np.ndarray, np.ndarray]:
    """Total internal edge weight of each cluster and its mean per internal edge."""
    n = clustering.n_clusters
    total, edges = internal_weight(projection, clustering.membership, n)
    return total, np.divide(total, edges, out=np.zeros(n), where=edges > 0)


def top_k(score: np.ndarray, k: int | None) -> np.ndarray:
    """Flags for the ``k`` highest scores (equal scores in cluster order); ``None``: all.

    Examples
    --------
    >>> top_k(np.array([0.2, 0.9, 0.5, 0.9]), 2).tolist()
    [False, True, False, True]
    """
    flagged = np.ones(len(score), dtype=bool)
    if k is None or k >= len(score):
        return flagged
    order = np.lexsort((np.arange(len(score)), -score))
    flagged[:] = False
    flagged[order[:k]] = True
    return flagged


def top_weight_verdict(
    projection: Projection,
    clustering: Clustering,
    k: int | None,
    *,
    what: str,
    weight: str,
    columns: tuple[str, str],
) -> Verdict:
    """Clusters scored by their total internal edge weight, the ``k`` heaviest flagged (the
    decision of the methods that rank their clusters by weight).

    ``what`` says what each cluster is (the reason of a flagged one); ``weight`` names the
    total in the reason of the others; ``columns`` names the total and the mean per edge.
    """
    total, mean = cluster_weight_score(projection, clustering)
    flagged = top_k(total, k)
    reasons = [what + ("" if f else f", outside the top {k} by total {weight}") for f in flagged]
    return Verdict(
        score=total, flagged=flagged, reasons=reasons, columns={columns[0]: total, columns[1]: mean}
    )


def encoded(posts: Posts, events: Events | None, timer: StageTimer) -> Events:
    """The encoded posts (reusing ``events`` when the caller has them)."""
    with timer.stage("encode"):
        return events if events is not None else encode(posts)


def finish(
    method: str,
    params: dict[str, Any],
    seed: int | None,
    posts: Posts,
    events: Events,
    clustering: Clustering,
    verdict: Verdict,
    timer: StageTimer,
    *,
    describe: bool = True,
    projection: Projection | None = None,
    stats: dict[str, Any] | None = None,
) -> Detection:
    """Assemble a :class:`Detection` from a baseline's clustering and verdict.

    With ``describe`` the clusters table carries the package's evidence columns
    (timed as the ``describe`` stage, apart from the baseline's own stages).
    """
    n_clusters = clustering.n_clusters
    if len(verdict.score) != n_clusters or len(verdict.flagged) != n_clusters:
        raise ValueError(
            f"{method}: verdict covers {len(verdict.score)} clusters, clustering has {n_clusters}"
        )
    if describe and n_clusters:
        with timer.stage("describe"):
            texts = posts.column("text").combine_chunks() if posts.table.num_rows else None
            table = group_evidence(events, cluster_groups(events, clustering), texts=texts)
            table.insert(1, "size", clustering.sizes())
    else:
        table = pd.DataFrame({"cluster": np.arange(n_clusters), "size": clustering.sizes()})
    table["score"] = np.asarray(verdict.score, dtype=np.float64)
    table["flagged"] = np.asarray(verdict.flagged, dtype=bool)
    for name, values in verdict.columns.items():
        table[name] = values
    table["explanation"] = [
        f"Cluster {c} ({int(s)} accounts, score {sc:.2f}) {'is' if f else 'is not'} flagged by {method}: {r}."
        for c, s, sc, f, r in zip(
            table["cluster"],
            table["size"],
            table["score"],
            table["flagged"],
            verdict.reasons,
            strict=True,
        )
    ]
    membership = clustering.membership
    clustered = membership >= 0
    score = np.zeros(len(membership))
    flagged = np.zeros(len(membership), dtype=bool)
    score[clustered] = table["score"].to_numpy()[membership[clustered]]
    flagged[clustered] = table["flagged"].to_numpy()[membership[clustered]]
    accounts = pd.DataFrame(
        {
            "account": clustering.accounts.to_numpy(),
            "cluster": membership,
            "flagged": flagged,
            "score": score,
            "attached": np.zeros(len(membership), dtype=bool),
        }
    )
    timer.close()
    base_stats = {
        "n_posts": events.n_posts,
        "n_accounts": events.n_accounts,
        "n_links": len(events.link_post),
        "disconnected_clusters": clustering.disconnected,
    }
    return Detection(
        method=method,
        params=params,
        seed=seed,
        clustering=clustering,
        clusters=table,
        accounts=accounts,
        timings=timer.timings,
        stats={**base_stats, **(stats or {})},
        posts=posts,
    )


def internal_weight(
    projection: Projection, membership: np.ndarray, n_clusters: int
) -> tuple[np.ndarray, np.ndarray]:
    """Total edge weight and number of edges inside each cluster."""
    same = (membership[projection.rows] == membership[projection.cols]) & (
        membership[projection.rows] >= 0
    )
    cluster = membership[projection.rows[same]]
    weight = np.bincount(cluster, weights=projection.weight[same], minlength=n_clusters)
    edges = np.bincount(cluster, minlength=n_clusters)
    return weight, edges
