"""Where a result came from: code version, packages, interpreter, command."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

#: The distribution this package is installed as (``project.name`` in pyproject.toml).
DISTRIBUTION = "hijack-clusters"

_PACKAGES = (
    DISTRIBUTION,
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "igraph",
    "networkx",
    "matplotlib",
    "hydra-core",
)


def version() -> str:
    """This package's version, read from its installed metadata: pyproject.toml is the one
    place it is written. ``"unknown"`` when the package runs from a source tree without being
    installed (the notebooks allow it).

    Examples
    --------
    >>> version() == importlib.metadata.version("hijack-clusters")
    True
    """
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def git_state(root: str | Path | None = None) -> dict[str, Any]:
    """Commit hash and whether the work tree has uncommitted changes (``None`` outside git)."""
    root = Path(root) if root else Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(dirty)}


def package_versions(names: tuple[str, ...] = _PACKAGES) -> dict[str, str | None]:
    """Installed versions of the packages that shape results."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance(**extra: Any) -> dict[str, Any]:
    """A provenance record: git state, package versions, Python, platform, and ``extra``.

    Examples
    --------
    >>> sorted(provenance(seed=0))[:3]
    ['command', 'git', 'packages']
    """
    return {
        "git": git_state(),
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "command": sys.argv,
        **extra,
    }
