"""The WebSocket door: one client connection, from the upgrade request to ``$disconnect``.

How this works (reference §12.1)
--------------------------------
1. **Upgrade.** The API comes from the Host (``{apiId}.execute-api.*``) or the
   ``/_aws/execute-api/{apiId}`` prefix, the stage from the path (``/{stage}``), served from the
   stage's deployment as for HTTP APIs. An unknown API or stage refuses the handshake (404).
2. **``$connect``** runs while the handshake waits: throttling (429), the route's
   authorization (``authorize``: 401/403), its required request parameters (400 when one is
   missing, without calling anything), then its integration; a non-2xx status, or a failure,
   refuses the handshake with that status (or 500) instead of ``101``. Refusals use the ASGI
   ``websocket.http.response`` extension, so the client sees the status; a server without it
   can only answer 403. Without a ``$connect`` route the connection is simply accepted. Then
   the connection is registered, so the ``@connections`` API can reach it.
3. **Messages** are handled one at a time, in order: the route selection expression picks the
   route (``$default`` for non-JSON messages, the "Forbidden" error frame when nothing
   matches), the stage's throttling applies, the integration is called, and a two-way route
   sends its answer back. A failed integration sends the "Internal server error" frame.
   Binary messages close the connection with 1003, messages over 128 KB with 1009.
4. **Closing.** The client closes, or the gateway does: ``DeleteConnection`` (1000), the idle
   timeout or the maximum duration (1001). The connection is unregistered first (posting to
   it answers 410 from then on), then ``$disconnect`` runs, best effort: its failures are only
   logged, as nobody is left to tell.

Every event (``$connect``, a message, ``$disconnect``) runs through ``Session.execute`` and
leaves its execution log lines and access log line (``logs``) when it ends.
"""

from __future__ import annotations

import json
import logging
import random
import string
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from propylon.deadlines import Deadlines, Timeout
from propylon.errors import (
    GatewayError,
    GatewayForbidden,
    GatewayInternalError,
    GatewayNotFound,
    GatewayTooManyRequests,
)
from propylon.execute.addressing import locate, select_stage
from propylon.execute.chain import now, request_id
from propylon.websocket.authorize import authorize_connect
from propylon.websocket.channel import Socket
from propylon.websocket.connections import Connection, ConnectionRegistry
from propylon.websocket.context import CONNECT, DISCONNECT, MESSAGE, Peer, WsEvent
from propylon.websocket.integrate import Outcome, integrate
from propylon.websocket.logs import ExecutionLog, execution_log, write_logs
from propylon.websocket.quotas import Quotas
from propylon.websocket.routes import CONNECT as CONNECT_ROUTE
from propylon.websocket.routes import DISCONNECT as DISCONNECT_ROUTE
from propylon.websocket.routes import WsRoute

if TYPE_CHECKING:
    from propylon.execute.chain import Gateway
    from propylon.execute.deployed import CompiledStage

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

log_failure = logging.getLogger("propylon.websocket")

_ID_ALPHABET = string.ascii_letters + string.digits
GOING_AWAY = (1001, "Going away")
BINARY = (1003, "Binary frames are not supported")
TOO_BIG = (1009, "Message too big")
DELETED = (1000, "Connection deleted")
_NO_STATUS = 1005
_CLOSE_REASONS = {
    1005: "Client-side close frame status not set",
    1006: "Connection closed abnormally",
}


def connection_id() -> str:
    """A connection id in AWS's form: 16 characters ending in ``=`` (``IU3kkeN4IAMCJwA=``),
    here without ``+`` and ``/`` so the id needs no escaping in a URL path."""
    return "".join(random.choices(_ID_ALPHABET, k=15)) + "="


def error_frame(message: str, connection: str, request: str) -> str:
    """An error message to the client, spaced as AWS's (reference §12.9)."""
    return f'{{"message": "{message}", "connectionId":"{connection}", "requestId":"{request}"}}'


