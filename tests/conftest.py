"""Shared fixtures: simulated datasets are built once per session (they are deterministic)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from research.pipeline import run_pipeline
from research.posts import Posts
from research.simulate import Simulation, simulate

REPO = Path(__file__).resolve().parents[1]
T0 = dt.datetime(2014, 5, 1, 12, 0, tzinfo=dt.UTC)


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
