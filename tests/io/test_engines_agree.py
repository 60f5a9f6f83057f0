"""The two Twitter v1.1 engines read any file alike (issue 13).

The differential test at the end writes v1.1 tweets (ids as strings and as
numbers, up to and past 20 digits; times, sources as anchors, names or other
types; entities, extended tweets, retweets, quotes, pages and stream
notices), makes one to three of their fields odd, and damages their JSON the
ways exporters and attackers do: ``NaN``, ``Infinity`` and ``1e400``,
trailing commas, repeated keys (spelt plainly or with escapes), deep
nesting, bad UTF-8 and lone surrogates, padding white space, blank lines,
truncated lines. The DuckDB lane and the Python engine must give the same
posts table and the same rejects and skips (reasons, lines, details).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from research.io import ReadOptions, read
from research.io.twitter_v1 import NOISE_KEYS

MB = 1 << 20
TIME = "Wed Oct 10 20:19:24 +0000 2018"


def tweet(post_id: int, text: str = "x") -> bytes:
    return orjson.dumps({"id_str": str(post_id), "created_at": TIME, "user": {"id_str": "7"},
                         "text": text})  # fmt: skip


def _both(
    path: Path, **options: object
) -> list[tuple[list[str], list[tuple[int | None, str]], str]]:
    out = []
    for engine in ("duckdb", "python"):
        posts, summary = read(path, ReadOptions(format="twitter-v1", engine=engine, **options))  # type: ignore[arg-type]
        assert summary.reconciles()
        out.append(
            (
                posts.table.column("post_id").to_pylist(),
                [(r.line, r.reason) for r in summary.rejects],
                summary.files[0].engine,
            )
        )
    return out


def test_lines_longer_than_the_limit_are_rejected_by_both_engines(tmp_path: Path) -> None:
    # DuckDB read lines up to twice its maximum_object_size (16 MiB at least), so
    # it kept posts the Python engine rejected as line_too_long.
    path = tmp_path / "long.jsonl"
    path.write_bytes(
        b"\n".join(
            [tweet(1), tweet(2, "y" * (3 * MB // 2)), b" " * (2 * MB) + tweet(3),
             tweet(4, "z" * (9 * MB // 10))]
        ) + b"\n"
    )  # fmt: skip
    fast, exact = _both(path, max_line_bytes=MB)
    assert fast[:2] == exact[:2] == (["1", "4"], [(2, "line_too_long"), (3, "line_too_long")])
    assert fast[2] == "duckdb"


def test_a_compressed_line_longer_than_the_limit_is_rejected_by_both_engines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "long.jsonl.gz"
    path.write_bytes(
        gzip.compress(b"\n".join([tweet(1), tweet(2, "y" * 45 * MB), tweet(3)]) + b"\n", 1)
    )
    fast, exact = _both(path, max_line_bytes=40 * MB)
    assert fast[:2] == exact[:2] == (["1", "3"], [(2, "line_too_long")])


def test_compressed_files_with_a_small_line_limit_go_to_the_python_engine(tmp_path: Path) -> None:
    path = tmp_path / "small.jsonl.gz"
    path.write_bytes(gzip.compress(tweet(1) + b"\n" + tweet(2, "y" * 5000) + b"\n"))
    _posts, summary = read(path, ReadOptions(engine="duckdb", max_line_bytes=4096))
    assert summary.rejected == {"line_too_long": 1} and summary.files[0].engine == "python"
    assert "DuckDB cannot hold gzip lines" in summary.files[0].notes[0]


# --- a repeated key: its first copy, in both engines ------------------------------------

_TIME = '"created_at": "' + TIME + '"'


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"id_str": "1", "id_str": "2", ' + _TIME + ', "user": {"id_str": "7"}}', "1"),
        ('{"id_str": null, "id_str": "2", "id": 3, ' + _TIME + ', "user": {"id_str": "7"}}', "3"),
        ('{"id\\u005fstr": "4", "id_str": "2", ' + _TIME + ', "user": {"id_str": "7"}}', "4"),
    ],
)
def test_a_repeated_key_reads_its_first_copy_in_both_engines(
    tmp_path: Path, line: str, expected: str
) -> None:
    # DuckDB took the first copy and orjson the last: the engines gave different posts.
    path = tmp_path / "repeated.jsonl"
    path.write_text(tweet(9).decode() + "\n" + line + "\n")
    for engine in ("duckdb", "python"):
        posts, _ = read(path, ReadOptions(engine=engine))
        assert posts.table.column("post_id").to_pylist() == ["9", expected], engine


def test_repeated_keys_inside_objects_read_their_first_copy(tmp_path: Path) -> None:
    line = (
        '{"id_str": "1", ' + _TIME + ', "user": {"id_str": "7", "screen_name": "a", '
        '"id_str": "8", "screen_name": "b"}, "text": "first", '
        '"source": "<a href=\\"http://a.example/\\">A</a>", "entities": {"urls": '
        '[{"expanded_url": "http://first.example/", "expanded_url": "http://second.example/"}]}, '
        '"source": "<a href=\\"http://b.example/\\">B</a>", "text": "second"}'
    )
    path = tmp_path / "nested.jsonl"
    path.write_text(line + "\n")
    for engine in ("duckdb", "python"):
        posts, _ = read(path, ReadOptions(engine=engine))
        (row,) = posts.table.to_pylist()
        assert (row["account_id"], row["account_name"], row["text"]) == ("7", "a", "first")
        assert (row["app_name"], row["urls"]) == ("A", ["http://first.example/"]), engine


def test_deep_objects_and_pages_are_rows_in_both_engines(tmp_path: Path) -> None:
    # orjson reads 1024 levels (DuckDB has no limit) and writes 254: a rejected
    # page item nested deeper ended the run with a traceback when its snippet
    # was written, and a tweet with a field nested past 1024 levels was a post
    # for DuckDB and invalid_json for the Python engine.
    deep = b"[" * 300 + b"]" * 300
    deeper = b"[" * 2000 + b"]" * 2000
    path = tmp_path / "deep.jsonl"
    path.write_bytes(
        b'{"statuses": [{"x": ' + deep + b"}]}\n" + tweet(5)[:-1] + b', "x": ' + deeper + b"}\n"
    )
    for engine in ("duckdb", "python"):
        posts, summary = read(path, ReadOptions(format="twitter-v1", engine=engine))
        assert posts.table.column("post_id").to_pylist() == ["5"], engine
        assert [(r.line, r.item, r.reason) for r in summary.rejects] == [(1, 0, "missing_post_id")]


# --- the real sample and the issue's reproducers -----------------------------------------


def _reproducer(kind: str, path: Path) -> Path:
    """A v1.1 file of one of issue 13's failures, made small."""
    from tests.io.test_never_lose_a_post import ODD_LINES

    lines = [tweet(i) for i in range(1, 301)]
    if kind == "giant_line":
        lines.insert(150, tweet(999, "y" * (40 * MB)))
    elif kind == "odd_lines":
        lines += ODD_LINES
    elif kind == "repeated_keys":
        lines += [b'{"id_str": "7", "id_str": "8", "created_at": "' + TIME.encode()
                  + b'", "user": {"id_str": "1", "id_str": "2"}, "text": "a", "text": 5}']  # fmt: skip
    elif kind == "page_before_a_copy":
        lines.insert(10, render({"statuses": [orjson.loads(tweet(5, "first"))]}))
    elif kind == "blank_line_bomb":
        lines.insert(100, b"\n" * (16 * MB) + b"  \r\n" * 1000)
    data = b"\n".join(lines) + b"\n"
    if kind == "truncated_gzip":
        packed = gzip.compress(b"\n".join(tweet(i) for i in range(1, 20_001)) + b"\n")
        path = path.with_suffix(".jsonl.gz")
        path.write_bytes(packed[: len(packed) * 2 // 3])
    else:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "kind",
    ["sample", "giant_line", "truncated_gzip", "odd_lines", "repeated_keys", "page_before_a_copy",
     "blank_line_bomb"],
)  # fmt: skip
def test_the_engines_agree_on_the_real_sample_and_the_issues_reproducers(
    tmp_path: Path, data: Path, kind: str
) -> None:
    if kind == "sample":
        path = data / "twitter-v1/original_format_examples.jsonl"
    else:
        path = _reproducer(kind, tmp_path / "reproducer.jsonl")
    fast_table, fast = _read_all(path, "duckdb")
    exact_table, exact = _read_all(path, "python")
    assert fast == exact and fast[3]
    assert fast_table.equals(exact_table)
    assert fast_table.num_rows > 20


# --- the differential test: generated tweets, damaged as exporters and attackers do -------


@dataclass(frozen=True)
class Raw:
    """JSON text written as is: a token orjson does not write (NaN, 1e400, a 30-digit number)."""

    text: bytes


@dataclass(frozen=True)
class Obj:
    """A JSON object as written: its pairs in order, a key possibly more than once."""

    pairs: tuple[tuple[str | Raw, Any], ...]
    trailing_comma: bool = False


def render(node: Any) -> bytes:
    """The JSON text of a node (``Raw`` and ``Obj`` written as they say)."""
    if isinstance(node, Raw):
        return node.text
    if isinstance(node, Obj):
        body = b",".join(
            (key.text if isinstance(key, Raw) else orjson.dumps(key)) + b":" + render(value)
            for key, value in node.pairs
        )
        return b"{" + body + (b"," if node.trailing_comma and node.pairs else b"") + b"}"
    if isinstance(node, dict):
        return render(_as_obj(node))
    if isinstance(node, list):
        return b"[" + b",".join(render(v) for v in node) + b"]"
    if isinstance(node, int) and not isinstance(node, bool) and not -(2**63) <= node < 2**64:
        return str(node).encode()
    return orjson.dumps(node)


def _as_obj(value: Any) -> Any:
    if isinstance(value, dict):
        return Obj(tuple((k, _as_obj(v)) for k, v in value.items()))
    if isinstance(value, list):
        return [_as_obj(v) for v in value]
    return value


_SPECIAL = st.sampled_from(
    [b"NaN", b"-Infinity", b"Infinity", b"inf", b"-nan", b"1e400", b"-1e400", b"1" * 30, b"-0"]
).map(Raw)
_junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | _SPECIAL,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=6,
)
_digits = st.integers(1, 20).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n))
_ids = st.one_of(
    _digits,
    st.integers(0, 2**64 - 1),
    st.integers(2**64 - 3, 2**64 + 3),
    st.integers(10**19, 10**30),
    st.integers(-5, 5),
    st.sampled_from(["", "abc", " 12", "\u0661\u0662", "12.0", "1e3", True, None, 1.5, [], {}]),
)
_good_time = st.builds(
    lambda day, month, date, clock, zone, year: f"{day} {month} {date:02d} {clock} {zone} {year:04d}",
    st.sampled_from(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
    st.sampled_from(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    ),
    st.integers(1, 31),
    st.builds("{:02d}:{:02d}:{:02d}".format, st.integers(0, 23), st.integers(0, 59),
              st.integers(0, 60)),
    st.sampled_from(["+0000", "-0500", "+0530", "+1400", "-1200"]),
    st.integers(1, 9999),
)  # fmt: skip
_times = st.one_of(
    _good_time,
    st.sampled_from(
        ["2018-10-10T20:19:24Z", "Wed Oct 10 20:19:24 2018", "Wed Oct 10 20:19:24 +0000 2018 ",
         "wed oct 10 20:19:24 +0000 2018", "Wed Oct 1 20:19:24 +0000 2018",
         "Wed Oct 10 20:19:24 +0000 \u0662\u0660\u0661\u0668", ""]
    ),
    st.integers(0, 2**40),
    st.none(),
)  # fmt: skip
_urls = st.one_of(
    st.sampled_from(
        ["https://example.com/a", "http://www.Example.org/b?utm_source=x&id=1", "https://t.co/abc",
         "https://twitter.com/bob/status/123", "http://xn--bcher-kva.example/",
         "ftp://files.example.com/x", "https://example.com/a#frag", "", "12", "not a url"]
    ),
    st.text(max_size=12),
)  # fmt: skip
_link_value = st.one_of(_urls, st.integers(0, 99), st.none(), st.booleans(), _junk)
_anchor = st.builds(
    lambda href, name: f'<a href="{href}" rel="nofollow">{name}</a>',
    st.sampled_from(["http://twitter.com/download/iphone", "https://app.example.com/",
                     "javascript:x", ""]),
    st.sampled_from(["Twitter for iPhone", "We Heart It", "we heart it", "  App\u202e ", "&amp;",
                     ""]),
)  # fmt: skip
_text = st.one_of(
    st.text(max_size=16),
    st.sampled_from(["12", "true", "NaN", "{x", "[1]", "-3.5e2"]),
    st.integers(-10, 10),
    st.none(),
    _junk,
)
_url_entry = st.fixed_dictionaries(
    {"url": st.just("https://t.co/abc"), "expanded_url": _urls},
    optional={"unwound": st.fixed_dictionaries({"url": _urls}), "unwound_url": _urls},
)
_entities = st.fixed_dictionaries(
    {"urls": st.lists(_url_entry, max_size=2)},
    optional={"media": st.lists(_url_entry, min_size=1, max_size=1)},
)
_extended = st.fixed_dictionaries({"full_text": st.text(max_size=8), "entities": _entities})
_inner_tweet = st.fixed_dictionaries(
    {"id_str": _digits, "created_at": _good_time, "text": st.text(max_size=8),
     "user": st.fixed_dictionaries({"id_str": _digits}), "entities": _entities},
    optional={"extended_tweet": _extended},
)  # fmt: skip

# Where a clean tweet is made odd: a value of another type, a special token, or nothing.
_PATHS: tuple[tuple[str | int, ...], ...] = (
    ("id_str",), ("id",), ("created_at",), ("user",), ("user", "id_str"), ("user", "id"),
    ("user", "screen_name"), ("source",), ("text",), ("full_text",), ("entities",),
    ("entities", "urls"), ("entities", "media"), ("entities", "urls", 0),
    ("entities", "urls", 0, "expanded_url"), ("entities", "urls", 0, "url"),
    ("entities", "urls", 0, "unwound_url"), ("entities", "urls", 0, "unwound"),
    ("entities", "urls", 0, "unwound", "url"), ("entities", "media", 0, "expanded_url"),
    ("extended_tweet",), ("extended_tweet", "full_text"), ("extended_tweet", "entities"),
    ("extended_tweet", "entities", "urls", 0, "expanded_url"), ("retweeted_status",),
    ("retweeted_status", "entities"), ("retweeted_status", "extended_tweet"),
    ("retweeted_status", "entities", "urls", 0, "expanded_url"),
    ("retweeted_status", "extended_tweet", "entities"), ("statuses",),
    *((key,) for key in NOISE_KEYS),
)  # fmt: skip
_DELETE = object()
_odd = st.one_of(_junk, _SPECIAL, _text, _times, _ids, _link_value, st.just(_DELETE))
_REPEATABLE = {"id_str": _ids, "created_at": _times, "source": _text, "text": _text,
               "user": st.fixed_dictionaries({"id_str": _digits}), "entities": _entities}  # fmt: skip
_ESCAPED = {"id_str": rb'"id\u005fstr"', "user": rb'"\u0075ser"', "text": rb'"te\u0078t"',
            "source": rb'"sourc\u0065"'}  # fmt: skip


@st.composite
def tweets(draw: st.DrawFn) -> dict[str, Any]:
    """A clean v1.1 tweet, then (usually) one to three of its fields made odd or removed."""
    tweet = draw(
        st.fixed_dictionaries(
            {
                "id_str": _digits,
                "created_at": _good_time,
                "user": st.fixed_dictionaries(
                    {"id_str": _digits}, optional={"screen_name": st.text(max_size=6)}
                ),
                "source": _anchor,
                "text": st.text(max_size=12),
                "entities": _entities,
            },
            optional={
                "id": st.integers(0, 2**64 - 1),
                "extended_tweet": _extended,
                "retweeted_status": _inner_tweet,
                "quoted_status": _inner_tweet,
            },
        )
    )
    for path in draw(st.lists(st.sampled_from(_PATHS), min_size=1, max_size=3)):
        parent: Any = tweet
        for step in path[:-1]:
            try:
                parent = parent[step]
            except (KeyError, IndexError, TypeError):
                break
        else:
            value = draw(_odd)
            last = path[-1]
            if isinstance(parent, dict) and isinstance(last, str):
                if value is _DELETE:
                    parent.pop(last, None)
                else:
                    parent[last] = value
            elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
                parent[last] = None if value is _DELETE else value
    return tweet


@st.composite
def lines_of(draw: st.DrawFn, tweet: dict[str, Any]) -> bytes:
    """A tweet as one line of JSON: repeated keys, DuckDB's extras, bad bytes, cut short..."""
    pairs = list(_as_obj(tweet).pairs)
    damage = draw(
        st.lists(st.sampled_from(["repeat", "repeat_inside", "escaped_key", "trailing_comma",
                                  "deep"]), max_size=3)
    )  # fmt: skip
    for what in damage:
        if what == "repeat" and pairs:
            key = draw(st.sampled_from(sorted(_REPEATABLE)))
            copy = _as_obj(draw(_REPEATABLE[key]))
            pairs.insert(draw(st.integers(0, len(pairs))), (key, copy))
        elif what == "repeat_inside":
            objects = [i for i, (_, v) in enumerate(pairs) if isinstance(v, Obj) and v.pairs]
            if objects:
                index = draw(st.sampled_from(objects))
                key, inner = pairs[index]
                inner_pairs = list(inner.pairs)
                inner_key = draw(st.sampled_from([k for k, _ in inner_pairs]))
                inner_pairs.insert(
                    draw(st.integers(0, len(inner_pairs))), (inner_key, _as_obj(draw(_text)))
                )
                pairs[index] = (key, Obj(tuple(inner_pairs)))
        elif what == "escaped_key":
            key = draw(st.sampled_from(sorted(_ESCAPED)))
            value = _as_obj(draw(_REPEATABLE[key]))
            pairs.insert(draw(st.integers(0, len(pairs))), (Raw(_ESCAPED[key]), value))
        elif what == "deep":
            depth = draw(st.sampled_from([300, 1100]))
            pairs.append(("deep", Raw(b"[" * depth + b"]" * depth)))
    line = render(Obj(tuple(pairs), trailing_comma="trailing_comma" in damage))
    match draw(st.sampled_from(["none"] * 6 + ["cut", "utf8", "surrogate", "pad", "nul"])):
        case "cut":
            line = line[: draw(st.integers(1, max(1, len(line) - 1)))]
        case "utf8":
            line = line.replace(b'":"', b'":"\xc3', 1) if b'":"' in line else line + b"\xff"
        case "surrogate":
            line = line.replace(b'":"', b'":"\\ud800', 1)
        case "pad":
            line = draw(st.sampled_from([b"  ", b"\t", b"\x0b", b""])) + line
            line += draw(st.sampled_from([b" ", b"\r", b"\x0c", b""]))
        case "nul":
            line = line.replace(b'":"', b'":"\\u0000', 1)
    return line


_notices = st.builds(
    lambda key, body: render({key: body}),
    st.sampled_from(NOISE_KEYS),
    st.one_of(
        st.sampled_from([{"status": {"id_str": "1"}}, {"track": 5}, 1, "x", False]), _SPECIAL
    ),
)


@st.composite
def files(draw: st.DrawFn) -> list[bytes]:
    """The lines of a file: a clean tweet first (so the DuckDB lane reads it), then anything."""
    lines = [tweet(1, "first")]
    for _ in range(draw(st.integers(2, 40))):
        kind = draw(st.sampled_from(["tweet"] * 6 + ["notice", "page", "blank", "other"]))
        if kind == "tweet":
            lines.append(draw(lines_of(draw(tweets()))))
        elif kind == "notice":
            lines.append(draw(_notices))
        elif kind == "page":
            page = draw(st.lists(tweets(), max_size=3))
            lines.append(render({"statuses": page} if draw(st.booleans()) else page))
        elif kind == "blank":
            lines.append(draw(st.sampled_from([b"", b"   ", b"\r", b" \t "])))
        else:
            lines.append(render(draw(_junk)))
    return lines


def _read_all(path: Path, engine: str) -> tuple[pa.Table, tuple[Any, ...]]:
    posts, summary = read(path, ReadOptions(format="twitter-v1", engine=engine))
    rejects = [(r.line, r.item, r.reason, r.detail) for r in summary.rejects]
    return posts.table, (summary.rejected, summary.skipped, rejects, summary.reconciles())


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lines=files(), compressed=st.booleans())
def test_the_duckdb_lane_and_the_python_engine_agree_on_generated_files(
    tmp_path: Path, lines: list[bytes], compressed: bool
) -> None:
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / ("generated.jsonl.gz" if compressed else "generated.jsonl")
    path.write_bytes(gzip.compress(data, 1) if compressed else data)
    fast_table, fast = _read_all(path, "duckdb")
    exact_table, exact = _read_all(path, "python")
    assert fast == exact
    assert fast_table.equals(exact_table), (fast_table.to_pylist(), exact_table.to_pylist())
    assert exact[3]  # the counts reconcile
