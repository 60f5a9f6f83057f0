"""hijack-clusters: find clusters of compromised accounts in the accounts x apps x URLs graph."""

from __future__ import annotations

__version__ = "0.1.0"
