"""Published methods under the package's interface (each returns a :class:`~research.detection.Detection`).

Each module's docstring gives the citation, the method as implemented here,
its decision rule and which parameters are the paper's; each declares a
``TUNING`` space. Every baseline is a :class:`~research.baselines.common.Baseline`
(a parameters dataclass and one procedure, see :mod:`research.baselines.common`).
"""

from __future__ import annotations

from research.baselines.common import Baseline
from research.baselines.compa import compa
from research.baselines.coornet import coornet
from research.baselines.copycatch import copycatch
from research.baselines.courl_louvain import courl_louvain
from research.baselines.fraudar import fraudar
from research.baselines.pacheco import pacheco
from research.baselines.qut_colink import qut_colink
from research.baselines.synchrotrap import synchrotrap

#: The published baselines by name, in the order tables list them.
BASELINES: dict[str, Baseline] = {
    b.name: b
    for b in (
        compa,
        pacheco,
        qut_colink,
        courl_louvain,
        fraudar,
        synchrotrap,
        copycatch,
        coornet,
    )
}

__all__ = [
    "BASELINES",
    "compa",
    "coornet",
    "copycatch",
    "courl_louvain",
    "fraudar",
    "pacheco",
    "qut_colink",
    "synchrotrap",
]
