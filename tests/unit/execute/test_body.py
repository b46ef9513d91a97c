from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import pytest

from propylon.errors import GatewayPayloadTooLarge
from propylon.execute.body import MAX_BODY, ClientDisconnected, RequestBody


def messages(*bodies: bytes, disconnect: bool = False) -> Any:
    """An ASGI ``receive`` giving ``bodies`` as ``http.request`` messages (the last one
    without ``more_body``, unless the client disconnects after them)."""
    queue: list[MutableMapping[str, Any]] = [
        {"type": "http.request", "body": body, "more_body": disconnect or i < len(bodies) - 1}
        for i, body in enumerate(bodies)
    ]
    if disconnect:
        queue.append({"type": "http.disconnect"})

    async def receive() -> MutableMapping[str, Any]:
        return queue.pop(0)

    return receive


async def chunks_of(body: RequestBody) -> list[bytes]:
    return [chunk async for chunk in body.chunks()]


def test_read_joins_the_first_chunk_and_the_rest() -> None:
    body = RequestBody(messages(b"b", b"", b"c"), b"a")
    assert asyncio.run(body.read()) == b"abc"
    assert body.size == 3


def test_chunks_come_as_sent_without_empty_ones() -> None:
    body = RequestBody(messages(b"two", b"", b"three"), b"one")
    assert asyncio.run(chunks_of(body)) == [b"one", b"two", b"three"]


def test_a_body_is_read_once() -> None:
    body = RequestBody(messages(b"x"), b"")
    assert asyncio.run(body.read()) == b"x"
    with pytest.raises(RuntimeError):
        asyncio.run(body.read())


def test_exactly_the_limit_is_accepted_and_one_byte_more_is_413() -> None:
    fits = RequestBody(messages(b"4567"), b"123", limit=7)
    assert asyncio.run(fits.read()) == b"1234567"
    over = RequestBody(messages(b"4567", b"8"), b"123", limit=7)
    with pytest.raises(GatewayPayloadTooLarge) as caught:
        asyncio.run(over.read())
    assert over.error is caught.value
    assert (caught.value.status, caught.value.message) == (413, "Request Entity Too Large")


def test_the_limit_stops_reading_before_the_rest_of_the_body() -> None:
    receive = messages(b"x" * 8, b"never read")
    body = RequestBody(receive, b"", limit=4)
    with pytest.raises(GatewayPayloadTooLarge):
        asyncio.run(body.read())
    assert body.size == 8  # the second message was left on the connection


def test_a_client_leaving_midway_is_kept_as_the_error() -> None:
    body = RequestBody(messages(b"part", disconnect=True), b"")
    with pytest.raises(ClientDisconnected) as caught:
        asyncio.run(body.read())
    assert body.error is caught.value


def test_the_default_limit_is_10_mb() -> None:
    assert MAX_BODY == 10 * 1024 * 1024
    assert RequestBody(messages(b""), b"").limit == MAX_BODY
