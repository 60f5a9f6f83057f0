"""Putting attacker-written strings into HTML, JSON-in-HTML, links and XML safely.

App names, post texts, URLs and account names are written by whoever runs
the attack. Every such string goes through one of these functions on its
way into an output file: :func:`text` for HTML text and attribute values,
:func:`json_for_script` for data handed to the page's script (which inserts
it with ``textContent`` only), :func:`safe_href` for links (only ``http`` and
``https`` become clickable), and :func:`xml_text` for GraphML/GEXF.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import urlsplit

from research.canonical import neutralise_bidi

ELLIPSIS = "…"
# C0 controls other than tab, newline and carriage return, DEL, C1 controls, and the
# non-characters XML 1.0 forbids: none of them is needed to read a post.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SCRIPT_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def clean(value: Any, limit: int | None = None) -> str:
    """A display string: ``None`` becomes ``""``, control characters and lone surrogates
    are dropped, bidirectional controls shown as ``<U+202E>`` (so that an app name cannot
    reverse the sentence around it), and strings longer than ``limit`` are cut with an
    ellipsis.

    Examples
    --------
    >>> clean("a\\x00b\\x1b[31m"), clean("x" * 10, limit=4), clean(None)
    ('ab[31m', 'xxx…', '')
    >>> clean("Free\\u202egnp.exe")
    'Free<U+202E>gnp.exe'
    """
    if value is None:
        return ""
    out = _SURROGATE.sub("", _CONTROL.sub("", neutralise_bidi(str(value))))
    if limit is not None and len(out) > limit:
        out = out[: max(limit - 1, 0)] + ELLIPSIS
    return out


def text(value: Any, limit: int | None = None) -> str:
    """HTML-escaped text, safe inside element content and quoted attribute values.

    Examples
    --------
    >>> text('<script>alert("x")</script>')
    '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'
    """
    return html.escape(clean(value, limit), quote=True)


def json_for_script(data: Any) -> str:
    """JSON for a ``<script type="application/json">`` block.

    ``<``, ``>`` and ``&`` are escaped as ``\\u003c`` etc., so that no string
    can close the block (``</script>``) or open a comment; U+2028 and U+2029
    are escaped too (they end lines in older JavaScript engines). Keys are
    sorted, so the same data give the same bytes.

    Examples
    --------
    >>> json_for_script({"name": "</script><script>alert(1)</script>"})
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003cscript\\\\u003ealert(1)\\\\u003c/script\\\\u003e"}'
    """
    raw = json.dumps(
        data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    return (
        "".join(_SCRIPT_UNSAFE.get(ch, ch) for ch in raw)
        if any(ch in raw for ch in _SCRIPT_UNSAFE)
        else raw
    )


def safe_href(url: Any) -> str | None:
    """The URL, escaped for an ``href``, when it is an ``http(s)`` URL with a host; else ``None``.

    ``javascript:``, ``data:``, ``vbscript:`` and anything unparsable must
    never become a clickable link.

    Examples
    --------
    >>> safe_href("https://example.com/a?b=1&c=2")
    'https://example.com/a?b=1&amp;c=2'
    >>> safe_href("javascript:alert(1)"), safe_href(" JaVaScRiPt:alert(1)"), safe_href("//evil.com")
    (None, None, None)
    """
    if (
        not isinstance(url, str)
        or url != url.strip()
        or _CONTROL.search(url)
        or any(c.isspace() for c in url)
    ):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return html.escape(url, quote=True)


def xml_text(value: Any) -> str:
    """A string that XML 1.0 can hold (control characters dropped); the XML writer escapes the rest.

    Examples
    --------
    >>> xml_text("We\\x0bHeart\\x00It")
    'WeHeartIt'
    """
    return clean(value)
