"""Detection methods by name: the package's method and the published baselines.

Every method takes a posts table, a dict of parameters and a seed, and returns
a :class:`~research.pipeline.Detection`, so that one harness evaluates them all.
Every baseline also declares a tuning space (:data:`TUNING`): the candidate
values of its parameters that a selection on development data may try.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from research.baselines import BASELINES
from research.errors import unknown_name
from research.graph.events import Events
from research.pipeline import Detection, PipelineSpec, run_pipeline
from research.posts import Posts

Method = Callable[..., Detection]


def joint(
    posts: Posts,
    params: dict[str, Any] | None = None,
    *,
    seed: int | None = 0,
    events: Events | None = None,
    progress: bool = False,
) -> Detection:
    """The package's method: joint (app, domain/URL, time) co-action + Leiden CPM + evidence."""
    return run_pipeline(
        posts, PipelineSpec.from_dict(params or {}), seed=seed, events=events, progress=progress
    )


def multilayer(
    posts: Posts,
    params: dict[str, Any] | None = None,
    *,
    seed: int | None = 0,
    events: Events | None = None,
    progress: bool = False,
) -> Detection:
    """The package's method with the projection layers kept apart (leidenalg multiplex Leiden)."""
    spec = PipelineSpec.from_dict({"multiplex": "layers", **(params or {})})
    detection = run_pipeline(posts, spec, seed=seed, events=events, progress=progress)
    detection.method = "multilayer"
    return detection


#: Methods by name: the package's method, a variant, and the published baselines
#: (research.baselines). The single list of "all methods" for harnesses and sweeps.
METHODS: dict[str, Method] = {
    "joint": joint,
    "multilayer": multilayer,
    **BASELINES,
}

#: Tuning spaces by method name (parameter -> candidate values; the defaults are each
#: paper's settings): the same budget for every baseline in a selection on development data.
TUNING: dict[str, dict[str, tuple[Any, ...]]] = {
    name: baseline.tuning for name, baseline in BASELINES.items()
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
