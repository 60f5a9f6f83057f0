"""A small, safe reader of the list literals found in CSV exports.

Twitter's information-operations archives write lists of URLs and hashtags
as Python-style literals: ``[]``, ``['http://a', 'http://b']`` and, in some
releases, unquoted ``[http://a, http://b]``. This is attacker-controlled
text, so it is read by a hand-written scanner that only ever returns a list
of strings, never by ``eval`` or ``ast.literal_eval``.

Accepted: an empty or blank field (no items); ``[`` items ``]`` where an item
is a single- or double-quoted string (backslash escapes ``\\\\``, ``\\'``,
``\\"``, ``\\n``, ``\\t`` are decoded) or bare text, which ends at a comma
followed by white space or at the closing bracket. Anything else (no closing
bracket, an unterminated quote, text after the list) is malformed: ``None``.
"""

from __future__ import annotations

__all__ = ["parse_list", "split_links"]

_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r"}
MAX_CHARS = 1_000_000


def parse_list(text: object) -> list[str] | None:
    """The strings of a list literal, or ``None`` if it is malformed.

    Examples
    --------
    >>> parse_list("['http://a.com/x', \\"http://b.com/y\\"]")
    ['http://a.com/x', 'http://b.com/y']
    >>> parse_list("[http://a.com/x,y, http://b.com]")
    ['http://a.com/x,y', 'http://b.com']
    >>> parse_list("[]"), parse_list("")
    ([], [])
    >>> parse_list("['unterminated]") is None, parse_list("__import__('os')") is None
    (True, True)
    """
    if text is None:
        return []
    if not isinstance(text, str) or len(text) > MAX_CHARS:
        return None
    body = text.strip()
    if not body:
        return []
    if not (body.startswith("[") and body.endswith("]")):
        return None
    items: list[str] = []
    i, end = 1, len(body) - 1
    while True:
        while i < end and body[i] in " \t\r\n":
            i += 1
        if i >= end:
            return items
        if body[i] in "'\"":
            quote = body[i]
            i += 1
            chars: list[str] = []
            while i < end and body[i] != quote:
                if body[i] == "\\" and i + 1 < end:
                    chars.append(_ESCAPES.get(body[i + 1], "\\" + body[i + 1]))
                    i += 2
                else:
                    chars.append(body[i])
                    i += 1
            if i >= end:
                return None
            items.append("".join(chars))
            i += 1
            while i < end and body[i] in " \t\r\n":
                i += 1
            if i < end:
                if body[i] != ",":
                    return None
                i += 1
        else:
            start = i
            while i < end and not (body[i] == "," and (i + 1 == end or body[i + 1] in " \t\r\n")):
                i += 1
            item = body[start:i].strip()
            if item:
                items.append(item)
            i += 1


def split_links(text: object) -> list[str] | None:
    """Links in a generic CSV cell: a list literal, ``|``-separated, or white-space separated.

    Examples
    --------
    >>> split_links("http://a.com | http://b.com")
    ['http://a.com', 'http://b.com']
    >>> split_links("http://a.com http://b.com")
    ['http://a.com', 'http://b.com']
    >>> split_links("['http://a.com']")
    ['http://a.com']
    """
    if text is None:
        return []
    if not isinstance(text, str):
        return None
    body = text.strip()
    if body.startswith("["):
        return parse_list(body)
    parts = body.split("|") if "|" in body else body.split()
    return [p.strip() for p in parts if p.strip()]
