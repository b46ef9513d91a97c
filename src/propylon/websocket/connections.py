"""Where open WebSocket connections are registered, and how another party reaches them.

A connection is known by its id: the ``@connections`` API looks it up (``GetConnection``),
pushes a message to it (``PostToConnection``) or closes it (``DeleteConnection``), whichever
node of a cluster the call lands on. ``ConnectionRegistry`` is that contract. The in-memory
registry serves one process: it keeps each connection's record next to the ``Channel`` that
writes to the client's socket. A shared registry (Redis) would keep the records in the shared
store and forward pushes and closes to the node holding the socket.

All methods are coroutines, so a registry may do I/O; the in-memory one never waits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Connection:
    """What ``GetConnection`` tells about a connection, and where it belongs."""

    connection_id: str
    api_id: str
    stage: str
    connected_at: int
    """Epoch milliseconds of the ``$connect``."""
    last_active_at: int
    """Epoch milliseconds of the last message from the client (``connected_at`` before one)."""
    source_ip: str
    user_agent: str


class Channel(Protocol):
    """The gateway's end of one client socket."""

    async def push(self, text: str) -> bool:
        """Send one text message; False when the socket is closed."""

    async def close(self, code: int, reason: str) -> bool:
        """Close the socket; False when it was closed already."""


class ConnectionRegistry(Protocol):
    async def add(self, connection: Connection, channel: Channel) -> None:
        """Register a connection once its ``$connect`` has succeeded."""

    async def get(self, connection_id: str) -> Connection | None:
        """The open connection with this id, or None (unknown or closed)."""

    async def touch(self, connection_id: str, at: int) -> None:
        """Record activity at ``at`` (epoch milliseconds)."""

    async def remove(self, connection_id: str) -> None:
        """Forget a closed connection (nothing happens for an unknown id)."""

    async def push(self, connection_id: str, text: str) -> bool:
        """Send a message to the client; False when the connection is gone."""

    async def close(self, connection_id: str, code: int, reason: str) -> bool:
        """Close the client's socket; False when the connection is gone."""

    async def count(self) -> int:
        """How many connections are open."""


class InMemoryConnections:
    """The connections of this process, in a dict."""

    def __init__(self) -> None:
        self._open: dict[str, tuple[Connection, Channel]] = {}
        self._active: dict[str, int] = {}
        """Each connection's last activity since its record was made: a message only writes
        this (every message touches; only ``GetConnection`` reads it)."""

    async def add(self, connection: Connection, channel: Channel) -> None:
        self._open[connection.connection_id] = (connection, channel)
        self._active.pop(connection.connection_id, None)

    async def get(self, connection_id: str) -> Connection | None:
        entry = self._open.get(connection_id)
        if entry is None:
            return None
        active = self._active.get(connection_id)
        return entry[0] if active is None else replace(entry[0], last_active_at=active)

    async def touch(self, connection_id: str, at: int) -> None:
        if connection_id in self._open:
            self._active[connection_id] = at

    async def remove(self, connection_id: str) -> None:
        self._open.pop(connection_id, None)
        self._active.pop(connection_id, None)

    async def push(self, connection_id: str, text: str) -> bool:
        entry = self._open.get(connection_id)
        return entry is not None and await entry[1].push(text)

    async def close(self, connection_id: str, code: int, reason: str) -> bool:
        entry = self._open.get(connection_id)
        return entry is not None and await entry[1].close(code, reason)

    async def count(self) -> int:
        return len(self._open)
