from __future__ import annotations

import asyncio
import gzip
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web

from propylon.execute.context import Invocation
from propylon.execute.http_proxy import (
    HttpProxy,
    IntegrationFailure,
    IntegrationTimeout,
    UpstreamReply,
)

PROXY_INTEGRATION = {"IntegrationType": "HTTP_PROXY", "IntegrationMethod": "ANY"}


def make_inv(**overrides: Any) -> Invocation:
    fields: dict[str, Any] = {
        "http_method": "GET",
        "raw_path": "/prod/pets",
        "path": "/prod/pets",
        "route_path": "/pets",
        "raw_query_string": "",
        "query": [],
        "headers": [("host", "abc123.execute-api.localhost:4580"), ("x-client", "1")],
        "body": b"",
        "source_ip": "203.0.113.9",
        "protocol": "HTTP/1.1",
        "domain_name": "abc123.execute-api.localhost",
        "api_id": "abc123",
        "account_id": "000000000000",
        "stage": "prod",
        "request_id": "req-1",
        "request_time": "01/Jan/2026:00:00:00 +0000",
        "request_time_epoch": 1767225600000,
        "route_key": "GET /pets",
    }
    fields.update(overrides)
    fields.setdefault("domain_prefix", fields["domain_name"].split(".", 1)[0])
    return Invocation(**fields)


@dataclass
class Upstream:
    """A local backend: ``/echo...`` answers what it received as JSON."""

    port: int = 0
    sni: list[str | None] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"


async def _echo(request: web.Request) -> web.Response:
    path, _, query = request.raw_path.partition("?")
    seen = {
        "method": request.method,
        "path": path,
        "query": query,
        "headers": [[k.decode(), v.decode()] for k, v in request.raw_headers],
        "body": (await request.read()).decode("latin-1"),
    }
    return web.json_response(seen, status=int(request.headers.get("x-want-status", "200")))


async def _hop_by_hop(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"X-Upstream": "1", "Proxy-Thing": "x", "Upgrade": "h2c", "Keep-Alive": "5"}
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(b"chunk-1;")
    await response.write(b"chunk-2")
    await response.write_eof()
    return response


async def _gzipped(request: web.Request) -> web.Response:
    return web.Response(body=gzip.compress(b"hello"), headers={"Content-Encoding": "gzip"})


@asynccontextmanager
async def upstream(server_ssl: ssl.SSLContext | None = None) -> AsyncIterator[Upstream]:
    state = Upstream()

    async def slow(request: web.Request) -> web.Response:
        await state.release.wait()  # set by the test once the gateway has given up
        return web.Response(text="too late")

    app = web.Application()
    app.router.add_get("/slow", slow)
    app.router.add_get("/hop", _hop_by_hop)
    app.router.add_get("/gzip", _gzipped)
    app.router.add_route("*", "/{tail:.*}", _echo)
    if server_ssl is not None:
        server_ssl.sni_callback = lambda _sock, name, _ctx: state.sni.append(name)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl)
    await site.start()
    state.port = runner.addresses[0][1]
    try:
        yield state
    finally:
        state.release.set()
        await runner.cleanup()


def run(test: Callable[[HttpProxy, Upstream], Awaitable[None]], **proxy: Any) -> None:
    async def main() -> None:
        gateway = HttpProxy(**proxy)
        try:
            async with upstream() as backend:
                await test(gateway, backend)
        finally:
            await gateway.aclose()

    asyncio.run(main())


def echoed(reply: UpstreamReply) -> dict[str, Any]:
    assert reply.status == 200, reply
    seen: dict[str, Any] = json.loads(reply.body)
    seen["header_names"] = [name.lower() for name, _ in seen["headers"]]
    return seen


def header(seen: dict[str, Any], name: str) -> list[str]:
    return [value for key, value in seen["headers"] if key.lower() == name]


@pytest.mark.parametrize(
    ("route_key", "uri_path", "parameters", "expected"),
    [
        ("GET /pets/{petID}", "/pets/extendedpath/{petID}", {"petID": "7"}, "/pets/extendedpath/7"),
        ("GET /files/{name}", "/f/{name}", {"name": "a/b c%"}, "/f/a%2Fb%20c%25"),
        ("ANY /parent/{proxy+}", "/petstore/{proxy}", {"proxy": "x/y z"}, "/petstore/x/y%20z"),
        ("GET /a/{x}/{y}", "/{y}/{x}", {"x": "1", "y": "2"}, "/2/1"),
    ],
)
def test_path_variables_are_substituted(
    route_key: str, uri_path: str, parameters: dict[str, str], expected: str
) -> None:
    async def test(gateway: HttpProxy, backend: Upstream) -> None:
        inv = make_inv(route_key=route_key, path_parameters=parameters)
        reply = await gateway.forward(inv, PROXY_INTEGRATION, backend.url(uri_path))
        assert echoed(reply)["path"] == expected

    run(test)