class WebSocketDoor:
    """Serves the WebSocket connections of the deployed WebSocket APIs (an ASGI app for
    ``websocket`` scopes)."""

    def __init__(
        self, gateway: Gateway, connections: ConnectionRegistry, quotas: Quotas | None = None
    ) -> None:
        self.gateway = gateway
        self.connections = connections
        self.quotas = quotas or Quotas()
        self.deadlines = Deadlines()
        """Every connection's idle and duration limit, on one loop timer."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        socket = Socket(scope, send)
        try:
            stage, peer = self.resolve(scope)
        except GatewayError as exc:
            await socket.refuse(exc.status, _message(exc.message))
            return
        await Session(self, stage, peer, socket).run(receive)

    def resolve(self, scope: Scope) -> tuple[CompiledStage, Peer]:
        """The stage the upgrade request names, and the new connection's peer record."""
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        host = next((value for name, value in headers if name.lower() == "host"), "")
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        address = locate(host, raw_path)
        api = self.gateway.deployed.get(address.api_id) if address else None
        if address is None or api is None or api.protocol != "WEBSOCKET":
            raise GatewayNotFound("no WebSocket API at this address")
        selection = select_stage(address.path, api.stages)
        if selection is None or selection.route_path not in ("/", ""):
            raise GatewayNotFound("no stage serves this path")
        stage = api.stages[selection.stage]
        if stage.api.get("DisableExecuteApiEndpoint"):
            raise GatewayForbidden("the default endpoint is disabled")
        client = scope.get("client") or ("", 0)
        raw_query = scope["query_string"].decode("latin-1")
        peer = Peer(
            connection_id=connection_id(),
            api_id=api.api_id,
            account_id=api.account_id,
            region=api.region,
            stage=selection.stage,
            domain_name=host.rsplit(":", 1)[0] if not host.endswith("]") else host,
            connected_at=int(time.time() * 1000),
            source_ip=client[0],
            user_agent=next((v for k, v in headers if k.lower() == "user-agent"), ""),
            headers=headers,
            query=parse_qsl(raw_query, keep_blank_values=True),
            raw_path=raw_path,
            raw_query=raw_query,
            stage_variables=stage.stage_variables,
        )
        return stage, peer


