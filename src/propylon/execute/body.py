"""A request body, read whole or passed on as it arrives (10 MB at most, reference §13.1).

How it works
------------
The door takes the first ``http.request`` message of a request itself. A body that came whole
in it (every request without a body, and most small ones) is ``Invocation.body`` at once, and
nothing here is involved: the common case costs nothing. Otherwise the rest of the body is left
on the connection, in a :class:`RequestBody` the door puts in ``Invocation.body_stream``.

Whoever needs the whole body (a Lambda payload, a ``$request.body`` mapping, a SigV4 signature)
reads it with :meth:`RequestBody.read`; an HTTP_PROXY integration that does not iterates
:meth:`RequestBody.chunks` instead and hands each chunk to the backend as the client sends it.
A body is read once, either way. Both count the bytes: crossing :data:`MAX_BODY` raises
:class:`GatewayPayloadTooLarge` (413) and a client that hangs up before the end raises
:class:`ClientDisconnected`; each is also kept in :attr:`RequestBody.error`, because the chunks
are read by the upstream client, which may report a failure of its body only as a broken
upload.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from propylon.errors import GatewayError, GatewayPayloadTooLarge

MAX_BODY = 10 * 1024 * 1024
"""The largest request body an HTTP API takes, in bytes (reference §13.1)."""

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class BodyTooLarge(Exception):
    """A body read whole (``read_body``) went past its limit."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """A whole ASGI request body; one byte over ``limit`` raises :class:`BodyTooLarge`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class ClientDisconnected(GatewayError):
    """The client hung up before sending its whole body: nobody is left to read the answer."""

    status = 400
    message = "Bad Request"


class RequestBody:
    """The part of a request body still on the connection, and the part already received."""

    __slots__ = ("_first", "_receive", "_started", "error", "limit", "size")

    def __init__(self, receive: Receive, first: bytes, limit: int = MAX_BODY) -> None:
        self._receive = receive
        self._first = first
        self._started = False
        self.limit = limit
        self.size = len(first)
        """Bytes received so far."""
        self.error: GatewayError | None = None
        """Why reading stopped early: too large, or the client left."""

    async def read(self) -> bytes:
        """The whole body."""
        return b"".join([chunk async for chunk in self.chunks()])

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's chunks as the client sends them, none of them empty."""
        if self._started:
            raise RuntimeError("a request body is read once")
        self._started = True
        if self._first:
            yield self._first
        while True:
            message = await self._receive()
            if message["type"] != "http.request":
                raise self._failed(ClientDisconnected("the client left before its body ended"))
            chunk: bytes = message.get("body", b"")
            self.size += len(chunk)
            if self.size > self.limit:
                raise self._failed(GatewayPayloadTooLarge("the request body is over 10 MB"))
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    def _failed(self, error: GatewayError) -> GatewayError:
        self.error = error
        return error
