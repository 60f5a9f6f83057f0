"""Check generated outputs and the built paper: files exist, runs succeeded, numbers are in
range, figures are not blank, the PDF has the expected pages. Where the runs' results tables
are absent (a fresh clone with the committed outputs), each output is checked against the
SHA-256 its provenance record holds instead.

    python -m experiments.check --profile quick [--pdf paper/main.pdf]

Exits 1 listing every problem found (CI runs it after ``make paper``).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.config import experiment_names

#: Metric columns and the range their values must lie in.
RANGES = {
    "f1": (0.0, 1.0), "precision": (0.0, 1.0), "recall": (0.0, 1.0), "fpr": (0.0, 1.0),
    "nmi": (0.0, 1.0 + 1e-9), "disconnected_share": (0.0, 1.0), "seconds": (0.0, 1e6), "peak_mb": (0.0, 1e6),
}  # fmt: skip
PAGES = (4, 14)
#: Metrics that are undefined on some runs (precision when nothing is flagged, recall and F1
#: on a platform without a campaign): NaN there is "n/a", not an error.
MAY_BE_UNDEFINED = ("precision", "recall", "f1")


def check_experiment(name: str, profile: str, paper_dir: Path, results_dir: Path) -> list[str]:
    """Problems with one experiment's outputs (empty when all is well)."""
    problems: list[str] = []
    record_path = paper_dir / "generated" / "provenance" / f"{name}.json"
    if not record_path.exists():
        return [f"{name}: no provenance record {record_path}"]
    record = json.loads(record_path.read_text())
    if record["profile"]["name"] != profile:
        problems.append(
            f"{name}: generated with profile {record['profile']['name']!r}, not {profile!r}"
        )
    if not record.get("git", {}).get("commit"):
        problems.append(f"{name}: provenance has no git commit")
    for path in record["outputs"]:
        p = Path(path)
        if not p.exists() or p.stat().st_size == 0:
            problems.append(f"{name}: output {p} missing or empty")
        elif p.suffix == ".png" and blank_png(p):
            problems.append(f"{name}: figure {p} is blank")
    results_path = results_dir / profile / f"{name}.csv"
    if not results_path.exists():
        # Committed outputs checked in a fresh clone (no runs, so no results table): each
        # output must be the bytes its provenance record says the run wrote.
        return [*problems, *_changed_since_recorded(name, record)]
    results = pd.read_csv(results_path)
    if results.empty:
        problems.append(f"{name}: results table is empty")
    failed = results[results["status"] != "ok"]
    for _, row in failed.head(5).iterrows():
        problems.append(f"{name}: run {row['key']} ({row['method']}) failed: {row['error']}")
    for column, (low, high) in RANGES.items():
        if column in results:
            values = results.loc[results["status"] == "ok", column].to_numpy(dtype=float)
            if column in MAY_BE_UNDEFINED:
                values = values[~np.isnan(values)]
            bad = values[~np.isfinite(values) | (values < low) | (values > high)]
            if len(bad):
                problems.append(
                    f"{name}: {len(bad)} values of {column} outside [{low}, {high}] (e.g. {bad[0]})"
                )
    return problems


def _changed_since_recorded(name: str, record: dict) -> list[str]:
    """Outputs whose SHA-256 differs from the one their provenance record holds."""
    import hashlib

    outputs = record["outputs"]
    if not isinstance(outputs, dict) or not outputs:
        return [f"{name}: no results table and no output hashes to check the outputs against"]
    return [
        f"{name}: output {path} is not the file its run wrote (SHA-256 differs from the record)"
        for path, digest in outputs.items()
        if Path(path).exists() and hashlib.sha256(Path(path).read_bytes()).hexdigest() != digest
    ]


#: Generated-table metrics that are shares, so their interval bounds must lie in [0, 1].
SHARE_METRICS = ("f1", "precision", "recall", "fpr", "bcubed_f1", "ap")


def check_intervals(paper_dir: Path) -> list[str]:
    """Interval bounds (``<metric>_lo``, ``<metric>_hi``) of share metrics outside [0, 1] in
    the generated tables (an unclipped Student-t interval runs below 0 on small samples)."""
    problems = []
    for path in sorted((paper_dir / "generated").glob("*.csv")):
        table = pd.read_csv(path)
        for column in table.columns:
            base, _, end = column.rpartition("_")
            share = base in SHARE_METRICS or base.startswith("fpr_") or base.endswith("_share")
            if end not in ("lo", "hi") or not share:
                continue
            values = pd.to_numeric(table[column], errors="coerce").dropna().to_numpy()
            bad = values[(values < 0) | (values > 1)]
            if len(bad):
                problems.append(
                    f"{path}: {len(bad)} values of {column} outside [0, 1] (e.g. {bad[0]})"
                )
    return problems


