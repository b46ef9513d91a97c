"""The gateway's own HTTP/1.1 client, against small scripted servers on loopback."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
import uvloop

from propylon.execute.upstream import Pool, UpstreamDisconnected, UpstreamProtocolError

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@dataclass
class Seen:
    """A request as the server read it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    connection: int
    """Which connection it came on (1, 2, ...)."""
    index: int
    """Its place on that connection (0 for the first request)."""


Answer = Callable[[Seen], tuple[bytes | None, bool]]
"""What the server writes for a request (None: nothing) and whether it then hangs up."""


@dataclass
class Server:
    answer: Answer
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number, index = self.connections, 0
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                seen = await _read_request(reader, head, number, index)
                self.seen.append(seen)
                index += 1
                data, close = self.answer(seen)
                if data is not None:
                    writer.write(data)
                    await writer.drain()
                if close:
                    return
        finally:
            writer.close()


async def _read_request(
    reader: asyncio.StreamReader, head: bytes, connection: int, index: int
) -> Seen:
    line, *lines = head.decode("latin-1").split("\r\n")[:-2]
    method, target, _ = line.split(" ")
    headers = {name.lower(): value for name, _, value in (h.partition(": ") for h in lines)}
    body = b""
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while size := int((await reader.readuntil(b"\r\n"))[:-2], 16):
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        await reader.readexactly(2)
    return Seen(method, target, headers, body, connection, index)


Run = Callable[..., None]
"""``run(answer, test, limit=10)``: ``test`` against a server answering ``answer``."""


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Run:
    """Each test runs on both event loops: the gateway serves on uvloop when it can."""
    factory = uvloop.new_event_loop if request.param == "uvloop" else asyncio.new_event_loop

    def run(
        answer: Answer, test: Callable[[Pool, Server], Awaitable[None]], limit: int = 10
    ) -> None:
        async def main() -> None:
            server = Server(answer)
            listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
            server.port = listening.sockets[0].getsockname()[1]
            pool = Pool(ssl.create_default_context, limit)
            try:
                await test(pool, server)
            finally:
                await pool.aclose()
                listening.close()
                await listening.wait_closed()

        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(main())

    return run


def always(data: bytes, close: bool = False) -> Answer:
    return lambda seen: (data, close)


async def get(pool: Pool, url: str, method: str = "GET") -> tuple[int, bytes]:
    response = await pool.request(method, url, [("x-test", "1")])
    body = await response.read()
    response.release()
    return response.status, body


def test_a_connection_is_reused_for_the_next_request(run: Run) -> None:
    async def test(pool: Pool, server: Server) -> None:
        assert await get(pool, server.url("/a?x=1")) == (200, b"ok")
        assert await get(pool, server.url("/b")) == (200, b"ok")
        assert [(s.target, s.connection, s.index) for s in server.seen] == [
            ("/a?x=1", 1, 0),
            ("/b", 1, 1),
        ]
        assert server.seen[0].headers["host"] == f"127.0.0.1:{server.port}"
        assert server.seen[0].headers["x-test"] == "1"
        assert "content-length" not in server.seen[0].headers  # a GET without a body

    run(always(OK), test)


def test_a_chunked_answer_is_read_whole_and_the_connection_kept(run: Run) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )

    async def test(pool: Pool, server: Server) -> None:
        assert await get(pool, server.url()) == (200, b"abcde")
        assert await get(pool, server.url()) == (200, b"abcde")
        assert server.connections == 1

    run(always(chunked), test)


def test_an_answer_without_length_ends_when_the_server_closes(run: Run) -> None:
    async def test(pool: Pool, server: Server) -> None:
        assert await get(pool, server.url()) == (200, b"until the end")
        assert await get(pool, server.url()) == (200, b"until the end")
        assert server.connections == 2  # that connection could not be reused

    run(always(b"HTTP/1.1 200 OK\r\n\r\nuntil the end", close=True), test)


def test_connection_close_is_honoured(run: Run) -> None:
    answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"

    async def test(pool: Pool, server: Server) -> None:
        assert await get(pool, server.url()) == (200, b"ok")
        assert await get(pool, server.url()) == (200, b"ok")
        assert server.connections == 2

    run(always(answer, close=True), test)


def test_a_head_answer_has_no_body_despite_its_length(run: Run) -> None:
    def answer(seen: Seen) -> tuple[bytes, bool]:
        if seen.method == "HEAD":
            return b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", False
        return OK, False

    async def test(pool: Pool, server: Server) -> None:
        response = await pool.request("HEAD", server.url(), [])
        assert response.at_eof()
        assert (response.status, await response.read()) == (200, b"")
        assert response.content_length == 100
        response.release()
        assert await get(pool, server.url()) == (200, b"ok")
        assert server.connections == 1

    run(answer, test)


def test_a_204_has_no_body_and_keeps_the_connection(run: Run) -> None:
    async def test(pool: Pool, server: Server) -> None:
        assert await get(pool, server.url()) == (204, b"")
        assert await get(pool, server.url()) == (204, b"")
        assert server.connections == 1

    run(always(b"HTTP/1.1 204 No Content\r\n\r\n"), test)


