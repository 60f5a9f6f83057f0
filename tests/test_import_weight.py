"""Cold start: ``import research`` and the command line's help load none of the heavy modules.

Each case runs in a fresh interpreter and reads ``sys.modules`` at the end, so a heavy
import anywhere on the path (a package ``__init__``, a module-level import in a module the
parser needs) fails here. No timing is asserted: a time would depend on the machine and
its load; which modules load does not. ``tests/io/test_import_weight.py`` checks the same
for ``research.io`` and for reading a CSV.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Modules the light paths must not import (each costs 0.05-0.6 s to import here).
HEAVY = (
    "matplotlib",
    "pandas",
    "duckdb",
    "pyarrow",
    "igraph",
    "leidenalg",
    "scipy",
    "sklearn",
    "dask",
    "distributed",
    "hydra",
    "omegaconf",
    "numpy",
    "networkx",
    "jinja2",
    "datasketch",
)

# Runs the code in `exec`, then prints the heavy modules loaded (also after SystemExit,
# which `--help` raises).
_PROBE = """
import json, sys
heavy = json.loads(sys.argv[2])
try:
    exec(sys.argv[1])
except SystemExit:
    pass
sys.stdout.flush()
print("\\nLOADED " + json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(heavy))))
"""


def loaded_heavy_modules(code: str) -> list[str]:
    """The modules of :data:`HEAVY` that ``code`` loads in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, code, json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("LOADED "), done.stdout
    return json.loads(line.removeprefix("LOADED "))


@pytest.mark.parametrize(
    "code",
    [
        "import research",
        "import research.io",
        "import research.io.cli",
        "from research.cli import main; main(['--help'])",
        "from research.cli import main; main(['detect', '--help'])",
        "from research.cli import main; main(['ingest', '--help'])",
        "from research.cli import main; main(['simulate', '--help'])",
        "from research.cli import main; main(['--version'])",
    ],
)
def test_light_paths_import_no_heavy_module(code: str) -> None:
    assert loaded_heavy_modules(code) == []


@pytest.mark.parametrize("args", [["--help"], ["detect", "--help"], ["ingest", "--help"]])
def test_python_m_research_help_imports_no_heavy_module(args: list[str]) -> None:
    # The real entry point, `python -m research`, with the interpreter's own import log.
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "research", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "usage:" in done.stdout
    imported = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "research" in imported  # the log was read
    assert sorted(imported & set(HEAVY)) == []


def test_the_probe_sees_a_heavy_import() -> None:
    # The check above can fail: importing the API (pandas, pyarrow, ...) is seen.
    assert {"numpy", "pyarrow"} <= set(loaded_heavy_modules("import research; research.load"))


def test_igraph_is_imported_without_matplotlib_and_matplotlib_still_works() -> None:
    code = (
        "from research._igraph import ig; "
        "g = ig.Graph(n=3, edges=[(0, 1), (1, 2)]); assert g.ecount() == 2; "
        "assert 'matplotlib' not in sys.modules; "
        "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt; "
        "plt.close(plt.figure())"
    )
    assert loaded_heavy_modules(code) == ["igraph", "matplotlib", "numpy"]


def test_igraph_keeps_matplotlib_when_it_was_loaded_first() -> None:
    # The guard only acts when neither is loaded: a notebook that imported matplotlib keeps
    # igraph's own matplotlib backend.
    code = (
        "import matplotlib; from research._igraph import ig; "
        "from igraph.drawing.matplotlib.utils import find_matplotlib; "
        "import igraph.drawing.shapes as shapes; assert shapes.mpl is matplotlib"
    )
    assert "igraph" in loaded_heavy_modules(code)


def test_detect_on_parquet_imports_neither_matplotlib_nor_duckdb(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The whole detect verb (graph, Leiden, evidence, report.html) on a posts Parquet
    # dataset: igraph comes without matplotlib, and DuckDB is only for Twitter v1.1 files.
    from research.simulate import simulate

    data = simulate("weheartit", seed=0, n_posts=5_000).write(tmp_path / "data")
    code = (
        "from research.cli import main; "
        f"assert main(['detect', {str(data)!r}, '--out', {str(tmp_path / 'out')!r}, "
        "'--method', 'hijack', '--quiet']) == 0"
    )
    loaded = loaded_heavy_modules(code)
    assert {"igraph", "pyarrow", "numpy"} <= set(loaded)  # the detection did run
    assert "matplotlib" not in loaded
    assert "duckdb" not in loaded
    assert (tmp_path / "out" / "report.html").exists()