def check_figures_included(paper_dir: Path) -> list[str]:
    """Figures in ``paper/figures/`` that ``main.tex`` does not include (a generated figure the
    paper never shows is either dead weight or a result left out of the text)."""
    tex = (paper_dir / "main.tex").read_text()
    included = {
        Path(name).stem for name in re.findall(r"\\includegraphics(?:\[[^]]*\])?\{([^}]+)\}", tex)
    }
    return [
        f"{path}: a generated figure main.tex does not include"
        for path in sorted((paper_dir / "figures").glob("*.pdf"))
        if path.stem not in included
    ]


def blank_png(path: Path) -> bool:
    """Whether a PNG holds a single colour (nothing drawn)."""
    import matplotlib.image as mpimg

    pixels = mpimg.imread(path)
    return bool(np.ptp(pixels[..., :3]) == 0)


def check_pdf(pdf: Path, pages: tuple[int, int] = PAGES) -> list[str]:
    """Problems with the built paper: missing, wrong page count, unresolved references."""
    if not pdf.exists():
        return [f"{pdf}: not built"]
    problems = []
    try:
        info = subprocess.run(
            ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
        ).stdout
        count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    except (OSError, subprocess.CalledProcessError, AttributeError):
        return [f"{pdf}: cannot count pages: pdfinfo (poppler-utils) is not installed"]
    if not pages[0] <= count <= pages[1]:
        problems.append(f"{pdf}: {count} pages, expected {pages[0]}-{pages[1]}")
    try:
        fonts = subprocess.run(
            ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
        ).stdout.splitlines()[2:]
    except (OSError, subprocess.CalledProcessError):
        fonts = []
    for line in fonts:
        # Columns: name, type (one or two words), encoding, emb, sub, uni, object, id.
        if "Type 3" in line or line.split()[-5] != "yes":
            problems.append(f"{pdf}: font not embedded as an outline font: {line.split()[0]}")
    log = pdf.with_suffix(".log")
    if log.exists():
        text = log.read_text(errors="replace")
        for pattern in (
            "undefined references",
            "Citation .* undefined",
            "Reference .* undefined",
            "Overfull \\\\hbox \\((?:[2-9]\\d|\\d{3,})",
        ):
            if re.search(pattern, text):
                problems.append(f"{pdf}: log reports {pattern!r}")
    return problems


def check_macros(paper_dir: Path) -> list[str]:
    r"""Every ``\result{key}`` of ``main.tex`` is defined by a generated macro file: a key that
    exists in one profile only (an axis value the quick profile does not sweep) would stop
    LaTeX in the other.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp()); (d / "generated" / "macros").mkdir(parents=True)
    >>> _ = (d / "main.tex").write_text(r"F1 \result{a/f1} and \result{b/f1}")
    >>> _ = (d / "generated" / "macros" / "a.tex").write_text(r"\defresult{a/f1}{0.9}")
    >>> check_macros(d)
    ['main.tex quotes \\result{b/f1}, which no generated macro defines']
    """
    used = set(re.findall(r"\\result\{([^}]*)\}", (paper_dir / "main.tex").read_text()))
    defined: set[str] = set()
    for path in sorted((paper_dir / "generated").rglob("*.tex")):
        defined.update(re.findall(r"\\defresult\{([^}]*)\}", path.read_text()))
    return [
        f"main.tex quotes \\result{{{key}}}, which no generated macro defines"
        for key in sorted(used - defined)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m experiments.check")
    parser.add_argument("--profile", default="full")
    parser.add_argument("--paper-dir", type=Path, default=Path("paper"))
    parser.add_argument("--results-dir", type=Path, default=Path("outputs/results"))
    parser.add_argument("--pdf", type=Path, default=None, help="also check this built PDF")
    args = parser.parse_args(argv)
    problems = [
        p
        for name in experiment_names()
        for p in check_experiment(name, args.profile, args.paper_dir, args.results_dir)
    ]
    bench = args.paper_dir / "generated" / "macros" / "benchmarks.tex"
    if not bench.exists() or "bench/scale" not in bench.read_text():
        problems.append(
            f"{bench}: no benchmark numbers (make paper writes them from benchmarks/results/)"
        )
    problems += check_macros(args.paper_dir)
    problems += check_intervals(args.paper_dir)
    problems += check_figures_included(args.paper_dir)
    if args.pdf is not None:
        problems += check_pdf(args.pdf)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    print(
        f"checked {len(experiment_names())} experiments (profile {args.profile}): {len(problems)} problems"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
