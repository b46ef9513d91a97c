"""HTTP_PROXY bodies flow through the gateway: uploads reach the backend as the client sends
them, answers reach the client as the backend sends them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from propylon.functions import FunctionSpec
from propylon.settings import Settings
from tests.conftest import make_client
from tests.servers import threaded_server

HANDLERS = Path(__file__).parent.parent / "data" / "functions" / "echo.py"
MB = 1024 * 1024
WAIT = 10.0  # seconds before a test gives up on something that should have happened


class Backend:
    """An aiohttp server on loopback, in its own thread and loop, that the test steers.

    ``/chunks`` sends ``first;``, waits for :meth:`release`, then sends ``second``;
    ``/upload`` answers the size and SHA-256 of what it received, and sets ``upload_started``
    as soon as the first bytes of a body arrive; ``/die`` and ``/die-chunked`` send a little of
    their body and drop the connection; ``/json`` streams a JSON document in two chunks.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.released = asyncio.Event()
        self.upload_started = threading.Event()
        self.finished = threading.Event()
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(WAIT)

    def stop(self) -> None:
        self.release()
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(WAIT)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(WAIT)
        self.loop.close()

    def release(self) -> None:
        self.loop.call_soon_threadsafe(self.released.set)

    def reset(self) -> None:
        self.loop.call_soon_threadsafe(self.released.clear)
        self.upload_started.clear()
        self.finished.clear()

    async def _start(self) -> None:
        app = web.Application(client_max_size=64 * MB)
        app.router.add_get("/chunks", self._chunks)
        app.router.add_post("/upload", self._upload)
        app.router.add_get("/die", self._die)
        app.router.add_get("/die-chunked", self._die_chunked)
        app.router.add_get("/json", self._json)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _chunks(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/plain", "x-backend": "1"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"first;")
        await self.released.wait()
        await response.write(b"second")
        await response.write_eof()
        self.finished.set()
        return response

    async def _upload(self, request: web.Request) -> web.Response:
        digest = hashlib.sha256()
        size = 0
        async for chunk in request.content.iter_any():
            self.upload_started.set()
            digest.update(chunk)
            size += len(chunk)
        seen = {
            "size": size,
            "sha256": digest.hexdigest(),
            "content_length": request.headers.get("content-length"),
            "transfer_encoding": request.headers.get("transfer-encoding"),
            "x_name": request.headers.get("x-name"),
        }
        return web.json_response(seen)

    async def _die(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-length": str(MB)})
        await response.prepare(request)
        await response.write(b"x" * 1000)
        await response.drain()
        assert request.transport is not None
        request.transport.abort()
        return response

    async def _die_chunked(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"partial")
        await response.drain()
        assert request.transport is not None
        request.transport.abort()
        return response

    async def _json(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b'{"name": ')
        await response.write(b'"rex"}')
        await response.write_eof()
        return response


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    server = Backend()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def steered(backend: Backend) -> Iterator[Backend]:
    backend.reset()
    yield backend
    backend.release()  # a failed test must not leave a handler waiting


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="module")
def served(log_dir: Path) -> Iterator[str]:
    functions = (FunctionSpec("echo", f"{HANDLERS}:echo"),)
    with threaded_server(Settings(in_memory=True, functions=functions, log_dir=log_dir)) as url:
        yield url


@pytest.fixture
def control(served: str) -> Any:
    httpx.post(f"{served}/_propylon/reset").raise_for_status()
    return make_client(served)


def proxied_api(control: Any, uri: str, route_key: str = "$default", **integration: Any) -> str:
    api_id = str(control.create_api(Name="s", ProtocolType="HTTP")["ApiId"])
    created = control.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="ANY",
        IntegrationUri=uri,
        PayloadFormatVersion="1.0",
        **integration,
    )
    control.create_route(
        ApiId=api_id, RouteKey=route_key, Target=f"integrations/{created['IntegrationId']}"
    )
    control.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    return api_id


def address(served: str, api_id: str, path: str) -> str:
    return f"{served}/_aws/execute-api/{api_id}{path}"


