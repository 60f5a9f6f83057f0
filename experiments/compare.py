"""Every method of METHODS on every simulator preset: the methods table of the README and the paper.

    python -m experiments.compare                 # seeds 0..9
    python -m experiments.compare --seeds 0 --presets weheartit --methods joint pacheco --no-readme
    python -m experiments.compare --from-runs paper/generated/methods_runs.csv   # re-tabulate only

Each method runs with the parameters of its Hydra config (``configs/method/<name>.yaml``;
the package's method with the default projection, filter, detect and evidence groups).
Writes ``paper/generated/methods_runs.csv`` (one row per preset, seed and method),
``methods_table.{csv,md,tex}`` (means over seeds) and ``methods_table.provenance.json``,
and replaces the block between ``<!-- methods-table:start -->`` and
``<!-- methods-table:end -->`` in README.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from experiments.config import CONFIG_DIR, REPO, method_params
from research.errors import UserError

PRESETS = ("weheartit", "rogue_app", "multi_campaign", "camouflage")


def config_params(name: str, configs: Path = CONFIG_DIR) -> dict[str, Any]:
    """The parameters a method gets from its Hydra config (as ``experiments.run`` passes them)."""
    with initialize_config_dir(config_dir=str(configs), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"method={name}"])
    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    return method_params(plain)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and write its tables."""
    from experiments.tools.comparison import (
        compare_methods,
        latex_table,
        markdown_table,
        replace_block,
        summarise,
    )
    from research.methods import METHODS
    from research.outputs import to_json_text
    from research.provenance import provenance

    parser = argparse.ArgumentParser(
        prog="python -m experiments.compare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=list(range(10))
    )  # the 10 seeds a point the paper uses
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument(
        "--n-posts", type=int, default=None, help="platform size (default: each preset's)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "paper" / "generated")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    parser.add_argument("--no-readme", action="store_true", help="do not touch README.md")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--from-runs",
        type=Path,
        default=None,
        help="re-tabulate an existing methods_runs.csv instead of running",
    )
    args = parser.parse_args(argv)
    params = {name: config_params(name) for name in args.methods}
    if args.from_runs is not None:
        import pandas as pd

        runs = pd.read_csv(args.from_runs)
        args.seeds = sorted(int(s) for s in runs["seed"].unique())
    else:
        try:
            runs = compare_methods(
                args.presets,
                args.seeds,
                methods=args.methods,
                params_of=params.__getitem__,
                n_posts=args.n_posts,
                progress=None
                if args.quiet
                else lambda line: print(line, file=sys.stderr, flush=True),
            )
        except UserError as err:
            print(f"error: {err}", file=sys.stderr)
            return err.exit_code
    summary = summarise(runs)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.from_runs is None or args.from_runs.resolve() != (out / "methods_runs.csv").resolve():
        runs.to_csv(out / "methods_runs.csv", index=False, float_format="%.6f", lineterminator="\n")
    summary.to_csv(out / "methods_table.csv", index=False, float_format="%.6f", lineterminator="\n")
    command = "python -m experiments.compare --seeds " + " ".join(str(s) for s in args.seeds)
    seeds = ", ".join(str(s) for s in args.seeds)
    note = (
        f"Means over seeds {seeds} at each preset's full size (F1 range over seeds in brackets; "
        f"best F1 per preset in bold). Runtime: the method's call on encoded posts, wall clock on a "
        f"shared 2-core machine. Produced by `{command}`; do not edit by hand.\n\n"
    )
    markdown = note + markdown_table(summary)
    (out / "methods_table.md").write_text(markdown)
    (out / "methods_table.tex").write_text(latex_table(summary))
    (out / "methods_table.provenance.json").write_text(
        to_json_text(
            provenance(
                seeds=args.seeds,
                presets=args.presets,
                methods=args.methods,
                params=params,
                n_posts=args.n_posts,
            )
        )
    )
    if not args.no_readme:
        args.readme.write_text(replace_block(args.readme.read_text(), markdown))
    if not args.quiet:
        print(markdown, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
