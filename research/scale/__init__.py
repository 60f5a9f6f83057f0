"""Running the method at scale: straight from Parquet on one machine, or on a Dask cluster."""

from __future__ import annotations

from research.scale.parquet import ParquetColumn, dataset_parts, read_events

__all__ = ["ParquetColumn", "dataset_parts", "read_events"]