@pytest.mark.parametrize(
    ("uri_path", "expected"),
    [
        ("", "/store/checkout"),
        ("/base", "/base/store/checkout"),
        ("/base/", "/base/store/checkout"),
    ],
)
def test_default_route_appends_the_request_path(uri_path: str, expected: str) -> None:
    async def test(gateway: HttpProxy, backend: Upstream) -> None:
        inv = make_inv(route_key="$default", route_path="/store/checkout")
        reply = await gateway.forward(inv, PROXY_INTEGRATION, backend.url(uri_path))
        assert echoed(reply)["path"] == expected

    run(test)


def test_other_routes_use_the_uri_as_written() -> None:
    async def test(gateway: HttpProxy, backend: Upstream) -> None:
        inv = make_inv(route_key="GET /pets/list", route_path="/pets/list")
        reply = await gateway.forward(inv, PROXY_INTEGRATION, backend.url("/target"))
        assert echoed(reply)["path"] == "/target"

    run(test)


@pytest.mark.parametrize(
    ("uri_query", "expected"),
    [("", "b=x%20y&b=2&c"), ("?fixed=1", "fixed=1&b=x%20y&b=2&c")],
)
def test_query_string_is_forwarded_as_received(uri_query: str, expected: str) -> None:
    async def test(gateway: HttpProxy, backend: Upstream) -> None:
        inv = make_inv(raw_query_string="b=x%20y&b=2&c")
        reply = await gateway.forward(inv, PROXY_INTEGRATION, backend.url("/q" + uri_query))
        assert echoed(reply)["query"] == expected

    run(test)


def test_hop_by_hop_request_headers_are_removed_and_host_is_the_backend() -> None:
    headers = [
        ("host", "abc123.execute-api.localhost:4580"),
        ("connection", "keep-alive, x-private"),
        ("keep-alive", "timeout=5"),
        ("te", "trailers"),
        ("trailer", "x-sum"),
        ("upgrade", "websocket"),
        ("proxy-authorization", "Basic eA=="),
        ("x-private", "hop"),
        ("x-kept", "a"),
        ("x-kept", "b"),
        ("accept", "text/plain"),
    ]

    async def test(gateway: HttpProxy, backend: Upstream) -> None:
        reply = await gateway.forward(make_inv(headers=headers), PROXY_INTEGRATION, backend.url())
        seen = echoed(reply)
        for name in ("keep-alive", "te", "trailer", "upgrade", "proxy-authorization", "x-private"):
            assert name not in seen["header_names"]
        assert header(seen, "connection") in ([], ["keep-alive"])  # the client's own
        assert header(seen, "x-kept") == ["a", "b"]
        assert header(seen, "accept") == ["text/plain"]
        assert header(seen, "host") == [f"127.0.0.1:{backend.port}"]
        assert "user-agent" not in seen["header_names"]  # nothing added by the client library

    run(test)


def test_hop_by_hop_response_headers_are_removed() -> None:
    async def test(gateway: HttpProxy, backend: Upstream) -> None:
        reply = await gateway.forward(make_inv(), PROXY_INTEGRATION, backend.url("/hop"))
        names = [name for name, _ in reply.headers]
        assert reply.body == b"chunk-1;chunk-2"
        assert ("x-upstream", "1") in reply.headers
        for name in ("transfer-encoding", "proxy-thing", "upgrade", "keep-alive", "connection"):
            assert name not in names

    run(test)


def test_forwarding_headers_are_added() -> None:
    headers = [
        ("host", "abc123.execute-api.localhost:4580"),
        ("x-forwarded-for", "10.0.0.1"),
        ("x-forwarded-proto", "gopher"),
        ("forwarded", "for=evil"),
    ]

    async def test(gateway: HttpProxy, backend: Upstream) -> None:
        reply = await gateway.forward(make_inv(headers=headers), PROXY_INTEGRATION, backend.url())
        seen = echoed(reply)
        assert header(seen, "x-forwarded-for") == ["10.0.0.1, 203.0.113.9"]
        assert header(seen, "x-forwarded-proto") == ["https"]
        assert header(seen, "x-forwarded-port") == ["8443"]
        assert header(seen, "forwarded") == [
            'by=192.0.2.1;for=203.0.113.9;host="abc123.execute-api.localhost:4580";proto=https'
        ]

    run(test, gateway_address="192.0.2.1", gateway_port=8443, gateway_scheme="https")


