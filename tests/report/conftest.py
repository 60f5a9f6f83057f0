"""Fixtures for the report and export tests: a small We Heart It scenario, plain and hostile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from research.pipeline import Detection, run_pipeline
from research.posts import Posts, as_posts
from research.simulate import Simulation, simulate

# Attacker-written strings: each one, if it ever ran, marks the page's root element.
TEXT_PAYLOAD = '<script>document.documentElement.setAttribute("data-pwned","text")</script>If I didnt try this\u2028</script><!--'
APP_PAYLOAD = (
    "We Heart It<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','app')\">"
)
NAME_PAYLOAD = (
    '</script><script>document.documentElement.setAttribute("data-pwned","name")</script>'
)
URL_PAYLOAD = "javascript:document.documentElement.setAttribute('data-pwned','url')//http://x.com/"


@dataclass(frozen=True)
class Case:
    posts: Posts
    sim: Simulation
    detection: Detection


@pytest.fixture(scope="session")
def small() -> Case:
    """The default scenario at 30k background posts, and the package's method on it."""
    sim = simulate("weheartit", seed=0, n_posts=30_000)
    return Case(sim.posts, sim, run_pipeline(sim.posts, seed=0))


def _replace(table: pa.Table, name: str, mask: np.ndarray, value: Any) -> pa.Table:
    column = table.column(name).combine_chunks()
    replaced = pc.if_else(pa.array(mask), pa.scalar(value, column.type), column)
    return table.set_column(table.schema.get_field_index(name), name, replaced)


@pytest.fixture(scope="session")
def hostile(small: Case) -> Case:
    """The same scenario where the attack's texts, app name, account names and links are hostile."""
    posts = hostile_posts(small.sim)
    return Case(posts, small.sim, run_pipeline(posts, seed=0))


def hostile_posts(sim: Simulation) -> Posts:
    """The simulation's posts with the attack's texts, app name, account names and links made hostile."""
    table = sim.posts.table
    malicious_ids = sim.truth.posts.filter(sim.truth.posts.column("malicious")).column("post_id")
    attack = np.asarray(
        pc.is_in(table.column("post_id"), value_set=malicious_ids).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    attackers = pc.unique(table.filter(pa.array(attack)).column("account_id"))
    by_attacker = np.asarray(
        pc.is_in(table.column("account_id"), value_set=attackers).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    table = _replace(table, "text", attack, TEXT_PAYLOAD)
    table = _replace(table, "app_name", attack, APP_PAYLOAD)
    table = _replace(table, "account_name", by_attacker, NAME_PAYLOAD)
    urls = table.column("urls").to_pylist()
    domains = table.column("domains").to_pylist()
    for i in np.flatnonzero(attack):
        urls[i] = [*urls[i], URL_PAYLOAD]
        domains[i] = [*domains[i], ""]
    table = table.set_column(
        table.schema.get_field_index("urls"), "urls", pa.array(urls, pa.list_(pa.string()))
    )
    table = table.set_column(
        table.schema.get_field_index("domains"), "domains", pa.array(domains, pa.list_(pa.string()))
    )
    return as_posts(table)
