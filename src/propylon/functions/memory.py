"""The memory limit of workers, enforced as Lambda's sandbox enforces it: the process is killed.

Lambda gives an execution environment ``MemorySize`` MB; a function that uses more is ended by
the kernel, and the invocation fails with ``Runtime.OutOfMemory``. Propylon has no cgroup of its
own to ask, so one thread looks at every worker's resident memory (``/proc/PID/status``) ten
times a second, off the event loop, and kills (``SIGKILL``, the whole process group) a worker
over its limit; the worker's exit then reports the kill as out of memory. What it reads of
the peak (``VmHWM``) is what a ``REPORT`` line gives as ``Max Memory Used``. Where ``/proc`` is
missing (not Linux), nothing is enforced.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from pathlib import Path

log = logging.getLogger("propylon.functions")

PERIOD = 0.1
"""Seconds between two looks at every worker."""


def resident_mb(pid: int, proc: Path = Path("/proc")) -> tuple[float, float] | None:
    """A process's resident memory and its peak so far (``VmRSS``, ``VmHWM``) in MB; None when
    they cannot be read."""
    try:
        status = (proc / str(pid) / "status").read_text()
    except OSError:
        return None
    found = {}
    for line in status.splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            found[line[:5]] = int(line.split()[1]) / 1024
    if len(found) < 2:
        return None
    return found["VmRSS"], found["VmHWM"]


class MemoryWatch:
    """Kills workers over their memory limit; remembers which it killed."""

    def __init__(self, period: float = PERIOD, proc: Path = Path("/proc")) -> None:
        self._period = period
        self._proc = proc
        self._limits: dict[int, int] = {}  # pid -> MB
        self._peaks: dict[int, float] = {}  # pid -> the highest VmHWM read, MB
        self._killed: set[int] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self.enabled = proc.is_dir()

    def watch(self, pid: int, limit_mb: int) -> None:
        if not self.enabled:
            return
        with self._lock:
            self._limits[pid] = limit_mb
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="propylon-memory", daemon=True
                )
                self._thread.start()

    def forget(self, pid: int) -> bool:
        """Stop watching ``pid`` (it exited); True if this watch killed it."""
        with self._lock:
            self._limits.pop(pid, None)
            self._peaks.pop(pid, None)
            killed = pid in self._killed
            self._killed.discard(pid)
        return killed

    def peak_mb(self, pid: int) -> float | None:
        """The peak resident memory of a watched process as last read (at most ``period``
        old), None for one not watched."""
        return self._peaks.get(pid)

    def _run(self) -> None:
        while True:
            with self._lock:
                limits = list(self._limits.items())
                if not limits:
                    self._thread = None
                    return
            for pid, limit in limits:
                read = resident_mb(pid, self._proc)
                if read is None:
                    continue
                used, peak = read
                if pid in self._limits:
                    self._peaks[pid] = peak
                if used > limit:
                    self._kill(pid, limit, used)
            self._wake.wait(self._period)

    def _kill(self, pid: int, limit: int, used: float) -> None:
        with self._lock:
            if pid not in self._limits or pid in self._killed:
                return
            self._killed.add(pid)
        log.warning("worker %d uses %.0f MB, over its %d MB: killed", pid, used, limit)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
