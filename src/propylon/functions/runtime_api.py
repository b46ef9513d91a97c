"""The Lambda Runtime API (2018-06-01), served to one execution environment.

Every worker process gets a listener of its own on loopback, as every Lambda execution
environment has its own ``AWS_LAMBDA_RUNTIME_API``: whatever connects to it is that
environment's runtime, so nothing has to tell environments apart. :class:`RuntimeApiConnection`
is the HTTP/1.1 side (httptools, keep-alive, pipelined requests answered in order); the state
machine behind it (which call is allowed when, the request in flight) is the :class:`Runtime`
it is given: the worker.

The routes (reference 1.1-1.6)::

    GET  /2018-06-01/runtime/invocation/next            held until an event is handed over
    POST /2018-06-01/runtime/invocation/{id}/response   202, or 400 / 403 / 413
    POST /2018-06-01/runtime/invocation/{id}/error      202, or 400 / 403
    POST /2018-06-01/runtime/init/error                 202, or 403
    GET  /2018-06-01/ping                               200 (RIE keeps it)

A held ``next`` is answered by :meth:`RuntimeApiConnection.send_event`. Requests that arrive on
the same connection behind a held ``next`` wait their turn. Bodies over the response limit are
not kept: the request is answered 413 once it has been read.

Answers go out in as few writes as they can. Those to the requests one read brought are
written together when the read is handled; and when a runtime has pipelined a ``next`` behind
its answer (Propylon's runtimes send the response and the next ``GET`` in one write), the 202
for the answer waits and leaves with the next event: the runtime has nothing to do before
that, and a process woken for a 202 alone costs a context switch per invocation.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import Protocol, cast

import httptools

log = logging.getLogger("propylon.functions")

MAX_RESPONSE = 6 * 1024 * 1024 + 100
"""Lambda's limit on a synchronous response: 6 MiB and 100 bytes (RIE's ``interop/model.go``)."""
PREFIX = b"/2018-06-01/"
_INVOCATION = b"/2018-06-01/runtime/invocation/"
_NEXT = b"/2018-06-01/runtime/invocation/next"
_INIT_ERROR = b"/2018-06-01/runtime/init/error"
_PING = b"/2018-06-01/ping"
_ERROR_TYPE = b"lambda-runtime-function-error-type"

_REASONS = {
    200: b"OK",
    202: b"Accepted",
    400: b"Bad Request",
    403: b"Forbidden",
    404: b"Not Found",
    405: b"Method Not Allowed",
    413: b"Request Entity Too Large",
    500: b"Internal Server Error",
}
ACCEPTED = b'{"status":"OK"}'


def error_body(error_type: str, message: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


INVALID_REQUEST_ID = error_body("InvalidRequestID", "Invalid request ID")
TOO_LARGE = error_body(
    "RequestEntityTooLarge",
    f"Exceeded maximum allowed payload size ({MAX_RESPONSE} bytes).",
)


class Runtime(Protocol):
    """The environment behind a Runtime API listener (the worker). Each method answers the
    request on ``connection`` (``reply``) or, for ``next``, may hold it for later."""

    def next_invocation(self, connection: RuntimeApiConnection) -> None: ...

    def invocation_response(
        self, connection: RuntimeApiConnection, request_id: str, body: bytes
    ) -> None: ...

    def invocation_error(
        self, connection: RuntimeApiConnection, request_id: str, body: bytes, error_type: str
    ) -> None: ...

    def response_too_large(self, connection: RuntimeApiConnection, request_id: str) -> None: ...

    def init_error(
        self, connection: RuntimeApiConnection, body: bytes, error_type: str
    ) -> None: ...


_Request = tuple[bytes, bytes, bytes, bytes | None]
"""``(method, path, error type header, body)``; body None when it was too large to keep."""


class RuntimeApiConnection(asyncio.Protocol):
    """One HTTP/1.1 connection from a runtime to its environment's Runtime API."""

    __slots__ = (
        "_body",
        "_error_type",
        "_header",
        "_holding",
        "_out",
        "_parser",
        "_queue",
        "_reading",
        "_runtime",
        "_size",
        "_transport",
        "_url",
    )

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._body: list[bytes] | None = []
        self._size = 0
        self._error_type = b""
        self._header = b""
        self._queue: deque[_Request] = deque()
        self._holding = False  # a `next` is held: later requests wait behind it
        self._out: list[bytes] = []  # answers not written yet
        self._reading = False

    # --- asyncio ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._reading = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self.reply(400, error_body("InvalidRequest", "malformed HTTP request"))
            self._flush()
            self.close()
            return
        finally:
            self._reading = False
        if not self._holding:  # a held `next` takes the answers before it along (see above)
            self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._queue.clear()
        self._out.clear()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    @property
    def is_open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    # --- httptools callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._body = []
        self._size = 0
        self._error_type = b""

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == _ERROR_TYPE:
            self._error_type = value

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._body is not None:
            if self._size > MAX_RESPONSE:
                self._body = None  # not kept; answered 413 once the request has been read
            else:
                self._body.append(body)

    def on_message_complete(self) -> None:
        body = self._body
        request = (
            self._parser.get_method(),
            self._url,
            self._error_type,
            None if body is None else b"".join(body),
        )
        if self._holding or self._queue:
            self._queue.append(request)
        else:
            self._handle(request)

    # --- answering ---------------------------------------------------------------------------

    def reply(self, status: int, body: bytes) -> None:
        """Answer the request being handled (the oldest one not answered yet)."""
        self._out.append(
            b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (status, _REASONS[status], len(body), body)
        )
        if not self._reading and not self._holding:
            self._flush()

    def hold(self) -> None:
        """Keep the current ``next`` open until :meth:`send_event`; requests behind it wait."""
        self._holding = True

    def send_event(self, head: bytes, body: bytes) -> None:
        """Answer the held ``next`` with an event: ``head`` is the status line and headers up
        to the blank line (excluded); then handle what waited behind it."""
        self._holding = False
        self._out.append(head + b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        if not self._reading:
            self._flush()
        while self._queue and not self._holding:
            self._handle(self._queue.popleft())
        if not self._reading and not self._holding:
            self._flush()

    def _flush(self) -> None:
        out, self._out = self._out, []
        transport = self._transport
        if out and transport is not None:
            transport.write(out[0] if len(out) == 1 else b"".join(out))

    def _handle(self, request: _Request) -> None:
        method, url, error_type, body = request
        runtime = self._runtime
        path = url.partition(b"?")[0]
        if path == _NEXT:
            if method != b"GET":
                self.reply(405, error_body("MethodNotAllowed", "use GET"))
            else:
                runtime.next_invocation(self)
            return
        if method != b"POST":
            if path == _PING and method == b"GET":
                self.reply(200, b"pong")
            else:
                self.reply(404, error_body("NotFound", "no such path"))
            return
        if path == _INIT_ERROR:
            runtime.init_error(self, body or b"", _text(error_type))
            return
        if path.startswith(_INVOCATION):
            request_id, _, action = path[len(_INVOCATION) :].partition(b"/")
            rid = _text(request_id)
            if action == b"response":
                if body is None:
                    runtime.response_too_large(self, rid)
                else:
                    runtime.invocation_response(self, rid, body)
                return
            if action == b"error":
                runtime.invocation_error(self, rid, body or b"", _text(error_type))
                return
        self.reply(404, error_body("NotFound", "no such path"))


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")
