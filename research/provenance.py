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


def file_digests(path: str | Path) -> dict[str, str]:
    """SHA-256 of a file, or of every file below a folder (hidden ones aside), by path: which
    bytes an input was, whatever it is called later.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()); _ = (folder / "a.csv").write_text("x")
    >>> list(file_digests(folder).values())
    ['2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881']
    """
    import hashlib

    path = Path(path)
    if str(path) == "-" or not path.exists():
        return {}
    if path.is_file():
        files = [path]
    else:
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
    digests = {}
    for file in files:
        digest = hashlib.sha256()
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digests[str(file)] = digest.hexdigest()
    return digests


def to_json_text(data: Any) -> str:
    """Deterministic JSON (sorted keys, numpy scalars converted, floats rounded to 10 digits)."""
    import json

    return json.dumps(_plain(data), indent=2, sort_keys=True, allow_nan=False) + "\n"


def _plain(value: Any) -> Any:
    # numpy and pandas on use: importing provenance (for ``--version``) stays cheap.
    import numpy as np
    import pandas as pd

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return None if not np.isfinite(value) else round(value, 10)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
