"""The steps that grow with the data, on a Dask cluster, with the in-memory results.

Reading and encoding posts, building the account x object incidence and the
co-action projection run as Dask tasks over partitions of the posts (the row
groups of the Parquet files):

1. **read and encode**: each partition is read (five columns) and its distinct
   accounts, apps, URLs and domains listed in order of appearance; the client
   merges the lists in partition order, which gives exactly the codes of
   :func:`research.graph.events.encode` (first appearance over the whole
   table), and each partition is encoded against them.
2. **incidence, partitioned by object**: every layer's (account, object, time)
   actions are shuffled so that each object lives in one partition; there the
   windowed objects, their degrees and the objects' document frequencies are
   computed. The degrees go to the client, which applies the popularity cap and
   the pair budget (:func:`research.graph.buckets._cap_within_budget`, the
   same code as in memory) before any pair exists.
3. **pairs, reduced by pair**: each object partition forms the account pairs of
   its kept windowed objects; the pairs are shuffled by pair, and each pair
   partition adds up support and weight per bucketing, takes the larger over the
   staggered bucketings, sums the layers and filters.

Exact equality with the in-memory engine: a pair's weight there is the sum of
its shared objects' weights in ascending windowed-object order, starting from
zero (scipy's sparse product). The reduction sorts each pair's contributions
by windowed object and adds them in that order, one rank at a time, so the
floating-point sums are the same bits; maxima and the layer sum are exact.
The graph then goes to community detection in this process; evidence reads
the encoded posts, which are gathered here too (~40 bytes per post as int64
arrays, :func:`research.graph.events.encode`'s; the partitions hold int32 codes
and are copied into preallocated arrays as they arrive, :func:`_gather_events`).

``tfidf_cosine`` weights are not supported on this backend (their row norms
would need one more pass); a :class:`~research.errors.ConfigError` says so.
"""

from __future__ import annotations

import itertools
import operator
import time as _time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from research.errors import ConfigError, InputFileError
from research.graph.base import Projection, ProjectionSpec
from research.graph.buckets import _cap_within_budget
from research.graph.codes import edge_budget_cut, stable_group
from research.graph.events import NONE, Events, Labels, encode_columns, with_texts
from research.posts import POSTS_SCHEMA, as_posts
from research.scale.parquet import ParquetColumn, _check, _has_posts_columns, dataset_parts

_Arrays = dict[str, np.ndarray]


# --- 1. read and encode -----------------------------------------------------------------


def _partitions(path: str | Path) -> list[tuple[str, int, int]]:
    """(file, row group, first global row) of every row group, in dataset order."""
    out, first = [], 0
    for part in dataset_parts(path):
        try:
            meta = pq.ParquetFile(part).metadata
        except (pa.ArrowInvalid, OSError) as err:
            raise InputFileError(f"{part}: not a readable Parquet file ({err})") from None
        for g in range(meta.num_row_groups):
            out.append((str(part), g, first))
            first += meta.row_group(g).num_rows
    return out


def _read(part: str, row_group: int, columns: list[str]) -> pa.Table:
    schema = pq.read_schema(part)
    if _has_posts_columns(schema, columns, Path(part)):
        table = pq.ParquetFile(part).read_row_group(row_group, columns=columns)
        _check(table, part)
        return table
    present = [name for name in POSTS_SCHEMA.names if name in schema.names]
    table = pq.ParquetFile(part).read_row_group(row_group, columns=present)
    return as_posts(table, source=part).table.select(columns)


