"""Detection methods by name: the package's method and the published baselines.

Every method takes a posts table, a dict of parameters and a seed, and returns
a :class:`~research.detection.Detection`, so that one harness evaluates them all.
Every baseline also declares a tuning space (:data:`TUNING`): the candidate
values of its parameters that a selection on development data may try.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from research.baselines import BASELINES
from research.detection import Detection
from research.errors import unknown_name
from research.graph.events import Events
from research.pipeline import PipelineSpec, run_pipeline
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


def learned(
    posts: Posts,
    params: dict[str, Any] | None = None,
    *,
    seed: int | None = 0,
    events: Events | None = None,
    progress: bool = False,
) -> Detection:
    """The package's groups judged by the learned rule it ships (research/learned.py,
    ``research/rules/learned.json.gz``: gradient-boosted trees over the groups' terms, fitted
    on every scenario family's development draws by ``python -m experiments.learned
    --freeze``) instead of the ladder's thresholds: the named alternative. Held out, it finds
    more abused-app and unknown-app campaigns than the ladder but flags more benign accounts
    (README, "On scenario families it was not tuned on"). The parameters are ``hijack``'s; the
    rule was fitted on groups made with the defaults."""
    from research.learned import shipped

    rule, fitted_on = shipped()
    spec = PipelineSpec.from_dict(params or {})
    found = run_pipeline(
        posts, spec, seed=seed, events=events, progress=progress, method="learned", learned=rule
    )
    about = {"profile": fitted_on["profile"], "draws": len(fitted_on["draws"]),
             "threshold": rule.threshold, "trees": len(rule.trees)}  # fmt: skip
    return replace(found, stats={**found.stats, "learned_rule": about})


#: Methods by name: the package's method, a variant, and the published baselines
#: (research.baselines). The single list of "all methods" for harnesses and sweeps.
METHODS: dict[str, Method] = {
    "hijack": hijack,
    "learned": learned,
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
    """Run a method by name; the detection knows the posts it ran on."""
    detection = get_method(name)(posts, params or {}, seed=seed, events=events, progress=progress)
    return detection if detection.posts is not None else detection.with_data(posts)


def _check_pipeline(params: dict[str, Any]) -> None:
    spec = PipelineSpec.from_dict(params)
    for layer in spec.layers:
        spec.projection_spec(layer.objects)  # the projection's own checks (window_s, cap, ...)
    from research.graph.filters import FILTERS

    for entry in spec.all_filters():
        if entry.get("name") not in FILTERS:
            raise unknown_name("edge filter", str(entry.get("name")), list(FILTERS))


#: How each method's parameters are checked without data (see :func:`check_params`).
_CHECKS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "hijack": _check_pipeline,
    "learned": _check_pipeline,
    "joint": lambda params: _check_pipeline({**JOINT_GRAPH, **params}),
    "multilayer": lambda params: _check_pipeline({**JOINT_GRAPH, "multiplex": "layers", **params}),
    **{name: baseline.check for name, baseline in BASELINES.items()},
}


def check_params(name: str, params: dict[str, Any] | None = None) -> None:
    """Refuse an unknown method, an unknown parameter or an invalid value before any data is
    read (:class:`~research.errors.ConfigError`), so that a typo costs no loading time.

    Examples
    --------
    >>> check_params("joint", {"window_s": 600})
    >>> check_params("joint", {"window_s": -5})
    Traceback (most recent call last):
    ...
    research.errors.ConfigError: projection.window_s must be positive or null, got -5
    >>> check_params("magic")
    Traceback (most recent call last):
    ...
    research.errors.ConfigError: unknown method 'magic'; choose one of: compa, coornet, copycatch, courl_louvain, fraudar, hijack, joint, learned, multilayer, pacheco, qut_colink, synchrotrap
    """
    get_method(name)
    check = _CHECKS.get(name)
    if check is not None:  # a method registered without a check is checked when it runs
        check(dict(params or {}))
