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