def _values(table: pa.Table, include_platform_urls: bool, include_reposts: bool) -> dict[str, Any]:
    """A partition's posts (reposts dropped if asked) and its link values, as in ``encode_table``."""
    rows = np.arange(table.num_rows, dtype=np.int64)
    repost = None
    if "is_repost" in table.column_names:
        repost = np.asarray(table.column("is_repost").fill_null(False).to_numpy(), dtype=bool)
    if not include_reposts and repost is not None:
        keep = ~repost
        rows, repost = rows[keep], repost[keep]
        table = table.filter(pa.array(keep))
    urls = table.column("urls").combine_chunks()
    domains = table.column("domains").combine_chunks()
    url_values, domain_values = pc.list_flatten(urls), pc.list_flatten(domains)
    present = np.asarray(
        pc.and_(pc.is_valid(url_values), pc.not_equal(url_values, ""))
        .fill_null(False)
        .to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    out: dict[str, Any] = {
        "rows": rows,
        "accounts": table.column("account_id").combine_chunks(),
        "apps": table.column("app_name").combine_chunks(),
        "time": table.column("timestamp"),
        "url_post": np.asarray(pc.list_parent_indices(urls).to_numpy(), dtype=np.int64)[present],
        "urls": url_values.filter(pa.array(present)),
        "domains": domain_values.filter(pa.array(present)),
    }
    if repost is not None:
        out["repost"] = repost
    if include_platform_urls:
        platform = table.column("platform_urls").combine_chunks()
        values = pc.list_flatten(platform)
        keep = np.asarray(
            pc.and_(pc.is_valid(values), pc.not_equal(values, ""))
            .fill_null(False)
            .to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        out["platform_post"] = np.asarray(
            pc.list_parent_indices(platform).to_numpy(), dtype=np.int64
        )[keep]
        out["platform"] = values.filter(pa.array(keep))
    return out


def _distinct(values: dict[str, Any]) -> dict[str, pa.Array]:
    """Distinct values of each column of a partition, in order of first appearance (nulls dropped)."""
    out: dict[str, Any] = {}
    for name in ("accounts", "apps", "urls", "domains", "platform"):
        if name in values:
            out[name] = pc.drop_null(pc.unique(values[name]))
    return out


def _column(distinct: dict[str, pa.Array], name: str) -> pa.Array | None:
    return distinct.get(name)


def _gather_column(client: Any, distinct: Sequence[Any], name: str) -> list[pa.Array]:
    """One column of every partition's distinct values (partitions without it left out): the
    client gathers them a column at a time, never all the partitions' distinct values at once
    (at 10^8 posts, 21 M distinct URLs among them)."""
    parts = client.gather([client.submit(_column, d, name) for d in distinct])
    return [part for part in parts if part is not None]


def _merge_distinct(parts: Sequence[pa.Array]) -> tuple[pa.Array, list[np.ndarray]]:
    """Distinct values over partitions, by first appearance in partition order (the order
    ``encode`` codes in), and for each partition the code of each of its distinct values."""
    if not parts:
        return pa.array([], pa.string()), []
    merged = pc.dictionary_encode(pa.concat_arrays([p.cast(pa.string()) for p in parts]))
    codes = np.asarray(merged.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    bounds = np.cumsum([0] + [len(p) for p in parts])
    return merged.dictionary.cast(pa.string()), [codes[a:b] for a, b in itertools.pairwise(bounds)]


def _nonblank(raw: pa.Array) -> tuple[Labels, np.ndarray]:
    """Labels without blank entries and the map from a raw code to a label code (-1 for blanks)."""
    blank = np.asarray(
        pc.equal(pc.utf8_trim_whitespace(raw), "").fill_null(True).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    renumber = np.cumsum(~blank, dtype=np.int64) - 1
    renumber[blank] = NONE
    return Labels(raw.filter(pa.array(~blank))), renumber


def _codes(values: pa.Array, code_of_distinct: np.ndarray) -> np.ndarray:
    """Global codes of a partition's values (-1 for nulls and blanks), given the code of each of
    its distinct values in order of appearance (``dictionary_encode`` numbers them the same way),
    in the dtype of ``code_of_distinct`` (:func:`_code_dtype`)."""
    if len(values) == 0:
        return np.zeros(0, dtype=code_of_distinct.dtype)
    local = pc.dictionary_encode(values)
    indices = np.asarray(local.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    lookup = np.append(code_of_distinct, NONE).astype(code_of_distinct.dtype, copy=False)
    return lookup[np.where(indices < 0, len(code_of_distinct), indices)]


def _code_dtype(n_codes: int) -> type[np.signedinteger[Any]]:
    """The dtype of codes ``-1 .. n_codes - 1`` in the encoded partitions: int32 when they fit.

    The partitions stay on the workers for the whole projection and are gathered by the
    client: int32 halves both (the client widens them to the int64 of
    :func:`research.graph.events.encode` while it copies them in, :func:`_gather_events`)."""
    return np.int32 if n_codes < 2**31 - 1 else np.int64


def _rows_dtype(n_rows: int) -> type[np.signedinteger[Any]]:
    """The dtype of row indices within a partition (rows of one Parquet row group)."""
    return np.int32 if n_rows < 2**31 - 1 else np.int64


def _encode_partition(values: dict[str, Any], maps: dict[str, np.ndarray]) -> _Arrays:
    from research.posts import epoch_seconds

    # Codes and row numbers are local to the partition and narrow (int32 when they fit): the
    # partitions live on the workers through the projection; the client adds ``first_row`` and
    # the post offsets while it gathers them (:func:`_gather_events`).
    rows = values["rows"]
    local = _rows_dtype(int(rows[-1]) + 1 if len(rows) else 1)
    out: _Arrays = {
        "post_account": _codes(values["accounts"], maps["accounts"]),
        "post_app": _codes(values["apps"], maps["apps"]),
        "post_time": epoch_seconds(values["time"]),
        "post_row": rows.astype(local),
        "url_post": values["url_post"].astype(local),
        "url_code": _codes(values["urls"], maps["urls"]),
        "url_domain": _codes(values["domains"], maps["domains"]),
    }
    if "repost" in values:
        out["post_repost"] = values["repost"]
    if "platform" in values:
        out["platform_post"] = values["platform_post"].astype(local)
        out["platform_code"] = _codes(values["platform"], maps["platform"])
    return out


def _sizes(part: _Arrays) -> tuple[int, int, int]:
    """Posts, URL links and platform links of an encoded partition."""
    return (
        len(part["post_account"]),
        len(part["url_post"]),
        len(part["platform_post"]) if "platform_post" in part else 0,
    )


def _gather_events(
    client: Any,
    encoded: Sequence[Any],
    first_rows: Sequence[int],
    dictionaries: dict[str, Any],
    batch: int = 8,
) -> Events:
    """The encoded posts, gathered in dataset order (URL links, then platform links), as
    :func:`research.graph.events.encode` gives them (int64 arrays).

    The final arrays are allocated once, from the partitions' sizes, and each partition is
    copied (and widened) into its place as it arrives, ``batch`` partitions at a time, so
    the client never holds a partition list and its concatenation together: at 10^8 posts
    that had doubled the 4.7 GB of arrays, and glibc kept the freed half (5.9 GB) for the
    rest of the run. The encoded partitions stay on the workers (the projection reads them)."""
    sizes = np.array(client.gather([client.submit(_sizes, e) for e in encoded]), dtype=np.int64)
    sizes = sizes.reshape(-1, 3)
    post_at = np.concatenate([[0], np.cumsum(sizes[:, 0])])
    url_at = np.concatenate([[0], np.cumsum(sizes[:, 1])])
    platform_at = np.concatenate([[0], np.cumsum(sizes[:, 2])]) + url_at[-1]
    n_posts, n_links = int(post_at[-1]), int(platform_at[-1])
    post = {
        name: np.empty(n_posts, dtype=np.int64)
        for name in ("post_account", "post_app", "post_time", "post_row")
    }
    link = {
        name: np.empty(n_links, dtype=np.int64) for name in ("link_post", "link_url", "link_domain")
    }
    repost: np.ndarray | None = np.empty(n_posts, dtype=bool)
    for lo in range(0, len(encoded), batch):
        parts = client.gather(list(encoded[lo : lo + batch]))
        for p, part in enumerate(parts, start=lo):
            posts = slice(post_at[p], post_at[p + 1])
            for name in ("post_account", "post_app", "post_time"):
                post[name][posts] = part[name]
            np.add(part["post_row"], np.int64(first_rows[p]), out=post["post_row"][posts])
            if repost is not None and "post_repost" in part:
                repost[posts] = part["post_repost"]
            else:
                repost = None
            urls = slice(url_at[p], url_at[p + 1])
            np.add(part["url_post"], post_at[p], out=link["link_post"][urls])
            link["link_url"][urls] = part["url_code"]
            link["link_domain"][urls] = part["url_domain"]
            if "platform_post" in part:
                platform = slice(platform_at[p], platform_at[p + 1])
                np.add(part["platform_post"], post_at[p], out=link["link_post"][platform])
                link["link_url"][platform] = part["platform_code"]
                link["link_domain"][platform] = NONE
        del parts
    return Events(
        accounts=Labels(dictionaries["accounts"]),
        apps=dictionaries["apps_labels"],
        urls=Labels(dictionaries["urls"]),
        domains=dictionaries["domains_labels"],
        post_account=post["post_account"],
        post_app=post["post_app"],
        post_time=post["post_time"],
        post_row=post["post_row"],
        link_post=link["link_post"],
        link_url=link["link_url"],
        link_domain=link["link_domain"],
        post_repost=repost if len(encoded) else None,
    )


# --- 2. actions and the incidence, partitioned by object --------------------------------


def _layer_actions(part: _Arrays, objects: str, maps: dict[str, Any]) -> _Arrays:
    """One partition's (account, object, time) actions of a layer (as ``OBJECTS[objects]``), as
    int64 arrays (the partition's codes are narrow, :func:`_code_dtype`; the stages after this
    one compute keys such as ``obj * span + account``)."""
    post_account, post_time, post_app = part["post_account"], part["post_time"], part["post_app"]
    if objects == "app":
        keep = post_app >= 0
        return {
            "account": post_account[keep].astype(np.int64),
            "obj": post_app[keep].astype(np.int64),
            "time": post_time[keep],
        }
    link_post = part["url_post"]
    url = part["url_code"]
    domain = part["url_domain"]
    if "platform_post" in part:
        link_post = np.concatenate([link_post, part["platform_post"]])
        url = np.concatenate([url, part["platform_code"]])
        domain = np.concatenate([domain, np.full(len(part["platform_code"]), NONE, dtype=np.int64)])
    base = objects.removeprefix("app_")
    obj = url if base == "url" else domain if base == "domain" else maps["stem_of_url"][url]
    keep = obj >= 0
    account, time, obj = post_account[link_post[keep]], post_time[link_post[keep]], obj[keep]
    if objects.startswith("app_"):
        app = post_app[link_post[keep]]
        key = np.where(app < 0, maps["n_apps"], app).astype(np.int64) * maps["n_base"] + obj
        if "pair_keys" not in maps:
            return {"key": np.unique(key)}
        obj = np.searchsorted(maps["pair_keys"], key)
    return {"account": account.astype(np.int64), "obj": obj.astype(np.int64), "time": time}


def _layer_summary(actions: _Arrays) -> dict[str, Any]:
    t = actions["time"]
    return {
        "n": len(t),
        "t_min": int(t.min()) if len(t) else None,
        "t_max": int(t.max()) if len(t) else None,
    }


def _split(arrays: _Arrays, by: np.ndarray, n: int) -> list[_Arrays]:
    """``arrays`` split into ``n`` pieces by ``by % n`` (each piece keeps the input order)."""
    indptr, order = stable_group(by % n, n)
    return [{k: v[order[indptr[i] : indptr[i + 1]]] for k, v in arrays.items()} for i in range(n)]


def _split_by_object(actions: _Arrays, n: int) -> list[_Arrays]:
    return _split(actions, actions["obj"], n)


def _concat(pieces: Sequence[_Arrays]) -> _Arrays:
    keys = pieces[0].keys() if pieces else []
    return {k: np.concatenate([p[k] for p in pieces]) for k in keys}


def _object_stage(
    pieces: Sequence[_Arrays],
    window_s: float | None,
    shifts: list[int | None],
    t0: int,
    n_objects: int,
) -> dict[str, Any]:
    """Windowed objects of one object partition: per bucketing, the distinct (windowed object,
    account) entries sorted by (object, bucket, account), and the degrees; the document
    frequency of each object; the accounts that act."""
    actions = _concat(pieces)
    account, obj, time = actions["account"], actions["obj"], actions["time"]
    out: dict[str, Any] = {"shifts": [], "accounts": np.unique(account)}
    # document frequency: distinct accounts per object (all of an object's actions are here)
    span = np.int64(max(int(account.max(initial=0)) + 1, 1))
    df_obj, df_count = np.unique(np.unique(obj * span + account) // span, return_counts=True)
    out["df"] = (df_obj, df_count)
    for shift in shifts:
        bucket = (
            np.zeros(len(time), dtype=np.int64)
            if window_s is None
            else (time - t0 + int(shift or 0)) // int(window_s)
        )
        order = np.lexsort((account, bucket, obj))
        o, b, a = obj[order], bucket[order], account[order]
        distinct = np.ones(len(o), dtype=bool)
        distinct[1:] = (o[1:] != o[:-1]) | (b[1:] != b[:-1]) | (a[1:] != a[:-1])
        o, b, a = o[distinct], b[distinct], a[distinct]
        new = np.ones(len(o), dtype=bool)
        new[1:] = (o[1:] != o[:-1]) | (b[1:] != b[:-1])
        starts = np.flatnonzero(new)
        degree = np.diff(np.append(starts, len(o)))
        out["shifts"].append(
            {"obj": o, "bucket": b, "account": a, "starts": starts, "degree": degree}
        )
    return out


def _degrees(stage: dict[str, Any]) -> np.ndarray:
    """Degrees of the windowed objects that pair accounts (2 or more): the cap and the budget
    (:func:`research.graph.buckets._cap_within_budget`) read no others, and most windowed
    objects have one account (at 10^8 posts the client had gathered them all)."""
    if not stage["shifts"]:
        return np.zeros(0, dtype=np.int64)
    degree = np.concatenate([s["degree"] for s in stage["shifts"]])
    return degree[degree >= 2]


def _active_mask(stage: dict[str, Any], n_accounts: int) -> np.ndarray:
    """The accounts that act in one object partition, as a bit mask over all accounts
    (``n_accounts / 8`` bytes, whatever the partition holds)."""
    mask = np.zeros(n_accounts, dtype=bool)
    mask[stage["accounts"]] = True
    return np.packbits(mask)


def _totals(stage: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct windowed objects per account in the first bucketing (for jaccard and overlap)."""
    first = stage["shifts"][0]
    return np.unique(first["account"], return_counts=True)


# --- 3. pairs, reduced by pair ----------------------------------------------------------


def _object_pairs(
    stage: dict[str, Any],
    layer: int,
    cap: int | None,
    n_active: int,
    weighting: str,
    n_partitions: int,
    n_accounts: int,
) -> list[_Arrays]:
    """Account pairs of the kept windowed objects of one object partition, split by pair."""
    df_obj, df_count = stage["df"]
    pieces: list[_Arrays] = []
    for k, shift in enumerate(stage["shifts"]):
        degree, starts = shift["degree"], shift["starts"]
        keep = degree >= 2
        if cap is not None:
            keep &= degree <= cap
        kept = np.flatnonzero(keep)
        sizes = degree[kept]
        first = starts[kept]
        # positions of the kept entries, group by group
        position = np.repeat(first, sizes) + (
            np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        )
        local = position - np.repeat(first, sizes)
        partners = np.repeat(sizes, sizes) - 1 - local  # accounts after this one in its group
        i_pos = np.repeat(position, partners)
        offset = np.arange(int(partners.sum())) - np.repeat(
            np.cumsum(partners) - partners, partners
        )
        j_pos = i_pos + 1 + offset
        account = shift["account"]
        i, j = account[i_pos], account[j_pos]
        obj, bucket = shift["obj"][i_pos], shift["bucket"][i_pos]
        if weighting == "idf":
            df = df_count[np.searchsorted(df_obj, obj)]
            value = np.log(n_active / np.maximum(df, 1))
        else:
            value = np.ones(len(i))
        pieces.append(
            {
                "pair": i * np.int64(n_accounts) + j,
                "obj": obj,
                "bucket": bucket,
                "value": value,
                "layer": np.full(len(i), layer, dtype=np.int16),
                "shift": np.full(len(i), k, dtype=np.int16),
            }
        )
    merged = _concat(pieces) if pieces else {}
    if not merged:
        return [{} for _ in range(n_partitions)]
    return _split(
        merged, merged["pair"] * np.int64(1_000_003) % np.int64(2_147_483_647), n_partitions
    )


def _sequential_sums(group_start: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum of each group's values, added left to right from 0.0 (as a sparse product does),
    vectorised over groups one rank at a time."""
    sizes = np.diff(np.append(group_start, len(values)))
    rank = np.arange(len(values)) - np.repeat(group_start, sizes)
    group = np.repeat(np.arange(n_groups), sizes)
    by_rank = np.argsort(rank, kind="stable")
    counts = np.bincount(rank, minlength=int(rank.max(initial=-1)) + 1)
    total = np.zeros(n_groups)
    at = 0
    for count in counts:
        chunk = by_rank[at : at + count]  # at most one value per group
        total[group[chunk]] += values[chunk]
        at += count
    return total


def _reduce_pairs(
    pieces: Sequence[_Arrays],
    layers: list[dict[str, Any]],
    n_accounts: int,
    min_weight: float | None,
    min_support: int | None,
) -> dict[str, Any]:
    """Edges of one pair partition: support and weight per layer and bucketing, larger over
    bucketings, weighted sum over layers, filtered."""
    pieces = [p for p in pieces if p and len(p["pair"])]
    empty = {
        "pair": np.zeros(0, dtype=np.int64),
        "weight": np.zeros(0),
        "support": np.zeros(0, dtype=np.int64),
        "counts": [0] * (len(layers) + 1),
    }
    if not pieces:
        return empty
    c = _concat(pieces)
    order = np.lexsort((c["bucket"], c["obj"], c["pair"], c["shift"], c["layer"]))
    c = {k: v[order] for k, v in c.items()}
    per_layer = []
    for index, layer in enumerate(layers):
        in_layer = c["layer"] == index
        union_pair: np.ndarray | None = None
        results = []
        for k in range(layer["n_shifts"]):
            sel = np.flatnonzero(in_layer & (c["shift"] == k))
            pair, value = c["pair"][sel], c["value"][sel]
            new = np.ones(len(pair), dtype=bool)
            new[1:] = pair[1:] != pair[:-1]
            starts = np.flatnonzero(new)
            results.append(
                (
                    pair[starts],
                    np.diff(np.append(starts, len(pair))),
                    _sequential_sums(starts, value, len(starts)),
                )
            )
        union_pair = (
            np.unique(np.concatenate([r[0] for r in results]))
            if results
            else np.zeros(0, dtype=np.int64)
        )
        support = np.zeros(len(union_pair), dtype=np.int64)
        weight = np.zeros(len(union_pair))
        for pair, s, w in results:
            at = np.searchsorted(union_pair, pair)
            support[at] = np.maximum(support[at], s)
            weight[at] = np.maximum(weight[at], w)
        if layer["weighting"] in ("count", "jaccard", "overlap"):
            weight = support.astype(np.float64)
            if layer["weighting"] != "count":
                totals = layer["totals"]
                a, b = totals[union_pair // n_accounts], totals[union_pair % n_accounts]
                denom = a + b - support if layer["weighting"] == "jaccard" else np.minimum(a, b)
                weight = support / np.maximum(denom, 1)
        per_layer.append((union_pair, support, weight))
    pair = np.unique(np.concatenate([p[0] for p in per_layer]))
    support = np.zeros(len(pair), dtype=np.int64)
    weight = np.zeros(len(pair))
    single = len(layers) == 1 and layers[0]["weight"] == 1.0
    for index, (layer_pair, s, w) in enumerate(per_layer):
        at = np.searchsorted(pair, layer_pair)
        support[at] += s
        if single:
            weight[at] = w
        elif index == 0:
            weight[at] = w * layers[0]["weight"]
        else:
            weight[at] += w * layers[index]["weight"]
    counts = [len(p[0]) for p in per_layer] + [len(pair)]
    keep = np.ones(len(pair), dtype=bool)
    if min_weight is not None:
        keep &= weight >= min_weight
    if min_support is not None:
        keep &= support >= min_support
    return {"pair": pair[keep], "weight": weight[keep], "support": support[keep], "counts": counts}


def _n_edges(reduced: dict[str, Any]) -> int:
    return len(reduced["pair"])


def _gather_edges(
    client: Any, reduced: Sequence[Any], n_counts: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """The pair partitions' edges in partition order (pair key, weight, support) and the
    edge counts summed, copied into arrays allocated once as each partition arrives: the
    partitions' arrays are below glibc's mmap threshold, and gathered all at once and
    concatenated they had left 1.5 GB of freed heap in the client at 10^8 posts."""
    total = int(sum(client.gather([client.submit(_n_edges, r) for r in reduced])))
    pair = np.empty(total, dtype=np.int64)
    weight = np.empty(total, dtype=np.float64)
    support = np.empty(total, dtype=np.int64)
    counts = [0] * n_counts
    at = 0
    for future in reduced:
        part = future.result()
        k = len(part["pair"])
        pair[at : at + k] = part["pair"]
        weight[at : at + k] = part["weight"]
        support[at : at + k] = part["support"]
        counts = [c + int(x) for c, x in zip(counts, part["counts"], strict=True)]
        at += k
        del part
    return pair, weight, support, counts


# --- the whole projection -----------------------------------------------------------------


def dask_project(
    client: Any,
    path: str | Path,
    specs: Sequence[ProjectionSpec],
    weights: Sequence[float] | None = None,
    *,
    min_weight: float | None = None,
    min_support: int | None = None,
    max_edges: int | None = None,
    include_platform_urls: bool = False,
    include_reposts: bool = True,
    partitions: int | None = None,
) -> tuple[Events, ParquetColumn, Projection]:
    """Encode a posts Parquet dataset and project it on a Dask cluster.

    Returns the encoded posts, their texts (read on demand) and the projection,
    equal to ``multiplex(encode(read_posts(path)), specs, weights, min_weight=...,
    min_support=..., max_edges=...)`` array for array.

    Examples
    --------
    >>> import tempfile
    >>> from research.simulate import simulate
    >>> from research.scale.backend import BackendSpec, dask_client
    >>> from research.graph.projection import multiplex
    >>> from research.graph.events import encode
    >>> sim = simulate("weheartit", seed=0, n_posts=20_000)
    >>> path = sim.write(tempfile.mkdtemp()) / "posts.parquet"
    >>> specs = [ProjectionSpec("app_domain"), ProjectionSpec("app_url")]
    >>> with dask_client(BackendSpec("dask", n_workers=2)) as client:
    ...     _events, _texts, far = dask_project(client, path, specs, min_weight=3.0)
    >>> near = multiplex(encode(sim.posts), specs, min_weight=3.0)
    >>> bool((far.rows == near.rows).all() and (far.weight == near.weight).all())
    True
    """
    specs = list(specs)
    weights = list(weights) if weights is not None else [1.0] * len(specs)
    if not specs:
        raise ConfigError("dask_project() needs at least one projection layer")
    for spec in specs:
        if spec.weighting == "tfidf_cosine":
            raise ConfigError(
                "weighting 'tfidf_cosine' is not supported on the dask backend; use backend=memory"
            )
    started = _time.perf_counter()
    columns = encode_columns(
        include_platform_urls=include_platform_urls, include_reposts=include_reposts
    )
    n_workers = max(1, sum(client.nthreads().values()))
    n_parts = partitions or max(2, 2 * n_workers)

    # 1. read, list distinct values, merge them in order, encode
    tables = [
        client.submit(_read, part, group, columns, pure=False)
        for part, group, _first in _partitions(path)
    ]
    firsts = [first for _p, _g, first in _partitions(path)]
    values = [client.submit(_values, t, include_platform_urls, include_reposts) for t in tables]
    distinct = [client.submit(_distinct, v) for v in values]
    del tables
    n = len(distinct)
    accounts, account_maps = _merge_distinct(_gather_column(client, distinct, "accounts"))
    apps_raw, app_maps = _merge_distinct(_gather_column(client, distinct, "apps"))
    urls, url_maps = _merge_distinct(
        _gather_column(client, distinct, "urls") + _gather_column(client, distinct, "platform")
    )
    domains_raw, domain_maps = _merge_distinct(_gather_column(client, distinct, "domains"))
    del distinct
    apps_labels, apps_map = _nonblank(apps_raw)
    domains_labels, domains_map = _nonblank(domains_raw)
    dictionaries = {
        "accounts": accounts,
        "apps_labels": apps_labels,
        "urls": urls,
        "domains_labels": domains_labels,
    }
    code = {
        "accounts": _code_dtype(len(accounts)),
        "apps": _code_dtype(len(apps_labels)),
        "urls": _code_dtype(len(urls)),
        "domains": _code_dtype(len(domains_labels)),
    }
    encoded = []
    for p, v in enumerate(values):
        maps_p = {
            "accounts": account_maps[p].astype(code["accounts"]),
            "apps": apps_map[app_maps[p]].astype(code["apps"]),
            "urls": url_maps[p].astype(code["urls"]),
            "domains": domains_map[domain_maps[p]].astype(code["domains"]),
        }
        if include_platform_urls:
            maps_p["platform"] = url_maps[n + p].astype(code["urls"])
        encoded.append(client.submit(_encode_partition, v, maps_p))
    del values, maps_p, account_maps, app_maps, url_maps, domain_maps
    events = _gather_events(client, encoded, firsts, dictionaries)
    n_accounts = events.n_accounts

    # 2. per layer: actions, shuffled by object; windowed objects and degrees
    maps: dict[str, Any] = {"n_apps": len(apps_labels)}
    if any(spec.objects in ("stem", "app_stem") for spec in specs):
        maps["stem_of_url"] = stem_of_url_codes(events)
    layers_meta, stages, layer_stats = [], [], []
    for index, spec in enumerate(specs):
        layer_maps = dict(maps)
        if spec.objects.startswith("app_"):
            base = spec.objects.removeprefix("app_")
            n_base = (
                len(events.urls)
                if base == "url"
                else len(events.domains)
                if base == "domain"
                else len(events.url_stems()[0])
            )
            layer_maps["n_base"] = max(n_base, 1)
            keys = client.gather(
                [client.submit(_layer_actions, e, spec.objects, layer_maps) for e in encoded]
            )
            layer_maps["pair_keys"] = (
                np.unique(np.concatenate([k["key"] for k in keys]))
                if keys
                else np.zeros(0, dtype=np.int64)
            )
            n_objects = len(layer_maps["pair_keys"])
        else:
            n_objects = (
                len(events.url_stems()[0])
                if spec.objects == "stem"
                else len(
                    {"url": events.urls, "domain": events.domains, "app": events.apps}[spec.objects]
                )
            )
        # Scatter as one object: a dict would be scattered under its own keys ("pair_keys"),
        # which the next layer would then overwrite.
        [layer_shared] = client.scatter([layer_maps], broadcast=True)
        actions = [client.submit(_layer_actions, e, spec.objects, layer_shared) for e in encoded]
        summaries = client.gather([client.submit(_layer_summary, a) for a in actions])
        mins = [s["t_min"] for s in summaries if s["t_min"] is not None]
        t0 = min(mins) if mins else 0
        shifts: list[int | None] = (
            [None]
            if spec.window_s is None
            else [round(k * spec.window_s / spec.offsets) for k in range(spec.offsets)]
        )
        window = spec.window_s if sum(s["n"] for s in summaries) else None
        if window is None:
            shifts = [None]
        split = [client.submit(_split_by_object, a, n_parts) for a in actions]
        object_parts = [
            client.submit(
                _object_stage,
                [client.submit(operator.getitem, s, q) for s in split],
                window,
                shifts,
                t0,
                n_objects,
            )
            for q in range(n_parts)
        ]
        degrees = np.concatenate(client.gather([client.submit(_degrees, o) for o in object_parts]))
        stats: dict[str, Any] = {
            "objects": spec.objects,
            "n_actions": int(sum(s["n"] for s in summaries)),
            "n_objects": n_objects,
        }
        cap = _cap_within_budget(degrees, spec, stats)
        # Distinct accounts acting in the layer: the partitions' bit masks, OR-ed here.
        active = np.zeros((n_accounts + 7) // 8, dtype=np.uint8)
        for mask in client.gather(
            [client.submit(_active_mask, o, n_accounts) for o in object_parts]
        ):
            active |= mask
        n_active = max(int(np.unpackbits(active).sum()), 1)
        meta: dict[str, Any] = {
            "weighting": spec.weighting,
            "weight": float(weights[index]),
            "n_shifts": len(shifts),
        }
        if spec.weighting in ("jaccard", "overlap"):
            totals = np.zeros(n_accounts)
            for acc, count in client.gather([client.submit(_totals, o) for o in object_parts]):
                totals[acc] += count
            meta["totals"] = totals
        layers_meta.append(meta)
        stages.append((object_parts, cap, n_active, spec.weighting))
        layer_stats.append(stats)
        del actions, split

    # 3. pairs, shuffled by pair, reduced
    pair_pieces = [
        client.submit(_object_pairs, part, index, cap, n_active, weighting, n_parts, n_accounts)
        for index, (object_parts, cap, n_active, weighting) in enumerate(stages)
        for part in object_parts
    ]
    [shared_meta] = client.scatter([layers_meta], broadcast=True)
    reduced = [
        client.submit(
            _reduce_pairs,
            [client.submit(operator.getitem, p, r) for p in pair_pieces],
            shared_meta,
            n_accounts,
            min_weight,
            min_support,
        )
        for r in range(n_parts)
    ]
    pair, weight, support, counts = _gather_edges(client, reduced, len(specs) + 1)
    del pair_pieces, reduced, stages
    order = np.argsort(pair, kind="stable")
    pair, weight, support = pair[order], weight[order], support[order]
    cut = None
    if max_edges is not None:
        cut = edge_budget_cut(weight, max_edges)
        if cut is not None:
            keep = weight > cut
            pair, weight, support = pair[keep], weight[keep], support[keep]
    for stats, n_edges in zip(layer_stats, counts[:-1], strict=True):
        stats["n_edges"] = n_edges
    projection = Projection(
        accounts=events.accounts,
        rows=pair // n_accounts,
        cols=pair % n_accounts,
        weight=weight.astype(np.float64),
        support=support.astype(np.int32),
        params={
            "kind": "multiplex",
            "layers": [{"kind": "co_action", **s.__dict__} for s in specs],
            "layer_weights": weights,
        },
        stats={
            "layers": layer_stats,
            "n_edges_unfiltered": counts[-1],
            "min_weight": min_weight,
            "min_support": min_support,
            "max_edges": max_edges,
            "max_edges_cut": cut,
            "backend": "dask",
            "partitions": n_parts,
            "seconds": round(_time.perf_counter() - started, 4),
        },
    )
    texts = ParquetColumn.open(path, "text")
    return with_texts(events, texts), texts, projection


def stem_of_url_codes(events: Events) -> np.ndarray:
    """Stem code of every URL code (the numbering of :meth:`Events.stems`), without the stem
    code of every link that :meth:`Events.stems` keeps (link-sized, unused here)."""
    return events.url_stems()[1]
