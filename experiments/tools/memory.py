"""Resident memory of this process, read one way by every measurement: the harness, the
``runtime`` experiments and the benchmarks.

Linux reports the current and the peak resident set in ``/proc/self/status`` (``VmRSS`` and
``VmHWM``, everything included: numpy, igraph's and leidenalg's C heaps), and the peak can
be reset to the current value (``/proc/self/clear_refs``), so that it counts what a call adds
on top of its input. Elsewhere the only number is ``ru_maxrss``, the peak since the process
started, which cannot be reset and survives ``exec`` (after a fork it may be the parent's).

Examples
--------
>>> import numpy as np
>>> rss_bytes() <= peak_rss_bytes()
True
>>> before = rss_bytes()
>>> block = np.ones(50_000_000 // 8)
>>> peak_rss_bytes() - before > 40_000_000
True
"""

from __future__ import annotations

import resource


def status_kb(field: str) -> int | None:
    """A field of ``/proc/self/status`` in KiB (``VmRSS``, ``VmHWM``...); ``None`` without it."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _max_rss_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def peak_rss_bytes() -> int:
    """The peak resident memory of this process (since start, or since :func:`reset_peak`)."""
    kb = status_kb("VmHWM")
    return (kb if kb is not None else _max_rss_kb()) * 1024


def rss_bytes() -> int:
    """The resident memory of this process now (the peak so far where only that is known)."""
    kb = status_kb("VmRSS")
    return (kb if kb is not None else _max_rss_kb()) * 1024


def reset_peak() -> bool:
    """Reset the peak to the current resident memory (Linux); whether it could."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True
