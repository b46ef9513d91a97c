"""One keep-alive connection to a backend, as an asyncio protocol: the answer it receives.

How it works
------------
:class:`Connection` is an ``asyncio.Protocol`` (plain asyncio or uvloop) feeding ``httptools``'
response parser. Before each request the pool calls :meth:`Connection.start`; the parser's
callbacks then fill in the status, the raw headers and a queue of body bytes, and wake whoever
waits (:meth:`Connection.wait_head`, :meth:`Connection.take_some`). Reading from the socket
pauses while more than 256 KB of body wait for the reader. ``HEAD`` answers and 1xx/204/304 have
no body (an interim 1xx answer is skipped); an answer with neither ``Content-Length`` nor chunked
framing ends when the backend closes. A failure (a malformed answer, the backend hanging up
before the end) is kept in :attr:`Connection.error` and raised to the reader. The parser of an
answer that ended cleanly reads the next one on the same connection.
"""

from __future__ import annotations

import asyncio
from collections import deque

import httptools

_HIGH_WATER = 256 * 1024  # body bytes queued for the reader before the socket is paused
_IDLE_SECONDS = 15.0  # a connection idle longer than this is not reused

Origin = tuple[str, str, int, str | None]
"""What a pooled connection is for: scheme, host, port, TLS server name."""


class UpstreamProtocolError(ValueError):
    """The backend's answer is not HTTP/1.1 this client can read."""


class UpstreamDisconnected(ConnectionResetError):
    """The backend closed the connection before its answer was complete."""


class Connection(asyncio.Protocol):
    """One connection to a backend and the state of the answer it is receiving."""

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.lost = False
        self.reused = False
        self.abandoned = False
        """Set when a request was not sent whole: the connection cannot serve another."""
        self.idle_since = 0.0
        self._parser: httptools.HttpResponseParser | None = None
        self._spare: httptools.HttpResponseParser | None = None
        """The parser of the last answer, when it ended cleanly: it can read the next one."""
        self._reset(head_only=False)
        self._write_waiter: asyncio.Future[None] | None = None

    def _reset(self, head_only: bool) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.content_length: int | None = None
        self.head_done = False
        self.complete = False
        self.keep_alive = False
        self.received = False
        self.error: BaseException | None = None
        self._head_only = head_only
        self._informational = False
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None

    def start(self, head_only: bool) -> None:
        """Prepare for the answer to a request about to be sent."""
        self._reset(head_only)
        self._parser, self._spare = self._spare or httptools.HttpResponseParser(self), None

    # --- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport
        self._loop = asyncio.get_running_loop()  # kept: asking costs a system call (Python 3.11)

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:  # nothing was asked: the connection is out of step
            self.lost = True
            self.abort()
            return
        self.received = True
        try:
            parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as error:
            self._fail(UpstreamProtocolError(f"malformed answer: {error}"))
            self.abort()
            return
        if self._buffered > _HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self._parser is not None and not self.complete:
            if exc is None and self.head_done and self._until_close():
                self._finish()
            else:
                reason = f": {exc}" if exc is not None else ""
                self._fail(UpstreamDisconnected(f"the backend closed the connection{reason}"))
        waiter, self._write_waiter = self._write_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def pause_writing(self) -> None:
        if self._write_waiter is None:
            self._write_waiter = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        waiter, self._write_waiter = self._write_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- httptools callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.complete:  # a second answer to one request: the connection is out of step
            self.keep_alive = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.complete:
            return
        self.headers.append((name, value))
        if len(name) == 14 and name.lower() == b"content-length":
            self.content_length = int(value)  # the parser has checked it is digits

    def on_headers_complete(self) -> None:
        if self._parser is None:  # ended already (a HEAD answer, or one out of step)
            return
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # an interim answer: the real one follows
            self.headers, self.content_length, self._informational = [], None, True
            return
        self.status, self.head_done = status, True
        if self._head_only:
            self._finish()
        else:
            self._wake()

    def on_body(self, body: bytes) -> None:
        if not self.complete:
            self._chunks.append(body)
            self._buffered += len(body)
            self._wake()

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
        elif self._parser is not None and not self.complete:
            self._spare = self._parser
            self._finish()

    # --- the answer's state ------------------------------------------------------------------

    def _until_close(self) -> bool:
        """Whether the body is delimited by the end of the connection."""
        if self.content_length is not None or self.status in (204, 304):
            return False
        return not any(name.lower() == b"transfer-encoding" for name, _ in self.headers)

    def _finish(self) -> None:
        assert self._parser is not None
        self.keep_alive = not self.lost and self._parser.should_keep_alive()
        self.complete = True
        self._parser = None
        self._wake()

    def _fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        self._parser = None
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _next_event(self) -> asyncio.Future[None]:
        """A future the next callback of the parser (or a failure) completes. A plain function,
        not a coroutine: it is awaited on every request. Once done, or cancelled with its
        reader, it is left in place; ``_wake`` passes over it."""
        assert self._loop is not None  # connected
        self._waiter = waiter = self._loop.create_future()
        return waiter

    async def wait_head(self) -> None:
        while not self.head_done:
            if self.error is not None:
                raise self.error
            if self.lost:  # closed before the request was even sent
                raise UpstreamDisconnected("the backend closed the connection")
            await self._next_event()

    def take(self) -> bytes:
        """The body bytes that have arrived and were not taken yet."""
        chunks = self._chunks
        data = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self._buffered = 0
        if self._paused and self.transport is not None and not self.lost:
            self._paused = False
            self.transport.resume_reading()
        return data

    async def take_some(self) -> bytes:
        """The next body bytes as they come; b"" at the end."""
        while not self._chunks:
            if self.complete:
                return b""
            if self.error is not None:
                raise self.error
            await self._next_event()
        return self.take()

    def at_eof(self) -> bool:
        """Whether the whole body has arrived and been taken."""
        return self.complete and not self._chunks

    async def drain(self) -> None:
        """Wait while the socket's write buffer is full; raise if the backend hung up."""
        if self._write_waiter is not None:
            await self._write_waiter
        if self.head_done:
            return
        if self.lost or self.transport is None or self.transport.is_closing():
            raise self.error or UpstreamDisconnected("the backend closed the connection")

    def usable(self, now: float) -> bool:
        transport = self.transport
        return (
            not self.lost
            and transport is not None
            and not transport.is_closing()
            and now - self.idle_since < _IDLE_SECONDS
        )

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
