"""Canonical forms of the two objects accounts share: posting apps and URLs.

Two posts share a URL or an app only if their canonical forms are equal, so
every reader of raw exports passes names and links through this module. The
work is done once per *distinct* value (:func:`canonicalise_urls` takes an
Arrow array, canonicalises its unique values and maps them back), never once
per post.

Decisions, applied the same way everywhere
------------------------------------------
App names (:func:`canonical_app`)
    Unicode NFC; control characters removed; runs of whitespace collapsed to
    one space; leading and trailing whitespace stripped; an empty name is no
    app (``None``). Case is **kept** on every platform we read: Twitter
    registers "We Heart It" and "we heart it" as two applications (the
    ``source`` of a tweet is the registered name, case included), Mastodon
    stores ``application.name`` as the client registered it, and the
    information-operations archives copy Twitter's ``source`` names.
URLs (:func:`canonical_url`)
    * only ``http`` and ``https`` links are URLs; anything else (``mailto:``,
      ``javascript:``, scheme-less text, over-long or undecodable strings) is
      no URL (``None``), never an exception;
    * scheme and host lower-cased; user name and password dropped; internationalised
      host names written in IDNA (``xn--``) form; a trailing dot dropped; a
      host ending in a number must be a dotted-quad IPv4 address;
    * a leading ``www.`` is dropped (``www.example.com`` and ``example.com``
      serve the same pages far more often than not, and a campaign posting
      both spellings is one campaign); other sub-domains are kept;
    * default ports (80 for http, 443 for https) dropped; an invalid port
      makes the string no URL;
    * the path: dot segments removed, an empty path becomes ``/``,
      percent-escapes of unreserved characters decoded, other escapes written
      in upper case, and characters that must be escaped (spaces, non-ASCII)
      percent-encoded as UTF-8; case and trailing slashes are kept (servers
      differ on both);
    * the fragment (``#...``) is dropped: it never reaches the server;
    * query parameters used only to track clicks are removed (see
      :data:`TRACKING_PARAMETERS` and :data:`TRACKING_PREFIXES`); the other
      parameters are kept, in a stable order (sorted by name, then value),
      with blank values kept as written (``?a=`` vs ``?a``).
      ``ref`` is **not** stripped: it is a tracking tag on some sites but
      selects content on others (a Git branch, a product page).
Registered domain (:func:`registered_domain`)
    The Public Suffix List, through tldextract's bundled snapshot (never
    fetched), *including* the list's private section, so that
    ``alice.blogspot.com`` and ``bob.github.io`` are different domains. A host
    with no public suffix (an IP address, ``localhost``) is its own domain.
Platform links (:func:`is_platform_link`)
    Links to the platform itself are not external URLs: they go to the posts
    table's ``platform_urls`` column, apart from ``urls``, so that
    configuration decides whether they count. For Twitter these are every
    link to ``twitter.com``, ``x.com``, ``t.co`` and Twitter's media hosts;
    links to one tweet (``/<name>/status/<id>``, ``/i/web/status/<id>``, with
    or without ``/photo/1``) are rewritten to ``https://twitter.com/i/web/status/<id>``,
    which names the tweet without the (changeable, personal) screen name.
    For Mastodon, a reader passes the hosts of the instances it saw, and any
    link shaped like a status (``/@user/<id>``, ``/users/<name>/statuses/<id>``)
    on any host counts as a platform link.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from functools import lru_cache
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "MANUAL_RETWEET",
    "SHORTENERS",
    "TRACKING_PARAMETERS",
    "TRACKING_PREFIXES",
    "TWITTER_HOSTS",
    "canonical_app",
    "canonical_url",
    "canonicalise_urls",
    "is_platform_link",
    "is_shortener",
    "registered_domain",
    "shared_host",
]

#: Query parameters removed from every URL (compared case-insensitively).
TRACKING_PARAMETERS: frozenset[str] = frozenset(
    {
        # ad-click identifiers
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "twclid", "ttclid", "li_fat_id", "epik",
        # e-mail and marketing automation
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "__hstc", "__hssc", "__hsfp",
        "hsctatracking", "mkt_tok", "vero_id", "vero_conv", "oly_anon_id",
        "oly_enc_id", "rb_clickid", "s_cid", "sc_cid",
        # analytics cookies passed in links
        "_ga", "_gl",
        # share-sheet tags
        "igshid", "igsh", "ref_src", "ref_url",
    }
)  # fmt: skip

#: Query parameters whose name starts with one of these are removed too
#: (Google Analytics ``utm_*``, Matomo ``pk_*`` and ``mtm_*``).
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "pk_", "mtm_")

#: Registered domains of link shorteners and redirectors.
SHORTENERS: frozenset[str] = frozenset(
    {
        "bit.ly", "bitly.com", "j.mp", "t.co", "goo.gl", "ow.ly", "ht.ly", "tinyurl.com",
        "buff.ly", "dlvr.it", "ift.tt", "is.gd", "v.gd", "t.ly", "tiny.cc", "rebrand.ly",
        "cutt.ly", "shorturl.at", "rb.gy", "bit.do", "s.id", "lnkd.in", "fb.me", "amzn.to",
        "youtu.be", "trib.al", "wp.me", "su.pr", "tr.im", "po.st", "mcaf.ee", "qr.ae",
        "adf.ly", "shorte.st", "ln.is", "soo.gd", "snip.ly", "hubs.ly", "tinyurl.is",
        "shar.es", "spr.ly", "lnk.to", "bl.ink", "short.io", "linktr.ee",
    }
)  # fmt: skip

#: Hosts that belong to Twitter itself (compared after canonicalisation).
TWITTER_HOSTS: frozenset[str] = frozenset(
    {
        "twitter.com", "mobile.twitter.com", "m.twitter.com", "pic.twitter.com",
        "x.com", "mobile.x.com", "t.co", "pbs.twimg.com", "video.twimg.com",
        "abs.twimg.com", "ton.twimg.com",
    }
)  # fmt: skip

#: A manual retweet: a text that starts with ``RT @name`` (the convention before retweets were
#: marked, and still how many clients and CSV exports write them); match case-insensitively.
MANUAL_RETWEET = r"^\s*RT\s?@\w"

_MAX_URL_CHARS = 8192
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters that may stand unescaped in a path or query (RFC 3986 pchar, "/", "?").
_PATH_SAFE = frozenset(_UNRESERVED | set("!$&'()*+,;=:@/%"))
_QUERY_PART_SAFE = frozenset(_UNRESERVED | set("!$'()*+,;:@/?%"))
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HOST_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_TWEET_PATH = re.compile(
    r"^/(?:[^/]+/status(?:es)?|i/web/status|i/status)/(\d{1,20})(?:/.*)?$", re.IGNORECASE
)
_FEDIVERSE_STATUS_PATH = re.compile(r"^/(?:@[^/]+|users/[^/]+/statuses|notice)/\d+/?$")
_WHITESPACE_RUN = re.compile(r"\s+")


def canonical_app(name: object) -> str | None:
    """The canonical form of a posting application's name.

    Parameters
    ----------
    name
        The app name as the platform wrote it (any object; non-strings give ``None``).

    Returns
    -------
    str or None
        NFC-normalised, control characters removed, whitespace collapsed and
        stripped; ``None`` when nothing is left. Case is kept.

    Examples
    --------
    >>> canonical_app("  We   Heart\\tIt ")
    'We Heart It'
    >>> canonical_app("we heart it")
    'we heart it'
    >>> canonical_app("   ") is None
    True
    """
    if not isinstance(name, str):
        return None
    text = unicodedata.normalize("NFC", name)
    if not text.isprintable():
        text = "".join(" " if ch in "\t\n\r\f\v" else ch for ch in text)
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cc")
    text = _WHITESPACE_RUN.sub(" ", text).strip()
    return text or None


def canonical_url(url: object) -> str | None:
    """The canonical form of a web link, or ``None`` if it is not one.

    See the module documentation for every rule applied.

    Parameters
    ----------
    url
        A link as found in a post (any object; non-strings give ``None``).

    Returns
    -------
    str or None
        The canonical URL, or ``None`` for empty, non-http(s) or malformed input.

    Examples
    --------
    >>> canonical_url("HTTPS://WWW.Example.COM:443/a/./b/../Page?utm_source=tw&b=2&a=1#top")
    'https://example.com/a/Page?a=1&b=2'
    >>> canonical_url("http://bit.ly/abc?fbclid=x")
    'http://bit.ly/abc'
    >>> canonical_url("https://münchen.de/straße")
    'https://xn--mnchen-3ya.de/stra%C3%9Fe'
    >>> canonical_url("javascript:alert(1)") is None
    True
    >>> canonical_url("") is None
    True
    """
    if not isinstance(url, str):
        return None
    return _canonical_url(url)


_SIMPLE_URL = re.compile(
    r"(https?)://([a-z0-9-]+(?:\.[a-z0-9-]+)+)(/[A-Za-z0-9_~!$&'()*+,;=:@/-]*)?(?:\?([^#]*))?(?:#.*)?",
    re.ASCII,
)


@lru_cache(maxsize=262_144)
def _canonical_url(url: str) -> str | None:
    text = url.strip()
    if not text or len(text) > _MAX_URL_CHARS:
        return None
    simple = _SIMPLE_URL.fullmatch(text)
    if simple is not None and "/." not in (simple.group(3) or "") and len(simple.group(2)) <= 253:
        # The common shape (lower-case host, no port, no escapes or dot
        # segments in the path) needs no full parse; the result is the same.
        scheme, host, path, query = simple.groups()
        labels = host.split(".")
        if not labels[-1].isdigit() and all(
            label and label[0] != "-" and label[-1] != "-" and len(label) < 64 for label in labels
        ):
            if labels[0] == "www" and len(labels) > 2:
                host = host[4:]
            query_c = _canonical_query(query or "")
            if query_c is not None:
                return f"{scheme}://{host}{path or '/'}{'?' + query_c if query_c else ''}"
    return _canonical_url_full(text)


def _canonical_url_full(text: str) -> str | None:
    scheme_end = text.find(":")
    if scheme_end < 4 or text[:scheme_end].lower() not in ("http", "https"):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port
        hostname = parts.hostname
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = _canonical_host(hostname)
    if host is None:
        return None
    if port is not None and port != (80 if scheme == "http" else 443):
        host = f"{host}:{port}"
    path = _normalise_escapes(_remove_dot_segments(parts.path or "/"), _PATH_SAFE)
    query = _canonical_query(parts.query)
    if path is None or query is None:
        return None
    return f"{scheme}://{host}{path}{'?' + query if query else ''}"


def _canonical_host(hostname: str | None) -> str | None:
    if not hostname:
        return None
    host = hostname.rstrip(".")
    if host.startswith("[") or ":" in host:
        # An IPv6 literal (urlsplit strips the brackets); keep it bracketed.
        return f"[{host.strip('[]').lower()}]" if re.fullmatch(r"[0-9a-fA-F:.]+", host) else None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    host = host.lower()
    if _IPV4.match(host):
        return host if all(int(octet) < 256 for octet in host.split(".")) else None
    labels = host.split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        return None
    if labels[-1].isdigit():
        # A name ending in a number is read as an IPv4 address (WHATWG URL
        # standard); one that is not a dotted quad is no host. Dropping "www."
        # first would make "www.300.0.0.0" into "300.0.0.0", itself no host.
        return None
    if labels[0] == "www" and len(labels) > 2:
        host = host[4:]
    return host


def _remove_dot_segments(path: str) -> str:
    if "." not in path:
        return path
    output: list[str] = []
    for segment in path.split("/")[1:] if path.startswith("/") else path.split("/"):
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    trailing = "/" if path.endswith(("/.", "/..")) else ""
    return "/" + "/".join(output) + trailing


def _normalise_escapes(text: str, safe: frozenset[str]) -> str | None:
    if "%" in text:
        text = _BAD_PERCENT.sub("%25", text)
        text = _ESCAPE.sub(_fix_escape, text)
    if all(ch in safe for ch in text):
        return text
    try:
        return "".join(
            ch if ch in safe else "".join(f"%{b:02X}" for b in ch.encode("utf-8")) for ch in text
        )
    except UnicodeEncodeError:  # lone surrogates
        return None


def _fix_escape(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


_SIMPLE_QUERY = re.compile(r"[A-Za-z0-9_~!$'()*+,;:@/?.=&-]*")


def _canonical_query(query: str) -> str | None:
    if not query:
        return ""
    simple = _SIMPLE_QUERY.fullmatch(query) is not None
    kept: list[tuple[str, str]] = []
    for pair in query.split("&"):
        if not pair:
            continue
        name, sep, value = pair.partition("=")
        key = name.lower()
        if key in TRACKING_PARAMETERS or key.startswith(TRACKING_PREFIXES):
            continue
        if simple:
            kept.append((name, sep + value))
            continue
        name_n = _normalise_escapes(name, _QUERY_PART_SAFE)
        value_n = _normalise_escapes(value, _QUERY_PART_SAFE | {"="})
        if name_n is None or value_n is None:
            return None
        kept.append((name_n, sep + value_n))
    kept.sort()
    return "&".join(name + rest for name, rest in kept)


@lru_cache(maxsize=1)
def _extractor():  # type: ignore[no-untyped-def]
    import tldextract

    # No suffix-list URLs and no cache directory: the bundled snapshot only,
    # so nothing is fetched and nothing is written at run time.
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


@lru_cache(maxsize=262_144)
def _registered_domain_of_host(host: str) -> str:
    if host.startswith("[") or _IPV4.match(host):
        return host
    parts = _extractor()(host)
    if parts.suffix and parts.domain:
        return f"{parts.domain}.{parts.suffix}"
    return host


def registered_domain(url_or_host: str) -> str:
    """The registered domain (public suffix plus one label) of a URL or host.

    Parameters
    ----------
    url_or_host
        A URL (``http://...``) or a bare host name.

    Returns
    -------
    str
        The registered domain in lower-case IDNA form; the host itself when it
        has no public suffix (IP addresses, ``localhost``); ``""`` when no host
        can be read.

    Examples
    --------
    >>> registered_domain("https://news.bbc.co.uk/story")
    'bbc.co.uk'
    >>> registered_domain("alice.blogspot.com")
    'alice.blogspot.com'
    >>> registered_domain("http://127.0.0.1:8080/")
    '127.0.0.1'
    """
    text = url_or_host.strip()
    if "://" in text:
        canonical = _canonical_url(text)
        if canonical is None:
            return ""
        host = _host_of(canonical)
    else:
        host = _canonical_host(text.split("/", 1)[0].split(":", 1)[0]) or ""
    return _registered_domain_of_host(host) if host else ""


@lru_cache(maxsize=262_144)
def shared_host(domain: str) -> str:
    """The shared host that a registered domain is a subdomain of, or ``""``.

    Shared hosts (blog platforms, code pages, cloud apps) hand out subdomains that the
    Public Suffix List's private section makes registered domains of their own, so that
    two users' pages are two sites; a campaign that puts each victim's landing page on a
    fresh subdomain leaves one site per victim, and only the host in common.

    Examples
    --------
    >>> shared_host("alice.blogspot.com"), shared_host("bbc.co.uk"), shared_host("bit.ly")
    ('blogspot.com', '', '')
    """
    if not domain or domain.startswith("[") or _IPV4.match(domain):
        return ""
    parts = _extractor()(domain)
    return parts.suffix if parts.is_private and parts.domain else ""


def _host_of(canonical: str) -> str:
    rest = canonical.split("://", 1)[1]
    host = rest.split("/", 1)[0]
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def is_shortener(domain: str) -> bool:
    """Whether a registered domain belongs to a known link shortener.

    Parameters
    ----------
    domain
        A registered domain, as returned by :func:`registered_domain`.

    Examples
    --------
    >>> is_shortener("bit.ly"), is_shortener("example.com")
    (True, False)
    """
    return domain.lower() in SHORTENERS


def is_platform_link(
    url: str, *, platform_hosts: Collection[str] = TWITTER_HOSTS, fediverse: bool = False
) -> bool:
    """Whether a canonical URL links to the platform itself.

    Parameters
    ----------
    url
        A canonical URL (from :func:`canonical_url`).
    platform_hosts
        Hosts of the platform (canonical form, no ``www.``).
    fediverse
        Also treat any link shaped like a Mastodon/fediverse status as a
        platform link, whatever its host.

    Examples
    --------
    >>> is_platform_link("https://twitter.com/i/web/status/1")
    True
    >>> is_platform_link("https://example.com/")
    False
    >>> is_platform_link("https://other.social/@bob/1093", platform_hosts=(), fediverse=True)
    True
    """
    host = _host_of(url)
    if host in platform_hosts:
        return True
    if fediverse:
        path = url.split("://", 1)[1][len(host) :].split("?", 1)[0]
        return bool(_FEDIVERSE_STATUS_PATH.match(path))
    return False


def _twitter_status_link(canonical: str) -> str | None:
    host = _host_of(canonical)
    if host not in TWITTER_HOSTS or host == "t.co":
        return None
    path = canonical.split("://", 1)[1][len(host) :].split("?", 1)[0]
    match = _TWEET_PATH.match(path)
    return f"https://twitter.com/i/web/status/{match.group(1)}" if match else None


_RESULT_CACHE_LIMIT = 1_000_000
_result_caches: dict[
    tuple[frozenset[str], bool], dict[str, tuple[str | None, str | None, bool]]
] = {}


def _results_cache(
    hosts: frozenset[str], fediverse: bool
) -> dict[str, tuple[str | None, str | None, bool]]:
    # Links repeat across batches (popular URLs, t.co, media): remember the
    # answers, within a bound, so each distinct link is worked out once.
    cache = _result_caches.setdefault((hosts, fediverse), {})
    if len(cache) > _RESULT_CACHE_LIMIT:
        cache.clear()
    if len(_result_caches) > 64:
        _result_caches.clear()
        cache = _result_caches.setdefault((hosts, fediverse), {})
    return cache


def _url_result(
    raw: str, hosts: frozenset[str], fediverse: bool, twitter: bool
) -> tuple[str | None, str | None, bool]:
    url = _canonical_url(raw)
    if url is None:
        return None, None, False
    if twitter:
        url = _twitter_status_link(url) or url
    domain = _registered_domain_of_host(_host_of(url))
    return url, domain, is_platform_link(url, platform_hosts=hosts, fediverse=fediverse)


# --- Vectorised canonicalisation ----------------------------------------------------
#
# The common shape of a link is worked out with Arrow compute kernels (RE2
# regular expressions and string kernels in C++, run once per distinct link,
# without the GIL). Only links in a strict subset of URL syntax take this path:
# an ``http``/``https`` scheme, an ASCII host of valid labels ending in a
# label that starts with a letter (no IP address, port, user name or
# trailing dot), a path and query made of characters that are
# never re-escaped, with percent-escapes only in upper case and only for
# characters that must stay escaped, no ``.``/``..`` segment, and a fragment
# of printable ASCII. For those links every rule of :func:`canonical_url`
# reduces to: lower-case the scheme and host, drop the fragment, drop a
# leading ``www.``, an empty path is
# ``/``, and the query's tracking parameters are removed and the others
# sorted. Every other link is canonicalised by :func:`canonical_url` itself.
# Both give the same answers (``tests/io/test_canonical.py`` compares them on
# generated and on real links).

# Escapes that canonical_url keeps as written: upper-case hex, and the byte is
# not an unreserved character (A-Z a-z 0-9 - . _ ~), which would be decoded.
_KEPT_ESCAPE = r"%(?:[01][0-9A-F]|2[0-9A-CF]|3[A-F]|40|5[B-E]|60|7[BCDF]|[89A-F][0-9A-F])"
_FAST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_FAST_URL = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://"
    rf"(?:{_FAST_LABEL}\.)+[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?"
    rf"(?:/(?:[A-Za-z0-9_~!$&'()*+,;=:@/.-]|{_KEPT_ESCAPE})*)?"
    rf"(?:\?(?:[A-Za-z0-9_~!$'()*+,;:@/?.=&-]|{_KEPT_ESCAPE})*)?"
    r"(?:#[\x21-\x7e]*)?$"
)
_DOT_SEGMENT = r"(?:^|/)\.\.?(?:/|$)"
_TWEET_PATH_RE2 = (
    r"(?i)^/(?:[^/]+/status(?:es)?|i/web/status|i/status)/(?P<id>[0-9]{1,20})(?:/.*)?$"
)
_FEDIVERSE_STATUS_PATH_RE2 = r"^/(?:@[^/]+|users/[^/]+/statuses|notice)/[0-9]+/?$"
# A query pair whose name is a tracking parameter or starts with a tracking prefix.
_TRACKING_PAIR_RE2 = (
    "(?i)^(?:"
    + "|".join(re.escape(p) for p in TRACKING_PREFIXES)
    + "|(?:"
    + "|".join(re.escape(p) for p in sorted(TRACKING_PARAMETERS))
    + ")(?:=|$))"
)


#: Unicode bidirectional controls (embeddings, overrides, isolates and marks): in
#: an attacker's app name they reorder the text around it when it is shown.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_BIDI_TABLE = {ord(c): f"<U+{ord(c):04X}>" for c in BIDI_CONTROLS}


def neutralise_bidi(text: str) -> str:
    """Text for people to read, with each bidirectional control shown as ``<U+202E>``.

    For every human-facing output (terminal, report, explanations); data
    files keep the raw value.

    Examples
    --------
    >>> neutralise_bidi("Free\u202egnp.exe")
    'Free<U+202E>gnp.exe'
    """
    return text.translate(_BIDI_TABLE)


@lru_cache(maxsize=1)
def _tweet_hosts_array() -> pa.Array:
    # Built on first use: pa.array() of a Python list imports pandas (pyarrow looks
    # for pandas objects), which importing research.io must not.
    return pa.array(sorted(TWITTER_HOSTS - {"t.co"}), pa.string())


def _mask(array: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def _strings(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _canonical_queries(queries: pa.Array) -> pa.Array:
    """The canonical form of fast-path queries: tracking parameters dropped, the rest sorted."""
    n = len(queries)
    pairs = pc.split_pattern(queries, "&")
    parent = pc.list_parent_indices(pairs)
    flat = pc.list_flatten(pairs)
    # A pair's name ends at its first "=", and no tracking name or prefix holds
    # one, so matching the whole pair is matching its name (lower-cased: the
    # fast path is ASCII only).
    drop = pc.or_(pc.equal(flat, ""), pc.match_substring_regex(flat, _TRACKING_PAIR_RE2))
    keep = pc.invert(drop)
    kept = pa.table({"parent": parent.filter(keep), "pair": flat.filter(keep)})
    # canonical_url sorts (name, "=" + value) tuples. Writing the first "=" as
    # NUL, which no name holds, makes byte order of the strings that same order.
    kept = kept.append_column(
        "key", pc.replace_substring(kept.column("pair"), "=", "\x00", max_replacements=1)
    )
    kept = kept.sort_by([("parent", "ascending"), ("key", "ascending")])
    counts = np.bincount(np.asarray(kept.column("parent").to_numpy(), dtype=np.int64), minlength=n)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    lists = pa.ListArray.from_arrays(pa.array(offsets), _strings(kept.column("pair")))
    return pc.binary_join(lists, "&")


def _parts(links: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """Scheme, host, path ("/" when empty) and query of links that match _FAST_URL.

    In that shape the first "#" starts the fragment, the first "?" the query,
    the first "://" ends the scheme and the first "/" after it ends the host;
    splitting there is cheaper than capturing groups with a regex.
    """
    base = pc.list_element(pc.split_pattern(links, "#", max_splits=1), 0)
    before_query = pc.split_pattern(base, "?", max_splits=1)
    query = pc.binary_join(pc.list_slice(before_query, 1), "")
    scheme_rest = pc.split_pattern(pc.list_element(before_query, 0), "://", max_splits=1)
    host_path = pc.split_pattern(pc.list_element(scheme_rest, 1), "/", max_splits=1)
    path = pc.binary_join_element_wise("/", pc.binary_join(pc.list_slice(host_path, 1), ""), "")
    return pc.list_element(scheme_rest, 0), pc.list_element(host_path, 0), path, query


def _fast_url_results(
    values: pa.Array, hosts: frozenset[str], fediverse: bool, twitter: bool
) -> tuple[np.ndarray, pa.Array, pa.Array, np.ndarray]:
    """Canonical URL, domain and platform flag of the values in the fast-path subset.

    Returns a mask of the values handled, and for those (in order) the three results.
    """
    handled = _mask(pc.match_substring_regex(values, _FAST_URL))
    if handled.any():
        chosen = values.filter(pa.array(handled))
        scheme, host, path, query = _parts(chosen)
        ok = _mask(pc.less_equal(pc.binary_length(chosen), _MAX_URL_CHARS))
        ok &= _mask(pc.less_equal(pc.binary_length(host), 253))
        ok &= ~_mask(pc.match_substring_regex(path, _DOT_SEGMENT))
        if not ok.all():
            handled[np.flatnonzero(handled)[~ok]] = False
            keep = pa.array(ok)
            scheme, host, path, query = (a.filter(keep) for a in (scheme, host, path, query))
    if not handled.any():
        empty = pa.array([], pa.string())
        return handled, empty, empty, np.zeros(0, dtype=bool)
    scheme = pc.ascii_lower(scheme)
    host = pc.ascii_lower(host)
    # "www." is dropped when two labels or more are left.
    www = pc.and_(pc.starts_with(host, "www."), pc.greater_equal(pc.count_substring(host, "."), 2))
    host = pc.if_else(www, pc.utf8_slice_codeunits(host, 4), host)
    query = _canonical_queries(query)
    with_query = pc.if_else(pc.equal(query, ""), "", pc.binary_join_element_wise("?", query, ""))
    canon = pc.binary_join_element_wise(scheme, "://", host, path, with_query, "")
    if twitter:
        on_twitter = pc.is_in(host, value_set=_tweet_hosts_array())
        if pc.any(on_twitter).as_py():
            # struct_field, unlike .field(), gives null where the regex did not match.
            tweet_id = pc.struct_field(pc.extract_regex(path, _TWEET_PATH_RE2), "id")
            status = pc.fill_null(pc.and_(on_twitter, pc.is_valid(tweet_id)), False)
            rewritten_path = pc.binary_join_element_wise("/i/web/status/", tweet_id, "")
            canon = pc.if_else(
                status,
                pc.binary_join_element_wise("https://twitter.com", rewritten_path, ""),
                canon,
            )
            host = pc.if_else(status, "twitter.com", host)
            path = pc.if_else(status, rewritten_path, path)
    platform = _mask(pc.is_in(host, value_set=pa.array(sorted(hosts), pa.string())))
    if fediverse:
        platform |= _mask(pc.match_substring_regex(path, _FEDIVERSE_STATUS_PATH_RE2))
    hosts_encoded = host.dictionary_encode()
    domains = pa.array(
        [_registered_domain_of_host(h) for h in hosts_encoded.dictionary.to_pylist()], pa.string()
    ).take(hosts_encoded.indices)
    return handled, canon, domains, platform


def _distinct_url_results(
    values: pa.Array, hosts: frozenset[str], fediverse: bool
) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """Canonical URLs, domains and platform flags of distinct links (no nulls)."""
    twitter = bool(hosts & TWITTER_HOSTS)
    handled, fast_canon, fast_domains, fast_platform = _fast_url_results(
        values, hosts, fediverse, twitter
    )
    if handled.all():
        return fast_canon, fast_domains, fast_platform
    others = np.flatnonzero(~handled)
    cache = _results_cache(hosts, fediverse)
    canon: list[str | None] = []
    domains: list[str | None] = []
    platform = np.zeros(len(others), dtype=bool)
    for i, raw in enumerate(values.take(pa.array(others)).to_pylist()):
        result = cache.get(raw)
        if result is None:
            result = _url_result(raw, hosts, fediverse, twitter)
            cache[raw] = result
        canon.append(result[0])
        domains.append(result[1])
        platform[i] = result[2]
    order = np.concatenate([np.flatnonzero(handled), others])
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    back = pa.array(inverse)
    return (
        pa.concat_arrays([fast_canon, pa.array(canon, pa.string())]).take(back),
        pa.concat_arrays([fast_domains, pa.array(domains, pa.string())]).take(back),
        np.concatenate([fast_platform, platform])[inverse],
    )


def canonicalise_urls(
    values: pa.Array | pa.ChunkedArray | Iterable[str | None],
    *,
    platform_hosts: Collection[str] = TWITTER_HOSTS,
    fediverse: bool = False,
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Canonicalise an array of links, once per distinct value.

    Links of the common shape are canonicalised by Arrow compute kernels,
    the others by :func:`canonical_url`; both give the same results.

    Parameters
    ----------
    values
        Raw links (strings or nulls).
    platform_hosts, fediverse
        Which links count as platform links (see :func:`is_platform_link`).
        Twitter status links are rewritten to ``https://twitter.com/i/web/status/<id>``
        whenever ``platform_hosts`` includes Twitter's hosts.

    Returns
    -------
    urls : pyarrow.StringArray
        The canonical URL of each value; null where the value is no URL.
    domains : pyarrow.StringArray
        The registered domain of each canonical URL; null where ``urls`` is null.
    is_platform_link : pyarrow.BooleanArray
        True where the URL links to the platform itself; false where ``urls`` is null.

    Examples
    --------
    >>> import pyarrow as pa
    >>> urls, domains, platform = canonicalise_urls(pa.array([
    ...     "https://www.example.com/a?utm_source=x", None, "not a url",
    ...     "https://x.com/someone/status/123/photo/1"]))
    >>> urls.to_pylist()
    ['https://example.com/a', None, None, 'https://twitter.com/i/web/status/123']
    >>> domains.to_pylist()
    ['example.com', None, None, 'twitter.com']
    >>> platform.to_pylist()
    [False, False, False, True]
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    elif not isinstance(values, pa.Array):
        values = pa.array(list(values), pa.string())
    if (
        pa.types.is_large_string(values.type)
        or pa.types.is_string_view(values.type)
        or not pa.types.is_string(values.type)
    ):
        values = values.cast(pa.string())
    encoded = values.dictionary_encode()
    canon, domains, platform = _distinct_url_results(
        encoded.dictionary, frozenset(platform_hosts), fediverse
    )
    indices = encoded.indices
    return (
        canon.take(indices),
        domains.take(indices),
        pc.fill_null(pa.array(platform).take(indices), False),
    )
