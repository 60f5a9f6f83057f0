"""The package's method: co-action -> Leiden -> campaigns by signature -> verdicts.

:func:`run_pipeline` goes from a posts table to a :class:`Detection`: encode,
project (by default each use of a site paired with the next uses by others,
:mod:`research.graph.neighbours`; or the windowed projections of
:mod:`research.graph.projection`), filter edges, detect communities, pool
them into campaign candidates by signature and judge each on the verdict
ladder (:mod:`research.evidence`, :mod:`research.verdicts`). Every stage is
timed.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from research.detect.clustering import Clustering
from research.detect.communities import DETECTORS, detect
from research.detect.consensus import consensus
from research.detect.multiplex import detect_multiplex, restrict_to
from research.errors import BudgetError, ConfigError, unknown_name
from research.graph.events import Events, encode
from research.graph.filters import apply_filters, split_streamable
from research.graph.neighbours import NeighbourSpec, neighbour_projection
from research.graph.projection import Projection, ProjectionSpec, co_action, combine, multiplex
from research.posts import Posts
from research.rule import Rule
from research.verdicts import decide


@dataclass(frozen=True)
class Layer:
    """One object kind of the multiplex projection and its weight in the sum."""

    objects: str = "app_domain"
    weight: float = 1.0


#: Methods that run this pipeline (their ``params`` are a :class:`PipelineSpec`).
PIPELINE_METHODS = ("hijack", "joint", "multilayer")

#: Projection engines: ``neighbours`` (each use of an object paired with the next uses by
#: others, no window: :mod:`research.graph.neighbours`) and ``windows`` (co-action within
#: time windows, bucketed or exact: :mod:`research.graph.projection`).
ENGINES = ("neighbours", "windows")


@dataclass(frozen=True)
class PipelineSpec:
    """Everything that defines a run of the method.

    The defaults are the package's method (``hijack``): every use of a *site*
    (a link's registered domain, or the page itself on a URL shortener) is
    paired with the next ``neighbours`` uses of that site by other accounts,
    whenever they came (no time window; uses further apart than ``max_gap_s``
    are not paired; sites linked through more than ``rule.candidate_span`` of the
    window are not paired at all), each pairing weighted by the site's rarity ``log(N / d)``;
    edges lighter than ``min_weight`` are dropped; Leiden CPM finds dense
    groups; the groups are pooled into campaign candidates by their signature
    sites, every account that pushed a signature is judged with its campaign,
    and the verdict ladder of :class:`research.rule.Rule` decides
    (``compromised`` / ``coordinated`` / ``none``).

    The ``windows`` engine is the earlier method (``joint``): accounts linked
    when they post the same (app, domain) or (app, URL) within ``window_s`` (two
    staggered bucketings, or exact windows), summed over ``layers``. Two budgets
    bound its cost by construction: ``pair_budget`` caps each layer's pair
    products (the popularity cap is lowered until they fit) and ``edge_budget``
    caps the edges handed to community detection. The ``neighbours`` engine
    makes at most ``neighbours`` pairings per use and needs no pair budget.
    """

    projection: str = "neighbours"
    objects: tuple[str, ...] = ("site",)
    neighbours: int = 8
    max_gap_s: float | None = 7 * 86_400.0
    layers: tuple[Layer, ...] = (Layer("app_domain", 1.0), Layer("app_url", 1.0))
    window_s: float | None = 900.0
    offsets: int = 2
    weighting: str = "idf"
    cap: int | None = 200
    pair_budget: float = 2.5e7
    on_budget: str = "lower_cap"
    filters: tuple[dict[str, Any], ...] = ({"name": "min_weight", "w": 1.0},)
    edge_budget: int | None = 2_000_000
    detector: str = "leiden"
    detector_params: dict[str, Any] = field(
        default_factory=lambda: {"objective": "CPM", "resolution": 0.5}
    )
    min_cluster_size: int = 2
    rule: Rule = field(default_factory=Rule)
    include_platform_urls: bool = False
    include_reposts: bool = True
    #: Exact windows (``|t1 - t2| <= window_s``) instead of buckets; see research.graph.colink.
    window_mode: str = "buckets"
    symmetric: str = "min"
    #: ``sum``: detect on the weighted sum of the layers; ``layers``: keep them apart and
    #: optimise one partition over all (leidenalg multiplex; detector must be leiden).
    multiplex: str = "sum"
    #: Runs over seeds ``seed, seed+1, ...`` for a consensus partition (0 = one run); each
    #: cluster then gets a ``stability`` (research.detect.consensus).
    consensus_runs: int = 0
    consensus_threshold: float = 0.5

    def __post_init__(self) -> None:
        if self.projection not in ENGINES:
            raise unknown_name("projection engine", self.projection, list(ENGINES))
        if self.detector not in DETECTORS:
            raise unknown_name("community detector", self.detector, list(DETECTORS))
        if not self.layers:
            raise ConfigError("pipeline: at least one projection layer is needed")
        if self.multiplex not in ("sum", "layers"):
            raise ConfigError(
                f"pipeline.multiplex must be 'sum' or 'layers', got {self.multiplex!r}"
            )
        if self.multiplex == "layers" and (
            self.detector != "leiden" or self.projection != "windows"
        ):
            raise ConfigError(
                "pipeline.multiplex 'layers' needs detector 'leiden' (leidenalg) and projection "
                f"'windows', got {self.detector!r} and {self.projection!r}"
            )
        if self.consensus_runs < 0 or (self.consensus_runs and self.multiplex == "layers"):
            raise ConfigError(
                "pipeline.consensus_runs must be >= 0 and works with multiplex 'sum' only"
            )
        if self.edge_budget is not None and self.edge_budget < 0:
            raise ConfigError(
                f"pipeline.edge_budget must be at least 0 or null, got {self.edge_budget}"
            )
        self.neighbour_spec()

    def all_filters(self) -> list[dict[str, Any]]:
        """The edge filters, then the edge budget (as a ``max_edges`` filter)."""
        filters = [dict(f) for f in self.filters]
        if self.edge_budget is not None:
            filters.append({"name": "max_edges", "n": self.edge_budget})
        return filters

    def streamed_filters(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The filters (and edge budget) a projection applies while it is built, and the rest."""
        return split_streamable(self.all_filters())

    def fused(self) -> bool:
        """Whether the layers are projected, summed and filtered together
        (:func:`research.graph.projection.multiplex`): bucketed windows, summed layers."""
        return (
            self.projection == "windows"
            and self.window_mode == "buckets"
            and self.multiplex == "sum"
        )

    def neighbour_spec(self) -> NeighbourSpec:
        """The spec of the ``neighbours`` engine; its sites are the rule's candidates
        (``rule.candidate_span``, ``rule.span_quantile``): a site too long-lived to be a
        signature is not paired."""
        return NeighbourSpec(
            tuple(self.objects),
            self.neighbours,
            self.max_gap_s,
            max_span=self.rule.candidate_span,
            span_quantile=self.rule.span_quantile,
        )

    def projection_spec(self, objects: str) -> ProjectionSpec:
        """The projection spec of one layer."""
        return ProjectionSpec(
            objects=objects,
            window_s=self.window_s,
            offsets=self.offsets,
            weighting=self.weighting,  # type: ignore[arg-type]
            cap=self.cap,
            pair_budget=self.pair_budget,
            on_budget=self.on_budget,  # type: ignore[arg-type]
            window_mode=self.window_mode,  # type: ignore[arg-type]
            symmetric=self.symmetric,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for provenance)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PipelineSpec:
        """Build from plain data (e.g. a Hydra config); unknown keys raise :class:`ConfigError`."""
        data = dict(data)
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ConfigError(
                f"pipeline: unknown key(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(known))}"
            )
        if "layers" in data:
            data["layers"] = tuple(
                Layer(**dict(layer)) if not isinstance(layer, Layer) else layer
                for layer in data["layers"]
            )
        if "filters" in data:
            data["filters"] = tuple(dict(f) for f in data["filters"])
        if "rule" in data and not isinstance(data["rule"], Rule):
            data["rule"] = Rule.from_dict(dict(data["rule"]))
        if "objects" in data:
            data["objects"] = tuple(data["objects"])
        if "detector_params" in data:
            data["detector_params"] = dict(data["detector_params"])
        return cls(**data)


@dataclass
class Detection:
    """What a method found: clusters with evidence, and a verdict per account.

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
    """

    method: str
    params: dict[str, Any]
    seed: int | None
    clustering: Clustering
    clusters: pd.DataFrame
    accounts: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def flagged_clusters(self) -> pd.DataFrame:
        """Evidence rows of the flagged clusters."""
        return self.clusters[self.clusters["flagged"]] if len(self.clusters) else self.clusters

    def flagged_accounts(self) -> np.ndarray:
        """Ids of accounts in flagged clusters."""
        return self.accounts.loc[self.accounts["flagged"], "account"].to_numpy()

    def explain(self, cluster: int) -> str:
        """Why one cluster was or was not flagged, in words."""
        if not 0 <= cluster < len(self.clusters):
            raise ConfigError(f"no cluster {cluster}; clusters run 0..{len(self.clusters) - 1}")
        row = self.clusters.iloc[cluster]
        if "explanation" in row:
            return str(row["explanation"])
        from research.verdicts import explain

        return explain(row)

    def summary(self) -> dict[str, Any]:
        """Counts for a one-line report."""
        return {
            "method": self.method,
            "seed": self.seed,
            "n_accounts": len(self.accounts),
            "n_clusters": len(self.clusters),
            "n_flagged_clusters": int(self.clusters["flagged"].sum()) if len(self.clusters) else 0,
            "n_flagged_accounts": int(self.accounts["flagged"].sum()),
        }


STAGES = ("encode", "incidence", "projection", "filter", "graph", "detect", "verdicts")


class StageTimer:
    """Times named stages and, optionally, shows them on a progress bar."""

    def __init__(
        self, stages: tuple[str, ...] = STAGES, *, progress: bool = False, label: str = "detect"
    ) -> None:
        self.timings: dict[str, float] = {}
        # The stage under way and the time so far: no rate (stages differ by orders of
        # magnitude, and a skipped one ran at "10,000 stages/s") and no count (which stages
        # run depends on the options).
        self._label = label
        self._bar = tqdm(
            total=len(stages), desc=label, bar_format="{desc} [{elapsed}]",
            disable=not progress, leave=False,
        )  # fmt: skip

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time one stage (an error closes the bar first, so that its message starts a line)."""
        self._bar.set_description_str(f"{self._label}: {name}")
        start = time.perf_counter()
        try:
            yield
        except BaseException:
            self._bar.close()
            raise
        finally:
            self.timings[name] = round(time.perf_counter() - start, 4)
            self._bar.update(1)

    def split(self, stage: str, part: str, seconds: float) -> None:
        """Report ``seconds`` of a timed ``stage`` as a separate ``part`` (a sub-stage timed inside it)."""
        seconds = round(min(seconds, self.timings.get(stage, 0.0)), 4)
        self.timings[stage] = round(self.timings.get(stage, 0.0) - seconds, 4)
        self.timings = {
            **{k: v for k, v in self.timings.items() if k != stage},
            part: seconds,
            stage: self.timings[stage],
        }

    def close(self) -> None:
        """Close the progress bar."""
        self._bar.close()


def run_pipeline(
    posts: Posts | None,
    spec: PipelineSpec | None = None,
    *,
    seed: int | None = 0,
    events: Events | None = None,
    texts: Any = None,
    projection: Projection | None = None,
    progress: bool = False,
    method: str = "hijack",
) -> Detection:
    """Run the method on a posts table.

    Parameters
    ----------
    posts
        The posts table.
    spec
        Method parameters (defaults: the package's method).
    seed
        Seed of the community detector.
    events
        Already encoded posts (saves the encoding step when running several methods);
        required when ``posts`` is ``None``.
    texts
        The posts' texts, aligned with the table the events came from (anything with
        ``take(rows)``, such as :class:`research.scale.ParquetColumn`); default
        ``posts.column("text")``.
    projection
        The projection already built elsewhere (the Dask backend) with the spec's
        streamable filters applied (:func:`research.graph.filters.split_streamable`
        of the filters and the edge budget); the projection stage is then skipped.
    progress
        Show a progress bar over the stages.
    method
        The name the result carries (each method names itself).

    Examples
    --------
    >>> from research.simulate import simulate
    >>> sim = simulate("weheartit", seed=0, n_posts=30_000)
    >>> found = run_pipeline(sim.posts, seed=0)
    >>> found.flagged_clusters["top_app"].tolist()
    ['We Heart It']
    >>> found.flagged_clusters["verdict"].tolist()
    ['compromised']
    """
    spec = spec or PipelineSpec()
    if posts is None and events is None:
        raise ConfigError("run_pipeline needs posts, or events (and texts)")
    timer = StageTimer(progress=progress)
    with timer.stage("encode"):
        if events is None:
            assert posts is not None
            events = encode(
                posts,
                include_platform_urls=spec.include_platform_urls,
                include_reposts=spec.include_reposts,
            )
    layers: list[Projection] | None = None
    later = spec.streamed_filters()[1]
    if projection is None:
        with timer.stage("projection"):
            projection, layers, later = project(events, spec)
        if "seconds_incidence" in projection.stats:
            timer.split("projection", "incidence", projection.stats["seconds_incidence"])
    with timer.stage("filter"):
        filtered = apply_filters(projection, later)
    _check_edge_budget(filtered, spec)
    with timer.stage("detect"):
        clustering, stability = _detect(filtered, layers, spec, seed)
    timer.split("detect", "graph", clustering.timings.get("graph", 0.0))
    with timer.stage("verdicts"):
        decision = decide(
            events, clustering, spec.rule, texts=texts if texts is not None else _texts(posts)
        )
    clusters = decision.clusters
    if stability is not None:
        # Each group's stability: the mean stability of the clusters it pooled.
        clusters.insert(
            2,
            "stability",
            _group_stability(clustering, decision.membership, stability, len(clusters)),
        )
    clustering = replace(clustering, membership=decision.membership)
    timer.close()
    stats = {
        "n_posts": events.n_posts,
        "n_accounts": events.n_accounts,
        "n_links": len(events.link_post),
        "edges_projected": projection.stats.get("n_edges_unfiltered", projection.n_edges),
        "edges_kept": filtered.n_edges,
        "edge_budget_cut": filtered.stats.get("max_edges_cut"),
        "layers": projection.stats.get("layers", [projection.stats])
        if layers is None
        else [layer.stats for layer in layers],
        "disconnected_clusters": clustering.disconnected,
    }
    return Detection(
        method=method,
        params=spec.to_dict(),
        seed=seed,
        clustering=clustering,
        clusters=clusters,
        accounts=decision.accounts,
        timings=timer.timings,
        stats=stats,
    )


def _detect(
    filtered: Projection, layers: list[Projection] | None, spec: PipelineSpec, seed: int | None
) -> tuple[Clustering, np.ndarray | None]:
    """The spec's detector on the filtered projection (and, for a consensus, the stability of
    each cluster)."""
    if spec.multiplex == "layers":
        assert layers is not None
        kept = [restrict_to(layer, filtered) for layer in layers]
        clustering = detect_multiplex(
            kept, layer_weights=[la.weight for la in spec.layers], seed=seed,
            min_size=spec.min_cluster_size, **spec.detector_params,
        )  # fmt: skip
        return clustering, None
    if spec.consensus_runs:
        seeds = [(seed or 0) + k for k in range(spec.consensus_runs)]
        agreed = consensus(
            filtered, spec.detector, seeds=seeds, threshold=spec.consensus_threshold,
            min_size=spec.min_cluster_size, **spec.detector_params,
        )  # fmt: skip
        return agreed.clustering, agreed.stability
    clustering = detect(
        filtered, spec.detector, seed=seed, min_size=spec.min_cluster_size, **spec.detector_params
    )
    return clustering, None


def cluster_accounts(
    events: Events, spec: PipelineSpec | None = None, *, seed: int | None = 0
) -> Clustering:
    """The clustering of the spec's graph (projection, filters, detector), before any verdict:
    what :func:`research.verdicts.decide` judges."""
    spec = spec or PipelineSpec()
    projection, _layers, later = project(events, spec)
    filtered = apply_filters(projection, later)
    _check_edge_budget(filtered, spec)
    return _detect(filtered, _layers, spec, seed)[0]


def project(
    events: Events, spec: PipelineSpec
) -> tuple[Projection, list[Projection] | None, list[dict[str, Any]]]:
    """The spec's projection of ``events``, with the filters it applies while it is built.

    Returns the projection, its layers when they were kept apart (exact windows, multiplex),
    and the filters still to apply (:func:`research.graph.filters.apply_filters`).
    """
    streamed, later = spec.streamed_filters()
    if spec.projection == "neighbours":
        min_w = [f for f in spec.filters if f.get("name") == "min_weight"]
        floor = float(min_w[0].get("w", 0.0)) if min_w else 0.0
        later = [f for f in spec.all_filters() if f.get("name") != "min_weight"]
        return neighbour_projection(events, spec.neighbour_spec(), min_weight=floor), None, later
    if spec.fused():
        # Per-edge filters (and the edge budget) run while the layers are projected, block
        # by block, so that the unfiltered graph is never held in memory.
        fused = multiplex(
            events,
            [spec.projection_spec(layer.objects) for layer in spec.layers],
            [la.weight for la in spec.layers],
            **streamed,
        )
        return fused, None, later
    # Exact windows (research.graph.colink) and per-layer detection need each layer.
    layers = [co_action(events, spec.projection_spec(layer.objects)) for layer in spec.layers]
    summed = (
        layers[0]
        if len(layers) == 1 and spec.layers[0].weight == 1.0
        else combine(layers, [la.weight for la in spec.layers])
    )
    return summed, layers, spec.all_filters()


def _group_stability(
    clustering: Clustering, groups: np.ndarray, stability: np.ndarray, n: int
) -> np.ndarray:
    both = (clustering.membership >= 0) & (groups >= 0)
    total = np.bincount(groups[both], weights=stability[clustering.membership[both]], minlength=n)
    count = np.bincount(groups[both], minlength=n)
    return np.divide(total, count, out=np.full(n, np.nan), where=count > 0)


def _check_edge_budget(projection: Any, spec: PipelineSpec) -> None:
    """Say when the edge budget dropped edges (warning), or refuse if asked to."""
    cut = projection.stats.get("max_edges_cut")
    if cut is None or spec.edge_budget is None:
        return
    message = (
        f"the filtered projection exceeds edge_budget={spec.edge_budget}: only edges heavier than {cut:.4g} "
        "are kept for community detection; raise pipeline.edge_budget (detection time grows with it) "
        "or filter harder (a higher min_weight) to choose which edges go"
    )
    if spec.on_budget == "refuse":
        raise BudgetError(message)
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def _texts(posts: Posts | None) -> Any:
    return (
        posts.column("text").combine_chunks()
        if posts is not None and posts.table.num_rows
        else None
    )


def with_params(spec: PipelineSpec, **changes: Any) -> PipelineSpec:
    """A copy of ``spec`` with some fields changed."""
    return replace(spec, **changes)
