"""Detection methods by name: the package's method and the published baselines.

Every method takes a posts table, a dict of parameters and a seed, and returns
a :class:`~research.pipeline.Detection`, so that one harness evaluates them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from research.baselines import compa, evilcohort, fraudar, pacheco, qut_colink
from research.baselines.common import parse_params
from research.baselines.compa import CompaParams
from research.baselines.evilcohort import EvilCohortParams
from research.baselines.fraudar import FraudarParams
from research.baselines.pacheco import PachecoParams
from research.baselines.qut_colink import QutParams
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


def _check_pipeline(params: dict[str, Any]) -> None:
    spec = PipelineSpec.from_dict(params)
    for layer in spec.layers:
        spec.projection(layer.objects)  # the projection's own checks (window_s, cap, ...)
    from research.graph.filters import FILTERS

    for entry in spec.all_filters():
        if entry.get("name") not in FILTERS:
            raise unknown_name("edge filter", str(entry.get("name")), list(FILTERS))


#: How each method's parameters are checked without data (see :func:`check_params`).
_CHECKS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "joint": _check_pipeline,
    "multilayer": lambda params: _check_pipeline({"multiplex": "layers", **params}),
    "compa": lambda params: parse_params(CompaParams, params, "compa"),
    "pacheco": lambda params: parse_params(PachecoParams, params, "pacheco"),
    "qut_colink": lambda params: parse_params(QutParams, params, "qut_colink"),
    "evilcohort": lambda params: parse_params(EvilCohortParams, params, "evilcohort"),
    "fraudar": lambda params: parse_params(FraudarParams, params, "fraudar"),
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
    research.errors.ConfigError: unknown method 'magic'; choose one of: compa, evilcohort, fraudar, joint, multilayer, pacheco, qut_colink
    """
    get_method(name)
    check = _CHECKS.get(name)
    if check is not None:  # a method registered without a check is checked when it runs
        check(dict(params or {}))
