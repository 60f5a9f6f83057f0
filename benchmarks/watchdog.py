"""A benchmark child under a memory watchdog, with its memory sampled over time.

:func:`run_watched` runs ``code`` in a fresh Python process (the prelude of
:mod:`benchmarks.common`, so ``_peak_mb`` and ``_usage`` are there) in its own
process group, and every ``interval`` seconds samples the machine's
``MemAvailable`` (``/proc/meminfo``), the child's RSS and its descendants' RSS
(the Dask workers of a ``LocalCluster(processes=True)`` are its descendants).
If ``MemAvailable`` falls below ``min_available_mb`` the whole process group
(and any descendant that left it) is killed with ``SIGKILL`` and the result
says so, with the stage it was in: the child marks its stages by printing
``@@STAGE <name>`` lines to stderr (:data:`STAGE_MARKER`), and the watchdog
reads the child's ``VmHWM`` (peak RSS so far) at each marker. The point is to
stop a run that would exhaust the machine before the kernel's OOM killer picks
a victim among other people's processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from benchmarks.common import CHILD_PRELUDE, REPO

#: What a child prints (to stderr, one line) when it starts a stage.
STAGE_MARKER = "@@STAGE "
#: What a child prints (to stderr, one line of JSON) to record a measurement of its own.
INFO_MARKER = "@@INFO "

#: Warnings and errors of Dask's loggers, counted by logger and message (numbers blanked):
#: workers paused, restarted, spilling...
_DASK_LOG = re.compile(r" - (distributed\.[\w.]+) - (WARNING|ERROR|CRITICAL) - (.*)")

#: Child-side helpers (appended to the prelude): ``_mark("name")`` starts a stage,
#: ``_info(key=value, ...)`` records a measurement.
MARK_PRELUDE = f"""
def _mark(name):
    print({STAGE_MARKER!r} + name, file=sys.stderr, flush=True)
def _info(**values):
    print({INFO_MARKER!r} + json.dumps(values, default=str), file=sys.stderr, flush=True)
