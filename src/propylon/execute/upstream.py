"""A small HTTP/1.1 client for the gateway's calls to its backends.

How it works
------------
A :class:`Pool` keeps keep-alive connections per origin: scheme, host, port and, for TLS, the
name the certificate is checked against (so a connection verified for one name never serves
another). :meth:`Pool.request` takes an idle connection (or opens one, at most ``limit`` open in
all), writes the request head, with a short body, in one ``transport.write`` (a body given as an
async iterator goes out chunk by chunk as it comes: with the length the caller declared, else
chunked) and returns a :class:`Response` as soon as the status line and headers are in.

Each connection (``upstream_connection.py``) is an asyncio protocol feeding ``httptools``'
response parser; :class:`Response` hands its body out as it arrives (``read``, ``read_some``,
``read_nowait``), with reading paused while a large part of it waits for the reader.

A connection goes back to the pool (``Response.release``) only once its answer was read to the
end and both sides meant to keep it open; anything else closes it. A backend may close an idle
connection at any time: one found closed is dropped when taken, and a request that fails on a
reused connection before any byte of the answer came is sent once more on a new one (unless its
body was a stream, which cannot be replayed).

Time limits are the caller's (``asyncio.timeout`` around the call): a cancelled exchange closes
its connection. Failures are ``OSError`` (refused, DNS, TLS, reset: :class:`UpstreamDisconnected`
when the backend hangs up early) or ``ValueError`` (a bad URL or header,
:class:`UpstreamProtocolError` for an answer that is not HTTP/1.1).
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from collections import deque
from collections.abc import AsyncIterable, Callable, Iterable
from urllib.parse import urlsplit

from propylon.execute.upstream_connection import (
    Connection,
    Origin,
    UpstreamDisconnected,
    UpstreamProtocolError,
)

_ONE_WRITE = 64 * 1024  # a body this short goes out in the same write as the head
_NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "DELETE", "CONNECT"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

__all__ = ["Pool", "Response", "UpstreamDisconnected", "UpstreamProtocolError"]


class Response:
    """A backend's answer: status and raw headers at once, the body as it arrives."""

    __slots__ = ("_connection", "_pool", "headers", "status")

    def __init__(self, pool: Pool, connection: Connection) -> None:
        self._pool = pool
        self._connection = connection
        self.status = connection.status
        self.headers = connection.headers

    @property
    def content_length(self) -> int | None:
        return self._connection.content_length

    def at_eof(self) -> bool:
        """Whether the whole body has arrived and been read."""
        return self._connection.at_eof()

    @property
    def arrived(self) -> bool:
        """Whether the whole body has arrived (read or not)."""
        return self._connection.complete

    def read_nowait(self) -> bytes:
        """What has arrived of the body and was not read yet (maybe b"")."""
        return self._connection.take()

    async def read_some(self) -> bytes:
        """The next part of the body as the backend sends it; b"" at the end."""
        return await self._connection.take_some()

    async def read(self) -> bytes:
        """The rest of the body."""
        parts: list[bytes] = []
        while chunk := await self._connection.take_some():
            parts.append(chunk)
        return b"".join(parts)

    def release(self) -> None:
        """Give the connection back to the pool if the answer is complete, else close it."""
        self._pool.put(self._connection)

    def close(self) -> None:
        """Drop the connection, whatever the state of the answer."""
        self._pool.discard(self._connection)


