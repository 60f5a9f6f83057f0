"""Running the method at scale: straight from Parquet on one machine, or on a Dask cluster.

- :func:`read_events` encodes a posts Parquet dataset reading five columns (texts stay
  on disk behind a :class:`ParquetColumn`).
- :func:`detect_parquet` runs the method from Parquet to flagged clusters on a
  :class:`BackendSpec` (``memory`` or ``dask``); both give the same results.
- :func:`research.scale.dask_backend.dask_project` is the distributed projection.
"""

from __future__ import annotations

from research.scale.backend import BackendSpec, dask_client, slurm_job_script
from research.scale.parquet import ParquetColumn, dataset_parts, read_events
from research.scale.run import detect_parquet

__all__ = [
    "BackendSpec",
    "ParquetColumn",
    "dask_client",
    "dataset_parts",
    "detect_parquet",
    "read_events",
    "slurm_job_script",
]
