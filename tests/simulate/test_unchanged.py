"""The simulator's outputs do not move when its code is refactored.

Selection caches and every published number were made from these outputs, so a change to
``research/simulate`` that is meant to be behaviour-preserving (such as the seams the
injection of campaigns into real posts needed: ``World.users_of``, ``World.stolen_client``,
``batch_table``) must leave every preset and family draw identical, value for value.

The expected digests were computed on the unmodified code (commit 112f693 of the ``method``
branch, before ``research/simulate/inject.py`` existed) and are hard-coded here on purpose:
never regenerate them to make this test pass. A change that is *meant* to alter the simulator
updates them in its own commit, saying why.
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
    ("weheartit", 0, 20_000): ("cf3544c2f384cc65", "30bc60eddf0b7ede", "8de90827e6ad2094", 24968),
    ("rogue_app", 1, 20_000): ("478b5f89c86789a9", "87f5c82ce9d980ed", "d530ac3be5aedb75", 24744),
    ("multi_campaign", 2, 30_000): ("65d37c84818c6551", "952ff686d3c0afa6", "23bf9a35e6a9478d", 35571),
    ("camouflage", 3, 20_000): ("3ce0977be12f7608", "634d6bd57046ef23", "db08da4c756f4f00", 25096),
}  # fmt: skip
#: Family draws at scale 0.05; between them they use fake accounts, the fallback app, stolen
#: credentials, no app, camouflage of both kinds, slow timing, daily rotation and shared hosts.
FAMILY_DRAWS = {
    ("abused_app", 0): ("7aa76fec13380b4c", "4070c07f85dce21a", "4b63a924f946704b", 10361),
    ("abused_app", 1): ("486b36885f072d80", "e4f2041a83169c18", "efed9dfb019737e9", 8466),
    ("abused_app", 5): ("add8dad81db707c2", "e3d10a87da3b6208", "b55b70c252151924", 8316),
    ("rogue_app", 0): ("3577c666f311920b", "55e0e85e5e8683fb", "88cbb1ba04d8875d", 15616),
    ("rogue_app", 1): ("e692982d42b28827", "92a01fa784c390b8", "3e218c09b1eb8d28", 5800),
    ("rogue_app", 2): ("a4c5fd2b7a378613", "079607db076a4df0", "86736cdcca4edc07", 7910),
    ("rogue_app", 5): ("1f31fa1695cc7d0d", "01012576f28b52b3", "43c63c1b42bd0be4", 11096),
    ("stolen_credentials", 0): ("97d1429335757e4b", "0567b738f575013c", "f6c688ae423a0412", 11689),
    ("stolen_credentials", 1): ("cc04a76a14f16794", "b93e1e7fcf071767", "a23606d1d7723d04", 8328),
    ("unknown_app", 0): ("45c1034c228465df", "cec865fd7c37747a", "0ab51e2aedd16ed0", 13048),
    ("unknown_app", 1): ("830b0978926711f4", "6471dee53209dd83", "4bfe8403f1b97596", 29469),
    ("client_switch", 0): ("944180ce79ddb76e", "eb76a0fc639bda1b", "29f537a8e92b5bcd", 11736),
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
