"""The gateway's end of one client socket, over ASGI: a ``connections.Channel``.

Until the handshake is accepted the socket can only be refused (an HTTP answer instead of
``101``); once closed, pushes and closes quietly answer False instead of raising, since a
``PostToConnection`` may race the client going away.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_HANDSHAKE = frozenset(
    {
        "connection",
        "upgrade",
        "content-length",
        "transfer-encoding",
        "sec-websocket-accept",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
    }
)
"""Headers of the ``101`` the WebSocket protocol owns: an integration cannot set them (the
subprotocol is chosen through ``subprotocol``)."""


class Socket:
    """The gateway's end of one client socket (a ``Channel``), over ASGI."""

    def __init__(self, scope: Scope, send: Send) -> None:
        self._send = send
        self._can_answer = "websocket.http.response" in (scope.get("extensions") or {})
        self.open = False
        self.closed = False

    async def accept(self, subprotocol: str | None, headers: dict[str, str]) -> None:
        """Complete the handshake (``101``), with extra response headers."""
        extra = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in headers.items()
            if name.lower() not in _HANDSHAKE
        ]
        await self._send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": extra})
        self.open = True

    async def refuse(self, status: int, body: str) -> None:
        """Answer the upgrade request with an HTTP error instead of ``101``."""
        self.closed = True
        if not self._can_answer:
            await self._send({"type": "websocket.close", "code": 1008})
            return
        headers = [(b"content-type", b"application/json")]
        start = {"type": "websocket.http.response.start", "status": status, "headers": headers}
        await self._send(start)
        await self._send({"type": "websocket.http.response.body", "body": body.encode()})

    async def push(self, text: str) -> bool:
        if not self.open or self.closed:
            return False
        try:
            await self._send({"type": "websocket.send", "text": text})
        except (OSError, RuntimeError):  # the client went away meanwhile
            self.closed = True
            return False
        return True

    async def close(self, code: int, reason: str) -> bool:
        if not self.open or self.closed:
            return False
        self.closed = True
        try:
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except (OSError, RuntimeError):
            return False
        return True
