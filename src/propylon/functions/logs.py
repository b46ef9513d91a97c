"""Function logs as Lambda writes them: the platform's lines around the function's own output.

Every function has one log group, ``/aws/lambda/{name}``, which is the file
``<log dir>/aws/lambda/{name}.log`` (``execute/logs.py`` writes it off the request path). Around
each invocation the platform writes (reference 2.9; fields after the request id are tab-separated)::

    START RequestId: {id} Version: $LATEST
    ... what the function printed ...
    END RequestId: {id}
    REPORT RequestId: {id}\tDuration: 15.74 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB\t
        Max Memory Used: 56 MB\tInit Duration: 130.49 ms\t

``Init Duration`` only on an environment's first invocation; a failed invocation adds
``Status: error`` (or ``timeout``) and ``Error Type``. A timeout is followed by
``{time} {id} Task timed out after 3.00 seconds``, a crash by
``RequestId: {id} Error: Runtime exited with error: exit status 1`` and ``Runtime.ExitError``.
The line builders here are pure; :func:`peak_memory_mb` reads ``/proc`` and is called on the
log writer's thread, never on the request path.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from propylon.functions.memory import MemoryWatch


def log_group(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def start_line(request_id: str, version: str = "$LATEST") -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report_line(
    request_id: str,
    duration_ms: float,
    memory_mb: int,
    max_used_mb: int,
    init_ms: float | None = None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    """Lambda's ``REPORT`` line; ``Billed Duration`` is the duration rounded up to 1 ms."""
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {max(1, math.ceil(duration_ms))} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_used_mb} MB",
    ]
    if init_ms is not None:
        fields.append(f"Init Duration: {init_ms:.2f} ms")
    if status is not None:
        fields.append(f"Status: {status}")
    if error_type is not None:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields) + "\t"


def report_with_peak(
    request_id: str,
    duration: float,
    memory: int,
    pid: int,
    init_ms: float | None,
    status: str | None,
    error_type: str | None,
    watch: MemoryWatch | None,
) -> str:
    """The REPORT line of a worker's invocation, made on the log writer's thread: its
    ``Max Memory Used`` is the memory watch's last reading of the process's peak, or read now
    from ``/proc`` for a process it does not watch; the memory size for one killed for it."""
    peak = watch.peak_mb(pid) if watch is not None else None
    if error_type == "Runtime.OutOfMemory":
        used = memory
    elif peak is not None:
        used = min(memory, math.ceil(peak))
    else:
        used = min(memory, peak_memory_mb(pid)) if pid else 0
    return report_line(request_id, duration, memory, used, init_ms, status, error_type)


def init_report_line(duration_ms: float, status: str, error_type: str | None = None) -> str:
    """``INIT_REPORT`` for an init that failed (``error``) or passed its limit (``timeout``)."""
    line = f"INIT_REPORT Init Duration: {duration_ms:.2f} ms\tPhase: init\tStatus: {status}"
    return line + (f"\tError Type: {error_type}" if error_type else "")


def timeout_line(moment: datetime, request_id: str, seconds: float) -> str:
    return f"{iso_time(moment)} {request_id} Task timed out after {seconds:.2f} seconds"


def iso_time(moment: datetime) -> str:
    """``2020-11-10T05:46:57.874Z``."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def peak_memory_mb(pid: int, proc: Path = Path("/proc")) -> int:
    """A process's peak resident memory (``VmHWM``) in MB, rounded up; 0 when it cannot be read
    (the process is gone, or this is not Linux)."""
    try:
        status = (proc / str(pid) / "status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return math.ceil(int(line.split()[1]) / 1024)
    return 0
