"""The ``@connections`` management API of WebSocket APIs (reference §12.8).

``POST``, ``GET`` and ``DELETE`` ``/{stage}/@connections/{connectionId}`` on an API's
execute-api address (host or path style, ``@`` possibly sent as ``%40``): botocore's
``apigatewaymanagementapi`` model (PostToConnection, GetConnection, DeleteConnection) says the
operations, their success statuses, the output's wire names and each error's status; answers
are written by the same serializer as the control plane's.

- PostToConnection sends the request body to the client as one text message (at most 128 KB,
  else ``PayloadTooLargeException``, 413);
- GetConnection answers ``connectedAt``, ``lastActiveAt`` and ``identity``;
- DeleteConnection closes the client's socket (its ``$disconnect`` then runs) and answers 204.

With ``--verify-signatures`` every call must be SigV4-signed (service ``execute-api``) with
one of the gateway's credentials, else ``ForbiddenException`` (403); without it, as for the
control plane, any caller is served. A connection that is unknown, closed, or belongs to
another API or stage is
``GoneException`` (410). Every call takes a token from the account's throttle
(``LimitExceededException``, 429, when it has none).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.model import OperationModel

from propylon.errors import ControlPlaneError
from propylon.execute.addressing import locate, select_stage
from propylon.execute.body import BodyTooLarge, read_body
from propylon.execute.chain import request_id
from propylon.sigv4 import SignatureError, SignedRequest, verify
from propylon.spec.model import load_service_model
from propylon.spec.router import OperationRouter
from propylon.spec.serialize import Reply, serialize_error, serialize_output
from propylon.websocket.connections import Connection, ConnectionRegistry
from propylon.websocket.quotas import Quotas
from propylon.websocket.session import DELETED

if TYPE_CHECKING:
    from propylon.execute.chain import Gateway

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

SERVICE = "apigatewaymanagementapi"
_SEGMENT = re.compile(r"/(?:@|%40)connections(?=/|$)", re.IGNORECASE)
_THROTTLE_KEY = "@connections"


class GoneException(ControlPlaneError):
    code = "GoneException"


class ForbiddenException(ControlPlaneError):
    code = "ForbiddenException"


class PayloadTooLargeException(ControlPlaneError):
    code = "PayloadTooLargeException"


class LimitExceededException(ControlPlaneError):
    code = "LimitExceededException"


class NotFound(Exception):
    """Not a management call of a deployed WebSocket API: the gateway's plain 404."""


Handler = Callable[["ManagementApi", Connection, bytes], Awaitable[dict[str, Any] | None]]


class ManagementApi:
    """Serves ``@connections`` calls for the deployed WebSocket APIs."""

    def __init__(
        self, gateway: Gateway, connections: ConnectionRegistry, quotas: Quotas | None = None
    ) -> None:
        self.gateway = gateway
        self.connections = connections
        self.quotas = quotas or Quotas()
        self.router = OperationRouter(load_service_model(SERVICE))

    def handles(self, host: str, raw_path: str) -> bool:
        """Whether a request is a management call to a WebSocket API."""
        if not _SEGMENT.search(raw_path):
            return False
        address = locate(host, raw_path)
        api = self.gateway.deployed.get(address.api_id) if address else None
        return api is not None and api.protocol == "WEBSOCKET"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        host = next((value for name, value in headers if name == "host"), "")
        raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        try:
            operation, api_id, stage, connection_id = self._operation(
                scope["method"], host, raw_path
            )
        except NotFound:
            await _send(send, Reply(404, b'{"message":"Not Found"}'))
            return
        try:
            try:
                body = await read_body(receive, self.quotas.max_message)
            except BodyTooLarge:
                raise PayloadTooLargeException("Message too long") from None
            if self.gateway.settings.verify_signatures:
                query = scope["query_string"].decode("latin-1")
                self._check_signature(scope["method"], raw_path, query, headers, body)
            reply = await self._call(operation, api_id, stage, connection_id, body)
        except ControlPlaneError as exc:
            reply = serialize_error(SERVICE, exc)
        await _send(send, reply)

    def _operation(
        self, method: str, host: str, raw_path: str
    ) -> tuple[OperationModel, str, str, str]:
        address = locate(host, raw_path)
        api = self.gateway.deployed.get(address.api_id) if address else None
        if address is None or api is None:
            raise NotFound
        selection = select_stage(address.path, api.stages)
        if selection is None:
            raise NotFound
        path = _SEGMENT.sub("/@connections", selection.route_path, count=1)
        match = self.router.match(method, path)
        if match is None:
            raise NotFound
        return match.operation, api.api_id, selection.stage, match.uri_params["connectionId"]

    def _check_signature(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        """With ``--verify-signatures``: a SigV4 signature (service ``execute-api``) by one of
        the gateway's credentials, else ForbiddenException."""
        request = SignedRequest(method, path, query, headers, body)
        try:
            verify(request, self.gateway.iam.credentials, "execute-api", datetime.now(UTC))
        except SignatureError as exc:
            raise ForbiddenException("Forbidden") from exc

    async def _call(
        self, operation: OperationModel, api_id: str, stage: str, connection_id: str, body: bytes
    ) -> Reply:
        if not self.gateway.throttle.take(api_id, stage, _THROTTLE_KEY, None):
            raise LimitExceededException("Rate exceeded")
        connection = await self.connections.get(connection_id)
        if connection is None or (connection.api_id, connection.stage) != (api_id, stage):
            raise GoneException(f"Connection {connection_id} is gone")
        output = await OPERATIONS[operation.name](self, connection, body)
        return serialize_output(operation, output)

    async def post(self, connection: Connection, body: bytes) -> dict[str, Any] | None:
        if len(body) > self.quotas.max_message:
            raise PayloadTooLargeException("Message too long")
        text = body.decode("utf-8", errors="replace")
        if not await self.connections.push(connection.connection_id, text):
            raise GoneException(f"Connection {connection.connection_id} is gone")
        return None

    async def get(self, connection: Connection, body: bytes) -> dict[str, Any] | None:
        return {
            "ConnectedAt": _moment(connection.connected_at),
            "Identity": {"SourceIp": connection.source_ip, "UserAgent": connection.user_agent},
            "LastActiveAt": _moment(connection.last_active_at),
        }

    async def delete(self, connection: Connection, body: bytes) -> dict[str, Any] | None:
        if not await self.connections.close(connection.connection_id, *DELETED):
            raise GoneException(f"Connection {connection.connection_id} is gone")
        return None


OPERATIONS: dict[str, Handler] = {
    "PostToConnection": ManagementApi.post,
    "GetConnection": ManagementApi.get,
    "DeleteConnection": ManagementApi.delete,
}


def _moment(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


async def _send(send: Send, reply: Reply) -> None:
    headers = [
        (b"content-type", reply.content_type.encode()),
        (b"content-length", str(len(reply.body)).encode()),
        (b"x-amzn-requestid", request_id().encode()),
        *((name.encode(), value.encode()) for name, value in reply.headers),
    ]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})
