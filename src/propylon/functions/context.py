"""The context object a handler receives, shaped like the AWS Lambda Python runtime's.

The remaining time is computed from a deadline on an injected monotonic clock, so tests can
move time without sleeping. ``memory_limit_in_mb`` is a string, as the real runtime gives it
(AWS's own examples concatenate it with ``+``).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import date
from random import getrandbits
from typing import Any

Clock = Callable[[], float]


_UUID4_CLEAR = ~((0xF << 76) | (0x3 << 62))
_UUID4_SET = (0x4 << 76) | (0x2 << 62)  # version 4, RFC 4122 variant


def new_request_id() -> str:
    """A Lambda request id: a lower-case random (version 4) UUID, as ``context.aws_request_id``
    and the Runtime API's ``Lambda-Runtime-Aws-Request-Id`` carry it. From ``getrandbits``, as
    API Gateway's own request ids: ``uuid.uuid4`` asks the kernel for its bytes every time,
    and this runs for every invocation."""
    digits = "%032x" % ((getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET)
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def trace_id() -> bytes:
    """An X-Ray trace header, ``Root=1-{8 hex time}-{24 hex};Parent={16 hex};Sampled=0``, as
    Lambda gives one to every invocation (``Lambda-Runtime-Trace-Id``)."""
    return b"Root=1-%08x-%024x;Parent=%016x;Sampled=0" % (
        int(time.time()),
        getrandbits(96),
        getrandbits(64),
    )


def log_group_name(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def log_stream_name(day: date, version: str = "$LATEST", token: str | None = None) -> str:
    """AWS's format, ``YYYY/MM/DD/[$LATEST]{32 hex}``: one stream per execution environment."""
    token = secrets.token_hex(16) if token is None else token
    return f"{day:%Y/%m/%d}/[{version}]{token}"


class LambdaContext:
    """What ``handler(event, context)`` gets as ``context``; one per invocation."""

    def __init__(
        self,
        *,
        aws_request_id: str,
        function_name: str,
        invoked_function_arn: str,
        memory_limit_in_mb: int,
        log_stream_name: str,
        deadline: float,
        clock: Clock,
        function_version: str = "$LATEST",
    ) -> None:
        self.aws_request_id = aws_request_id
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = str(memory_limit_in_mb)
        self.log_group_name = log_group_name(function_name)
        self.log_stream_name = log_stream_name
        # Only the Mobile SDK fills these; API Gateway never does.
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline = deadline
        self._clock = clock

    def renewed(self, aws_request_id: str, deadline: float) -> LambdaContext:
        """A context for another call of the same function: this one's values with a new request
        id and deadline. Cheaper than ``__init__`` (this runs for every call)."""
        context = LambdaContext.__new__(LambdaContext)
        context.__dict__.update(self.__dict__)
        context.aws_request_id = aws_request_id
        context._deadline = deadline
        return context

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the function times out, never negative."""
        return max(0, int((self._deadline - self._clock()) * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext(aws_request_id={self.aws_request_id!r}, "
            f"function_name={self.function_name!r}, "
            f"invoked_function_arn={self.invoked_function_arn!r})"
        )
