"""Lambda proxy (``AWS_PROXY``) events and results for WebSocket routes (reference §12.6).

Three shapes, one per event type, all with the same ``requestContext``:

- CONNECT: the upgrade request's ``headers`` (last value wins) and ``multiValueHeaders``, plus
  ``X-Forwarded-For`` as AWS adds it. AWS keeps the client's spelling of header names; an ASGI
  server hands them over lower-cased, so they arrive lower-cased; the query string as
  ``queryStringParameters`` / ``multiValueQueryStringParameters``, omitted when there is none;
- MESSAGE: ``body`` (the text of the message) and ``messageId`` in the context;
- DISCONNECT: a small fixed set of headers, and ``disconnectStatusCode`` /
  ``disconnectReason`` in the context.

``isBase64Encoded`` is always false: WebSocket APIs only take text messages. A Lambda
authorizer's output appears as ``requestContext.authorizer`` on every event of the connection.

The function's result is read by ``interpret``: ``statusCode`` decides whether a ``$connect``
succeeds, ``body`` is what a two-way route sends back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from propylon.websocket.context import CONNECT, DISCONNECT, MESSAGE, Peer, WsEvent


class MalformedResult(ValueError):
    """A Lambda proxy result the gateway cannot use."""


@dataclass(frozen=True, slots=True)
class ProxyResult:
    status: int
    body: str | None
    headers: dict[str, str] = field(default_factory=dict)


def request_context(event: WsEvent) -> dict[str, Any]:
    peer = event.peer
    context: dict[str, Any] = {"routeKey": event.route_key}
    if event.message_id is not None:
        context["messageId"] = event.message_id
    if event.event_type == DISCONNECT:
        context["disconnectStatusCode"] = event.disconnect_status_code
        context["disconnectReason"] = event.disconnect_reason
    context.update(
        eventType=event.event_type,
        extendedRequestId=event.request_id,
        requestTime=event.request_time,
        messageDirection="IN",
        stage=peer.stage,
        connectedAt=peer.connected_at,
        requestTimeEpoch=event.request_time_epoch,
        identity={"sourceIp": peer.source_ip, "userAgent": peer.user_agent},
        requestId=event.request_id,
        domainName=peer.domain_name,
        connectionId=peer.connection_id,
        apiId=peer.api_id,
    )
    if peer.authorizer is not None:
        context["authorizer"] = dict(peer.authorizer)
    return context


def _forwarded(peer: Peer) -> list[tuple[str, str]]:
    """The headers as the integration sees them: the client's, then ``X-Forwarded-For``."""
    headers = [(name, value) for name, value in peer.headers if name.lower() != "x-forwarded-for"]
    forwarded_for = peer.header("x-forwarded-for")
    chain = f"{forwarded_for}, {peer.source_ip}" if forwarded_for else peer.source_ip
    headers.append(("x-forwarded-for", chain))
    return headers


def _single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def connect_event(event: WsEvent) -> dict[str, Any]:
    headers, multi_headers = _single_and_multi(_forwarded(event.peer))
    document: dict[str, Any] = {"headers": headers, "multiValueHeaders": multi_headers}
    if event.peer.query:
        query, multi_query = _single_and_multi(event.peer.query)
        document["queryStringParameters"] = query
        document["multiValueQueryStringParameters"] = multi_query
    document["requestContext"] = request_context(event)
    document["isBase64Encoded"] = False
    return document


def message_event(event: WsEvent) -> dict[str, Any]:
    return {"requestContext": request_context(event), "body": event.body, "isBase64Encoded": False}


def disconnect_event(event: WsEvent) -> dict[str, Any]:
    headers = {
        "Host": event.peer.domain_name,
        "x-api-key": "",
        "X-Forwarded-For": "",
        "x-restapi": "",
    }
    return {
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "requestContext": request_context(event),
        "isBase64Encoded": False,
    }


EVENT_BUILDERS = {CONNECT: connect_event, MESSAGE: message_event, DISCONNECT: disconnect_event}


def lambda_event(event: WsEvent) -> dict[str, Any]:
    """The event a Lambda proxy integration receives for ``event``."""
    return EVENT_BUILDERS[event.event_type](event)


def interpret(result: Any) -> ProxyResult:
    """Read a function's result. An object with ``statusCode`` is a proxy response; anything
    else counts as a 200 whose body is the result itself (a string as is, else JSON)."""
    if isinstance(result, dict) and "statusCode" in result:
        status = result["statusCode"]
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise MalformedResult(f"statusCode is not an HTTP status: {status!r}")
        body = result.get("body")
        headers = result.get("headers") or {}
        if not isinstance(headers, dict):
            raise MalformedResult("headers is not an object")
        text = None if body is None else body if isinstance(body, str) else json.dumps(body)
        return ProxyResult(status, text, {str(k): str(v) for k, v in headers.items()})
    if result is None:
        return ProxyResult(200, None)
    return ProxyResult(200, result if isinstance(result, str) else json.dumps(result))
