"""Where every input row went: written, rejected with a reason, or skipped with a reason.

What a *row* is depends on the format (the readers' module docs say it
again):

* JSON lines formats: one non-blank line; inside a response page (a
  Twitter v1.1 ``statuses`` array, a twarc2 ``data`` array, a JSON array of
  statuses) each post is a row, and a page line that cannot be parsed at all
  is one rejected row. Lines of white space only are not rows.
* CSV: one record (header excluded); a record may span several lines when a
  quoted field holds line breaks. Parquet: one table row.

For every file ``rows_read == rows_written + sum(rejected) + sum(skipped)``.
A *reject* is input we could not read as a post (malformed JSON, a missing
id, an unreadable time...): it is listed with its file, line (or CSV record)
and a snippet. A *skip* is input that is fine but is not a post we keep (a
stream's ``delete`` notice, an API error object, a duplicate post id): it is
counted by reason only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SNIPPET_CHARS", "FileLog", "Reject"]

#: Raw input kept in a reject record, in characters.
SNIPPET_CHARS = 300


@dataclass(frozen=True)
class Reject:
    """One input row that could not be read as a post."""

    file: str
    reason: str
    line: int | None = None
    record: int | None = None
    item: int | None = None
    detail: str = ""
    snippet: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict, without empty position fields."""
        out: dict[str, Any] = {"file": self.file}
        for name in ("line", "record", "item"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        out["reason"] = self.reason
        if self.detail:
            out["detail"] = self.detail
        out["snippet"] = self.snippet
        return out


def snippet_of(raw: bytes | str | None) -> str:
    """The first :data:`SNIPPET_CHARS` characters of raw input, as text."""
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        raw = raw[: SNIPPET_CHARS * 4].decode("utf-8", errors="replace")
    return raw[:SNIPPET_CHARS]


@dataclass
class FileLog:
    """Counts and rejects for one input file."""

    file: str
    format: str = ""
    compression: str | None = None
    engine: str = "python"
    rows_read: int = 0
    rows_written: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    on_reject: Callable[[Reject], None] | None = None
    notes: list[str] = field(default_factory=list)

    def read(self, n: int = 1) -> None:
        """Count rows taken from the input."""
        self.rows_read += n

    def skip(self, reason: str, n: int = 1) -> None:
        """Count rows that are fine but are not posts we keep."""
        if n:
            self.skipped[reason] += n

    def reject(
        self,
        reason: str,
        *,
        raw: bytes | str | None = None,
        line: int | None = None,
        record: int | None = None,
        item: int | None = None,
        detail: str = "",
    ) -> None:
        """Count a row that could not be read as a post, and hand its record on."""
        self.rejected[reason] += 1
        if self.on_reject is not None:
            self.on_reject(
                Reject(self.file, reason, line, record, item, detail[:500], snippet_of(raw))
            )

    def reconciles(self) -> bool:
        """Whether every row read is written, rejected or skipped."""
        return self.rows_read == (
            self.rows_written + sum(self.rejected.values()) + sum(self.skipped.values())
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary of this file."""
        out: dict[str, Any] = {
            "path": self.file,
            "format": self.format,
            "compression": self.compression,
            "engine": self.engine,
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "rejected": dict(sorted(self.rejected.items())),
            "skipped": dict(sorted(self.skipped.items())),
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out
