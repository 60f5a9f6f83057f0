"""Canonical URLs, domains, shorteners, platform links and app names."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.canonical import (
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
        ("https://example.com/a?utm_source=tw&utm_medium=x&fbclid=1&gclid=2&id=3", "https://example.com/a?id=3"),
        ("https://example.com/a?b=2&a=1&a=0", "https://example.com/a?a=0&a=1&b=2"),
        ("https://example.com/a?ref=home", "https://example.com/a?ref=home"),
        ("HTTP://WWW.EXAMPLE.COM:80/Path#frag", "http://example.com/Path"),
        ("https://example.com:8443/", "https://example.com:8443/"),
        ("https://example.com", "https://example.com/"),
        ("https://user:secret@example.com/x", "https://example.com/x"),
        ("https://example.com/%7Ealice/a%2fb/%e2%82%ac", "https://example.com/~alice/a%2Fb/%E2%82%AC"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://www2.example.com/", "https://www2.example.com/"),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "   ", None, 42, "ftp://example.com/", "javascript:alert(1)", "example.com/x", "http://", "http://a..b/", "http://x:99999/"]
)
def test_garbage_is_no_url(raw: object) -> None:
    assert canonical_url(raw) is None


def test_domains_shorteners_platform_links() -> None:
    urls, domains, platform = canonicalise_urls(
        pa.array(["https://bit.ly/3abc", "https://news.bbc.co.uk/x", "https://t.co/abc", "https://x.com/a/status/5", None, ""])
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


_url_chars = st.sampled_from([*list("abcxyzABC019-._~%/?&=#:@!$'()*+,; "), "é", "%41", "%zz", "www.", "utm_x=1", "/./", "/../"])


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https", "HTTP"]),
    host=st.from_regex(r"(www\.)?[a-z0-9-]{1,12}(\.[a-z0-9-]{1,8}){1,3}", fullmatch=True),
    rest=st.lists(_url_chars, max_size=20).map("".join),
)
def test_fast_path_agrees_with_full_parse_and_is_idempotent(scheme: str, host: str, rest: str) -> None:
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
