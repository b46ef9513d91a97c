"""HttpProxy.stream: bodies pass through as they come, in both directions."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from propylon.errors import GatewayPayloadTooLarge
from propylon.execute.body import RequestBody
from propylon.execute.http_proxy import HttpProxy, IntegrationTimeout
from tests.unit.execute.test_body import messages
from tests.unit.execute.test_http_proxy import PROXY_INTEGRATION, make_inv


@dataclass
class Steered:
    """A backend whose streaming answers wait for ``go`` before their last chunk."""

    port: int = 0
    go: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _peer(request: web.Request) -> str:
    assert request.transport is not None
    return str(request.transport.get_extra_info("peername")[1])


@asynccontextmanager
async def steered() -> AsyncIterator[Steered]:
    state = Steered()

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"x-peer": _peer(request)})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"first;")
        await state.go.wait()
        await response.write(b"last")
        await response.write_eof()
        return response

    async def small(request: web.Request) -> web.Response:
        return web.Response(body=b"small", headers={"x-peer": _peer(request)})

    async def upload(request: web.Request) -> web.Response:
        body = await request.read()
        seen = {
            "body": body.decode("latin-1"),
            "sha256": hashlib.sha256(body).hexdigest(),
            "content_length": request.headers.get("content-length"),
            "chunked": request.headers.get("transfer-encoding") == "chunked",
        }
        return web.json_response(seen)

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/small", small)
    app.router.add_post("/upload", upload)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = runner.addresses[0][1]
    try:
        yield state
    finally:
        state.go.set()
        await runner.cleanup()


def run(test: Callable[[HttpProxy, Steered], Awaitable[None]]) -> None:
    async def main() -> None:
        proxy = HttpProxy()
        try:
            async with steered() as backend:
                await test(proxy, backend)
        finally:
            await proxy.aclose()

    asyncio.run(main())


def test_a_short_reply_of_known_length_comes_whole() -> None:
    async def test(proxy: HttpProxy, backend: Steered) -> None:
        reply = await proxy.stream(make_inv(), PROXY_INTEGRATION, backend.url("/small"))
        assert (reply.body, reply.rest) == (b"small", None)

    run(test)


def test_a_chunked_reply_comes_back_before_the_backend_finishes() -> None:
    async def test(proxy: HttpProxy, backend: Steered) -> None:
        reply = await proxy.stream(make_inv(), PROXY_INTEGRATION, backend.url("/chunked"))
        assert reply.rest is not None
        assert not backend.go.is_set()  # the backend has not sent its last chunk yet
        backend.go.set()
        rest = b"".join([chunk async for chunk in reply.rest])
        assert reply.body + rest == b"first;last"

    run(test)


def test_forward_still_reads_the_whole_reply() -> None:
    async def test(proxy: HttpProxy, backend: Steered) -> None:
        backend.go.set()
        reply = await proxy.forward(make_inv(), PROXY_INTEGRATION, backend.url("/chunked"))
        assert (reply.body, reply.rest) == (b"first;last", None)

    run(test)


def test_a_streamed_reply_read_to_the_end_gives_its_connection_back_to_the_pool() -> None:
    async def test(proxy: HttpProxy, backend: Steered) -> None:
        reply = await proxy.stream(make_inv(), PROXY_INTEGRATION, backend.url("/chunked"))
        assert reply.rest is not None
        backend.go.set()
        async for _ in reply.rest:
            pass
        again = await proxy.stream(make_inv(), PROXY_INTEGRATION, backend.url("/small"))
        assert dict(again.headers)["x-peer"] == dict(reply.headers)["x-peer"]

    run(test)


def test_a_streamed_reply_closed_early_drops_its_connection() -> None:
    async def test(proxy: HttpProxy, backend: Steered) -> None:
        reply = await proxy.stream(make_inv(), PROXY_INTEGRATION, backend.url("/chunked"))
        assert reply.rest is not None
        await reply.rest.aclose()  # half an answer: the connection cannot be reused
        again = await proxy.stream(make_inv(), PROXY_INTEGRATION, backend.url("/small"))
        assert dict(again.headers)["x-peer"] != dict(reply.headers)["x-peer"]

    run(test)


def test_running_out_of_time_while_streaming_raises_integration_timeout() -> None:
    async def test(proxy: HttpProxy, backend: Steered) -> None:
        integration = {**PROXY_INTEGRATION, "TimeoutInMillis": 100}
        reply = await proxy.stream(make_inv(), integration, backend.url("/chunked"))
        assert reply.rest is not None
        with pytest.raises(IntegrationTimeout):
            async for _ in reply.rest:
                pass

    run(test)


@pytest.mark.parametrize(
    ("headers", "content_length", "chunked"),
    [([], None, True), ([("content-length", "13")], "13", False)],
)
def test_a_body_still_arriving_is_sent_as_it_comes(
    headers: list[tuple[str, str]], content_length: str | None, chunked: bool
) -> None:
    async def test(proxy: HttpProxy, backend: Steered) -> None:
        body = RequestBody(messages(b"-two-", b"three"), b"one")
        inv = make_inv(http_method="POST", headers=headers, body_stream=body)
        reply = await proxy.forward(inv, PROXY_INTEGRATION, backend.url("/upload"))
        seen = json.loads(reply.body)
        assert seen["body"] == "one-two-three"
        assert (seen["content_length"], seen["chunked"]) == (content_length, chunked)

    run(test)


def test_an_upload_crossing_the_limit_raises_413() -> None:
    async def test(proxy: HttpProxy, backend: Steered) -> None:
        body = RequestBody(messages(b"x" * 10, b"y" * 10), b"", limit=15)
        inv = make_inv(http_method="POST", headers=[], body_stream=body)
        with pytest.raises(GatewayPayloadTooLarge):
            await proxy.stream(inv, PROXY_INTEGRATION, backend.url("/upload"))

    run(test)


def test_a_whole_body_over_a_megabyte_is_sent_intact() -> None:
    content = bytes(range(256)) * (5 * 4096)  # 5 MB

    async def test(proxy: HttpProxy, backend: Steered) -> None:
        inv = make_inv(http_method="POST", headers=[], body=content)
        reply = await proxy.forward(inv, PROXY_INTEGRATION, backend.url("/upload"))
        seen = json.loads(reply.body)
        assert seen["content_length"] == str(len(content))
        assert seen["sha256"] == hashlib.sha256(content).hexdigest()

    run(test)
