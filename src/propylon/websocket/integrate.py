"""Calling a WebSocket route's integration (reference §12.4).

``AWS_PROXY`` (a local Lambda function) is handled here: the event of ``events``, the
function's ``statusCode`` and ``body`` back. Every other type (``MOCK``, ``HTTP``,
``HTTP_PROXY``, ``AWS``) goes through ``propylon.websocket.integrations.call`` with one
``WsMessage`` built by ``ws_message``. Either way the caller gets an ``Outcome``: the status (a
non-2xx refuses a ``$connect``) and the text a two-way route sends back.

An integration may take the smaller of its ``TimeoutInMillis`` and 29 seconds. Failures are
gateway errors; the session turns them into a refused handshake or an error frame.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from propylon.errors import GatewayInternalError, GatewayServiceUnavailable
from propylon.execute.chain import substitute_stage_variables
from propylon.functions import CallerTimeout, FunctionNotFound, InvocationError
from propylon.functions.context import new_request_id
from propylon.websocket.context import WsEvent, context_variables
from propylon.websocket.events import MalformedResult, interpret, lambda_event
from propylon.websocket.integrations import WsMessage, call
from propylon.websocket.routes import WsRoute

if TYPE_CHECKING:
    from propylon.execute.chain import Gateway
    from propylon.execute.deployed import CompiledStage

log = logging.getLogger("propylon.websocket")


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: str | None
    """What a two-way route sends back to the client; None: nothing."""
    headers: dict[str, str] = field(default_factory=dict)
    """Headers a ``$connect`` Lambda returned (``Sec-WebSocket-Protocol`` ...)."""


def _timeout(integration: dict[str, Any], ceiling: float) -> float:
    millis: int = integration.get("TimeoutInMillis", 29000)
    return min(millis / 1000, ceiling)


async def lambda_proxy(
    gateway: Gateway,
    stage: CompiledStage,
    integration: dict[str, Any],
    event: WsEvent,
    ceiling: float,
) -> Outcome:
    uri = substitute_stage_variables(integration.get("IntegrationUri", ""), stage.stage_variables)
    try:
        invoker = gateway.functions.resolve(uri)
    except FunctionNotFound as exc:
        log.error("no local function for %s: %s", uri, exc)
        raise GatewayInternalError(str(exc)) from None
    try:
        result = await invoker.invoke(
            lambda_event(event), new_request_id(), _timeout(integration, ceiling)
        )
    except CallerTimeout:
        raise GatewayServiceUnavailable("the integration timed out") from None
    except InvocationError as exc:
        log.warning("function failed for %s: %s", uri, exc)
        raise GatewayInternalError(str(exc)) from None
    event.integration_status = "200"
    try:
        result = interpret(result)
    except MalformedResult as exc:
        log.warning("malformed Lambda proxy response from %s: %s", uri, exc)
        raise GatewayInternalError(f"malformed Lambda proxy response: {exc}") from None
    return Outcome(result.status, result.body, result.headers)


def ws_message(event: WsEvent, stage: CompiledStage) -> WsMessage:
    """The ``WsMessage`` the non-proxy integrations take."""
    peer = event.peer
    connect = event.is_connect
    return WsMessage(
        route_key=event.route_key,
        body=event.body,
        context=context_variables(event),
        headers={name.lower(): value for name, value in peer.headers} if connect else {},
        query=dict(peer.query) if connect else {},
        stage_variables=stage.stage_variables,
    )


async def other(
    gateway: Gateway,
    stage: CompiledStage,
    route: WsRoute,
    integration: dict[str, Any],
    event: WsEvent,
    ceiling: float,
) -> Outcome:
    message = ws_message(event, stage)
    try:
        async with asyncio.timeout(_timeout(integration, ceiling)):
            reply = await call(gateway, route.record, integration, message)
    except TimeoutError:
        raise GatewayServiceUnavailable("the integration timed out") from None
    event.integration_status = str(reply.status)
    return Outcome(int(reply.status), reply.body)


async def integrate(
    gateway: Gateway, stage: CompiledStage, route: WsRoute, event: WsEvent, ceiling: float
) -> Outcome:
    """Call the route's integration for ``event``; gateway errors on failure."""
    compiled = stage.integrations.get(route.target)
    if compiled is None:
        raise GatewayInternalError(f"route {route.key} has no integration")
    integration = compiled.record
    started = time.monotonic()
    try:
        if integration.get("IntegrationType") == "AWS_PROXY":
            return await lambda_proxy(gateway, stage, integration, event, ceiling)
        return await other(gateway, stage, route, integration, event, ceiling)
    finally:
        event.integration_latency = int((time.monotonic() - started) * 1000)
