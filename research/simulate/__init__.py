"""A seeded simulator of a platform under attack: posts table plus ground truth.

Examples
--------
>>> from research.simulate import simulate
>>> sim = simulate("weheartit", seed=0, n_posts=20_000)
>>> sim.truth.campaigns
['diet-pills']
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from research.posts import POSTS_SCHEMA, Posts, read_posts, write_posts
from research.simulate.campaigns import attack_posts, authorise_app, choose_victims
from research.simulate.decoys import (
    client_switches,
    feeds,
    giveaways,
    new_apps,
    news_bursts,
    organisations,
    retweet_storms,
)
from research.simulate.platform import World, background_posts, make_world
from research.simulate.registry import Batch, concat_batches
from research.simulate.scenario import PRESETS, Scenario, preset, with_overrides
from research.truth import ACCOUNT_TRUTH_SCHEMA, POST_TRUTH_SCHEMA, GroundTruth, read_truth

__all__ = [
    "PRESETS",
    "Scenario",
    "Simulation",
    "preset",
    "read_simulation",
    "simulate",
    "with_overrides",
]

# Each component draws from its own stream (children of the seed by position, so adding a
# component at the end leaves the others' draws, and the presets' outputs, unchanged).
_COMPONENTS = (
    "world", "background", "news", "feeds", "orgs", "campaigns",
    "new_apps", "giveaways", "retweets", "switches",
)  # fmt: skip
#: Benign look-alike kinds recorded in the truth's ``decoy`` column (later kinds win where an
#: account belongs to several).
DECOY_KINDS = (
    "news",
    "feed",
    "org",
    "org_new_site",
    "new_app",
    "giveaway",
    "retweet",
    "client_switch",
)


@dataclass(frozen=True)
class Simulation:
    """A simulated dataset: posts, ground truth, and the scenario and seed that made it.

    ``injection`` is set when the campaign was planted into an existing posts table
    (:func:`research.simulate.inject.inject`): the family, the background and what was
    adapted to it, as plain JSON-ready data.
    """

    posts: Posts
    truth: GroundTruth
    scenario: Scenario
    seed: int
    injection: dict[str, Any] | None = None

    def write(self, out_dir: str | Path) -> Path:
        """Write ``posts.parquet``, the truth tables and ``scenario.json`` into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_posts(self.posts, out / "posts.parquet")
        self.truth.write(out)
        meta: dict[str, Any] = {"seed": self.seed, "scenario": self.scenario.to_dict()}
        if self.injection is not None:
            meta["injection"] = self.injection
        (out / "scenario.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return out


def read_simulation(directory: str | Path) -> Simulation:
    """Read a dataset written by :meth:`Simulation.write`."""
    directory = Path(directory)
    meta = json.loads((directory / "scenario.json").read_text())
    return Simulation(
        posts=read_posts(directory / "posts.parquet"),
        truth=read_truth(directory),
        scenario=Scenario.from_dict(meta["scenario"]),
        seed=int(meta["seed"]),
        injection=meta.get("injection"),
    )


def simulate(
    scenario: str | Scenario,
    seed: int = 0,
    *,
    n_posts: int | None = None,
    overrides: dict[str, Any] | None = None,
) -> Simulation:
    """Simulate a platform under attack.

    Parameters
    ----------
    scenario
        A preset name (``weheartit``, ``rogue_app``, ``multi_campaign``,
        ``camouflage``) or a :class:`Scenario`.
    seed
        Fully determines the output: the same seed gives the same bytes.
    n_posts
        Scale the background to this many organic posts (accounts and decoys
        in proportion; campaigns keep their size).
    overrides
        Nested overrides, see :func:`research.simulate.scenario.with_overrides`.

    Returns
    -------
    Simulation
        Posts (sorted by time) and ground truth.
    """
    spec = preset(scenario) if isinstance(scenario, str) else scenario
    if n_posts is not None:
        spec = spec.scaled(n_posts)
    if overrides:
        spec = with_overrides(spec, overrides)
    streams = dict(
        zip(
            _COMPONENTS,
            (
                np.random.default_rng(s)
                for s in np.random.SeedSequence(seed).spawn(len(_COMPONENTS))
            ),
            strict=True,
        )
    )
    start = dt.datetime.fromisoformat(spec.platform.start).replace(tzinfo=dt.UTC)
    world = make_world(spec.platform, streams["world"], int(start.timestamp()))
    campaign_rngs = [
        np.random.default_rng(s)
        for s in np.random.SeedSequence([seed, 1]).spawn(len(spec.campaigns))
    ]
    apps = [authorise_app(world, c, r) for c, r in zip(spec.campaigns, campaign_rngs, strict=True)]

    organic = background_posts(world, streams["background"])
    news, news_accounts = news_bursts(world, spec.decoys, streams["news"])
    feed_posts, feed_accounts = feeds(world, spec.decoys, streams["feeds"])
    org_posts, org_accounts, mover_accounts = organisations(world, spec.decoys, streams["orgs"])
    app_posts, app_accounts = new_apps(world, spec.decoys, streams["new_apps"])
    give_posts, give_accounts = giveaways(world, spec.decoys, streams["giveaways"])
    storm_posts, storm_accounts = retweet_storms(world, spec.decoys, streams["retweets"])
    organic, switch_accounts = client_switches(world, spec.decoys, streams["switches"], organic)

    attacks: list[Batch] = []
    victims_of: list[np.ndarray] = []
    taken = np.zeros(0, dtype=np.int64)
    for k, (campaign, app, rng) in enumerate(zip(spec.campaigns, apps, campaign_rngs, strict=True)):
        victims = choose_victims(world, campaign, app, taken, rng)
        taken = np.concatenate([taken, victims])
        attack = attack_posts(world, campaign, app, victims, k, rng, organic.url_codes)
        # An account counts as compromised once the attacker has posted from it: a victim
        # who recovered before the first wave reached it left no trace to detect.
        victims_of.append(np.unique(attack.account))
        attacks.append(attack)

    batch = concat_batches(
        [organic, news, feed_posts, org_posts, app_posts, give_posts, storm_posts, *attacks]
    )
    decoys = dict(
        zip(
            DECOY_KINDS,
            (news_accounts, feed_accounts, org_accounts, mover_accounts, app_accounts,
             give_accounts, storm_accounts, switch_accounts),
            strict=True,
        )
    )  # fmt: skip
    return _assemble(world, spec, seed, batch, victims_of, decoys, streams["campaigns"])


def _assemble(
    world: World,
    spec: Scenario,
    seed: int,
    batch: Batch,
    victims_of: list[np.ndarray],
    decoys: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> Simulation:
    order = np.lexsort((np.arange(len(batch)), batch.account, batch.time))
    n_acc = world.n_accounts
    account_ids = pc.cast(
        pa.array(np.sort(rng.choice(9 * 10**9, size=n_acc, replace=False)) + 10**9), pa.string()
    )
    account_ids = account_ids.take(pa.array(rng.permutation(n_acc)))
    names = pc.binary_join_element_wise(
        "user_", pc.cast(pa.array(np.arange(n_acc)), pa.string()), ""
    )

    post_ids = pc.cast(
        pa.array(np.arange(len(order), dtype=np.int64) + 460_000_000_000_000_000), pa.string()
    )
    posts = Posts(
        batch_table(
            world,
            batch,
            order,
            account_ids=account_ids,
            account_names=names,
            post_ids=post_ids,
            app_field=spec.platform.app_field,
        )
    )

    campaign_idx = batch.campaign[order]
    names_of_campaigns = pa.array([c.name for c in spec.campaigns], pa.string())
    post_truth = pa.table(
        {
            "post_id": post_ids,
            "malicious": pa.array(campaign_idx >= 0),
            "campaign": names_of_campaigns.take(pa.array(campaign_idx, mask=campaign_idx < 0)),
        },
        schema=POST_TRUTH_SCHEMA,
    )
    return Simulation(
        posts,
        GroundTruth(
            _account_truth(world, spec, account_ids, names_of_campaigns, victims_of, decoys),
            post_truth,
        ),
        spec,
        seed,
    )


def batch_table(
    world: World,
    batch: Batch,
    order: np.ndarray,
    *,
    account_ids: pa.Array,
    account_names: pa.Array,
    post_ids: pa.Array,
    app_field: bool,
    platform: str = "simulated",
) -> pa.Table:
    """The posts of ``batch`` taken in ``order`` as a posts table: codes become the world's
    strings (``account_ids`` and ``account_names`` are indexed by account code), ``post_ids``
    are given in output order, and every app is null unless ``app_field``."""
    acc = batch.account[order]
    app = batch.app[order]
    app_names = pa.array(world.apps.values, pa.string())
    app_urls = pa.array(world.app_urls, pa.string())
    app_idx = pa.array(app, mask=(app < 0) | (not app_field))

    counts = np.diff(batch.url_offsets)[order]
    starts = batch.url_offsets[:-1][order]
    offsets = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    gather = np.repeat(starts - offsets[:-1], counts) + np.arange(offsets[-1])
    url_codes = pa.array(batch.url_codes[gather])
    url_values = world.urls.values().take(url_codes)
    domain_values = world.urls.all_labels().take(url_codes)
    pa_offsets = pa.array(offsets.astype(np.int32) if offsets[-1] < 2**31 else offsets)
    list_type = pa.ListArray if offsets[-1] < 2**31 else pa.LargeListArray
    n = len(order)
    columns = {
        "post_id": post_ids,
        "account_id": account_ids.take(pa.array(acc)),
        "account_name": account_names.take(pa.array(acc)),
        "timestamp": pa.array(batch.time[order] * 1000, pa.timestamp("ms", tz="UTC")),
        "app_name": app_names.take(app_idx),
        "app_url": app_urls.take(app_idx),
        "urls": list_type.from_arrays(pa_offsets, url_values).cast(pa.list_(pa.string())),
        "domains": list_type.from_arrays(pa_offsets, domain_values).cast(pa.list_(pa.string())),
        "platform_urls": pa.ListArray.from_arrays(
            pa.array(np.zeros(n + 1, np.int32)), pa.array([], pa.string())
        ),
        "text": world.texts.values().take(pa.array(batch.text[order])),
        "is_repost": pa.array(batch.is_repost[order]),
        "platform": pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(n, np.int8)), pa.array([platform])
        ).cast(pa.string()),
    }
    return pa.Table.from_pydict(columns, schema=POSTS_SCHEMA)


def _account_truth(
    world: World,
    spec: Scenario,
    account_ids: pa.Array,
    campaign_names: pa.Array,
    victims_of: list[np.ndarray],
    decoys: dict[str, np.ndarray],
) -> pa.Table:
    n_acc = world.n_accounts
    campaign = np.full(n_acc, -1, dtype=np.int64)
    role = np.full(n_acc, "benign", dtype=object)
    for k, victims in enumerate(victims_of):
        campaign[victims] = k
        role[victims] = np.where(victims < world.spec.n_accounts, "hijacked", "fake")
    decoy = np.full(n_acc, None, dtype=object)
    for kind, members in decoys.items():
        decoy[members] = kind
    return pa.table(
        {
            "account_id": account_ids,
            "role": pa.array(role.tolist(), pa.string()),
            "campaign": campaign_names.take(pa.array(campaign, mask=campaign < 0)),
            "decoy": pa.array(decoy.tolist(), pa.string()),
        },
        schema=ACCOUNT_TRUTH_SCHEMA,
    )
