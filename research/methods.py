"""Detection methods by name: the package's method and the published baselines.

Every method takes a posts table, a dict of parameters and a seed, and returns
a :class:`~research.pipeline.Detection`, so that one harness evaluates them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from research.baselines import compa, evilcohort, fraudar, pacheco, qut_colink
from research.errors import unknown_name
from research.graph.events import Events
from research.pipeline import Detection, PipelineSpec, run_pipeline
from research.posts import Posts

Method = Callable[..., Detection]


#: The earlier method's graph: (app, domain) and (app, URL) co-action within 15-minute windows
#: (two staggered bucketings), idf weights, edges of weight 3 and more, Leiden CPM at 0.3;
#: judged by the same verdict ladder as ``hijack``.
JOINT_GRAPH: dict[str, Any] = {
    "projection": "windows",
    "filters": ({"name": "min_weight", "w": 3.0},),
    "edge_budget": 500_000,
    "detector_params": {"objective": "CPM", "resolution": 0.3},
}


def hijack(
    posts: Posts,
    params: dict[str, Any] | None = None,
    *,
    seed: int | None = 0,
    events: Events | None = None,
    progress: bool = False,
) -> Detection:
    """The package's method: each use of a site paired with the next uses by others (no time
    window), Leiden CPM, campaigns pooled by signature, the verdict ladder."""
    spec = PipelineSpec.from_dict(params or {})
    return run_pipeline(posts, spec, seed=seed, events=events, progress=progress, method="hijack")


def joint(
    posts: Posts,
    params: dict[str, Any] | None = None,
    *,
    seed: int | None = 0,
    events: Events | None = None,
    progress: bool = False,
) -> Detection:
    """The earlier graph (joint (app, domain/URL) co-action in 15-minute windows) with the
    package's verdict ladder: the one-time-scale variant, kept for comparison."""
    spec = PipelineSpec.from_dict({**JOINT_GRAPH, **(params or {})})
    return run_pipeline(posts, spec, seed=seed, events=events, progress=progress, method="joint")


def multilayer(
    posts: Posts,
    params: dict[str, Any] | None = None,
    *,
    seed: int | None = 0,
    events: Events | None = None,
    progress: bool = False,
) -> Detection:
    """``joint`` with its two layers kept apart (leidenalg multiplex Leiden)."""
    spec = PipelineSpec.from_dict({**JOINT_GRAPH, "multiplex": "layers", **(params or {})})
    return run_pipeline(
        posts, spec, seed=seed, events=events, progress=progress, method="multilayer"
    )


#: Methods by name: the package's method, a variant, and the published baselines
#: (research.baselines). The single list of "all methods" for harnesses and sweeps.
METHODS: dict[str, Method] = {
    "hijack": hijack,
    "joint": joint,
    "multilayer": multilayer,
    "compa": compa,
    "pacheco": pacheco,
    "qut_colink": qut_colink,
    "evilcohort": evilcohort,
    "fraudar": fraudar,
}


def get_method(name: str) -> Method:
    """A method by name (:class:`~research.errors.ConfigError` listing the valid ones otherwise)."""
    try:
        return METHODS[name]
    except KeyError:
        raise unknown_name("method", name, list(METHODS)) from None


def run_method(
    name: str,
    posts: Posts,
    params: dict[str, Any] | None = None,
    *,
    seed: int | None = 0,
    events: Events | None = None,
    progress: bool = False,
) -> Detection:
    """Run a method by name."""
    return get_method(name)(posts, params or {}, seed=seed, events=events, progress=progress)
