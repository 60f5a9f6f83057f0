"""The ``ingest`` verb of the command line (registered by ``research.cli``)."""

from __future__ import annotations

import argparse
import sys

from research.errors import ConfigError, InputFileError, UserError
from research.io.options import ENGINES, FORMATS, TABULAR_COLUMNS, ReadOptions
from research.io.pseudonymise import KEY_ENV_VAR, read_key

# Only light modules above: `--help` builds this parser; the readers (numpy, pyarrow)
# are imported by run_ingest.

__all__ = ["add_ingest_parser", "parse_column_map", "run_ingest"]

_EPILOG = f"""\
examples:
  hijack-clusters ingest tweets.jsonl.gz --out runs/brexit
  hijack-clusters ingest captures/ --out runs/all --format twitter-v2 \\
      --pseudonymise-key-file ~/.secrets/pseudonym.key
  hijack-clusters ingest export.csv --out runs/csv --map id=post_id \\
      --map user=account_id --map created_at=timestamp --platform bluesky

Writes OUT/posts.parquet, OUT/rejects.jsonl (file, line or record, reason,
snippet for each row that could not be read) and OUT/summary.json (counts that
reconcile: read = written + rejected + skipped). The key may also come from
${KEY_ENV_VAR}; it is never written anywhere.
"""


def add_ingest_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Register ``ingest INPUT... --out DIR`` on a subparsers object.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="hijack-clusters")
    >>> _ = add_ingest_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["ingest", "a.jsonl", "--out", "out", "--quiet"])
    >>> args.inputs, args.out, args.quiet
    (['a.jsonl'], 'out', True)
    """
    parser = subparsers.add_parser(
        "ingest",
        help="read platform exports into a posts table",
        description="Read platform exports (Twitter v1.1/v2, information-operations CSV, "
        "Mastodon, CSV, Parquet; gzip, bzip2, zstd) into a posts table.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="files or folders (read in sorted order)"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--format", choices=FORMATS, default=None, help="input format (default: detected per file)"
    )
    parser.add_argument(
        "--pseudonymise-key-file",
        metavar="PATH",
        default=None,
        help=f"replace account ids and names by HMAC-SHA256 pseudonyms under this key (or set ${KEY_ENV_VAR})",
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="SOURCE=COLUMN",
        help="CSV/Parquet: read column SOURCE as the posts column COLUMN (repeatable), "
        f"e.g. --map user=account_id; columns: {', '.join(TABULAR_COLUMNS)}",
    )
    parser.add_argument(
        "--platform",
        default=None,
        metavar="NAME",
        help="CSV/Parquet: platform of rows without a platform column",
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="Twitter v1.1 reader: DuckDB (auto) or the line-by-line Python reference; same posts",
    )
    parser.add_argument(
        "--duckdb-threads", type=int, default=None, metavar="N", help="threads for DuckDB"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary line")
    parser.set_defaults(run=run_ingest)
    return parser


def parse_column_map(pairs: list[str]) -> dict[str, str]:
    """``["user=account_id", ...]`` as ``{"user": "account_id", ...}``.

    Examples
    --------
    >>> parse_column_map(["user=account_id", "tweet id=post_id"])
    {'user': 'account_id', 'tweet id': 'post_id'}
    >>> parse_column_map(["user"])
    Traceback (most recent call last):
    ...
    research.errors.ConfigError: --map 'user': expected SOURCE=COLUMN, e.g. --map user=account_id
    """
    mapping: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source or not target:
            raise ConfigError(f"--map {pair!r}: expected SOURCE=COLUMN, e.g. --map user=account_id")
        mapping[source] = target.strip()
    return mapping


def run_ingest(args: argparse.Namespace) -> int:
    """Run ``ingest`` from parsed arguments; the exit code (0 on success)."""
    from research.canonical import neutralise_bidi
    from research.io.ingest import ingest

    try:
        key = read_key(args.pseudonymise_key_file)
        options = ReadOptions(
            format=args.format,
            column_map=parse_column_map(args.map),
            platform=args.platform,
            engine=args.engine,
            duckdb_threads=args.duckdb_threads,
        )
        summary = ingest(
            args.inputs, args.out, options, pseudonymise_key=key, progress=not args.quiet
        )
    except UserError as err:
        print(f"error: {neutralise_bidi(str(err))}", file=sys.stderr)
        return err.exit_code
    unreadable = summary.unreadable()
    for message in unreadable:
        print(
            f"error: {neutralise_bidi(message)} (see {summary.outputs['rejects']})", file=sys.stderr
        )
    if not args.quiet:
        rejected = sum(summary.rejected.values())
        skipped = sum(summary.skipped.values())
        print(
            f"{summary.rows_written} posts written to {summary.outputs['posts']} "
            f"({summary.rows_read} rows read, {rejected} rejected, {skipped} skipped, "
            f"{summary.rows_per_s:,.0f} rows/s)",
            file=sys.stderr,
        )
    return InputFileError.exit_code if unreadable else 0
