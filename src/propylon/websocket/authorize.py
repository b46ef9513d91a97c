"""Authorization of WebSocket connections, on ``$connect`` only (reference §12.7).

``AWS_IAM``: the upgrade request must be SigV4-signed (``Authorization`` header or presigned
query, service ``execute-api``) with one of the gateway's credentials, else 403.

``CUSTOM``, a Lambda ``REQUEST`` authorizer:

1. Identity: every ``IdentitySource`` (``route.request.header.X``,
   ``route.request.querystring.x``, ``stageVariables.x``, ``context.x``) must have a non-empty
   value, else the handshake is refused with 401 and the function is not called.
2. The function gets a ``REQUEST`` event: ``methodArn``
   (``arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/$connect``), the upgrade request's
   headers and query string, the stage variables and the CONNECT ``requestContext``.
3. It answers an IAM policy (``principalId``, ``policyDocument``, optional ``context``): a
   policy that does not allow ``execute-api:Invoke`` on the ARN refuses with 403; a failing or
   malformed answer with 500. There is no result caching for WebSocket APIs.
4. ``principalId`` and the context become ``requestContext.authorizer`` of every later event
   of the connection (``Peer.authorizer``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from propylon.errors import GatewayForbidden, GatewayInternalError, GatewayUnauthorized
from propylon.execute.authorizers.lambda_responses import InvalidResponse, read_policy_response_v2
from propylon.execute.chain import substitute_stage_variables
from propylon.functions import FunctionNotFound, InvocationError
from propylon.functions.context import new_request_id
from propylon.sigv4 import SignatureError, SignedRequest, verify
from propylon.websocket.context import WsEvent
from propylon.websocket.events import connect_event
from propylon.websocket.logs import ws_lookup

if TYPE_CHECKING:
    from propylon.execute.chain import Gateway
    from propylon.execute.deployed import CompiledStage

log = logging.getLogger("propylon.websocket")

AUTHORIZER_TIMEOUT = 10.0
IAM_SERVICE = "execute-api"


def identity_value(source: str, event: WsEvent) -> str:
    """The value of one identity source for a ``$connect`` ("" when it has none)."""
    peer = event.peer
    kind, _, name = source.removeprefix("$").partition(".")
    if source.startswith("route.request.header."):
        return peer.header(source.removeprefix("route.request.header.")) or ""
    if source.startswith("route.request.querystring."):
        return peer.parameter(source.removeprefix("route.request.querystring.")) or ""
    if kind == "stageVariables":
        return peer.stage_variables.get(name, "")
    if kind == "context":
        value = ws_lookup(event)(name)
        return "" if value is None else str(value)
    return ""


def method_arn(event: WsEvent) -> str:
    peer = event.peer
    return (
        f"arn:aws:execute-api:{peer.region}:{peer.account_id}:{peer.api_id}/{peer.stage}/"
        f"{event.route_key}"
    )


def authorizer_event(event: WsEvent) -> dict[str, Any]:
    document = connect_event(event)
    document.pop("isBase64Encoded", None)
    document["stageVariables"] = dict(event.peer.stage_variables)
    return {"type": "REQUEST", "methodArn": method_arn(event), **document}


async def authorize_connect(
    gateway: Gateway, stage: CompiledStage, route: Mapping[str, Any], event: WsEvent
) -> None:
    """The ``$connect`` route's ``AuthorizationType``: NONE, AWS_IAM or CUSTOM."""
    kind = route.get("AuthorizationType") or "NONE"
    if kind == "AWS_IAM":
        verify_iam(gateway, event)
    elif kind == "CUSTOM":
        await lambda_authorizer(gateway, stage, route, event)
    elif kind != "NONE":
        raise GatewayInternalError(f"{kind} authorization is not served for WebSocket APIs")


def verify_iam(gateway: Gateway, event: WsEvent) -> None:
    """A SigV4 signature (header or presigned query, service ``execute-api``) by one of the
    gateway's credentials, over the upgrade request as sent; else 403."""
    peer = event.peer
    headers = [(name.lower(), value) for name, value in peer.headers]
    request = SignedRequest("GET", peer.raw_path, peer.raw_query, headers, b"")
    try:
        verify(request, gateway.iam.credentials, IAM_SERVICE, datetime.now(UTC))
    except SignatureError as exc:
        log.info("AWS_IAM $connect refused: %s: %s", exc.code, exc.message.splitlines()[0])
        raise GatewayForbidden(f"{exc.code}: {exc.message.splitlines()[0]}") from None


async def lambda_authorizer(
    gateway: Gateway, stage: CompiledStage, route: Mapping[str, Any], event: WsEvent
) -> None:
    """Let the ``$connect`` through, setting ``Peer.authorizer``, or raise 401/403/500."""
    compiled = stage.authorizers.get(route.get("AuthorizerId") or "")
    if compiled is None:
        raise GatewayInternalError(f"route {route.get('RouteKey')} has no authorizer")
    record = compiled.record
    if any(not identity_value(s, event) for s in record.get("IdentitySource") or ()):
        raise GatewayUnauthorized("an identity source is missing")
    result = await _invoke(gateway, stage, record, event)
    try:
        verdict = read_policy_response_v2(result)
    except InvalidResponse as exc:
        log.warning("authorizer %s answered badly: %s", record.get("AuthorizerId"), exc)
        raise GatewayInternalError(f"invalid authorizer response: {exc}") from None
    if not verdict.allows(method_arn(event)):
        raise GatewayForbidden("the authorizer denied the connection")
    event.peer.authorizer = {"principalId": result.get("principalId"), **verdict.context}


async def _invoke(
    gateway: Gateway, stage: CompiledStage, record: Mapping[str, Any], event: WsEvent
) -> Any:
    uri = substitute_stage_variables(record.get("AuthorizerUri") or "", stage.stage_variables)
    try:
        invoker = gateway.functions.resolve(uri)
        return await invoker.invoke(authorizer_event(event), new_request_id(), AUTHORIZER_TIMEOUT)
    except FunctionNotFound as exc:
        log.error("no local function for authorizer %s: %s", uri, exc)
        raise GatewayInternalError(str(exc)) from None
    except InvocationError as exc:
        log.warning("authorizer %s failed: %s", uri, exc)
        raise GatewayInternalError(f"authorizer failed: {exc}") from None
