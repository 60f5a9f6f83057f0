"""Interning tables for the simulator: strings get dense integer codes once.

The simulator works on integer arrays (account, app, URL and text codes) and
turns them into strings only when the posts table is assembled, which keeps
it fast at 10^7 posts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa


@dataclass
class Interner:
    """Assigns consecutive codes to distinct strings, in first-seen order."""

    values: list[str] = field(default_factory=list)
    _codes: dict[str, int] = field(default_factory=dict)

    def add(self, value: str) -> int:
        """Code of ``value``, creating it if new."""
        code = self._codes.get(value)
        if code is None:
            code = len(self.values)
            self._codes[value] = code
            self.values.append(value)
        return code

    def add_many(self, values: list[str]) -> np.ndarray:
        """Codes of many values (int64 array)."""
        return np.fromiter((self.add(v) for v in values), dtype=np.int64, count=len(values))

    def __len__(self) -> int:
        return len(self.values)


@dataclass
class BlockTable:
    """Strings added in blocks, with consecutive codes and an optional parallel label.

    Used for URLs (label: registered domain) and texts. Blocks are never
    de-duplicated: the simulator makes every generated string unique by
    construction (serial numbers), so interning them would only cost time.
    """

    blocks: list[pa.Array] = field(default_factory=list)
    labels: list[pa.Array] = field(default_factory=list)
    size: int = 0

    def add_block(
        self, values: list[str] | pa.Array, labels: list[str] | pa.Array | None = None
    ) -> int:
        """Append strings; returns the code of the first one."""
        values = pa.array(values, pa.string()) if not isinstance(values, pa.Array) else values
        if labels is None:
            labels = pa.nulls(len(values), pa.string())
        labels = pa.array(labels, pa.string()) if not isinstance(labels, pa.Array) else labels
        start = self.size
        self.blocks.append(values)
        self.labels.append(labels)
        self.size += len(values)
        return start

    def values(self) -> pa.Array:
        """All strings, in code order."""
        return pa.concat_arrays(self.blocks) if self.blocks else pa.array([], pa.string())

    def all_labels(self) -> pa.Array:
        """All labels, in code order."""
        return pa.concat_arrays(self.labels) if self.labels else pa.array([], pa.string())


@dataclass
class Batch:
    """A block of simulated posts as integer arrays.

    ``url_offsets`` has one more entry than there are posts; the URL codes of
    post ``i`` are ``url_codes[url_offsets[i]:url_offsets[i+1]]``. ``app`` is
    ``-1`` where the app is unknown. ``campaign`` is ``-1`` for organic posts.
    """

    account: np.ndarray
    time: np.ndarray
    app: np.ndarray
    url_offsets: np.ndarray
    url_codes: np.ndarray
    text: np.ndarray
    is_repost: np.ndarray
    campaign: np.ndarray

    def __len__(self) -> int:
        return len(self.account)

    @staticmethod
    def single_url(
        account: np.ndarray,
        time: np.ndarray,
        app: np.ndarray,
        url: np.ndarray,
        text: np.ndarray,
        *,
        is_repost: np.ndarray | None = None,
        campaign: int = -1,
    ) -> Batch:
        """Posts carrying exactly one URL each (``url < 0`` means none)."""
        n = len(account)
        has = url >= 0
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(has, out=offsets[1:])
        return Batch(
            account=account.astype(np.int64),
            time=time.astype(np.int64),
            app=app.astype(np.int64),
            url_offsets=offsets,
            url_codes=url[has].astype(np.int64),
            text=text.astype(np.int64),
            is_repost=np.zeros(n, bool) if is_repost is None else is_repost.astype(bool),
            campaign=np.full(n, campaign, dtype=np.int64),
        )


def concat_batches(batches: list[Batch]) -> Batch:
    """One batch holding all posts of ``batches`` in order."""
    offsets = [np.zeros(1, dtype=np.int64)]
    base = 0
    for b in batches:
        offsets.append(b.url_offsets[1:] + base)
        base += int(b.url_offsets[-1])
    return Batch(
        account=np.concatenate([b.account for b in batches]),
        time=np.concatenate([b.time for b in batches]),
        app=np.concatenate([b.app for b in batches]),
        url_offsets=np.concatenate(offsets),
        url_codes=np.concatenate([b.url_codes for b in batches]),
        text=np.concatenate([b.text for b in batches]),
        is_repost=np.concatenate([b.is_repost for b in batches]),
        campaign=np.concatenate([b.campaign for b in batches]),
    )