def pieces(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """``total`` bytes of a repeating pattern, in ``size`` pieces."""
    pattern = bytes(range(256)) * (size // 256)
    sent = 0
    while sent < total:
        piece = pattern[: min(size, total - sent)]
        sent += len(piece)
        yield piece


def digest_of(total: int) -> str:
    return hashlib.sha256(b"".join(pieces(total))).hexdigest()


# --- answers --------------------------------------------------------------------------------


def test_the_first_chunk_reaches_the_client_before_the_backend_finishes(
    served: str, control: Any, steered: Backend
) -> None:
    api_id = proxied_api(control, steered.url())
    with httpx.stream("GET", address(served, api_id, "/chunks"), timeout=WAIT) as answer:
        assert answer.status_code == 200
        assert answer.headers["x-backend"] == "1"
        assert answer.headers["apigw-requestid"]
        assert "content-length" not in answer.headers  # passed on chunked, not buffered
        chunks = answer.iter_raw()
        assert next(chunks) == b"first;"
        assert not steered.finished.is_set()  # the backend is still waiting for the test
        steered.release()
        assert b"".join(chunks) == b"second"
    assert steered.finished.wait(WAIT)


def test_a_streamed_answer_keeps_cors_and_counts_its_length(
    served: str, control: Any, steered: Backend, log_dir: Path
) -> None:
    api_id = proxied_api(control, steered.url())
    control.update_api(ApiId=api_id, CorsConfiguration={"AllowOrigins": ["https://app.example"]})
    group = f"/aws/apigw/streaming-{api_id}"
    control.update_stage(
        ApiId=api_id,
        StageName="$default",
        AccessLogSettings={
            "DestinationArn": f"arn:aws:logs:us-east-1:000000000000:log-group:{group}",
            "Format": '{"id":"$context.requestId","length":"$context.responseLength"}',
        },
    )
    steered.release()
    headers = {"origin": "https://app.example"}
    answer = httpx.get(address(served, api_id, "/chunks"), headers=headers, timeout=WAIT)
    assert answer.content == b"first;second"
    assert answer.headers["access-control-allow-origin"] == "https://app.example"
    line = _access_log_line(log_dir / (group.lstrip("/") + ".log"), answer)
    assert line["length"] == str(len(b"first;second"))


def _access_log_line(path: Path, answer: httpx.Response) -> dict[str, Any]:
    """The access-log line of ``answer``, polled for: it is written (by a thread) after the
    answer was sent, so it may not be on disk yet when the client has it."""
    request_id = answer.headers["apigw-requestid"]
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        for line in map(json.loads, lines):
            if line["id"] == request_id:
                return dict(line)
        time.sleep(0.01)
    raise AssertionError(f"no access-log line for {request_id} in {path}")


def test_a_backend_dying_mid_answer_cuts_the_answer_short(
    served: str, control: Any, steered: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    api_id = proxied_api(control, steered.url())
    with caplog.at_level(logging.WARNING):
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(address(served, api_id, "/die"), timeout=WAIT)
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(address(served, api_id, "/die-chunked"), timeout=WAIT)
    # one warning line each, not the server's "Exception in ASGI application" traceback
    cut = [r for r in caplog.records if r.getMessage().startswith("the answer was cut short")]
    assert len(cut) == 2
    assert not [r for r in caplog.records if r.name == "uvicorn.error" and r.exc_info]
    # the gateway is unharmed: the next answer is whole
    steered.release()
    assert httpx.get(address(served, api_id, "/chunks"), timeout=WAIT).content == b"first;second"


def test_a_timeout_after_the_answer_started_cuts_it_short(
    served: str, control: Any, steered: Backend
) -> None:
    api_id = proxied_api(control, steered.url(), TimeoutInMillis=300)
    started = time.monotonic()
    with httpx.stream("GET", address(served, api_id, "/chunks"), timeout=WAIT) as answer:
        assert answer.status_code == 200  # the answer had started: no 503 any more
        chunks = answer.iter_raw()
        assert next(chunks) == b"first;"
        with pytest.raises(httpx.RemoteProtocolError):
            b"".join(chunks)
    assert 0.25 <= time.monotonic() - started < WAIT


def test_a_response_mapping_reading_the_body_still_sees_all_of_it(
    served: str, control: Any, steered: Backend
) -> None:
    api_id = proxied_api(
        control,
        steered.url("/json"),
        "GET /pet",
        ResponseParameters={"200": {"append:header.x-name": "$response.body.name"}},
    )
    answer = httpx.get(address(served, api_id, "/pet"), timeout=WAIT)
    assert answer.json() == {"name": "rex"}
    assert answer.headers["x-name"] == "rex"


# --- uploads --------------------------------------------------------------------------------


def test_an_upload_reaches_the_backend_while_the_client_is_still_sending(
    served: str, control: Any, steered: Backend
) -> None:
    api_id = proxied_api(control, steered.url("/upload"), "POST /upload")

    def body() -> Iterator[bytes]:
        chunks = pieces(8 * MB)
        yield next(chunks)
        # a gateway that buffered the body would never let the backend see this first piece
        assert steered.upload_started.wait(WAIT), "the backend got nothing before the end"
        yield from chunks

    answer = httpx.post(address(served, api_id, "/upload"), content=body(), timeout=WAIT)
    assert answer.status_code == 200
    seen = answer.json()
    assert (seen["size"], seen["sha256"]) == (8 * MB, digest_of(8 * MB))
    assert seen["transfer_encoding"] == "chunked"  # the client sent no length: neither do we


def test_an_upload_with_a_length_is_forwarded_with_it(
    served: str, control: Any, steered: Backend
) -> None:
    api_id = proxied_api(control, steered.url("/upload"), "POST /upload")
    content = b"".join(pieces(3 * MB))
    answer = httpx.post(address(served, api_id, "/upload"), content=content, timeout=WAIT)
    seen = answer.json()
    assert (seen["size"], seen["sha256"]) == (3 * MB, digest_of(3 * MB))
    assert seen["content_length"] == str(3 * MB)
    assert seen["transfer_encoding"] is None


def test_an_upload_over_10_mb_answers_413(served: str, control: Any, steered: Backend) -> None:
    api_id = proxied_api(control, steered.url("/upload"), "POST /upload")
    url = address(served, api_id, "/upload")
    streamed = httpx.post(url, content=pieces(10 * MB + 1), timeout=WAIT)
    assert streamed.status_code == 413
    assert streamed.json() == {"message": "Request Entity Too Large"}
    assert streamed.headers["apigw-requestid"]
    assert steered.upload_started.is_set()  # the upload had begun when the limit was crossed


def test_a_declared_length_over_10_mb_answers_413_at_once(
    served: str, control: Any, steered: Backend
) -> None:
    api_id = proxied_api(control, steered.url("/upload"), "POST /upload")
    content = b"".join(pieces(10 * MB + 1))
    answer = httpx.post(address(served, api_id, "/upload"), content=content, timeout=WAIT)
    assert answer.status_code == 413
    assert not steered.upload_started.is_set()  # refused before anything was forwarded


def test_exactly_10_mb_is_accepted(served: str, control: Any, steered: Backend) -> None:
    api_id = proxied_api(control, steered.url("/upload"), "POST /upload")
    answer = httpx.post(address(served, api_id, "/upload"), content=pieces(10 * MB), timeout=WAIT)
    assert answer.json()["size"] == 10 * MB


def test_a_request_mapping_reading_the_body_sees_it_whole(
    served: str, control: Any, steered: Backend
) -> None:
    api_id = proxied_api(
        control,
        steered.url("/upload"),
        "POST /upload",
        RequestParameters={"append:header.x-name": "$request.body.pet.name"},
    )
    # under the 100 KB JSONPath limit, with the value at the end: only a whole body has it
    document = json.dumps({"padding": "p" * 90_000, "pet": {"name": "rex"}}).encode()
    answer = httpx.post(
        address(served, api_id, "/upload"), content=pieces_of(document, 16 * 1024), timeout=WAIT
    )
    seen = answer.json()
    assert seen["size"] == len(document)
    assert seen["x_name"] == "rex"


def test_a_lambda_proxy_gets_a_long_body_whole(served: str, control: Any) -> None:
    echo = "arn:aws:lambda:us-east-1:000000000000:function:echo"
    api_id = str(control.create_api(Name="l", ProtocolType="HTTP", Target=echo)["ApiId"])
    document = json.dumps({"padding": "p" * (2 * MB)})
    answer = httpx.post(
        address(served, api_id, "/"),
        content=pieces_of(document.encode()),
        headers={"content-type": "application/json"},
        timeout=WAIT,
    )
    assert answer.status_code == 200
    assert answer.json()["body"] == document


def pieces_of(content: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(content), size):
        yield content[start : start + size]


def test_a_client_expecting_100_continue_gets_it_before_sending_the_body(
    served: str, control: Any, steered: Backend
) -> None:
    """The interim answer is not held back with the final one: the client waits for it."""
    api_id = proxied_api(control, steered.url("/upload"), "POST /upload")
    host, port = served.removeprefix("http://").split(":")
    content = b"".join(pieces(MB))
    with socket.create_connection((host, int(port)), timeout=WAIT) as client:
        client.sendall(
            f"POST /_aws/execute-api/{api_id}/upload HTTP/1.1\r\nhost: {host}:{port}\r\n"
            f"content-length: {len(content)}\r\nexpect: 100-continue\r\n\r\n".encode()
        )
        interim = _read_until(client, b"\r\n\r\n")
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
        client.sendall(content)
        head = _read_until(client, b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        body = _read_exactly(client, length)
    seen = json.loads(body)
    assert (seen["size"], seen["sha256"]) == (MB, digest_of(MB))


def _read_until(client: socket.socket, end: bytes) -> bytes:
    """Bytes up to and including ``end``, read one at a time (nothing past it is taken)."""
    data = b""
    while not data.endswith(end):
        byte = client.recv(1)
        if not byte:
            raise AssertionError(f"the connection closed after {data!r}")
        data += byte
    return data


def _read_exactly(client: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = client.recv(size - len(data))
        if not chunk:
            raise AssertionError(f"the connection closed after {len(data)} of {size} bytes")
        data += chunk
    return data