"""


def mem_available_mb() -> float:
    """The machine's ``MemAvailable`` in MiB."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def _status_mb(pid: int, field: str) -> float | None:
    """``VmRSS`` / ``VmHWM`` of a process in MiB (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _descendants(pid: int) -> list[Any]:
    import psutil

    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return []


def run_watched(
    code: str,
    *args: str,
    min_available_mb: float = 4096,
    interval: float = 0.5,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    echo: bool = True,
) -> dict[str, Any]:
    """Run ``code`` (which prints one JSON line last on success) under the watchdog.

    Returns a dict with ``returncode``, ``killed`` (None, or why: ``mem_available``,
    ``timeout``), ``result`` (the child's JSON, or None), ``stages`` (each marker: its
    name, start time from launch, and the child's RSS and peak RSS when it began),
    ``per_stage`` (the largest child RSS, descendants' RSS and their sum, and the lowest
    ``MemAvailable`` sampled during each stage), ``info`` (what the child recorded with
    ``_info``, with the time), ``dask_log_counts`` (Dask's warnings by kind), ``peak`` (the child's ``VmHWM``, the
    largest sampled descendants' RSS sum, the largest ``VmHWM`` of any single
    descendant, the lowest ``MemAvailable``), ``samples`` (at most ~400, evenly thinned:
    seconds, child RSS, descendants' RSS, ``MemAvailable``, in MiB) and ``stderr_tail``.
    """
    import psutil

    child_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_PRELUDE + MARK_PRELUDE + code, *args],
        cwd=REPO,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: killpg reaches the workers too
    )
    stdout_lines: list[str] = []
    stderr_tail: list[str] = []
    stages: list[dict[str, Any]] = []
    info: list[dict[str, Any]] = []
    log_counts: dict[str, int] = {}
    lock = threading.Lock()

    def read_stdout() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            stdout_lines.append(line)

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith(STAGE_MARKER):
                name = line[len(STAGE_MARKER) :].strip()
                entry = {
                    "name": name,
                    "t_s": round(time.perf_counter() - started, 2),
                    "client_rss_mb": _status_mb(proc.pid, "VmRSS"),
                    "client_peak_mb": _status_mb(proc.pid, "VmHWM"),
                }
                with lock:
                    stages.append(entry)
                if echo:
                    print(
                        f"  [{entry['t_s']:8.1f} s] {name} (client {entry['client_rss_mb'] or 0:,.0f} MB, "
                        f"peak so far {entry['client_peak_mb'] or 0:,.0f} MB, available {mem_available_mb():,.0f} MB)",
                        flush=True,
                    )
            elif line.startswith(INFO_MARKER):
                try:
                    values = json.loads(line[len(INFO_MARKER) :])
                except json.JSONDecodeError:
                    values = {"unparsed": line}
                info.append({"t_s": round(time.perf_counter() - started, 2), **values})
            else:
                logged = _DASK_LOG.search(line)
                if logged:
                    key = (
                        " - ".join(logged.groups()[:2])
                        + " - "
                        + re.sub(r"[\d.]+", "#", logged[3])[:80]
                    )
                    log_counts[key] = log_counts.get(key, 0) + 1
                stderr_tail.append(line)
                del stderr_tail[:-200]

    readers = [threading.Thread(target=f, daemon=True) for f in (read_stdout, read_stderr)]
    for reader in readers:
        reader.start()

    samples: list[tuple[float, float, float, float]] = []
    sample_stage: list[int] = []
    worker_peak: dict[int, float] = {}
    killed: str | None = None
    kill_info: dict[str, Any] = {}
    known: dict[int, Any] = {}
    client_peak = 0.0

    def kill_all() -> None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for child in known.values():  # any that left the group
            try:
                child.kill()
            except psutil.Error:
                pass

    try:
        while proc.poll() is None:
            now = time.perf_counter() - started
            available = mem_available_mb()
            client = _status_mb(proc.pid, "VmRSS") or 0.0
            client_peak = max(client_peak, _status_mb(proc.pid, "VmHWM") or 0.0)
            workers = 0.0
            for child in _descendants(proc.pid):
                known[child.pid] = child
                try:
                    workers += child.memory_info().rss / 2**20
                except psutil.Error:
                    continue
                hwm = _status_mb(child.pid, "VmHWM")
                if hwm is not None:
                    worker_peak[child.pid] = max(worker_peak.get(child.pid, 0.0), hwm)
            samples.append((round(now, 2), round(client), round(workers), round(available)))
            with lock:
                sample_stage.append(len(stages) - 1)
            reason = None
            if available < min_available_mb:
                reason = "mem_available"
            elif timeout is not None and now > timeout:
                reason = "timeout"
            if reason:
                killed = reason
                with lock:
                    stage = stages[-1]["name"] if stages else None
                kill_info = {
                    "reason": reason,
                    "t_s": round(now, 2),
                    "stage": stage,
                    "mem_available_mb": round(available),
                    "client_rss_mb": round(client),
                    "client_peak_mb": _status_mb(proc.pid, "VmHWM"),
                    "workers_rss_mb": round(workers),
                }
                kill_all()
                print(f"watchdog: killed the run ({kill_info})", flush=True)
                break
            time.sleep(interval)
    except BaseException:  # interrupted here: the run must not outlive its watchdog
        kill_all()
        raise
    proc.wait()
    wall = time.perf_counter() - started
    for reader in readers:
        reader.join(timeout=10)

    result = None
    if proc.returncode == 0 and stdout_lines:
        try:
            result = json.loads(stdout_lines[-1])
        except json.JSONDecodeError:
            result = None
    per_stage = []
    for index, stage in enumerate(stages):
        rows = [s for s, k in zip(samples, sample_stage, strict=True) if k == index]
        per_stage.append(
            {
                **stage,
                "max_client_rss_mb": max((r[1] for r in rows), default=None),
                "max_workers_rss_mb": max((r[2] for r in rows), default=None),
                "max_total_rss_mb": max((r[1] + r[2] for r in rows), default=None),
                "min_mem_available_mb": min((r[3] for r in rows), default=None),
                "n_samples": len(rows),
            }
        )
    step = max(1, len(samples) // 400)
    if result is not None and result.get("peak_rss_mb"):
        client_peak = max(client_peak, result["peak_rss_mb"])
    return {
        "returncode": proc.returncode,
        "wall_s": round(wall, 2),
        "killed": killed,
        "kill": kill_info or None,
        "result": result,
        "stages": stages,
        "info": info,
        "dask_log_counts": log_counts,
        "per_stage": per_stage,
        "peak": {
            "client_vmhwm_mb": client_peak,
            "client_rss_sampled_mb": max((s[1] for s in samples), default=None),
            "workers_rss_sum_mb": max((s[2] for s in samples), default=None),
            "total_rss_mb": max((s[1] + s[2] for s in samples), default=None),
            "worker_vmhwm_max_mb": max(worker_peak.values(), default=None),
            "worker_vmhwm_mb": sorted(round(v) for v in worker_peak.values()),
            "min_mem_available_mb": min((s[3] for s in samples), default=None),
        },
        "samples": {
            "columns": ["t_s", "client_rss_mb", "workers_rss_mb", "mem_available_mb"],
            "every_s": interval * step,
            "rows": samples[::step],
        },
        "stderr_tail": "".join(stderr_tail[-40:]),
    }


if __name__ == "__main__":  # a smoke test: python -m benchmarks.watchdog
    out = run_watched(
        "_mark('alloc'); x = bytearray(300 * 2**20); _mark('free'); del x; "
        "print(json.dumps({'peak_rss_mb': _peak_mb()}))",
        interval=0.05,
    )
    print(json.dumps({k: out[k] for k in ("returncode", "killed", "per_stage", "peak")}, indent=1))
