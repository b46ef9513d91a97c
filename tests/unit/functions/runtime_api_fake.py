"""A scripted fake of the Lambda Runtime API, for testing runtime clients such as bootstrap.mjs.

Queued events are handed out by ``GET /runtime/invocation/next``, which blocks while there is
none; POSTs get ``202 {"status":"OK"}`` unless ``answers`` says otherwise. Every request is
recorded. Requests on a connection are answered in order: keep-alive and pipelining work.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Self

PREFIX = "/2018-06-01"
ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"
ACCEPTED = (202, b'{"status":"OK"}')
Event = tuple[bytes, dict[str, str]]  # a queued invocation: body, headers ``next`` sends


@dataclass(frozen=True)
class Received:
    """One request as the fake saw it. ``packet`` counts the ``recv`` calls on its connection
    up to the one that completed the request: two requests written together share it."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    connection: int
    packet: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Connection:
    sock: socket.socket
    number: int
    packets: int = 0
    buffer: bytearray = field(default_factory=bytearray)


class FakeRuntimeApi:
    """One thread accepts; one thread per connection reads, records and answers."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self.answers: dict[str, tuple[int, bytes]] = {}  # path -> (status, body) for a POST
        self._events: deque[Event] = deque()
        self._received: list[Received] = []
        self._posts: list[Received] = []
        self._connections: list[_Connection] = []
        self._closed = False
        self._waiting = 0  # connections blocked in ``next``
        self._changed = threading.Condition()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def queue(
        self,
        event: Any = None,
        *,
        raw: bytes | None = None,
        deadline_ms: int | None = None,
        **optional: str,
    ) -> str:
        """Queue an event (JSON of ``event``, or ``raw`` bytes); return its request id.
        ``optional`` adds ``trace_id``, ``client_context``, ``cognito_identity`` headers."""
        request_id = str(uuid.uuid4())
        deadline = deadline_ms if deadline_ms is not None else int(time.time() * 1000) + 60_000
        headers = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline),
            "Lambda-Runtime-Invoked-Function-Arn": ARN,
        }
        for name, value in optional.items():
            headers["Lambda-Runtime-" + name.replace("_", "-").title()] = value
        body = raw if raw is not None else json.dumps(event).encode()
        with self._changed:
            self._events.append((body, headers))
            self._changed.notify_all()
        return request_id

    @property
    def received(self) -> list[Received]:
        with self._changed:
            return list(self._received)

    def posts(self, count: int = 0, timeout: float = 5.0) -> list[Received]:
        """The POSTs received, once there are at least ``count`` of them."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._posts) >= count, timeout):
                raise AssertionError(f"expected {count} POSTs, got {self._posts}")
            return list(self._posts)

    def idle(self, timeout: float = 5.0) -> None:
        """Wait until a runtime is blocked in ``next`` with no event left to give it."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._waiting and not self._events, timeout):
                raise AssertionError("no runtime is waiting for an event")

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
            connections = list(self._connections)
        for sock in [self._listener] + [c.sock for c in connections]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in accept/recv
        for thread in list(self._threads):
            thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            # Without it, a 202 then an event (two small writes) wait for a delayed ACK: 40 ms.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._changed:
                connection = _Connection(sock, len(self._connections) + 1)
                self._connections.append(connection)
                thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
                self._threads.append(thread)
            thread.start()

    def _serve(self, connection: _Connection) -> None:
        with connection.sock, contextlib.suppress(OSError):
            while (request := self._read_request(connection)) and (reply := self._answer(request)):
                connection.sock.sendall(reply)

    def _read_request(self, connection: _Connection) -> Received | None:
        buffer = connection.buffer
        while b"\r\n\r\n" not in buffer:
            if not self._receive(connection):
                return None
        head = bytes(buffer[: buffer.find(b"\r\n\r\n")])
        request_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines)}
        size = len(head) + 4 + int(headers.get("content-length", "0"))
        while len(buffer) < size:
            if not self._receive(connection):
                return None
        body = bytes(buffer[len(head) + 4 : size])
        del buffer[:size]
        method, path, _ = request_line.split(" ")
        received = Received(method, path, headers, body, connection.number, connection.packets)
        with self._changed:
            self._received.append(received)
            if method == "POST":
                self._posts.append(received)
            self._changed.notify_all()
        return received

    @staticmethod
    def _receive(connection: _Connection) -> bool:
        chunk = connection.sock.recv(65536)
        connection.buffer += chunk
        connection.packets += 1
        return bool(chunk)

    def _answer(self, request: Received) -> bytes | None:
        """The reply's bytes; ``None`` (close the connection) once the fake is closed."""
        if request.method == "GET" and request.path == PREFIX + "/runtime/invocation/next":
            with self._changed:
                self._waiting += 1
                self._changed.notify_all()
                self._changed.wait_for(lambda: self._closed or bool(self._events))
                self._waiting -= 1
                if self._closed:
                    return None
                body, headers = self._events.popleft()
            return _reply(200, body, headers)
        status, body = self.answers.get(request.path, ACCEPTED)
        return _reply(status, body, {})


def _reply(status: int, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["Content-Type: application/json", f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode() + body
