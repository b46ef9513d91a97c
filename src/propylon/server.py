"""The server stack Propylon runs on: uvicorn with uvloop and httptools, one change.

uvicorn's HTTP/1.1 protocol writes a response in two ``transport.write`` calls, the status line
with the headers when the app sends ``http.response.start`` and the body with
``http.response.body``, and uvloop sends each at once: two ``send`` system calls per response.
On the 2-core VMs Propylon is measured on, a system call on a loopback socket costs about as
much as routing a request, and the second one was a third of a small answer's time
(docs/performance.md, "One send per response"). :class:`HttpProtocol` is uvicorn's protocol
with its transport wrapped in a :class:`CoalescingTransport`, which holds what is written
until the event loop finishes the step it is in, then sends it in one call. Nothing waits for
it longer than that step, and 64 KB or more goes out at once.

``uvicorn_config`` is the configuration ``propylon serve`` uses; the tests and the benchmarks'
baselines start their servers with it too, so they run on the same stack.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from propylon.execute.door import ResponseAborted

_SEND_AT = 64 * 1024
"""Held bytes that go out at once, without waiting for the end of the step."""


class CoalescingTransport(asyncio.Transport):
    """A stream transport whose writes within one step of the event loop go out together."""

    __slots__ = ("_held", "_held_size", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] | None = None
        self._held_size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is None:
            if len(data) >= _SEND_AT:
                self._transport.write(data)
                return
            self._held = [bytes(data)]
            self._held_size = len(data)
            self._loop.call_soon(self._send)
            return
        held.append(bytes(data))
        self._held_size += len(data)
        if self._held_size >= _SEND_AT:
            self._send()

    def _send(self) -> None:
        held, self._held = self._held, None
        if held and not self._transport.is_closing():
            self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def write_eof(self) -> None:
        self._send()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def close(self) -> None:
        self._send()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._held_size * (self._held is not None)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, writing through a :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))


class _CutShortFilter(logging.Filter):
    """Drops uvicorn's "Exception in ASGI application" traceback for an answer the gateway cut
    short on purpose (a backend failing midway: ``ResponseAborted``, logged by the door)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ResponseAborted)


_CUT_SHORT = _CutShortFilter()


def uvicorn_config(app: Any, log_level: str = "warning", **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration of ``propylon serve``: uvloop, :class:`HttpProtocol`,
    WebSockets on websockets' sans-I/O protocol, no access log, no ``Server`` header; uvicorn's
    error log without the traceback of an answer cut short on purpose."""
    logging.getLogger("uvicorn.error").addFilter(_CUT_SHORT)  # added once, however often called
    options: dict[str, Any] = {
        "loop": "uvloop" if sys.platform != "win32" else "asyncio",
        "http": HttpProtocol,
        "ws": "websockets-sansio",
        "lifespan": "on",
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
        "log_level": log_level,
        "log_config": None,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)
