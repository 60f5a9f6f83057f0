"""Command line: ``python -m research VERB ...``.

One obvious job per verb:

- ``simulate``  write a simulated platform under attack (posts + ground truth)
- ``ingest``    read platform exports into the posts table (with rejects and counts)
- ``detect``    find and explain clusters of compromised accounts
- ``inject``    plant a simulated campaign into a posts table (posts + ground truth)
- ``methods``   list the methods, detectors, filters and presets available
- ``keygen``    write a new pseudonymisation key for ``ingest``

Errors a person can act on print one line to stderr and exit non-zero (no traceback).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from research.errors import ConfigError, InputFileError, UserError

_EPILOG_DETECT = """examples:
  python -m research simulate --preset weheartit --seed 0 --out outputs/data/whi
  python -m research detect outputs/data/whi --out outputs/detect/whi
  python -m research detect tweets.jsonl.gz --out outputs/detect/tweets --set window_s=600
  python -m research detect posts.parquet --out outputs/detect/mine --config my_method.yaml --seed 3
  python -m research detect outputs/data/whi --out outputs/detect/whi --export graphml,gexf,csv
  python -m research detect outputs/data/whi --out outputs/detect/whi --export gexf --export-graph tripartite --export-scope flagged
"""

_EPILOG_INJECT = """examples:
  python -m research inject --into tests/data/twitter-v2 --family stolen_credentials --seed 0 \\
      --out outputs/inject/v2 --max-victims 30
  python -m research detect outputs/inject/v2 --out outputs/detect/v2     # metrics against the truth
  python -m research inject --into posts.parquet --family abused_app --seed 3 --out outputs/inject/mine
"""


class _Version(argparse.Action):
    """``--version``: the installed package's version, read only when asked (the metadata
    machinery costs ~25 ms of start-up)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from research.provenance import version

        print(f"{parser.prog} {version()}")
        parser.exit()