def test_an_interim_answer_is_skipped(run: Run) -> None:
    async def test(pool: Pool, server: Server) -> None:
        assert await get(pool, server.url()) == (200, b"ok")

    run(always(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK), test)


def test_a_pooled_connection_the_server_closed_while_idle_is_not_used(run: Run) -> None:
    async def test(pool: Pool, server: Server) -> None:
        assert await get(pool, server.url()) == (200, b"ok")
        await asyncio.sleep(0.05)  # the server's close has reached the client
        assert await get(pool, server.url()) == (200, b"ok")
        assert server.connections == 2

    run(always(OK, close=True), test)  # closes without saying so


def test_a_request_lost_on_a_stale_pooled_connection_is_sent_again(run: Run) -> None:
    def answer(seen: Seen) -> tuple[bytes | None, bool]:
        if seen.index == 1:  # the second request on a connection: hang up, answer nothing
            return None, True
        return OK, False

    async def test(pool: Pool, server: Server) -> None:
        assert await get(pool, server.url()) == (200, b"ok")
        assert await get(pool, server.url()) == (200, b"ok")
        assert [(s.connection, s.index) for s in server.seen] == [(1, 0), (1, 1), (2, 0)]

    run(answer, test)


def test_a_fresh_connection_closed_before_the_answer_fails(run: Run) -> None:
    async def test(pool: Pool, server: Server) -> None:
        with pytest.raises(UpstreamDisconnected):
            await pool.request("GET", server.url(), [])
        assert server.connections == 1  # not retried: nothing was stale

    run(always(b"", close=True), test)


def test_an_answer_nobody_asked_for_makes_the_connection_unusable(run: Run) -> None:
    async def test(pool: Pool, server: Server) -> None:
        assert await get(pool, server.url()) == (200, b"ok")
        assert await get(pool, server.url()) == (200, b"ok")
        assert server.connections == 2

    run(always(OK + OK), test)  # two answers to one request


def test_a_streamed_body_without_length_goes_chunked(run: Run) -> None:
    async def body() -> AsyncIterator[bytes]:
        for piece in (b"one", b"-two-", b"three"):
            await asyncio.sleep(0)
            yield piece

    async def test(pool: Pool, server: Server) -> None:
        response = await pool.request("POST", server.url(), [], body())
        assert await response.read() == b"ok"
        (seen,) = server.seen
        assert (seen.body, seen.headers["transfer-encoding"]) == (b"one-two-three", "chunked")

    run(always(OK), test)


def test_a_streamed_body_with_a_length_is_sent_with_it(run: Run) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b"de"

    async def test(pool: Pool, server: Server) -> None:
        response = await pool.request("PUT", server.url(), [], body(), length="5")
        assert await response.read() == b"ok"
        (seen,) = server.seen
        assert (seen.body, seen.headers["content-length"]) == (b"abcde", "5")
        assert "transfer-encoding" not in seen.headers

    run(always(OK), test)


def test_an_empty_post_says_its_length_is_zero(run: Run) -> None:
    async def test(pool: Pool, server: Server) -> None:
        assert await get(pool, server.url(), "POST") == (200, b"ok")
        assert server.seen[0].headers["content-length"] == "0"

    run(always(OK), test)


def test_a_long_answer_arrives_whole_in_parts(run: Run) -> None:
    content = bytes(range(256)) * 4096  # 1 MB: reading pauses and resumes on the way
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(content) + content

    async def test(pool: Pool, server: Server) -> None:
        response = await pool.request("GET", server.url(), [])
        parts = []
        while part := await response.read_some():
            parts.append(part)
            await asyncio.sleep(0)
        assert b"".join(parts) == content
        assert response.at_eof()

    run(always(answer), test)


def test_garbage_from_the_server_is_a_protocol_error(run: Run) -> None:
    async def test(pool: Pool, server: Server) -> None:
        with pytest.raises(UpstreamProtocolError):
            await pool.request("GET", server.url(), [])

    run(always(b"SSH-2.0-OpenSSH_9.6\r\n\r\n"), test)


def test_an_answer_cut_short_fails_when_read(run: Run) -> None:
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"

    async def test(pool: Pool, server: Server) -> None:
        response = await pool.request("GET", server.url(), [])
        with pytest.raises(UpstreamDisconnected):
            await response.read()
        response.release()  # not complete: closed, not pooled
        assert await get(pool, server.url()) == (500, b"")

    def script(seen: Seen) -> tuple[bytes, bool]:
        if seen.connection == 1:
            return answer, True
        return b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", False

    run(script, test)


def test_a_line_break_in_a_header_value_is_refused(run: Run) -> None:
    async def test(pool: Pool, server: Server) -> None:
        with pytest.raises(ValueError, match="line break"):
            await pool.request("GET", server.url(), [("x-a", "1\r\nx-injected: 2")])
        assert server.connections == 0

    run(always(OK), test)


def test_requests_beyond_the_limit_wait_for_a_connection(run: Run) -> None:
    async def test(pool: Pool, server: Server) -> None:
        results = await asyncio.gather(*(get(pool, server.url()) for _ in range(5)))
        assert results == [(200, b"ok")] * 5
        assert server.connections == 1

    run(always(OK), test, limit=1)
