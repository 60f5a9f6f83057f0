"""Ground truth: which accounts belong to which campaign, which posts are malicious."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from research.errors import InputFileError, SchemaError

ACCOUNT_TRUTH_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("role", pa.string(), nullable=False),  # benign | hijacked | fake
        pa.field("campaign", pa.string()),  # null for benign accounts
        pa.field("decoy", pa.string()),  # news | feed | org | null
    ]
)
POST_TRUTH_SCHEMA = pa.schema(
    [
        pa.field("post_id", pa.string(), nullable=False),
        pa.field("malicious", pa.bool_(), nullable=False),
        pa.field("campaign", pa.string()),
    ]
)


@dataclass(frozen=True)
class GroundTruth:
    """Labels for accounts and posts.

    Examples
    --------
    >>> truth = GroundTruth.from_labels(["a", "b"], ["c1", None])
    >>> truth.campaign_of(["b", "a", "zz"]).tolist()
    [None, 'c1', None]
    """

    accounts: pa.Table
    posts: pa.Table

    @classmethod
    def from_labels(cls, account_ids: list[str], campaigns: list[str | None]) -> GroundTruth:
        """Truth from account labels only (``None`` = benign)."""
        roles = ["hijacked" if c is not None else "benign" for c in campaigns]
        accounts = pa.table(
            {
                "account_id": account_ids,
                "role": roles,
                "campaign": campaigns,
                "decoy": [None] * len(campaigns),
            },
            schema=ACCOUNT_TRUTH_SCHEMA,
        )
        return cls(accounts, POST_TRUTH_SCHEMA.empty_table())

    def campaign_of(self, account_ids: list[str] | np.ndarray | pa.Array) -> np.ndarray:
        """Campaign name of each given account (``None`` if benign or unknown)."""
        ids = (
            pa.array(account_ids, pa.string())
            if not isinstance(account_ids, pa.Array)
            else account_ids
        )
        pos = pc.index_in(ids, value_set=self.accounts.column("account_id"))
        labels = self.accounts.column("campaign").combine_chunks()
        taken = labels.take(pos)
        return np.asarray(taken.to_pylist(), dtype=object)

    def decoy_of(self, account_ids: list[str] | np.ndarray | pa.Array) -> np.ndarray:
        """Decoy kind of each given account (``None`` if none)."""
        ids = (
            pa.array(account_ids, pa.string())
            if not isinstance(account_ids, pa.Array)
            else account_ids
        )
        pos = pc.index_in(ids, value_set=self.accounts.column("account_id"))
        return np.asarray(
            self.accounts.column("decoy").combine_chunks().take(pos).to_pylist(), dtype=object
        )

    @property
    def campaigns(self) -> list[str]:
        """Names of the planted campaigns, sorted."""
        return sorted(
            v for v in pc.unique(self.accounts.column("campaign")).to_pylist() if v is not None
        )

    def write(self, out_dir: str | Path) -> None:
        """Write ``truth_accounts.parquet`` and ``truth_posts.parquet``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        pq.write_table(self.accounts, out / "truth_accounts.parquet", compression="zstd")
        pq.write_table(self.posts, out / "truth_posts.parquet", compression="zstd")


def read_truth(directory: str | Path) -> GroundTruth:
    """Read the truth written by :meth:`GroundTruth.write`."""
    directory = Path(directory)
    paths = [directory / "truth_accounts.parquet", directory / "truth_posts.parquet"]
    for path in paths:
        if not path.exists():
            raise InputFileError(f"{path}: no such file (ground truth is written by `simulate`)")
    accounts = pq.read_table(paths[0])
    posts = pq.read_table(paths[1])
    for table, schema, path in (
        (accounts, ACCOUNT_TRUTH_SCHEMA, paths[0]),
        (posts, POST_TRUTH_SCHEMA, paths[1]),
    ):
        missing = [n for n in schema.names if n not in table.column_names]
        if missing:
            raise SchemaError(f"{path}: missing column(s) {', '.join(missing)}")
    return GroundTruth(
        accounts.select(ACCOUNT_TRUTH_SCHEMA.names), posts.select(POST_TRUTH_SCHEMA.names)
    )
