"""The smallest keep-alive HTTP proxy in Python, on the stack ``propylon serve`` runs on.

``bench/data_plane.py`` measures it beside Propylon's HTTP_PROXY as the ceiling of that stack:
what a proxy costs in Python with uvicorn, uvloop and httptools (``propylon.server``) when it
does nothing but forward. Every request is sent as ``GET <path>`` on a pooled keep-alive
connection to the upstream, with no header of the client's, no time limit and no error
handling, and the upstream's status, headers and body are answered back. Not a gateway: a
measuring stick. Run by the benchmark as::

    python bench/python_proxy.py http://127.0.0.1:PORT

It prints ``baseline ready on http://127.0.0.1:PORT`` on stderr once it listens.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any
from urllib.parse import urlsplit

import httptools

HOST = "127.0.0.1"
_SKIPPED = frozenset({b"content-length", b"connection", b"keep-alive", b"transfer-encoding"})


class _Upstream(asyncio.Protocol):
    """One keep-alive connection to the upstream, one request at a time."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.answered: asyncio.Future[None] | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.status = 0

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_begin(self) -> None:
        self.headers, self.body = [], []

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if self.answered is not None:
            self.answered.set_result(None)


def proxy_app(upstream: str) -> Any:
    parts = urlsplit(upstream)
    host, port = parts.hostname or HOST, parts.port or 80
    host_header = f"host: {host}:{port}\r\n\r\n".encode()
    idle: list[_Upstream] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()
        loop = asyncio.get_running_loop()
        if idle:
            connection = idle.pop()
        else:
            _, connection = await loop.create_connection(_Upstream, host, port)
        connection.answered = loop.create_future()
        assert connection.transport is not None
        connection.transport.write(b"GET " + scope["raw_path"] + b" HTTP/1.1\r\n" + host_header)
        await connection.answered
        idle.append(connection)
        headers = [(name, value) for name, value in connection.headers if name not in _SKIPPED]
        await send({"type": "http.response.start", "status": connection.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"".join(connection.body)})

    return app


def main(upstream: str) -> None:
    import uvicorn

    from propylon.server import uvicorn_config

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    config = uvicorn_config(proxy_app(upstream), ws="none", lifespan="off")
    print(f"baseline ready on http://{HOST}:{sock.getsockname()[1]}", file=sys.stderr, flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main(sys.argv[1])
