"""The execute-api door: from an ASGI HTTP request to the chain and back.

It finds the API and stage (``Gateway.resolve``), takes the first part of the body, builds the
request's ``Invocation`` and sends what the chain answers.

A body that arrived whole with the request is the ``Invocation``'s body at once; the rest of a
longer one stays on the connection for the chain to read whole or stream
(``propylon.execute.body``). A ``Content-Length`` over 10 MB is refused with 413 before any of
it is read (reference §13.1). An answer whose body is still coming from an HTTP backend
(``Response.stream``) is sent chunk by chunk; should the backend fail once it has started, the
error is raised to the server, which drops the connection: the client sees an answer cut short,
never one that looks complete.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, MutableMapping
from contextlib import aclosing
from typing import Any
from urllib.parse import parse_qsl, unquote

from propylon.errors import GatewayError, GatewayPayloadTooLarge, PropylonError
from propylon.execute.addressing import Address
from propylon.execute.body import MAX_BODY, RequestBody
from propylon.execute.chain import Gateway, Resolved, Response, error_response, now, request_id
from propylon.execute.context import Invocation

log = logging.getLogger("propylon.execute")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class ResponseAborted(PropylonError):
    """The backend failed after its answer had started: the connection has to be dropped.
    Raised to the server, which closes the connection; the door has logged it already, so the
    server's own traceback for it is filtered out (``propylon.server``)."""


async def _take_body(
    receive: Receive, headers: list[tuple[str, str]]
) -> tuple[bytes, RequestBody | None]:
    """The body if it came whole with the request, else ``b""`` and the rest to read. Called
    only for a request that declares a body (Content-Length or Transfer-Encoding): without
    either, an HTTP/1.1 request has none (RFC 9112 §6.3) and nothing is received."""
    message = await receive()
    if message["type"] != "http.request":
        return b"", None
    chunk: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        if len(chunk) > MAX_BODY:
            raise GatewayPayloadTooLarge("the request body is over 10 MB")
        return chunk, None
    declared = next((value for name, value in headers if name == "content-length"), "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise GatewayPayloadTooLarge(f"the request declares a body of {declared} bytes")
    return b"", RequestBody(receive, chunk)


# The gateway frames every answer itself: an integration's own Content-Length (or a second Date
# beside the server's) would make the answer ambiguous.
_FRAMING = frozenset({"content-length", "date"})


async def _send(send: Send, response: Response) -> None:
    if response.stream is not None:
        await _stream(send, response, response.stream)
        return
    headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in response.headers
        if name.lower() not in _FRAMING
    ]
    headers.append((b"content-length", b"%d" % len(response.body)))
    if response.wire is not None:
        headers[:0] = response.wire
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def _stream(send: Send, response: Response, rest: AsyncGenerator[bytes, None]) -> None:
    """An answer whose body is still arriving, sent as it comes: framed by the backend's own
    ``Content-Length`` when it gave one, else chunked."""
    length = next((v for n, v in response.headers if n.lower() == "content-length"), None)
    headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in response.headers
        if name.lower() not in _FRAMING
    ]
    if length is not None:
        headers.append((b"content-length", length.encode("latin-1")))
    async with aclosing(rest):
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        message = {"type": "http.response.body", "body": response.body, "more_body": True}
        await send(message)
        try:
            async for chunk in rest:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except GatewayError as exc:
            reason = f"the answer was cut short: {exc.detail or exc}"
            log.warning("%s", reason)
            raise ResponseAborted(reason) from exc
    await send({"type": "http.response.body", "body": b""})


_DOMAINS_KEPT = 1024
_domains: dict[str, tuple[str, str]] = {}


def _domain(host: str) -> tuple[str, str]:
    """``$context.domainName`` and ``domainPrefix`` for a Host header, remembered per host."""
    found = _domains.get(host)
    if found is None:
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        found = (name, name.split(".", 1)[0])
        if len(_domains) >= _DOMAINS_KEPT:
            _domains.clear()
        _domains[host] = found
    return found


def _invocation(
    scope: Scope,
    headers: list[tuple[str, str]],
    host: str,
    address: Address,
    resolved: Resolved,
    body: bytes,
) -> Invocation:
    """The request's context, built in one call (this runs for every request)."""
    stage, stage_name, route_path, account = resolved
    path = address.path
    raw_query = scope["query_string"].decode("latin-1")
    client = scope.get("client") or ("", 0)
    request_time, epoch = now()
    domain_name, domain_prefix = _domain(host)
    # Positional, in the fields' order: keyword arguments to a class cost a dict per call,
    # more than the rest of this function (docs/performance.md, "Fewer lookups per request").
    return Invocation(
        scope["method"],  # http_method
        path,  # raw_path
        unquote(path) if "%" in path else path,  # path
        route_path,
        raw_query,  # raw_query_string
        parse_qsl(raw_query, keep_blank_values=True) if raw_query else [],  # query
        headers,
        body,
        client[0],  # source_ip
        f"HTTP/{scope.get('http_version', '1.1')}",  # protocol
        domain_name,
        domain_prefix,
        address.api_id,
        account,  # account_id
        stage_name,  # stage
        request_id(),
        request_time,
        epoch,  # request_time_epoch
        stage.stage_variables,
    )


async def serve_execute_api(
    gateway: Gateway, scope: Scope, receive: Receive, send: Send, host: str, raw_path: str
) -> None:
    """Serve one request; ``host`` is its Host header and ``raw_path`` its path as sent, both
    decoded as latin-1 (the app has read them to choose this door)."""
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    try:
        address, resolved = gateway.locate(host, raw_path)
        body, rest = b"", None
        for name, _ in headers:
            if name == "content-length" or name == "transfer-encoding":
                body, rest = await _take_body(receive, headers)
                break
    except GatewayError as exc:
        response = error_response(exc)
        response.headers.append(("apigw-requestid", request_id()))
        await _send(send, response)
        return
    inv = _invocation(scope, headers, host, address, resolved, body)
    inv.body_stream = rest
    stage = resolved[0]
    try:
        await _send(send, await gateway.serve(inv, stage))
    finally:  # the access log comes after the answer, never before it
        if stage.access_log is not None:
            stage.access_log.write(gateway.logs, inv)
