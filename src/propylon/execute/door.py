"""The execute-api door: from an ASGI HTTP request to the chain and back.

It finds the API and stage (``Gateway.resolve``), reads the body (10 MB at most, reference
§13.1), builds the request's ``Invocation`` and sends what the chain answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from propylon.errors import GatewayError, GatewayNotFound, GatewayPayloadTooLarge
from propylon.execute.addressing import locate
from propylon.execute.chain import Gateway, Response, error_response, now, request_id
from propylon.execute.context import Invocation

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

MAX_BODY = 10 * 1024 * 1024


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise GatewayPayloadTooLarge("the request body is larger than 10 MB")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


# The gateway frames every answer itself: an integration's own Content-Length (or a second Date
# beside the server's) would make the answer ambiguous.
_FRAMING = frozenset({"content-length", "date"})


async def _send(send: Send, response: Response) -> None:
    headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in response.headers
        if name.lower() not in _FRAMING
    ]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def _invocation(
    scope: Scope, headers: list[tuple[str, str]], host: str, path: str, body: bytes
) -> Invocation:
    raw_query = scope["query_string"].decode("latin-1")
    client = scope.get("client") or ("", 0)
    request_time, epoch = now()
    return Invocation(
        http_method=scope["method"],
        raw_path=path,
        path=unquote(path),
        route_path=path,
        raw_query_string=raw_query,
        query=parse_qsl(raw_query, keep_blank_values=True),
        headers=headers,
        body=body,
        source_ip=client[0],
        protocol=f"HTTP/{scope.get('http_version', '1.1')}",
        domain_name=host.rsplit(":", 1)[0] if not host.endswith("]") else host,
        api_id="",
        account_id="",
        stage="",
        request_id=request_id(),
        request_time=request_time,
        request_time_epoch=epoch,
    )


async def serve_execute_api(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    host = next((value for name, value in headers if name == "host"), "")
    raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    address = locate(host, raw_path)
    try:
        if address is None:
            raise GatewayNotFound("no API at this address")
        stage, stage_name, route_path, account = gateway.resolve(address)
        body = await _read_body(receive)
    except GatewayError as exc:
        response = error_response(exc)
        response.headers.append(("apigw-requestid", request_id()))
        await _send(send, response)
        return
    inv = _invocation(scope, headers, host, address.path, body)
    inv.api_id, inv.account_id, inv.stage = address.api_id, account, stage_name
    inv.route_path = route_path
    inv.stage_variables = stage.stage_variables
    await _send(send, await gateway.serve(inv, stage))
