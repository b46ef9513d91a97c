"""Invocation failures, typed the way Lambda reports them.

A handler's own exception becomes ``FunctionError`` with Lambda's ``errorType``/``errorMessage``
pair; its traceback is kept in ``traceback`` for Propylon's logs and must never reach a client.
"""

from __future__ import annotations

from collections.abc import Sequence

from propylon.errors import PropylonError


class InvocationError(PropylonError):
    """Base of everything a function invocation can fail with."""


class FunctionNotFound(InvocationError):
    """No registered function matches a URI."""

    def __init__(self, uri: str, known: Sequence[str]) -> None:
        names = ", ".join(sorted(known)) or "none"
        super().__init__(f"no local function for {uri!r} (known functions: {names})")
        self.uri = uri
        self.known = tuple(sorted(known))


class FunctionError(InvocationError):
    """The function failed: its handler raised, or it could not be loaded.

    ``error_type`` is the exception's class name, or a Lambda runtime type such as
    ``Runtime.ImportModuleError`` or ``Runtime.HandlerNotFound`` for load failures.
    """

    def __init__(
        self,
        function_name: str,
        error_type: str,
        error_message: str,
        traceback: str = "",
        payload: bytes | None = None,
    ) -> None:
        super().__init__(f"{function_name}: {error_type}: {error_message}")
        self.function_name = function_name
        self.error_type = error_type
        self.error_message = error_message
        self.traceback = traceback
        self.document = payload
        """The error document as a runtime posted it, when one did (Lambda returns it whole)."""

    def payload(self) -> dict[str, str]:
        """The body Lambda returns for a function error (without the stack trace)."""
        return {"errorType": self.error_type, "errorMessage": self.error_message}


class FunctionThrottled(InvocationError):
    """Lambda refused the invocation: the function's concurrency is all in use
    (``TooManyRequestsException``, ``ReservedFunctionConcurrentInvocationLimitExceeded``)."""

    def __init__(self, function_name: str, limit: int) -> None:
        super().__init__(f"{function_name}: Rate Exceeded. ({limit} concurrent invocations)")
        self.function_name = function_name
        self.limit = limit


class FunctionTimeout(InvocationError):
    """The function did not finish within its timeout."""

    def __init__(self, function_name: str, timeout: float, request_id: str) -> None:
        # Lambda's own wording, including two decimals.
        super().__init__(
            f"{function_name}: {request_id} Task timed out after {timeout:.2f} seconds"
        )
        self.function_name = function_name
        self.timeout = timeout
        self.request_id = request_id


class CallerTimeout(InvocationError):
    """The caller's limit (an integration's ``TimeoutInMillis``) passed before the function
    finished and before the function's own timeout."""

    def __init__(self, function_name: str, timeout: float, request_id: str) -> None:
        super().__init__(f"{function_name}: {request_id} no answer within {timeout:.3f} seconds")
        self.function_name = function_name
        self.timeout = timeout
        self.request_id = request_id


class FunctionConfigError(PropylonError):
    """A function cannot run here as configured (no interpreter for its runtime, a handler
    outside its code directory); found at start-up, and the message names the function."""
