"""The HTTP_PROXY integration: forward a request to an HTTP backend and pass its answer on.

How it works
------------
One :class:`HttpProxy` lives as long as the server. It owns one connection :class:`Pool`
(``upstream.py``, a small HTTP/1.1 client on httptools: aiohttp's client cost about half of the
event loop's time on this path) that keeps connections to backends alive between requests, and
one ``SSLContext`` (the system trust store plus an optional extra CA bundle) shared by every
HTTPS backend, built when first needed. :meth:`HttpProxy.aclose` closes the pooled connections.

``forward`` builds the backend URL (reference 4.2): ``{name}`` placeholders of the integration
URI take the route's path parameters, percent-encoded again (a greedy ``{proxy+}`` value keeps
its slashes, any other value has them encoded); the ``$default`` route appends the request path
after the stage to the URI's path, other routes use the URI as written; the query string is
forwarded as received, after any query the URI already has. The URL is sent as built: the
client's encoding reaches the backend untouched.

Headers (4.3): the client's headers are forwarded without the hop-by-hop ones (and those named in
its ``Connection``), without ``Host`` (the backend's is sent), ``Content-Length`` (recomputed
from the body) and ``Expect`` (the gateway already has the body); ``X-Forwarded-For`` gets the
client's address appended, ``X-Forwarded-Proto``/``-Port`` and ``Forwarded`` are overwritten
(their values are kept per client address and host, not formatted again for every request).
The client adds nothing of its own (no ``User-Agent``, ``Accept``, ``Accept-Encoding`` or
``Content-Type``), follows no redirects, keeps no cookies and does not decode response bodies,
so ``Content-Encoding`` and ``Content-Length`` from the backend stay true.

``TlsConfig.ServerNameToVerify`` is the TLS ``server_hostname``: the TCP connection goes to the
URI's host, the handshake sends that name as SNI and the certificate must match it. The pool is
keyed on it too, so a connection verified for one name is never reused for another.

Bodies flow through (``stream``). A request body the client is still sending
(``Invocation.body_stream``) goes to the backend chunk by chunk as it arrives, with the client's
``Content-Length`` when it gave one, else chunked; crossing 10 MB breaks the upload and raises
the body's own :class:`GatewayPayloadTooLarge` (413). A reply body of known length up to 64 KB
is read whole, not worth streaming: ``UpstreamReply.body``. Any other reply is returned as soon
as its headers have arrived, with whatever body came with them, and the rest follows from
``UpstreamReply.rest`` as the backend sends it; the connection goes back to the pool once the
last chunk is read.
``forward`` reads the whole reply, for callers that need it.

The whole exchange, from connecting to the last byte of the body, runs under the integration's
``TimeoutInMillis``. Running out raises :class:`IntegrationTimeout` (503); a backend that cannot be
reached or spoken to (refused, DNS, TLS, reset, malformed answer) raises
:class:`IntegrationFailure` (500) (reference 4.4 and 6); from ``rest`` too, once the answer has
started. Any status the backend answers, 4xx and 5xx included, is a reply, not an error.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import Any

from propylon.deadlines import Deadlines, Timeout
from propylon.errors import GatewayInternalError, GatewayServiceUnavailable
from propylon.execute.body import RequestBody
from propylon.execute.context import Invocation
from propylon.execute.forwarding import backend_url, forwarded_headers, forwarded_value
from propylon.execute.mapping import MappedRequest
from propylon.execute.upstream import Pool, Response
from propylon.execute.upstream_reply import UpstreamReply

__all__ = ["HttpProxy", "IntegrationFailure", "IntegrationTimeout", "UpstreamReply"]

_UPSTREAM_ERRORS = (OSError, ValueError)
"""What an exchange with a backend fails with (``upstream.py`` raises nothing else)."""

DEFAULT_TIMEOUT_MS = 30_000
"""``TimeoutInMillis`` when the integration has none (reference 4.1)."""

_SMALL_BODY = 64 * 1024  # a reply body this short, of known length, is read whole at once
_FORWARDED_CACHE = 4096  # (client address, host) pairs whose forwarding headers are kept


class IntegrationTimeout(GatewayServiceUnavailable):
    """No complete answer within ``TimeoutInMillis``: 503 ``Service Unavailable``."""


class IntegrationFailure(GatewayInternalError):
    """The backend could not be reached or spoken to (refused, DNS, TLS, reset, bad answer):
    500 ``Internal Server Error``."""


class HttpProxy:
    """Forwards requests to HTTP(S) backends over pooled keep-alive connections."""

    def __init__(
        self,
        *,
        ca_bundle: Path | None = None,
        gateway_address: str = "127.0.0.1",
        gateway_port: int = 4580,
        gateway_scheme: str = "http",
        connection_limit: int = 1000,
    ) -> None:
        """``gateway_*`` describe the listening side for ``X-Forwarded-*`` and ``Forwarded``."""
        # The system trust store loads with the first HTTPS request; a bundle is read now, so
        # that a bad --ca-bundle stops start-up.
        self._ssl = _ssl_context(ca_bundle) if ca_bundle is not None else None
        self._gateway_address = gateway_address
        self._gateway_port = str(gateway_port)
        self._gateway_scheme = gateway_scheme
        self._pool = Pool(self._tls, connection_limit)
        self._deadlines = Deadlines()
        self._forwarded_by: dict[tuple[str, str], list[tuple[str, str]]] = {}

    async def aclose(self) -> None:
        """Close the pooled connections; the proxy must not be used afterwards."""
        await self._pool.aclose()

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = _ssl_context(None)
        return self._ssl

    async def forward(
        self,
        inv: Invocation,
        integration: Mapping[str, Any],
        uri: str,
        mapped: MappedRequest | None = None,
    ) -> UpstreamReply:
        """Send ``inv`` to ``uri`` (stage variables already substituted) and return the whole
        reply; ``mapped`` is the request as the integration's parameter mapping changed it."""
        return await (await self.stream(inv, integration, uri, mapped)).whole()

    async def stream(
        self,
        inv: Invocation,
        integration: Mapping[str, Any],
        uri: str,
        mapped: MappedRequest | None = None,
    ) -> UpstreamReply:
        """As :meth:`forward`, but the reply comes back as soon as its headers have arrived,
        the rest of its body in ``rest``."""
        method = integration.get("IntegrationMethod") or "ANY"
        timeout_ms = integration.get("TimeoutInMillis") or DEFAULT_TIMEOUT_MS
        server_name = (integration.get("TlsConfig") or {}).get("ServerNameToVerify")
        deadline = self._deadlines.after(timeout_ms / 1000)
        try:
            url = backend_url(inv, uri, mapped)
            headers = forwarded_headers(inv, self._forwarded(inv), mapped)
            body: bytes | AsyncIterator[bytes] = inv.body
            length = None
            if inv.body_stream is not None:  # sent as the client sends it, with its length
                body, length = inv.body_stream.chunks(), inv.header("content-length")
            with Timeout(self._deadlines, deadline):
                response = await self._pool.request(
                    inv.http_method if method == "ANY" else method,
                    url,
                    headers,
                    body,
                    length=length,
                    server_hostname=server_name,
                )
                try:  # a body that came with the head (a short answer, usually) needs no await
                    if response.arrived:
                        first = response.read_nowait()
                    else:
                        first = await _rest_of_first(response)
                except BaseException:
                    response.close()
                    raise
        except _UPSTREAM_ERRORS as error:
            _Failures(uri, timeout_ms, inv.body_stream).raise_for(error)
            raise
        if response.at_eof():
            response.release()
            return UpstreamReply(response.status, response.headers, first)
        failures = _Failures(uri, timeout_ms, inv.body_stream)
        rest = _rest(response, self._deadlines, deadline, failures)
        return UpstreamReply(response.status, response.headers, first, rest)

    def _forwarded(self, inv: Invocation) -> list[tuple[str, str]]:
        host = inv.header("host") or inv.domain_name
        key = (inv.source_ip, host)
        added = self._forwarded_by.get(key)
        if added is None:
            if len(self._forwarded_by) >= _FORWARDED_CACHE:
                self._forwarded_by.clear()
            added = self._forwarded_by[key] = self._format_forwarded(inv.source_ip, host)
        return added

    def _format_forwarded(self, source_ip: str, host: str) -> list[tuple[str, str]]:
        forwarded = ";".join(
            f"{key}={forwarded_value(value)}"
            for key, value in (
                ("by", self._gateway_address),
                ("for", source_ip),
                ("host", host),
                ("proto", self._gateway_scheme),
            )
        )
        return [
            ("x-forwarded-proto", self._gateway_scheme),
            ("x-forwarded-port", self._gateway_port),
            ("forwarded", forwarded),
        ]

    async def send(
        self,
        method: str,
        url: str,
        body: bytes,
        headers: Iterable[tuple[str, str]] = (),
        timeout_ms: int | None = None,
    ) -> UpstreamReply:
        """Send a request the caller built whole (a WebSocket integration's): ``body`` and
        ``headers`` as given, to ``url`` as written. Timeouts and failures are raised as
        :meth:`forward` raises them."""
        timeout_ms = timeout_ms or DEFAULT_TIMEOUT_MS
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                response = await self._pool.request(method, url, headers, body)
                try:
                    content = await response.read()
                except BaseException:
                    response.close()
                    raise
                response.release()
        except TimeoutError:
            raise IntegrationTimeout(f"no answer from {url} within {timeout_ms} ms") from None
        except _UPSTREAM_ERRORS as error:
            raise IntegrationFailure(f"{type(error).__name__}: {error}") from error
        return UpstreamReply(response.status, response.headers, content)


