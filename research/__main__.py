"""``python -m research``: see :mod:`research.cli`."""

from __future__ import annotations

import sys

from research.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m research"))
