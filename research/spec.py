"""The method's specification: every setting of a run, and the graph it describes.

:class:`PipelineSpec` holds everything that defines a run of the package's method
(projection, filters, detector, :class:`~research.rule.Rule`); :func:`project` builds the
co-action projection it describes. :mod:`research.pipeline` runs the whole method; the
report's exports rebuild the graph a detection saw from here, without the pipeline.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from research.detect.communities import DETECTORS
from research.errors import ConfigError, unknown_name
from research.graph.events import Events
from research.graph.filters import split_streamable
from research.graph.neighbours import NeighbourSpec, neighbour_projection
from research.graph.projection import Projection, ProjectionSpec, co_action, combine, multiplex
from research.rule import Rule


@dataclass(frozen=True)
class Layer:
    """One object kind of the multiplex projection and its weight in the sum."""

    objects: str = "app_domain"
    weight: float = 1.0


#: Methods that run this pipeline (their ``params`` are a :class:`PipelineSpec`).
PIPELINE_METHODS = ("hijack", "learned", "joint", "multilayer")

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
    neighbours: int = 16
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


def with_params(spec: PipelineSpec, **changes: Any) -> PipelineSpec:
    """A copy of ``spec`` with some fields changed."""
    return replace(spec, **changes)
