"""README's first command, as a newcomer runs it: clone, ``make run``, open the report.

The clone runs ``make run`` for real (Hydra, the simulation, the method, the report and the
figures, from the clone's own code: ``python -m`` puts the clone first on the path). Only the
installation is reused: ``VENV`` points the clone's Makefile at the environment these tests
run in, which holds the stamp of the same pyproject.toml, so that ``setup`` has nothing to do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow

RUN_DIR = Path("outputs/run/weheartit/hijack/seed=0")


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def test_make_run_in_a_fresh_clone_leaves_a_clean_tree_and_the_report(tmp_path):
    clone = tmp_path / "clone"
    _git("clone", "--quiet", "--no-hardlinks", str(REPO), str(clone), cwd=tmp_path)
    venv = Path(sys.prefix)
    checksum = subprocess.run(
        "cat pyproject.toml | cksum | cut -d' ' -f1",
        shell=True, cwd=clone, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not (venv / f".installed-{checksum}").exists():
        pytest.fail(
            f"{venv} was not set up from the committed pyproject.toml (no .installed-{checksum}); "
            "commit it and run `make setup`, so that the clone can reuse the environment"
        )
    # Bytecode is written, so that the clone's __pycache__ shows whose code ran.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run(
        ["make", "run", f"VENV={venv}"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # Nothing was installed (setup had nothing to do), and the run used the clone's code
    # (compiled in the clone's own folders).
    assert "pip install" not in done.stdout
    assert (clone / "research" / "report" / "__pycache__").is_dir()
    assert (clone / "experiments" / "__pycache__").is_dir()
    assert _git("status", "--porcelain", cwd=clone) == ""
    run = clone / RUN_DIR
    assert (run / "report.html").stat().st_size > 10_000
    provenance = json.loads((run / "provenance.json").read_text())
    assert provenance["git"]["commit"] == _git("rev-parse", "HEAD", cwd=clone).strip()
    assert provenance["git"]["dirty"] is False
    # The last lines say where the report and the figures are, and run.log holds them too.
    assert f"report:  {RUN_DIR / 'report.html'}" in done.stdout
    assert f"figure:  {RUN_DIR / 'figures' / 'weheartit_hijack_timeline.pdf'}" in done.stdout
    log = (run / "run.log").read_text()
    assert "report:  " in log and "F1 1.000" in log
