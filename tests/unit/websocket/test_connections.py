from __future__ import annotations

import asyncio

from propylon.websocket.connections import Connection, InMemoryConnections


class FakeChannel:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed: tuple[int, str] | None = None

    async def push(self, text: str) -> bool:
        if self.closed:
            return False
        self.sent.append(text)
        return True

    async def close(self, code: int, reason: str) -> bool:
        if self.closed:
            return False
        self.closed = (code, reason)
        return True


def record(connection_id: str = "abc=") -> Connection:
    return Connection(connection_id, "a1b2c3d4e5", "prod", 1000, 1000, "127.0.0.1", "ua")


def test_registered_connection_is_found_touched_and_reached() -> None:
    async def scenario() -> None:
        registry = InMemoryConnections()
        channel = FakeChannel()
        await registry.add(record(), channel)
        await registry.touch("abc=", 5000)
        found = await registry.get("abc=")
        assert found is not None
        assert (found.connected_at, found.last_active_at) == (1000, 5000)
        assert await registry.push("abc=", "hello")
        assert await registry.close("abc=", 1000, "bye")
        assert channel.sent == ["hello"]
        assert channel.closed == (1000, "bye")
        assert await registry.count() == 1

    asyncio.run(scenario())


def test_unknown_or_removed_connection_is_gone() -> None:
    async def scenario() -> None:
        registry = InMemoryConnections()
        await registry.add(record(), FakeChannel())
        await registry.remove("abc=")
        await registry.remove("abc=")  # twice is harmless
        await registry.touch("abc=", 1)
        assert await registry.get("abc=") is None
        assert not await registry.push("abc=", "x")
        assert not await registry.close("abc=", 1000, "")
        assert await registry.count() == 0

    asyncio.run(scenario())
