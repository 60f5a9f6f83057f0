"""Shared fixtures: simulated datasets are built once per session (they are deterministic).

And one rule for the whole run: a test may not pass by skipping because a *required*
package is missing. Every package the tests import is a dependency of the package or of
its ``test`` extra (pyproject.toml); when ``pytest.importorskip`` skips for one of those, the
test fails instead, with the install command (as the browser test does for Chromium).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Generator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from research.pipeline import run_pipeline
from research.posts import Posts
from research.simulate import Simulation, simulate

REPO = Path(__file__).resolve().parents[1]
T0 = dt.datetime(2014, 5, 1, 12, 0, tzinfo=dt.UTC)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def required_packages(pyproject: Path = REPO / "pyproject.toml") -> frozenset[str]:
    """Normalised names of the dependencies and of the ``test`` extra (with their own extras:
    ``dask[distributed]`` requires ``dask`` and ``distributed``)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    names = set()
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        name, _, extras = re.split(r"[<>=!~;\s]", requirement, maxsplit=1)[0].partition("[")
        names.add(_normal(name))
        names.update(_normal(e) for e in extras.rstrip("]").split(",") if e.strip())
    return frozenset(names)


_IMPORT_SKIP = re.compile(r"could not import '([^']+)'")


def missing_required(reason: str, required: frozenset[str]) -> str | None:
    """The module a skip reason says could not be imported, when a required package provides
    it (any dotted part of its name is one: ``hydra_plugins.hydra_joblib_launcher``).

    Examples
    --------
    >>> missing_required("could not import 'distributed': No module named 'distributed'", frozenset({"distributed"}))
    'distributed'
    >>> missing_required("latexmk not installed", frozenset({"distributed"})) is None
    True
    """
    found = _IMPORT_SKIP.search(reason)
    if found is None:
        return None
    module = found.group(1)
    return module if any(_normal(part) in required for part in module.split(".")) else None


def _fail_required_skip(report: Any) -> None:
    """Turn a skip for a missing required package into a failure that says what to install."""
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return
    module = missing_required(str(report.longrepr[2]), required_packages())
    if module is not None:
        report.outcome = "failed"
        report.longrepr = (
            f"{report.longrepr[2]}\n{module} is required by the tests (a dependency or the test "
            "extra of pyproject.toml); install it: pip install -e '.[test]'"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, Any]:
    report = yield
    _fail_required_skip(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, Any]:
    report = yield
    _fail_required_skip(report)  # a module-level importorskip
    return report


def make_posts(rows: list[tuple]) -> Posts:
    """Posts from ``(account, seconds after T0, app, [urls])`` tuples (post ids are row numbers)."""
    return Posts.from_records(
        [
            {
                "post_id": str(i),
                "account_id": a,
                "timestamp": T0 + dt.timedelta(seconds=s),
                "app_name": app,
                "urls": urls,
                "domains": [urlsplit(u).hostname or "" for u in urls],
                "text": f"post {i}",
            }
            for i, (a, s, app, urls) in enumerate(rows)
        ]
    )


@pytest.fixture(scope="session")
def weheartit() -> Simulation:
    """The default scenario at its full size (~320k posts)."""
    return simulate("weheartit", seed=0)


@pytest.fixture(scope="session")
def weheartit_detection(weheartit: Simulation):
    """The package's method on the default scenario."""
    return run_pipeline(weheartit.posts, seed=0)