class Pool:
    """Keep-alive connections to backends, ``limit`` open at most."""

    def __init__(self, tls: Callable[[], ssl.SSLContext], limit: int = 1000) -> None:
        """``tls`` gives the context for ``https`` (called when first needed)."""
        self._tls = tls
        self._limit = limit
        self._open = 0
        self._idle: dict[Origin, list[Connection]] = {}
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._counted: set[Connection] = set()

    async def request(
        self,
        method: str,
        url: str,
        headers: Iterable[tuple[str, str]],
        body: bytes | AsyncIterable[bytes] = b"",
        *,
        length: str | None = None,
        server_hostname: str | None = None,
    ) -> Response:
        """Send a request and return the answer once its head has arrived.

        ``url`` is sent as written (path and query already percent-encoded); ``headers`` as
        given, after a ``Host`` header unless they have one, and the body's framing.
        ``length`` is the declared length of a streamed ``body`` (else it goes chunked)."""
        scheme, host, port, host_header, target = _split(url)
        head = _head(method, target, host_header, headers, body, length)
        origin = (scheme, host, port, server_hostname if scheme == "https" else None)
        connection = self._idle_one(origin) or await self._acquire(origin)
        try:
            await self._exchange(connection, method == "HEAD", head, body, length is None)
        except ConnectionError:
            if not connection.reused or connection.received or not isinstance(body, bytes):
                raise
            # a pooled connection the backend closed meanwhile: once more, on a new one
            connection = await self._acquire(origin, fresh=True)
            await self._exchange(connection, method == "HEAD", head, body, length is None)
        return Response(self, connection)

    async def _exchange(
        self,
        connection: Connection,
        head_only: bool,
        head: bytes,
        body: bytes | AsyncIterable[bytes],
        chunked: bool,
    ) -> None:
        """Send a request on ``connection`` and wait for the head of its answer."""
        try:
            connection.start(head_only)
            if isinstance(body, bytes) and len(body) <= _ONE_WRITE:  # the usual case, at once
                assert connection.transport is not None
                connection.transport.write(head + body)
            else:
                await _send(connection, head, body, chunked)
            await connection.wait_head()
        except BaseException:
            self.discard(connection)
            raise

    def _idle_one(self, origin: Origin) -> Connection | None:
        """A pooled connection to ``origin`` still fit for use, if there is one (those found
        closed or idle too long are dropped on the way)."""
        idle = self._idle.get(origin)
        if idle:
            now = time.monotonic()
            while idle:
                connection = idle.pop()
                if connection.usable(now):
                    connection.reused = True
                    return connection
                self.discard(connection)
        return None

    async def _acquire(self, origin: Origin, fresh: bool = False) -> Connection:
        while True:
            if not fresh and (connection := self._idle_one(origin)) is not None:
                return connection
            if self._open < self._limit:
                break
            if not self._drop_one_idle():  # wait for a connection to close or come back
                await self._wait_for_a_place()
        self._open += 1
        connection = Connection(origin)
        self._counted.add(connection)
        try:
            await self._connect(connection)
        except BaseException:
            self.discard(connection)
            raise
        return connection

    async def _wait_for_a_place(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                self._wake_one()  # woken, then cancelled: pass the place on
            raise

    def _wake_one(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def _connect(self, connection: Connection) -> None:
        scheme, host, port, server_name = connection.origin
        loop = asyncio.get_running_loop()
        if scheme == "https":
            await loop.create_connection(
                lambda: connection, host, port, ssl=self._tls(), server_hostname=server_name or host
            )
        else:
            await loop.create_connection(lambda: connection, host, port)

    def _drop_one_idle(self) -> bool:
        for idle in self._idle.values():
            if idle:
                self.discard(idle.pop(0))
                return True
        return False

    def put(self, connection: Connection) -> None:
        """Pool ``connection`` again if its answer is complete and it can be reused."""
        reusable = connection.keep_alive and not connection.abandoned and not connection.lost
        if connection.complete and reusable:
            transport = connection.transport
            if transport is not None and not transport.is_closing():
                connection.idle_since = time.monotonic()
                idle = self._idle.get(connection.origin)
                if idle is None:
                    idle = self._idle[connection.origin] = []
                idle.append(connection)
                if self._waiting:
                    self._wake_one()
                return
        self.discard(connection)

    def discard(self, connection: Connection) -> None:
        """Close ``connection`` and free its place."""
        connection.abort()
        if connection in self._counted:
            self._counted.remove(connection)
            self._open -= 1
            self._wake_one()

    async def aclose(self) -> None:
        """Close every idle connection."""
        for idle in self._idle.values():
            for connection in idle:
                self.discard(connection)
        self._idle.clear()


async def _send(
    connection: Connection, head: bytes, body: bytes | AsyncIterable[bytes], chunked: bool
) -> None:
    """A request whose body is long or still coming (a short one goes out in ``_exchange``)."""
    transport = connection.transport
    assert transport is not None
    if isinstance(body, bytes):
        transport.write(head)
        transport.write(body)
        await connection.drain()
        return
    transport.write(head)
    async for chunk in body:
        await connection.drain()
        if connection.head_done:  # answered already: the rest of the upload is not wanted
            connection.abandoned = True
            return
        if chunked:
            transport.writelines((b"%x\r\n" % len(chunk), chunk, b"\r\n"))
        else:
            transport.write(chunk)
    await connection.drain()
    if chunked:
        transport.write(b"0\r\n\r\n")


def _head(
    method: str,
    target: str,
    host: str,
    headers: Iterable[tuple[str, str]],
    body: bytes | AsyncIterable[bytes],
    length: str | None,
) -> bytes:
    """The request line and headers, checked for line breaks smuggled into a value."""
    lines = [f"{name}: {value}\r\n" for name, value in headers]
    fields = "".join(lines)
    low = fields.lower()
    if not (low.startswith("host:") or "\nhost:" in low):
        lines.append(f"host: {host}\r\n")
    if not isinstance(body, bytes):
        lines.append(
            f"content-length: {length}\r\n" if length else "transfer-encoding: chunked\r\n"
        )
    elif body or method not in _NO_BODY_METHODS:
        lines.append(f"content-length: {len(body)}\r\n")
    text = f"{method} {target} HTTP/1.1\r\n{''.join(lines)}\r\n"
    breaks = len(lines) + 2  # one per line, the request line's and the blank one included
    if text.count("\n") != breaks or text.count("\r") != breaks:
        raise ValueError("a line break in the request line or a header")
    try:
        return text.encode("latin-1")  # the client's own bytes, as the server decoded them
    except UnicodeEncodeError:
        return text.encode()  # a mapped value beyond latin-1: UTF-8, as aiohttp sent it


def _split(url: str) -> tuple[str, str, int, str, str]:
    """Scheme, host, port, ``Host`` header and request target of an absolute URL."""
    found = _urls.get(url)
    if found is None:
        found = _learn_url(url)
    return found


_URLS_KEPT = 4096
_URL_KEPT_LENGTH = 512
_urls: dict[str, tuple[str, str, int, str, str]] = {}
"""Absolute URLs → what ``_split`` finds in them: a gateway sends most requests to the URLs it
sent the last ones to (one per route and path), so each is parsed once."""
_ABSOLUTE_URL = re.compile(r"(.*?)://([^/?#]*)([^#]*)", re.DOTALL)
"""Scheme (up to the first ``://``), authority, and the target up to any fragment."""
_ORIGINS_KEPT = 256
_origins: dict[str, tuple[str, str, int, str]] = {}
"""``scheme://authority`` → scheme, host, port and ``Host`` header: a gateway talks to a few
backends, each URL's origin is parsed once."""


def _learn_url(url: str) -> tuple[str, str, int, str, str]:
    match = _ABSOLUTE_URL.match(url)
    if match is None:
        raise ValueError(f"not an absolute URL: {url!r}")
    target = match[3]
    if not target.startswith("/"):
        target = "/" + target
    base = url[: match.end(2)]
    origin = _origins.get(base) or _learn_origin(base, match.start(2))
    found = (*origin, target)
    if len(url) <= _URL_KEPT_LENGTH:  # a long query string is seldom sent twice
        if len(_urls) >= _URLS_KEPT:
            _urls.clear()
        _urls[url] = found
    return found


def _learn_origin(base: str, start: int) -> tuple[str, str, int, str]:
    scheme, authority = base[: start - 3].lower(), base[start:]
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http or https URL: {scheme}://{authority}")
    parts = urlsplit(f"{scheme}://{authority}")
    host, port = parts.hostname, parts.port or _DEFAULT_PORTS[scheme]
    if not host:
        raise ValueError(f"no host in {scheme}://{authority}")
    shown = f"[{host}]" if ":" in host else host
    header = shown if port == _DEFAULT_PORTS[scheme] else f"{shown}:{port}"
    if len(_origins) >= _ORIGINS_KEPT:
        _origins.clear()
    _origins[base] = origin = (scheme, host, port, header)
    return origin
