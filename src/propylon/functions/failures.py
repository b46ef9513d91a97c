"""How invocations fail in a worker, in Lambda's words (reference 1.4-1.6, 2.6, 2.7).

- a runtime's own error document (``/runtime/invocation/{id}/error``, ``/runtime/init/error``)
  is passed on whole; its ``errorType`` and ``errorMessage`` name the failure;
- an environment that never became ready fails the invocation waiting for it with
  ``RequestId: {id} Error: {reason}`` (``Runtime.ExitError``, ``Runtime.InvalidEntrypoint``,
  ``Runtime.OutOfMemory``, ``Sandbox.Timedout``);
- a process's end reads as Go's ``ProcessState`` does (``exit status 1``, ``signal: killed``),
  since that is what Lambda's own platform prints.
"""

from __future__ import annotations

import contextlib
import json
import signal
from dataclasses import dataclass
from typing import Any

from propylon.functions.errors import FunctionError
from propylon.functions.runtime_api import error_body

_SIGNALS = {
    signal.SIGKILL: "killed",
    signal.SIGTERM: "terminated",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGINT: "interrupt",
    signal.SIGHUP: "hangup",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
}


@dataclass(frozen=True, slots=True)
class InitFailure:
    """Why an environment never became ready: the document its runtime posted to
    ``/runtime/init/error``, else what the platform saw (an exit, a missing ``bootstrap``)."""

    error_type: str
    reason: str = ""
    document: bytes | None = None

    def error(self, function_name: str, request_id: str) -> FunctionError:
        """The error of the invocation that waited for this environment."""
        if self.document is not None:
            return runtime_error(function_name, self.document, self.error_type)
        message = f"RequestId: {request_id} Error: {self.reason}"
        body = json.dumps({"errorMessage": message, "errorType": self.error_type}).encode()
        return FunctionError(function_name, self.error_type, message, payload=body)


def runtime_error(name: str, body: bytes, error_type: str) -> FunctionError:
    """The error a runtime posted: its document's type and message, the document kept whole."""
    document: Any = None
    with contextlib.suppress(ValueError):
        document = json.loads(body)
    if isinstance(document, dict):
        kind = str(document.get("errorType") or error_type or "Unhandled")
        message = str(document.get("errorMessage", ""))
    else:
        kind, message = error_type or "Unhandled", body.decode("utf-8", "replace")
    return FunctionError(name, kind, message, payload=body)


def exit_reason(returncode: int | None) -> str:
    """Lambda's words for how a runtime ended (Go's ``ProcessState`` strings)."""
    if returncode is None or returncode == 0:
        return "Runtime exited without providing a reason"
    if returncode > 0:
        return f"Runtime exited with error: exit status {returncode}"
    number = -returncode
    try:
        name = _SIGNALS.get(signal.Signals(number), f"signal {number}")
    except ValueError:
        name = f"signal {number}"
    return f"Runtime exited with error: signal: {name}"


def cannot_start(exc: OSError) -> InitFailure:
    """A process that could not be started: no ``bootstrap`` (the message says where it was
    looked for) or one that cannot be run."""
    if exc.filename is None:
        message = str(exc)
    else:
        message = f"fork/exec {exc.filename}: {(exc.strerror or str(exc)).lower()}"
    return InitFailure("Runtime.InvalidEntrypoint", message)


def invalid_transition(state: str, call: str) -> bytes:
    """The Runtime API's 403 body for a call not allowed in the environment's state."""
    return error_body(
        "InvalidStateTransition",
        f"State transition from {state} to {call} failed for runtime. "
        "Error: the call is not allowed in this state",
    )
