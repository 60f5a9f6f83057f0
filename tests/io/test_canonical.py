"""Canonical URLs, domains, shorteners, platform links and app names."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.canonical import (
    TWITTER_HOSTS,
    _canonical_url_full,
    canonical_app,
    canonical_url,
    canonicalise_urls,
    is_shortener,
    registered_domain,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "https://example.com/a?utm_source=tw&utm_medium=x&fbclid=1&gclid=2&id=3",
            "https://example.com/a?id=3",
        ),
        ("https://example.com/a?b=2&a=1&a=0", "https://example.com/a?a=0&a=1&b=2"),
        ("https://example.com/a?ref=home", "https://example.com/a?ref=home"),
        ("HTTP://WWW.EXAMPLE.COM:80/Path#frag", "http://example.com/Path"),
        ("https://example.com:8443/", "https://example.com:8443/"),
        ("https://example.com", "https://example.com/"),
        ("https://user:secret@example.com/x", "https://example.com/x"),
        (
            "https://example.com/%7Ealice/a%2fb/%e2%82%ac",
            "https://example.com/~alice/a%2Fb/%E2%82%AC",
        ),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://www2.example.com/", "https://www2.example.com/"),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        None,
        42,
        "ftp://example.com/",
        "javascript:alert(1)",
        "example.com/x",
        "http://",
        "http://a..b/",
        "http://x:99999/",
    ],
)
def test_garbage_is_no_url(raw: object) -> None:
    assert canonical_url(raw) is None


def test_domains_shorteners_platform_links() -> None:
    urls, domains, platform = canonicalise_urls(
        pa.array(
            [
                "https://bit.ly/3abc",
                "https://news.bbc.co.uk/x",
                "https://t.co/abc",
                "https://x.com/a/status/5",
                None,
                "",
            ]
        )
    )
    assert urls.to_pylist()[3] == "https://twitter.com/i/web/status/5"
    assert domains.to_pylist() == ["bit.ly", "bbc.co.uk", "t.co", "twitter.com", None, None]
    assert platform.to_pylist() == [False, False, True, True, False, False]
    assert is_shortener("bit.ly") and is_shortener("dlvr.it") and not is_shortener("bbc.co.uk")
    assert registered_domain("alice.github.io") == "alice.github.io"


def test_registered_domain_never_fetches(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert registered_domain("https://a.b.example.co.uk/") == "example.co.uk"


def test_canonical_app() -> None:
    assert canonical_app(" We\u00a0 Heart\tIt ") == "We Heart It"
    assert canonical_app("We Heart It") != canonical_app("we heart it")
    assert canonical_app("Cafe\u0301") == "Caf\u00e9"
    assert canonical_app("a\x00b") == "ab"
    assert canonical_app("") is None and canonical_app(None) is None


_url_chars = st.sampled_from(
    [
        *list("abcxyzABC019-._~%/?&=#:@!$'()*+,; "),
        "é",
        "%41",
        "%zz",
        "www.",
        "utm_x=1",
        "/./",
        "/../",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "HTTP"]),
    host=st.from_regex(r"(www\.)?[a-z0-9-]{1,12}(\.[a-z0-9-]{1,8}){1,3}", fullmatch=True),
    rest=st.lists(_url_chars, max_size=20).map("".join),
)
def test_fast_path_agrees_with_full_parse_and_is_idempotent(
    scheme: str, host: str, rest: str
) -> None:
    raw = f"{scheme}://{host}/{rest}"
    fast = canonical_url(raw)
    assert fast == _canonical_url_full(raw.strip())
    if fast is not None:
        assert canonical_url(fast) == fast


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_a_url_or_none(text: str) -> None:
    result = canonical_url(text)
    assert result is None or result.startswith(("http://", "https://"))


# --- The Arrow fast path of canonicalise_urls gives what canonical_url gives ----------


def _reference(values: list[str | None], hosts: frozenset[str], fediverse: bool) -> list[tuple]:
    from research.canonical import _url_result

    twitter = bool(hosts & TWITTER_HOSTS)
    return [
        (None, None, False) if v is None else _url_result(v, hosts, fediverse, twitter)
        for v in values
    ]


def _vectorised(values: list[str | None], hosts: frozenset[str], fediverse: bool) -> list[tuple]:
    urls, domains, platform = canonicalise_urls(
        pa.array(values, pa.string()), platform_hosts=hosts, fediverse=fediverse
    )
    return list(zip(urls.to_pylist(), domains.to_pylist(), platform.to_pylist(), strict=True))


_SETTINGS = [
    (frozenset(TWITTER_HOSTS), False),
    (frozenset({"mastodon.social", "x.com"}), True),
    (frozenset(), False),
]

# Links are built from parts: a "common" link uses only parts of the usual
# shape (most take the fast path, which must get case, www, tracking
# parameters, sorting, status and fediverse links right); an "odd" link draws
# every part from usual and unusual ones (ports, user names, IP and IDNA hosts,
# label lengths, dot segments, escapes, white space, other schemes), which
# probe the edges of the fast path.
_COMMON_LABELS = [
    "www",
    "www2",
    "wwwa",
    "a",
    "example",
    "x-y",
    "xn--bcher-kva",
    "co",
    "uk",
    "com",
    "org",
    "twitter",
    "x",
    "t",
    "mobile",
    "pbs",
    "twimg",
    "mastodon",
    "social",
    "github",
    "io",
    "blogspot",
    "a9",
    "9a",
    "a" * 63,
]
_ODD_LABELS = [
    "WWW",
    "Example",
    "-a",
    "a-",
    "b\u00fccher",
    "0",
    "300",
    "1",
    "a" * 64,
    "a_b",
    "",
    "A--B",
]
_COMMON_HOSTS = [
    "x.com",
    "twitter.com",
    "mobile.twitter.com",
    "t.co",
    "www.x.com",
    "pbs.twimg.com",
    "www.com",
    "www.a.b",
    "mastodon.social",
    "WWW.Example.COM",
    "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + ".d" + "d" * 60,
]
_ODD_HOSTS = [
    "1.2.3.4",
    "256.1.1.1",
    "[::1]",
    "[2001:DB8::1]",
    "localhost",
    "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + ".d" + "d" * 61,
]
_COMMON_PIECES = [
    "a",
    "B",
    "status",
    "statuses",
    "i",
    "web",
    "123",
    "99999999999999999999",
    "@bob",
    "users",
    "notice",
    "photo",
    ".a",
    "a.b",
    "index.html",
    "%2F",
    "%E2%82%AC",
    "%20",
    "%5B",
    "%60",
    "%3A",
    "~",
    "-",
    "_",
    "!",
    "$",
    "&",
    "'",
    "(",
    ")",
    "*",
    "+",
    ",",
    ";",
    "=",
    ":",
    "@",
    "STATUS",
    "",
]
_ODD_PIECES = [
    ".",
    "..",
    "%41",
    "%2f",
    "%7E",
    "%7e",
    "%zz",
    "%",
    "%2",
    "%30",
    "%2E",
    " ",
    "\u00e9",
    "[",
    "]",
    "|",
    "^",
    "\\",
    '"',
    "<",
    "{",
    "\t",
    "\n",
    "#",
    "?",
    "123456789012345678901",
]
_COMMON_NAMES = [
    "a",
    "b",
    "A",
    "id",
    "ref",
    "utm_source",
    "UTM_Medium",
    "utm_",
    "utmx",
    "fbclid",
    "FBCLID",
    "gclid",
    "pk_x",
    "mtm_a",
    "_ga",
    "a-b",
    "a.b",
    "x%20y",
    "",
    "s",
    "q",
    "?",
    "/",
    "a+b",
    "page",
    "igshid",
    "ref_src",
]
_ODD_NAMES = ["%41", "\u00e9", "a b", "%zz", "a%2fb", "[x]"]
_COMMON_VALUES = ["", "1", "2", "x", "=", "a=b", "%2F", "?", "/", "utm_x", "B"]
_ODD_VALUES = ["%2f", "%41", " ", "\u00e9", "%"]
_COMMON_FRAGMENTS = ["", "#", "#top", "#a#b", "#:~:text=x", "#a?b"]
_ODD_FRAGMENTS = ["#\u00e9", "# x", "#\x7f"]


def _link(odd: frozenset[int]) -> st.SearchStrategy[str]:
    """Links whose parts numbered in ``odd`` may be unusual (0 scheme ... 9 trailing text)."""

    def pick(part: int, common: list[str], unusual: list[str]) -> st.SearchStrategy[str]:
        return st.sampled_from(common + unusual if part in odd else common)

    host = st.one_of(
        st.lists(pick(4, _COMMON_LABELS, _ODD_LABELS), min_size=2, max_size=5).map(".".join),
        pick(4, _COMMON_HOSTS, _ODD_HOSTS),
        st.from_regex(
            r"[a-zA-Z0-9-]{1,10}(\.[a-zA-Z0-9-]{1,6}){1,3}\.?"
            if 4 in odd
            else r"[a-z0-9]{1,10}(\.[a-z]{1,6}){1,3}",
            fullmatch=True,
        ),
    )
    piece = pick(6, _COMMON_PIECES, _ODD_PIECES)
    pair = st.tuples(pick(7, _COMMON_NAMES, _ODD_NAMES), st.sampled_from(["=", "", "=="]),
                     pick(7, _COMMON_VALUES, _ODD_VALUES)).map("".join)  # fmt: skip
    return st.builds(
        lambda pre, scheme, sep, user, host, port, path, query, frag, post: (
            f"{pre}{scheme}{sep}{user}{host}{port}{path}{query}{frag}{post}"
        ),
        pick(9, [""], [" ", "\t"]),
        pick(0, ["http", "https", "HTTP", "Https"], ["ftp", "javascript", "httpx", ""]),
        pick(1, ["://"], [":/", ":", "://:"]),
        pick(2, [""], ["user@", "u:p@", "@"]),
        host,
        pick(5, [""], [":80", ":443", ":8080", ":0", ":99999", ":", ":x"]),
        st.one_of(
            st.just(""),
            st.lists(piece, max_size=8).map(lambda p: "/" + "/".join(p)),
            st.lists(piece, max_size=8).map(lambda p: "/" + "".join(p)),
        ),
        st.one_of(
            st.just(""),
            st.lists(pair, max_size=5).map(lambda p: "?" + "&".join(p)),
            st.lists(pair, max_size=4).map(lambda p: "?" + "&&".join(p) + "&"),
        ),
        pick(8, _COMMON_FRAGMENTS, _ODD_FRAGMENTS),
        pick(9, [""], [" ", "\n", "\u3000"]),
    )


# Usual links, links with one unusual part, links with any part unusual.
_url = st.one_of(
    _link(frozenset()),
    st.integers(0, 9).flatmap(lambda part: _link(frozenset({part}))),
    _link(frozenset(range(10))),
)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(_url, st.none(), st.text(max_size=30)), min_size=1, max_size=40),
       setting=st.sampled_from(_SETTINGS))  # fmt: skip
def test_vectorised_canonicalisation_equals_canonical_url(
    values: list[str | None], setting
) -> None:  # type: ignore[no-untyped-def]
    hosts, fediverse = setting
    assert _vectorised(values, hosts, fediverse) == _reference(values, hosts, fediverse)


def test_vectorised_fast_path_is_taken_for_common_links() -> None:
    from research.canonical import _fast_url_results

    common = pa.array(
        ["https://www.example.com/a/b.html?utm_source=tw&id=3#x", "http://Example.co.uk", "https://t.co/AbC123",
         "https://twitter.com/bob/status/123/photo/1", "https://example.com/%E2%82%AC?q=a%2Fb&a=1"]
    )  # fmt: skip
    handled = _fast_url_results(common, frozenset(TWITTER_HOSTS), False, True)[0]
    assert handled.all()


def _strings(value: object):  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def test_vectorised_canonicalisation_on_every_link_in_the_real_samples(data) -> None:  # type: ignore[no-untyped-def]
    import csv

    import orjson

    found: set[str] = set()
    for path in sorted(data.rglob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            try:
                found.update(
                    s
                    for s in _strings(orjson.loads(line))
                    if "http" in s.lower() or "www" in s.lower()
                )
            except orjson.JSONDecodeError:
                continue
    for path in sorted(data.rglob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                found.update(cell for cell in row if "http" in cell.lower())
    values = sorted(found)
    assert len(values) > 900
    for hosts, fediverse in _SETTINGS:
        assert _vectorised(values, hosts, fediverse) == _reference(values, hosts, fediverse)


def _near_misses() -> list[str]:
    """Usual links with one part changed to each usual and unusual variant, and every escape."""
    base = {"pre": "", "scheme": "https", "sep": "://", "user": "", "host": "www.example.com", "port": "",
            "path": "/a/b", "query": "?b=2&a=1", "frag": "#top", "post": ""}  # fmt: skip
    variants: dict[str, list[str]] = {
        "pre": ["", " ", "\t", "\n"],
        "scheme": ["http", "https", "HTTP", "Https", "ftp", "javascript", "httpx", "", "http s"],
        "sep": ["://", ":/", ":", "://:", ":///"],
        "user": ["", "user@", "u:p@", "@"],
        "host": _COMMON_HOSTS
        + _ODD_HOSTS
        + [f"{label}.example.com" for label in _COMMON_LABELS + _ODD_LABELS]
        + [f"a.{label}.com" for label in _COMMON_LABELS + _ODD_LABELS]
        + [f"example.{label}" for label in _COMMON_LABELS + _ODD_LABELS]
        + [
            "www.example.com.",
            "example..com",
            ".example.com",
            "example.com-",
            "1.2.3",
            "a.b.c.d.e.f.g.h",
        ],
        "port": ["", ":80", ":443", ":8080", ":0", ":99999", ":", ":x"],
        "path": ["", "/"]
        + [f"/x/{piece}/y" for piece in _COMMON_PIECES + _ODD_PIECES]
        + [f"/x{piece}" for piece in _COMMON_PIECES + _ODD_PIECES]
        + [f"/{piece}" for piece in _COMMON_PIECES + _ODD_PIECES]
        + [f"/{a}/{b}" for a in (".", "..", "a") for b in (".", "..", "", ".a")]
        + [f"/%{b:02X}" for b in range(256)]
        + [f"/%{b:02x}" for b in range(256)]
        + [
            f"/bob/{s}/{i}{tail}"
            for s in ("status", "statuses", "STATUS", "Status", "stat")
            for i in ("1", "12345678901234567890", "123456789012345678901", "12a", "")
            for tail in ("", "/", "/photo/1", "x")
        ]
        + ["/" + "a" * n for n in (8100, 8200)]
        + ["/i/web/status/5", "/i/status/5", "/I/WEB/STATUS/5", "/i/web/status/", "/a/b/status/5"]
        + [
            "/@bob/1",
            "/@bob/1/",
            "/@bob/x",
            "/@/1",
            "/users/bob/statuses/9",
            "/users/bob/status/9",
            "/users//statuses/9",
            "/notice/3",
            "/notice/3/",
            "/notice/",
            "/@bob/1//",
        ],
        "query": [
            "",
            "?",
            "?&",
            "?=",
            "?a",
            "?a=",
            "?a=&a",
            "?b=1&a=2&a=1",
            "?a-b=1&a=2",
            "?a=1&A=1",
            "?a==1&a=1",
        ]
        + [f"?{name}=1&z=2" for name in _COMMON_NAMES + _ODD_NAMES]
        + [f"?z={value}" for value in _COMMON_VALUES + _ODD_VALUES]
        + [f"?a=%{b:02X}" for b in range(256)]
        + [f"?%{b:02x}=1" for b in range(256)],
        "frag": _COMMON_FRAGMENTS + _ODD_FRAGMENTS + ["#\n", "#\t", "# ", "#\x00"],
        "post": ["", " ", "\n", "\u3000", "\x1f"],
    }
    links = []
    for part, alternatives in variants.items():
        for alternative in alternatives:
            for host in (base["host"], "twitter.com", "www.x.com", "t.co", "mastodon.social"):
                parts = {**base, "host": host, part: alternative}
                links.append("".join(parts[k] for k in base))
    return links


def test_vectorised_canonicalisation_on_near_misses() -> None:
    values = _near_misses()
    for hosts, fediverse in _SETTINGS:
        assert _vectorised(values, hosts, fediverse) == _reference(values, hosts, fediverse)