def _parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        # None: the name it was started by (the installed script, hijack-clusters).
        prog=prog,
        description="Find clusters of compromised accounts in the accounts x apps x URLs graph.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    verbs.required = True

    sim = verbs.add_parser(
        "simulate",
        help="write a simulated platform under attack",
        description="Simulate a platform under attack; the seed fixes every byte of the output.",
        epilog=(
            "examples:\n  python -m research simulate --preset weheartit --seed 0 --out outputs/data/whi"
            "\n  python -m research simulate --family stolen_credentials --seed 3 --out outputs/data/sc3"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = sim.add_mutually_exclusive_group()
    which.add_argument(
        "--preset", default="weheartit", help="scenario preset (see `methods`); default weheartit"
    )
    which.add_argument(
        "--family",
        default=None,
        help="a scenario family (research.simulate.families): its knobs are drawn from the seed",
    )
    sim.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sim.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="with --family: the platform's size relative to the family's (default 1)",
    )
    sim.add_argument(
        "--n-posts", type=int, default=None, help="scale the background to this many posts"
    )
    sim.add_argument(
        "--format",
        default="parquet",
        choices=["parquet", "twitter-v1"],
        help="output format of the posts (default parquet)",
    )
    sim.add_argument("--out", required=True, type=Path, help="output directory")
    sim.add_argument("--quiet", action="store_true", help="no progress output")
    sim.set_defaults(run=_simulate)

    det = verbs.add_parser(
        "detect",
        help="find and explain clusters of compromised accounts",
        description=(
            "Find clusters of compromised accounts. INPUT is a posts Parquet file or directory, "
            "a directory written by `simulate`, or raw platform exports (Twitter v1.1/v2 JSON, "
            "information-operations CSV, Mastodon JSON, CSV), which are ingested on the way. "
            "Writes accounts.csv, clusters.csv, summary.json, provenance.json and report.html to --out; "
            "metrics.json too when ground truth is available, and rejects.jsonl (every row that "
            "could not be read) when INPUT is raw."
        ),
        epilog=_EPILOG_DETECT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    det.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="posts to analyse")
    det.add_argument("--out", required=True, type=Path, help="output directory")
    det.add_argument(
        "--method", default="hijack", help="method name (default hijack, this package's method)"
    )
    det.add_argument("--config", type=Path, default=None, help="YAML file of method parameters")
    det.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one method parameter (YAML value); repeatable",
    )
    det.add_argument(
        "--seed", type=int, default=0, help="seed of the community detector (default 0)"
    )
    det.add_argument(
        "--format", default=None, help="input format when INPUT is raw (default: detect)"
    )
    det.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="SOURCE=COLUMN",
        help="raw CSV/Parquet: read column SOURCE as the posts column COLUMN (repeatable), "
        "e.g. --map user=account_id",
    )
    det.add_argument(
        "--truth",
        type=Path,
        default=None,
        help="directory with truth_accounts.parquet (default: INPUT when written by `simulate`)",
    )
    det.add_argument("--no-report", action="store_true", help="skip report.html")
    det.add_argument(
        "--export",
        default="",
        metavar="FORMATS",
        help="also write the graph with verdicts as attributes, comma-separated: graphml, gexf, csv "
        "(graph.graphml, graph.gexf, graph_nodes.csv + graph_edges.csv)",
    )
    det.add_argument(
        "--export-graph",
        default="coaction",
        choices=["coaction", "tripartite"],
        help="exported graph: accounts linked by co-action (default), or accounts x apps x URLs",
    )
    det.add_argument(
        "--export-scope",
        default=None,
        choices=["flagged", "clustered", "all"],
        help="accounts exported (default: clustered for coaction, flagged for tripartite)",
    )
    det.add_argument("--quiet", action="store_true", help="no progress output")
    det.set_defaults(run=_detect)

    inj = verbs.add_parser(
        "inject",
        help="plant a simulated campaign into a posts table (your own export)",
        description=(
            "Plant one campaign of an attack family into a posts table, so that false positives "
            "are measured on real benign behaviour. Victims are the background's own accounts, "
            "the attack's app follows the family's channel among the background's own apps, and "
            "the campaign is placed inside the background's observed time window. POSTS is a "
            "posts Parquet file or directory, a directory written by `simulate`, `ingest` or "
            "`inject` (its ground truth is carried over), or raw platform exports. Writes "
            "posts.parquet, truth_accounts.parquet, truth_posts.parquet and scenario.json (the "
            "family, seed, drawn and planted knobs, and the background's source) to --out, as "
            "`simulate` does; rejects.jsonl too when POSTS is raw. `detect` then reads --out."
        ),
        epilog=_EPILOG_INJECT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inj.add_argument(
        "--into",
        required=True,
        type=Path,
        metavar="POSTS",
        help="the background: posts to plant into",
    )
    inj.add_argument(
        "--family", required=True, help="attack family to draw the campaign from (see `methods`)"
    )
    inj.add_argument(
        "--seed", type=int, default=0, help="draws the campaign and its victims (default 0)"
    )
    inj.add_argument("--out", required=True, type=Path, help="output directory")
    inj.add_argument(
        "--max-victims",
        type=int,
        default=None,
        metavar="N",
        help="at most N victims (hijacked and fake accounts); a draw too large for the "
        "background is refused and the error names the largest N that fits",
    )
    inj.add_argument(
        "--scale-victims",
        type=float,
        default=None,
        metavar="F",
        help="multiply the drawn number of victims by F (before --max-victims)",
    )
    inj.add_argument(
        "--truth",
        type=Path,
        default=None,
        help="directory with the background's truth_accounts.parquet (default: POSTS when it "
        "holds one)",
    )
    inj.add_argument(
        "--format", default=None, help="input format when POSTS is raw (default: detect)"
    )
    inj.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="SOURCE=COLUMN",
        help="raw CSV/Parquet: read column SOURCE as the posts column COLUMN (repeatable)",
    )
    inj.add_argument("--quiet", action="store_true", help="no progress output")
    inj.set_defaults(run=_inject)

    key = verbs.add_parser(
        "keygen",
        help="write a new pseudonymisation key",
        description="Write a new random pseudonymisation key (32 bytes, hex) to a file readable by "
        "you alone, for `ingest --pseudonymise-key-file` (or the environment variable the key "
        "may come from instead). An existing file is never overwritten.",
        epilog="example:\n  python -m research keygen --out ~/.secrets/pseudonym.key",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    key.add_argument("--out", required=True, type=Path, help="the key file to create")
    key.set_defaults(run=_keygen)

    meth = verbs.add_parser(
        "methods",
        help="list methods, detectors, filters, object kinds and presets",
        description="List the names that configs and --method accept.",
        epilog="example:\n  python -m research methods",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    meth.set_defaults(run=_methods)

    # The ingest verb lives with the readers (research/io/cli.py).
    from research.io.cli import add_ingest_parser

    add_ingest_parser(verbs)
    return parser


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Entry point; returns the exit code.

    Parameters
    ----------
    argv
        Arguments (default: the command line's).
    prog
        The command's name in usage and ``--version`` (default: the name it was started
        by, ``hijack-clusters`` for the installed script).
    """
    args = _parser(prog).parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except UserError as err:
        from research.canonical import neutralise_bidi

        print(f"error: {neutralise_bidi(str(err))}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _say(args: argparse.Namespace, message: str) -> None:
    if not getattr(args, "quiet", False):
        from research.canonical import neutralise_bidi

        print(neutralise_bidi(message), file=sys.stderr)


def _simulate(args: argparse.Namespace) -> int:
    from research.simulate import simulate

    start = time.perf_counter()
    if args.family is not None:
        from research.simulate.families import simulate_family

        if args.n_posts is not None:
            raise ConfigError("--n-posts is for presets; a family's size is set by --scale")
        sim = simulate_family(args.family, args.seed, scale=args.scale)
    else:
        sim = simulate(args.preset, seed=args.seed, n_posts=args.n_posts)
    if args.format == "parquet":
        sim.write(args.out)
    else:
        from research.io.writers import write_twitter_v1

        sim.truth.write(args.out)
        write_twitter_v1(sim.posts, args.out / "tweets.jsonl")
    _say(
        args,
        f"simulated {len(sim.posts):,} posts by {sim.posts.n_accounts():,} accounts "
        f"({len(sim.truth.campaigns)} campaign(s)) in {time.perf_counter() - start:.1f} s -> {args.out}",
    )
    return 0


def _inject(args: argparse.Namespace) -> int:
    from research.io.cli import parse_column_map
    from research.provenance import file_digests
    from research.simulate.families import check_attack_family
    from research.simulate.inject import inject
    from research.truth import read_truth

    # Names and values are checked before any data is read.
    check_attack_family(args.family)
    if args.max_victims is not None and args.max_victims < 1:
        raise ConfigError(f"--max-victims must be at least 1, got {args.max_victims}")
    if args.scale_victims is not None and not args.scale_victims > 0:
        raise ConfigError(f"--scale-victims must be positive, got {args.scale_victims}")
    column_map = parse_column_map(args.map)
    start = time.perf_counter()
    args.inputs = [args.into]
    posts, read_info = _read_with_rejects(args, column_map)
    truth_dir = args.truth
    if truth_dir is None and (args.into / "truth_accounts.parquet").exists():
        truth_dir = args.into
    truth = read_truth(truth_dir) if truth_dir is not None else None
    if truth is not None:
        _say(args, f"carrying the background's ground truth from {truth_dir}")
    source = {
        "inputs": [str(args.into)],
        "read_as": read_info.get("format"),
        "truth": str(truth_dir) if truth_dir is not None else None,
        "sha256": file_digests(args.into),
    }
    planted = inject(
        posts,
        args.family,
        args.seed,
        scale_victims=args.scale_victims,
        max_victims=args.max_victims,
        truth=truth,
        source=source,
    )
    planted.write(args.out)
    record = planted.injection or {}
    victims, app = record.get("victims", {}), record.get("app", {})
    through = f" through {app['name']!r}" if app.get("name") else f" ({app.get('mode')} app)"
    _say(
        args,
        f"planted {record.get('campaign')!r} ({args.family}, seed {args.seed}): "
        f"{_count(record.get('attack_posts', 0), 'post')} by {victims.get('hijacked', 0):,} hijacked "
        f"and {victims.get('fake', 0):,} fake accounts{through}, into "
        f"{_count(len(posts), 'post')} by {_count(posts.n_accounts(), 'account')} "
        f"in {time.perf_counter() - start:.1f} s -> {args.out}",
    )
    return 0


def method_config(config: Path | None, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """Method parameters from a YAML file (``--config``) and ``KEY=VALUE`` overrides (``--set``),
    merged by OmegaConf as Hydra merges them: values typed by its YAML grammar, dotted keys
    nested, a later value replacing an earlier one, interpolations resolved.

    Examples
    --------
    >>> method_config(None, ["window_s=600", "detector_params.resolution=0.5", "pair_budget=2.5e7"])
    {'window_s': 600, 'detector_params': {'resolution': 0.5}, 'pair_budget': 25000000.0}
    """
    import yaml
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    base: Any = OmegaConf.create()
    if config is not None:
        if not config.exists():
            raise InputFileError(f"{config}: no such config file")
        try:
            base = OmegaConf.load(config)
        except yaml.YAMLError as err:
            raise ConfigError(f"{config}: not valid YAML: {err}") from None
        if not isinstance(base, DictConfig):
            raise ConfigError(f"{config}: expected a mapping of method parameters")
    for item in overrides:
        key, sep, _value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
    try:
        merged = OmegaConf.merge(base, OmegaConf.from_dotlist(list(overrides)))
        params = OmegaConf.to_container(merged, resolve=True)
    except (yaml.YAMLError, OmegaConfBaseException) as err:
        raise ConfigError(f"method parameters (--config, --set): {err}") from None
    assert isinstance(params, dict)
    return {str(k): v for k, v in params.items()}


def _detect(args: argparse.Namespace) -> int:
    from research.evaluate import evaluate
    from research.io.cli import parse_column_map
    from research.methods import check_params, run_method
    from research.outputs import write_detection
    from research.truth import read_truth

    # Every name and value that can be checked without data is checked before any is read.
    params = method_config(args.config, args.set)
    check_params(args.method, params)
    export_formats = _export_formats(args.export)
    column_map = parse_column_map(args.map)
    posts, read_info = _read_with_rejects(args, column_map)
    if len(posts) == 0:
        raise InputFileError(f"{args.inputs[0]}: no posts to analyse")
    detection = run_method(args.method, posts, params, seed=args.seed, progress=not args.quiet)

    truth_dir = args.truth
    if (
        truth_dir is None
        and len(args.inputs) == 1
        and (args.inputs[0] / "truth_accounts.parquet").exists()
    ):
        truth_dir = args.inputs[0]
    metrics = evaluate(detection.accounts, read_truth(truth_dir)) if truth_dir is not None else None
    write_detection(detection, args.out, metrics=metrics, input=read_info)
    if not args.no_report:
        _say(args, "writing report.html")
        _write_report(posts, detection, args.out, metrics=metrics, progress=not args.quiet)
    if export_formats:
        from research.report import write_exports

        _say(args, f"exporting the {args.export_graph} graph as {', '.join(export_formats)}")
        write_exports(
            posts,
            detection,
            args.out,
            export_formats,
            graph=args.export_graph,
            scope=args.export_scope,
            progress=not args.quiet,
        )
    summary = detection.summary()
    clusters = _count(summary["n_flagged_clusters"], "flagged cluster")
    if summary["n_campaigns"] != summary["n_flagged_clusters"]:
        clusters += f" in {_count(summary['n_campaigns'], 'campaign')}"
    accounts = _count(summary["n_flagged_accounts"], "flagged account")
    _say(args, f"{clusters}, {accounts} -> {args.out}")
    for line in _cluster_lines(detection, args.out, report=not args.no_report):
        _say(args, line)
    if metrics is not None:
        _say(
            args,
            f"F1 {metrics['f1']:.3f}  precision {metrics['precision']:.3f}  recall {metrics['recall']:.3f}  benign FPR {metrics['fpr']:.4f}",
        )
    return 0


#: Flagged clusters whose sentence is printed (highest score first); clusters.csv has them all.
SHOWN_SENTENCES = 10


def _cluster_lines(detection: Any, out: Path, *, report: bool) -> list[str]:
    """The sentences of the highest-scoring flagged clusters, and a count of the rest."""
    clusters = detection.clusters
    flagged = detection.flagged  # highest score first
    shown = flagged["cluster"].head(SHOWN_SENTENCES).tolist()
    lines = ["  " + detection.explain(int(cluster)).text for cluster in shown]
    more, unflagged = len(flagged) - len(shown), len(clusters) - len(flagged)
    if more or unflagged:
        rest = [f"{more:,} more flagged (lower scores)"] if more else []
        rest += [f"{unflagged:,} not flagged"] if unflagged else []
        where = out / "clusters.csv"
        lines.append(
            f"  and {' and '.join(rest)}: every cluster's sentence is in {where}"
            + (" and report.html" if report else "")
        )
    return lines


def _count(n: int, noun: str) -> str:
    """``n noun`` with the plural when needed (``1 post``, ``2 posts``)."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _read_with_rejects(args: argparse.Namespace, column_map: dict[str, str]) -> tuple[Any, Any]:
    """The posts of ``args.inputs``; raw exports leave ``rejects.jsonl`` in ``args.out`` (every
    row that could not be read, as ``ingest`` writes it) and a line saying how many."""
    import orjson

    from research.io.loading import load_posts

    args.out.mkdir(parents=True, exist_ok=True)
    partial = args.out / ".rejects.jsonl.partial"
    try:
        with partial.open("wb") as rejects:
            posts, info = load_posts(
                args.inputs,
                args.format,
                progress=not args.quiet,
                column_map=column_map,
                on_reject=lambda reject: rejects.write(orjson.dumps(reject.to_dict()) + b"\n"),
            )
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    line = f"read {_count(len(posts), 'post')} by {_count(posts.n_accounts(), 'account')}"
    if info.get("format") == "raw":
        partial.replace(args.out / "rejects.jsonl")
        ingest = info["ingest"]
        rejected = sum(ingest.get("rejected", {}).values())
        if rejected:
            reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(ingest["rejected"].items()))
            line += (
                f"; {_count(rejected, 'row')} rejected ({reasons}): "
                f"see {args.out / 'rejects.jsonl'}"
            )
    else:
        partial.unlink(missing_ok=True)
    _say(args, line)
    for note in info.get("notes", []):  # also recorded with the outputs (summary.json)
        _say(args, f"note: {note}")
    return posts, info


def _export_formats(value: str) -> list[str]:
    """The --export formats, checked before any work is done."""
    if not value:
        return []
    from research.report.exports import parse_formats

    return parse_formats(value)


def _write_report(posts: Any, detection: Any, out: Path, **options: Any) -> None:
    from research.report import write_report

    write_report(posts, detection, out / "report.html", **options)


def _keygen(args: argparse.Namespace) -> int:
    import os
    import secrets

    from research.io.pseudonymise import KEY_ENV_VAR

    path = args.out.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: a key that pseudonymised earlier data is never replaced by accident.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputFileError(
            f"{path}: exists; a new key would give new pseudonyms (remove it first if that is meant)"
        ) from None
    except OSError as err:
        raise InputFileError(f"{path}: cannot create the key file ({err.strerror})") from None
    with os.fdopen(handle, "w") as key_file:
        key_file.write(secrets.token_hex(32) + "\n")
    print(
        f"wrote a new pseudonymisation key to {path} (readable by you alone; keep it secret and "
        f"keep it: the same key gives the same pseudonyms). Use it with "
        f'--pseudonymise-key-file {path}, or export {KEY_ENV_VAR}="$(cat {path})"',
        file=sys.stderr,
    )
    return 0


def _methods(args: argparse.Namespace) -> int:
    from research.detect import DETECTORS
    from research.graph.base import OBJECTS, WEIGHTINGS
    from research.graph.filters import FILTERS
    from research.methods import METHODS
    from research.simulate import PRESETS
    from research.simulate.families import ATTACK_FAMILIES, BENIGN_FAMILIES

    listing: dict[str, Iterable[str]] = {
        "methods": METHODS,
        "detectors": DETECTORS,
        "filters": FILTERS,
        "projection objects": OBJECTS,
        "weightings": WEIGHTINGS,
        "presets": PRESETS,
        "attack families (simulate, inject)": ATTACK_FAMILIES,
        "benign families (simulate)": BENIGN_FAMILIES,
    }
    for title, registry in listing.items():
        print(f"{title}: {', '.join(sorted(registry))}")
    return 0