class _Failures:
    """Turns the client's and the socket's exceptions into the gateway's, for one exchange."""

    __slots__ = ("body", "timeout_ms", "uri")

    def __init__(self, uri: str, timeout_ms: int, body: RequestBody | None) -> None:
        self.uri = uri
        self.timeout_ms = timeout_ms
        self.body = body

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: BaseException | None, traceback: Any) -> None:
        if error is not None:
            self.raise_for(error)

    def raise_for(self, error: BaseException) -> None:
        """Raise the gateway's error for ``error``, if it is the backend's or the socket's."""
        if isinstance(error, TimeoutError):  # before OSError: a TimeoutError is both
            message = f"no answer from {self.uri} within {self.timeout_ms} ms"
            raise IntegrationTimeout(message) from None
        if isinstance(error, _UPSTREAM_ERRORS):
            if self.body is not None and self.body.error is not None:
                raise self.body.error from None  # the upload broke on our side
            raise IntegrationFailure(f"{type(error).__name__}: {error}") from error


async def _rest_of_first(response: Response) -> bytes:
    """For a body still arriving: a short one of known length whole (not worth streaming),
    else what has arrived."""
    length = response.content_length
    if length is not None and length <= _SMALL_BODY:
        return await response.read()
    return response.read_nowait()


async def _rest(
    response: Response, deadlines: Deadlines, deadline: float, failures: _Failures
) -> AsyncGenerator[bytes, None]:
    """The rest of a reply's body, chunk by chunk; the connection is pooled again after the
    last one, and closed when the reader stops early or the backend fails."""
    try:
        while True:
            chunk = response.read_nowait()  # what has arrived needs no timer
            if not chunk and not response.at_eof():
                with failures, Timeout(deadlines, deadline):
                    chunk = await response.read_some()
            if not chunk:  # the end of the body
                break
            yield chunk
    except BaseException:
        response.close()
        raise
    response.release()


def _ssl_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """The system trust store, plus ``ca_bundle`` when given: one context per proxy."""
    context = ssl.create_default_context()
    if ca_bundle is not None:
        context.load_verify_locations(cafile=str(ca_bundle))
    return context
