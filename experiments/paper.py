"""Regenerate the paper's figures and tables, then (optionally) build the PDF.

    python -m experiments.paper --profile quick            # experiments whose outputs are missing
    python -m experiments.paper --profile full --all       # every experiment (cached runs reused)
    python -m experiments.paper --all --force              # every run recomputed
    python -m experiments.paper --build                    # ... then latexmk paper/main.tex
    python -m experiments.paper --profile quick sweep.n_jobs=2   # extra Hydra overrides

An experiment counts as missing when its provenance record is absent, names another
profile, or lists an output file that is not there.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from experiments.config import compose_config, experiment_names
from experiments.experiment import run_experiment
from experiments.outputs import write_benchmark_macros
from research.errors import UserError

LATEX_PACKAGES = "latexmk texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended"


def is_missing(name: str, profile: str, paper_dir: Path) -> bool:
    """Whether an experiment's outputs must be (re)generated for ``profile``: no record, another
    profile, a missing output, or (for ``methods: all``) another set of registered methods than
    the outputs were made with, as after a new baseline is merged."""
    from research.methods import METHODS

    record = paper_dir / "generated" / "provenance" / f"{name}.json"
    try:
        data = json.loads(record.read_text())
    except (OSError, json.JSONDecodeError):
        return True
    if data.get("profile", {}).get("name") != profile:
        return True
    if data.get("experiment", {}).get("methods") == "all" and data.get("registry") != list(METHODS):
        return True
    return not all(Path(p).exists() for p in data.get("outputs", {}))


def regenerate(
    names: Sequence[str],
    profile: str,
    overrides: Sequence[str] = (),
    *,
    force: bool = False,
    progress: bool = True,
) -> list[tuple[str, float]]:
    """Run experiments in this process; returns ``(name, seconds)`` of each."""
    spent = []
    for name in names:
        start = time.perf_counter()
        chosen = [
            f"experiment={name}",
            f"profile={profile}",
            f"progress={str(progress).lower()}",
            *overrides,
        ]
        if force:
            chosen.append("sweep.force=true")
        cfg = compose_config(chosen)
        done = run_experiment(cfg, chosen)
        seconds = time.perf_counter() - start
        ex = done.execution
        print(
            f"{name}: {len(done.experiment.runs)} runs ({ex.cached} cached, {ex.computed} computed, {ex.failed} failed) in {seconds:.1f} s",
            flush=True,
        )
        spent.append((name, seconds))
    return spent


def build_pdf(paper_dir: Path) -> Path:
    """``latexmk -pdf main.tex`` in the paper directory."""
    if shutil.which("latexmk") is None:
        raise UserError(
            f"latexmk not found; on Debian/Ubuntu: apt-get install --no-install-recommends {LATEX_PACKAGES}"
        )
    subprocess.run(
        ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error", "main.tex"],
        cwd=paper_dir, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return paper_dir / "main.pdf"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m experiments.paper", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--profile", default="full", help="configs/profile/<name>.yaml (default: full)"
    )
    parser.add_argument(
        "--all", action="store_true", help="every experiment, not only the missing ones"
    )
    parser.add_argument("--only", default=None, help="comma-separated experiment names")
    parser.add_argument("--force", action="store_true", help="recompute cached runs")
    parser.add_argument(
        "--build", action="store_true", help="build paper/main.pdf with latexmk afterwards"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument(
        "overrides", nargs="*", help="Hydra overrides for every experiment, e.g. sweep.n_jobs=2"
    )
    args = parser.parse_args(argv)
    paper_dir = Path(
        next((o.split("=", 1)[1] for o in args.overrides if o.startswith("paper_dir=")), "paper")
    )
    names = experiment_names() if args.only is None else args.only.split(",")
    unknown = set(names) - set(experiment_names())
    if unknown:
        print(
            f"error: no experiment {', '.join(sorted(unknown))}; known: {', '.join(experiment_names())}",
            file=sys.stderr,
        )
        return 2
    if not (args.all or args.force):
        names = [n for n in names if is_missing(n, args.profile, paper_dir)]
    try:
        # The benchmark numbers the paper quotes come from make bench's files, not from a sweep.
        write_benchmark_macros(paper_dir)
        spent = regenerate(
            names, args.profile, args.overrides, force=args.force, progress=not args.quiet
        )
        if spent:
            print(
                f"{len(spent)} experiments in {sum(s for _, s in spent):.1f} s (profile {args.profile})"
            )
        else:
            print(f"all experiments' outputs present for profile {args.profile}")
        if args.build:
            print(f"built {build_pdf(paper_dir)}")
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except subprocess.CalledProcessError:
        print(f"error: latexmk failed; see {paper_dir / 'main.log'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