def test_forwarded_quotes_an_ipv6_client_and_a_host_with_a_port() -> None:
    async def test(gateway: HttpProxy, backend: Upstream) -> None:
        inv = make_inv(source_ip="2001:db8::1", headers=[])
        seen = echoed(await gateway.forward(inv, PROXY_INTEGRATION, backend.url()))
        assert header(seen, "x-forwarded-for") == ["2001:db8::1"]
        assert header(seen, "forwarded") == [
            'by=127.0.0.1;for="[2001:db8::1]";host=abc123.execute-api.localhost;proto=http'
        ]

    run(test)


@pytest.mark.parametrize(
    ("integration_method", "client_method", "expected"),
    [("ANY", "PATCH", "PATCH"), ("ANY", "DELETE", "DELETE"), ("POST", "GET", "POST")],
)
def test_integration_method(integration_method: str, client_method: str, expected: str) -> None:
    async def test(gateway: HttpProxy, backend: Upstream) -> None:
        integration = {"IntegrationMethod": integration_method}
        inv = make_inv(http_method=client_method)
        assert echoed(await gateway.forward(inv, integration, backend.url()))["method"] == expected

    run(test)


def test_post_body_is_forwarded_with_its_length() -> None:
    body = b'{"a": 1}\x00\xff'
    headers = [("content-type", "application/json"), ("content-length", "999")]

    async def test(gateway: HttpProxy, backend: Upstream) -> None:
        inv = make_inv(http_method="POST", body=body, headers=headers)
        seen = echoed(await gateway.forward(inv, PROXY_INTEGRATION, backend.url("/items")))
        assert seen["body"].encode("latin-1") == body
        assert header(seen, "content-length") == [str(len(body))]
        assert header(seen, "content-type") == ["application/json"]

    run(test)


def test_backend_error_status_is_a_reply() -> None:
    async def test(gateway: HttpProxy, backend: Upstream) -> None:
        inv = make_inv(headers=[("x-want-status", "502")])
        reply = await gateway.forward(inv, PROXY_INTEGRATION, backend.url())
        assert reply.status == 502
        assert json.loads(reply.body)["method"] == "GET"

    run(test)


def test_response_body_is_not_decoded() -> None:
    async def test(gateway: HttpProxy, backend: Upstream) -> None:
        reply = await gateway.forward(make_inv(), PROXY_INTEGRATION, backend.url("/gzip"))
        assert ("content-encoding", "gzip") in reply.headers
        assert gzip.decompress(reply.body) == b"hello"
        assert ("content-length", str(len(reply.body))) in reply.headers

    run(test)


def test_timeout_raises_integration_timeout() -> None:
    async def test(gateway: HttpProxy, backend: Upstream) -> None:
        integration = {**PROXY_INTEGRATION, "TimeoutInMillis": 100}
        started = time.monotonic()
        with pytest.raises(IntegrationTimeout) as caught:
            await gateway.forward(make_inv(), integration, backend.url("/slow"))
        assert 0.09 <= time.monotonic() - started < 5
        assert (caught.value.status, caught.value.message) == (503, "Service Unavailable")

    run(test)


def test_connection_refused_raises_integration_failure() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def test(gateway: HttpProxy, backend: Upstream) -> None:
        with pytest.raises(IntegrationFailure) as caught:
            await gateway.forward(make_inv(), PROXY_INTEGRATION, f"http://127.0.0.1:{port}/")
        assert (caught.value.status, caught.value.message) == (500, "Internal Server Error")
        assert "127.0.0.1" in caught.value.detail

    run(test)


def test_tls_server_name_to_verify(tmp_path: Path) -> None:
    ca = trustme.CA()
    server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("backend.internal").configure_cert(server_ssl)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    def tls(name: str | None) -> dict[str, Any]:
        return {**PROXY_INTEGRATION, "TlsConfig": {"ServerNameToVerify": name} if name else {}}

    async def main() -> None:
        gateway, untrusting = HttpProxy(ca_bundle=ca_file), HttpProxy()
        try:
            async with upstream(server_ssl) as backend:
                uri = backend.url("/secure", scheme="https")
                with pytest.raises(IntegrationFailure):  # the certificate does not name the IP
                    await gateway.forward(make_inv(), tls(None), uri)
                reply = await gateway.forward(make_inv(), tls("backend.internal"), uri)
                assert echoed(reply)["path"] == "/secure"
                assert backend.sni[-1] == "backend.internal"
                # a pooled connection verified for another name must not be reused
                with pytest.raises(IntegrationFailure):
                    await gateway.forward(make_inv(), tls("other.internal"), uri)
                with pytest.raises(IntegrationFailure):  # the CA is not in the system store
                    await untrusting.forward(make_inv(), tls("backend.internal"), uri)
        finally:
            await gateway.aclose()
            await untrusting.aclose()

    asyncio.run(main())
