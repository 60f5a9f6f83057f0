"""A test cannot pass by skipping for a missing required package (the hook in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO, missing_required, required_packages


def test_the_test_extra_and_the_dependencies_are_required():
    required = required_packages()
    # the test extra, extras of its requirements (dask[distributed]) and the dependencies
    assert {"coordination-network-toolkit", "distributed", "hydra-joblib-launcher"} <= required
    assert {"igraph", "leidenalg", "duckdb"} <= required
    reason = "could not import 'hydra_plugins.hydra_joblib_launcher': No module named 'x'"
    assert missing_required(reason, required) == "hydra_plugins.hydra_joblib_launcher"
    assert missing_required("could not import 'not_ours': no", required) is None


def test_a_skip_for_a_missing_required_package_fails_the_run(tmp_path):
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_make_collect_report, pytest_runtest_makereport\n"
    )
    (tmp_path / "test_inner.py").write_text(
        "import sys\n"
        "import pytest\n"
        "sys.modules['distributed'] = None  # as if it were not installed\n"
        "def test_needs_a_required_package():\n"
        "    pytest.importorskip('distributed')\n"
        "def test_needs_an_optional_package():\n"
        "    pytest.importorskip('surely_not_a_dependency_of_ours')\n"
        "def test_skips_for_another_reason():\n"
        "    pytest.skip('latexmk not installed')\n"
    )
    (tmp_path / "test_module_level.py").write_text(
        "import sys\n"
        "import pytest\n"
        "sys.modules['joblib'] = None\n"
        "pytest.importorskip('joblib')\n"
        "def test_never_collected():\n"
        "    pass\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider",
         "--continue-on-collection-errors", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 1, out
    assert "1 failed, 2 skipped, 1 error" in out, out
    assert "FAILED test_inner.py::test_needs_a_required_package" in out
    assert "ERROR test_module_level.py" in out
    assert "pip install -e '.[test]'" in out
