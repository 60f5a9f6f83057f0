"""Published methods under the package's interface (each returns a :class:`~research.pipeline.Detection`).

Each module's docstring gives the citation, the method as implemented here,
its decision rule and which parameters are the paper's.
"""

from __future__ import annotations

from research.baselines.compa import compa
from research.baselines.evilcohort import evilcohort
from research.baselines.fraudar import fraudar
from research.baselines.pacheco import pacheco
from research.baselines.qut_colink import qut_colink

__all__ = ["compa", "evilcohort", "fraudar", "pacheco", "qut_colink"]
