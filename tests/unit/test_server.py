"""The server stack: writes of one event-loop step go out in one send."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from typing import Any

from propylon.execute.door import ResponseAborted
from propylon.server import CoalescingTransport, HttpProtocol, uvicorn_config


class RecordingTransport(asyncio.Transport):
    """What the wrapped transport was asked to do, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def close(self) -> None:
        self.calls.append(("close", None))
        self.closing = True

    def abort(self) -> None:
        self.calls.append(("abort", None))
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 7

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1234)}.get(name, default)


def run(scenario: Any) -> Any:
    return asyncio.run(scenario())


def test_writes_of_one_step_go_out_in_one_call_at_its_end() -> None:
    async def scenario() -> list[tuple[str, Any]]:
        inner = RecordingTransport()
        transport = CoalescingTransport(inner, asyncio.get_running_loop())
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
        transport.write(memoryview(b"hello"))
        assert inner.calls == []
        assert transport.get_write_buffer_size() == 7 + 43
        await asyncio.sleep(0)
        first = list(inner.calls)
        transport.write(b"next")
        await asyncio.sleep(0)
        return [*first, *inner.calls[len(first) :]]

    assert run(scenario) == [
        ("write", b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"),
        ("write", b"next"),
    ]


def test_large_writes_are_not_held() -> None:
    async def scenario() -> list[tuple[str, Any]]:
        inner = RecordingTransport()
        transport = CoalescingTransport(inner, asyncio.get_running_loop())
        transport.write(b"x" * 70_000)
        transport.write(b"head")
        transport.write(b"y" * 65_536)  # the held bytes pass 64 KB: out at once, together
        calls = list(inner.calls)
        await asyncio.sleep(0)
        assert inner.calls == calls  # nothing left for the end of the step
        return calls

    calls = run(scenario)
    assert [len(data) for _, data in calls] == [70_000, 4 + 65_536]


def test_close_sends_what_is_held_first_and_abort_drops_it() -> None:
    async def scenario() -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
        loop = asyncio.get_running_loop()
        closed, aborted = RecordingTransport(), RecordingTransport()
        one, two = CoalescingTransport(closed, loop), CoalescingTransport(aborted, loop)
        one.write(b"last words")
        one.close()
        two.write(b"never sent")
        two.abort()
        await asyncio.sleep(0)
        return closed.calls, aborted.calls

    closed, aborted = run(scenario)
    assert closed == [("write", b"last words"), ("close", None)]
    assert aborted == [("abort", None)]


def test_nothing_is_written_to_a_transport_that_closed_meanwhile() -> None:
    async def scenario() -> list[tuple[str, Any]]:
        inner = RecordingTransport()
        transport = CoalescingTransport(inner, asyncio.get_running_loop())
        transport.write(b"too late")
        inner.closing = True  # the peer went away before the end of the step
        await asyncio.sleep(0)
        return inner.calls

    assert run(scenario) == []


def test_the_served_answer_arrives_whole_on_a_real_socket() -> None:
    """uvicorn on HttpProtocol answers correctly (head and body, keep-alive, twice)."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await receive()
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"5")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"hello"})

    config = uvicorn_config(app, lifespan="off")
    assert config.http is HttpProtocol

    async def scenario() -> list[bytes]:
        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()  # connections queue until the server accepts them
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        reader, writer = await asyncio.open_connection(*sock.getsockname())
        answers = []
        for _ in range(2):
            writer.write(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            answers.append(head + await reader.readexactly(5))
        writer.close()
        server.should_exit = True
        await serving
        return answers

    for answer in run(scenario):
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"content-length: 5\r\n" in answer
        assert answer.endswith(b"\r\n\r\nhello")


def test_uvicorn_logs_no_traceback_for_an_answer_cut_short_on_purpose() -> None:
    uvicorn_config(lambda *_: None)
    errors = logging.getLogger("uvicorn.error")

    def record(error: BaseException) -> logging.LogRecord:
        try:
            raise error
        except BaseException:
            info = sys.exc_info()
        return errors.makeRecord(
            "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application", (), info
        )

    assert not errors.filter(record(ResponseAborted("the answer was cut short: reset")))
    assert errors.filter(record(RuntimeError("a real bug")))
