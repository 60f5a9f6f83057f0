"""Reading the bits of HTML that platforms put in posts, as data only.

Twitter writes a tweet's ``source`` as an anchor
(``<a href="http://weheartit.com" rel="nofollow">We Heart It</a>``) and
Mastodon writes a status's ``content`` as HTML. Both are attacker-controlled.
They are read with the standard library's tokenising :class:`html.parser.HTMLParser`:
nothing is fetched, rendered or executed, entities are decoded once, and the
text of ``<script>``/``<style>`` elements is kept as plain text (it is a
name, not code). HTML escaping for display happens when a report is written,
not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

_MAX_HTML_CHARS = 1_000_000


class _SourceParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.href: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a" and self.href is None:
            self.href = next((value for name, value in attrs if name == "href"), None) or ""

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_source(source: object) -> tuple[str | None, str | None]:
    """Split a Twitter ``source`` anchor into the app's name and web site.

    Parameters
    ----------
    source
        The ``source`` field of a tweet: an anchor, or plain text for apps
        without a site (``"web"``), or anything at all.

    Returns
    -------
    name : str or None
        All text inside the HTML (tags removed, entities decoded); not yet
        canonical (see :func:`research.canonical.canonical_app`).
    url : str or None
        The ``href`` of the first anchor, as written.

    Examples
    --------
    >>> parse_source('<a href="http://weheartit.com" rel="nofollow">We Heart It</a>')
    ('We Heart It', 'http://weheartit.com')
    >>> parse_source('web')
    ('web', None)
    >>> parse_source('<a href="javascript:alert(1)"><script>alert(1)</script></a>')
    ('alert(1)', 'javascript:alert(1)')
    """
    if not isinstance(source, str) or not source:
        return None, None
    if "<" not in source and "&" not in source:
        return source, None
    parser = _SourceParser()
    try:
        parser.feed(source[:_MAX_HTML_CHARS])
        parser.close()
    except (AssertionError, ValueError):  # very old parsers assert on odd markup
        return source, None
    name = "".join(parser.text)
    return (name or None), (parser.href or None)


@dataclass
class ContentLinks:
    """Links found in a post's HTML: to the web, and to the platform itself."""

    external: list[str] = field(default_factory=list)
    platform: list[str] = field(default_factory=list)
    text: str = ""


class _ContentParser(HTMLParser):
    _PLATFORM_CLASSES = frozenset({"mention", "hashtag", "u-url"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links = ContentLinks()
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p") and self.parts:
            self.parts.append("\n")
        if tag != "a":
            return
        values = dict(attrs)
        href = values.get("href")
        if not href:
            return
        classes = set((values.get("class") or "").split())
        rel = set((values.get("rel") or "").split())
        if classes & self._PLATFORM_CLASSES or "tag" in rel:
            self.links.platform.append(href)
        else:
            self.links.external.append(href)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def content_links(content: object) -> ContentLinks:
    """Links and plain text of a Mastodon status's HTML ``content``.

    Anchors with class ``mention`` or ``hashtag`` (or ``rel="tag"``) link to
    the platform itself (profiles, tag timelines); the others are external.

    Parameters
    ----------
    content
        The ``content`` HTML of a status.

    Examples
    --------
    >>> links = content_links(
    ...     '<p>Hi <span class="h-card"><a href="https://m.social/@bob" class="u-url mention">'
    ...     '@<span>bob</span></a></span> see <a href="https://example.com/x">example.com/x</a></p>')
    >>> links.external, links.platform, links.text
    (['https://example.com/x'], ['https://m.social/@bob'], 'Hi @bob see example.com/x')
    """
    if not isinstance(content, str) or not content:
        return ContentLinks()
    parser = _ContentParser()
    try:
        parser.feed(content[:_MAX_HTML_CHARS])
        parser.close()
    except (AssertionError, ValueError):
        return ContentLinks(text=content)
    parser.links.text = "".join(parser.parts).strip()
    return parser.links