class Session:
    """One connection's life (see the module docstring)."""

    def __init__(self, door: WebSocketDoor, stage: CompiledStage, peer: Peer, socket: Socket):
        self.gateway = door.gateway
        self.connections = door.connections
        self.quotas = door.quotas
        self.deadlines = door.deadlines
        self.stage = stage
        self.peer = peer
        self.socket = socket
        assert stage.websocket is not None
        self.routes = stage.websocket

    def event(self, event_type: str, route_key: str, **fields: Any) -> WsEvent:
        request_time, epoch = now()
        return WsEvent(
            self.peer, event_type, route_key, request_id(), request_time, epoch, **fields
        )

    async def run(self, receive: Receive) -> None:
        if not await self.connect():
            return
        peer = self.peer
        record = Connection(
            peer.connection_id,
            peer.api_id,
            peer.stage,
            peer.connected_at,
            peer.connected_at,
            peer.source_ip,
            peer.user_agent,
        )
        await self.connections.add(record, self.socket)
        try:
            code, reason = await self.converse(receive)
        finally:
            await self.connections.remove(peer.connection_id)
        await self.disconnect(code, reason)

    async def connect(self) -> bool:
        """The ``$connect`` step: True once the handshake is accepted."""
        event = self.event(CONNECT, CONNECT_ROUTE)
        route = self.routes.get(CONNECT_ROUTE)
        log = execution_log(self.stage, event)
        peer = self.peer
        log.info(
            f"Client [UserAgent: {peer.user_agent}, SourceIp: {peer.source_ip}] is connecting "
            f"to WebSocket API [{peer.api_id}]."
        )
        event.status = 200  # what a $connect without a route answers
        try:
            outcome = await self.execute(event, route, log) if route else Outcome(200, None)
        except GatewayError as exc:
            text = exc.detail if isinstance(exc, MissingParameters) else exc.message
            await self.socket.refuse(exc.status, _message(text))
            return False
        finally:
            write_logs(self.gateway, self.stage, event, log)
        if not 200 <= outcome.status < 300:
            await self.socket.refuse(outcome.status, outcome.body or "")
            return False
        await self.socket.accept(_subprotocol(outcome), outcome.headers)
        return True

    async def converse(self, receive: Receive) -> tuple[int, str]:
        """Handle messages until the connection closes; the close's code and reason."""
        loop = self.deadlines.loop()
        opened = last_active = loop.time()
        while True:
            deadline = min(
                last_active + self.quotas.idle_timeout, opened + self.quotas.max_duration
            )
            try:
                with Timeout(self.deadlines, deadline):  # one loop timer for every connection
                    message = await receive()
            except TimeoutError:
                await self.socket.close(*GOING_AWAY)
                return GOING_AWAY
            if message["type"] == "websocket.disconnect":
                code = message.get("code") or _NO_STATUS
                return code, message.get("reason") or _CLOSE_REASONS.get(code, "")
            if message.get("text") is None:
                await self.socket.close(*BINARY)
                return BINARY
            text: str = message["text"]
            if len(text.encode()) > self.quotas.max_message:
                await self.socket.close(*TOO_BIG)
                return TOO_BIG
            last_active = loop.time()
            await self.connections.touch(self.peer.connection_id, int(time.time() * 1000))
            await self.message(text)

    async def message(self, text: str) -> None:
        route = self.routes.select(text)
        event = self.event(MESSAGE, route.key if route else "", body=text, message_id=request_id())
        log = execution_log(self.stage, event)
        try:
            outcome = await self.execute(event, route, log)
        except GatewayError:
            frame = error_frame(event.error_message, self.peer.connection_id, event.request_id)
            await self.socket.push(frame)
            return
        finally:
            write_logs(self.gateway, self.stage, event, log)
        if route is not None and route.two_way and outcome.body is not None:
            await self.socket.push(outcome.body)

    async def disconnect(self, code: int, reason: str) -> None:
        route = self.routes.get(DISCONNECT_ROUTE)
        if route is None:
            return
        event = self.event(
            DISCONNECT, DISCONNECT_ROUTE, disconnect_status_code=code, disconnect_reason=reason
        )
        log = execution_log(self.stage, event)
        try:
            await self.execute(event, route, log)
        except GatewayError as exc:
            log_failure.warning("$disconnect of %s failed: %s", self.peer.connection_id, exc)
        finally:
            write_logs(self.gateway, self.stage, event, log)

    async def execute(self, event: WsEvent, route: WsRoute | None, log: ExecutionLog) -> Outcome:
        """One event's steps, logged. A failure is recorded on the event (status, error frame
        text) and raised as a gateway error; an unexpected exception (a bug) is logged with its
        traceback and becomes a 500, so the client never sees it."""
        log.info(f"Starting execution for request: {event.request_id}")
        try:
            outcome = await self._steps(event, route, log)
        except GatewayError as exc:
            self._failed(event, log, exc)
            raise
        except Exception as exc:
            log_failure.exception("WebSocket event %s failed", event.request_id)
            error = GatewayInternalError(f"unexpected {type(exc).__name__}: {exc}")
            self._failed(event, log, error)
            raise error from exc
        event.status = outcome.status
        if outcome.body is not None:
            log.data(f"Endpoint response body before transformations: {outcome.body}")
        log.info(f"Method completed with status: {outcome.status}")
        return outcome

    async def _steps(self, event: WsEvent, route: WsRoute | None, log: ExecutionLog) -> Outcome:
        """Throttle, authorize and validate (``$connect``), integrate."""
        if route is None:
            raise GatewayForbidden("no route matches the message and there is no $default")
        log.info(f"WebSocket Request Route: [{route.key}]")
        self._throttle(route)
        if event.is_connect:
            await authorize_connect(self.gateway, self.stage, route.record, event)
            self._check_required(route)
        if event.body:
            log.data(f"Request body: {event.body}")
        return await integrate(
            self.gateway, self.stage, route, event, self.quotas.integration_timeout
        )

    @staticmethod
    def _failed(event: WsEvent, log: ExecutionLog, error: GatewayError) -> None:
        event.status = error.status
        event.error_message = _FRAME_MESSAGES.get(type(error), _INTERNAL)
        log.error(f"Execution failed: {error.detail or error.message}")

    def _throttle(self, route: WsRoute) -> None:
        limits = self.stage.limits.get(route.key)
        if not self.gateway.throttle.take(self.peer.api_id, self.peer.stage, route.key, limits):
            raise GatewayTooManyRequests(f"route {route.key} is throttled")

    def _check_required(self, route: WsRoute) -> None:
        missing = [name for location, name in route.required if not self._has(location, name)]
        if missing:
            raise MissingParameters(f"Missing required request parameters: [{', '.join(missing)}]")

    def _has(self, location: str, name: str) -> bool:
        if location == "header":
            return self.peer.header(name) is not None
        if location == "querystring":
            return self.peer.parameter(name) is not None
        return True


class MissingParameters(GatewayError):
    """A ``$connect`` without a required request parameter: the handshake is refused (400)."""

    status = 400
    message = "Bad Request"


_INTERNAL = "Internal server error"
_FRAME_MESSAGES: dict[type[GatewayError], str] = {
    GatewayForbidden: "Forbidden",
    GatewayTooManyRequests: "Too many requests",
}


def _message(text: str) -> str:
    """A gateway answer's body: ``{"message":"..."}``."""
    return json.dumps({"message": text}, separators=(",", ":"))


def _subprotocol(outcome: Outcome) -> str | None:
    for name, value in outcome.headers.items():
        if name.lower() == "sec-websocket-protocol":
            return value
    return None
