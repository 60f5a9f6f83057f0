"""The simulator's outputs do not move when its code is refactored.

Selection caches and every published number were made from these outputs, so a change to
``research/simulate`` that is meant to be behaviour-preserving (such as the seams the
injection of campaigns into real posts needed: ``World.users_of``, ``World.stolen_client``,
``batch_table``) must leave every preset and family draw identical, value for value.

The expected digests were computed on the unmodified code (commit 112f693 of the ``method``
branch, before ``research/simulate/inject.py`` existed) and are hard-coded here on purpose:
never regenerate them to make this test pass. A change that is *meant* to alter the simulator
updates them in its own commit, saying why (so far: pages' titles as share-button texts in the
background, and the attacker's fresh short link or shared-host subdomain for every post as
family knobs).
"""

from __future__ import annotations

import hashlib
import json

import pyarrow as pa
import pytest

from research.simulate import simulate
from research.simulate.families import simulate_family


def digest(table: pa.Table) -> str:
    """Hash of a table's values column by column (independent of the Parquet or Arrow
    version, unlike the bytes of a written file)."""
    h = hashlib.sha256()
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.int64())
        h.update(name.encode())
        h.update(json.dumps(column.to_pylist()).encode())
    return h.hexdigest()[:16]


#: (posts, truth accounts, truth posts, number of posts) of each case, from the unmodified code.
PRESETS = {
    ("weheartit", 0, 20_000): ("92339e82f6e3ab98", "30bc60eddf0b7ede", "8de90827e6ad2094", 24968),
    ("rogue_app", 1, 20_000): ("57f9658dc923d763", "87f5c82ce9d980ed", "d530ac3be5aedb75", 24744),
    ("multi_campaign", 2, 30_000): ("69c86f5311c0e01d", "952ff686d3c0afa6", "23bf9a35e6a9478d", 35571),
    ("camouflage", 3, 20_000): ("a649928158c2e225", "634d6bd57046ef23", "db08da4c756f4f00", 25096),
}  # fmt: skip
#: Family draws at scale 0.05; between them they use fake accounts, the fallback app, stolen
#: credentials, no app, camouflage of both kinds, slow timing, daily rotation and shared hosts.
FAMILY_DRAWS = {
    ("abused_app", 0): ("9b3e79558a8dd2e5", "4070c07f85dce21a", "4b63a924f946704b", 10361),
    ("abused_app", 1): ("8834889883d29daa", "3e77f51c4eb5ed65", "1f14edd302516505", 8494),
    ("abused_app", 5): ("a3358fc36f2522b3", "d9e649459e2fb3a5", "474684a7f33fdf6c", 8318),
    ("rogue_app", 0): ("a722c47b4e0dd865", "55e0e85e5e8683fb", "88cbb1ba04d8875d", 15616),
    ("rogue_app", 1): ("39f9a64e23dee4ed", "83d2ddd579d9f5f6", "71112f14accfc40e", 5822),
    ("rogue_app", 2): ("9d439f31e08ffbaa", "c1da59131405961b", "6a56cb2c395db59d", 7910),
    ("rogue_app", 5): ("577aecaf701a8113", "01012576f28b52b3", "43c63c1b42bd0be4", 11096),
    ("stolen_credentials", 0): ("1f4cc9b157f40cdc", "1b4e53352d94728a", "57b95d3858c7a1cb", 11694),
    ("stolen_credentials", 1): ("5db87e52864451e9", "89d920845a2238e9", "e473a4fc44e36ac2", 8199),
    ("unknown_app", 0): ("912f5c97ebd06018", "e600a70f7a37e9a4", "5db1281c31435f5c", 8102),
    ("unknown_app", 1): ("abda16cd6841d521", "20d9bcb07878f32c", "bf57c40af967caa7", 29469),
    ("client_switch", 0): ("08159d0dfa5abf51", "eb76a0fc639bda1b", "29f537a8e92b5bcd", 11736),
}  # fmt: skip


def _digests(sim) -> tuple[str, str, str, int]:
    return (
        digest(sim.posts.table),
        digest(sim.truth.accounts),
        digest(sim.truth.posts),
        len(sim.posts),
    )


@pytest.mark.parametrize(("name", "seed", "n_posts"), list(PRESETS))
def test_presets_are_unchanged(name, seed, n_posts):
    assert _digests(simulate(name, seed=seed, n_posts=n_posts)) == PRESETS[name, seed, n_posts]


@pytest.mark.parametrize(("family", "seed"), list(FAMILY_DRAWS))
def test_family_draws_are_unchanged(family, seed):
    assert _digests(simulate_family(family, seed, scale=0.05)) == FAMILY_DRAWS[family, seed]
