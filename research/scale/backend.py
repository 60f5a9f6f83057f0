"""Where the heavy steps run: in this process (``memory``) or on a Dask cluster (``dask``).

A :class:`BackendSpec` is plain data (it comes from the Hydra group
``configs/backend/``). :func:`dask_client` turns it into a
``distributed.Client``: a ``LocalCluster`` on this machine, a running
scheduler at ``scheduler`` (any cluster: ``dask-scheduler`` by hand, a Slurm
allocation...), or ``dask-jobqueue``'s ``SLURMCluster`` that submits its
workers as Slurm jobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from research.errors import ConfigError

BackendName = Literal["memory", "dask"]
ClusterKind = Literal["local", "slurm"]


@dataclass(frozen=True)
class BackendSpec:
    """How to run the steps that grow with the data.

    Attributes
    ----------
    name
        ``memory`` (this process) or ``dask``.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); when set,
        ``cluster`` and the worker settings are ignored.
    cluster
        Without ``scheduler``: ``local`` starts a ``distributed.LocalCluster``,
        ``slurm`` a ``dask_jobqueue.SLURMCluster`` (the optional extra ``dask``).
    n_workers, threads_per_worker, processes, memory_limit
        LocalCluster workers (``processes=False`` runs them as threads of this
        process: no serialisation, the right choice on one machine).
    jobs, slurm
        SLURMCluster: how many worker jobs, and its keyword arguments
        (``cores``, ``memory``, ``walltime``, ``queue``, ``account``,
        ``job_extra_directives``...).
    partitions
        Partitions of the shuffles by object and by pair (default: twice the
        number of workers' threads, at least 2).
    """

    name: BackendName = "memory"
    scheduler: str | None = None
    cluster: ClusterKind = "local"
    n_workers: int = 2
    threads_per_worker: int = 1
    processes: bool = False
    memory_limit: str | None = None
    jobs: int = 2
    slurm: dict[str, Any] = field(default_factory=dict)
    partitions: int | None = None

    def __post_init__(self) -> None:
        if self.name not in ("memory", "dask"):
            raise ConfigError(f"backend.name must be 'memory' or 'dask', got {self.name!r}")
        if self.cluster not in ("local", "slurm"):
            raise ConfigError(f"backend.cluster must be 'local' or 'slurm', got {self.cluster!r}")
        if self.n_workers < 1 or self.threads_per_worker < 1 or self.jobs < 1:
            raise ConfigError(
                "backend.n_workers, backend.threads_per_worker and backend.jobs must be at least 1"
            )
        if self.partitions is not None and self.partitions < 1:
            raise ConfigError(
                f"backend.partitions must be at least 1 or null, got {self.partitions}"
            )

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> BackendSpec:
        """Build from plain data (a Hydra config); unknown keys raise :class:`ConfigError`.

        Examples
        --------
        >>> BackendSpec.from_dict({"name": "dask", "n_workers": 4}).n_workers
        4
        """
        data = dict(data or {})
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(
                f"backend: unknown key(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(cls.__dataclass_fields__))}"
            )
        if "slurm" in data:
            data["slurm"] = dict(data["slurm"] or {})
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for provenance)."""
        return asdict(self)


@contextmanager
def dask_client(spec: BackendSpec) -> Iterator[Any]:
    """A ``distributed.Client`` for the spec; a cluster started here is shut down on exit.

    Examples
    --------
    >>> with dask_client(BackendSpec("dask", n_workers=1)) as client:
    ...     client.submit(sum, [1, 2]).result()
    3
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as err:  # pragma: no cover - distributed is a dependency
        raise ConfigError(f"backend 'dask' needs the distributed package ({err})") from None
    if spec.scheduler:
        client = Client(spec.scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    if spec.cluster == "slurm":
        try:
            from dask_jobqueue import SLURMCluster
        except ImportError:
            raise ConfigError(
                "backend.cluster 'slurm' needs dask-jobqueue: pip install 'hijack-clusters[dask]'"
            ) from None
        cluster: Any = SLURMCluster(**spec.slurm)
        cluster.scale(jobs=spec.jobs)
    else:
        cluster = LocalCluster(
            n_workers=spec.n_workers,
            threads_per_worker=spec.threads_per_worker,
            processes=spec.processes,
            memory_limit=spec.memory_limit if spec.memory_limit is not None else 0,
            dashboard_address=":0",  # any free port: several clusters may run on one machine
        )
    client = Client(cluster)
    try:
        if spec.cluster == "slurm":
            client.wait_for_workers(1)
        yield client
    finally:
        client.close()
        cluster.close()


def slurm_job_script(spec: BackendSpec) -> str:
    """The batch script ``dask-jobqueue`` would submit for one worker job (nothing is submitted).

    Useful to check a Slurm configuration before running it.
    """
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise ConfigError(
            "backend.cluster 'slurm' needs dask-jobqueue: pip install 'hijack-clusters[dask]'"
        ) from None
    cluster = SLURMCluster(**spec.slurm)
    try:
        return str(cluster.job_script())
    finally:
        cluster.close()
