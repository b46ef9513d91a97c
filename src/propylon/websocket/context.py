"""The typed context of WebSocket events (reference §10.3, §12.6).

A ``Peer`` is what the gateway knows of one client connection for its whole life (set on
``$connect``); a ``WsEvent`` is one event of it: the ``$connect``, a message, the
``$disconnect``. Every ``$context`` variable an integration, a Lambda event or a log line reads
comes from these fields, through ``context_variables``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CONNECT = "CONNECT"
MESSAGE = "MESSAGE"
DISCONNECT = "DISCONNECT"


@dataclass(slots=True)
class Peer:
    """One client connection."""

    connection_id: str
    api_id: str
    account_id: str
    region: str
    stage: str
    domain_name: str
    """The Host the client used, without the port."""
    connected_at: int
    """``$context.connectedAt``: epoch milliseconds."""
    source_ip: str
    user_agent: str
    headers: list[tuple[str, str]]
    """The upgrade request's headers in order, names as the client spelled them."""
    query: list[tuple[str, str]]
    """The upgrade request's decoded query parameters in order."""
    raw_path: str = "/"
    """The upgrade request's path as sent (what a SigV4 signature covers)."""
    raw_query: str = ""
    """The upgrade request's query string as sent, without ``?``."""
    stage_variables: dict[str, str] = field(default_factory=dict)
    authorizer: dict[str, Any] | None = None
    """``principalId`` and the context a Lambda authorizer returned on ``$connect``."""

    def header(self, name: str) -> str | None:
        """The last value of a header, by case-insensitive name."""
        wanted = name.lower()
        for key, value in reversed(self.headers):
            if key.lower() == wanted:
                return value
        return None

    def parameter(self, name: str) -> str | None:
        """The last value of a query parameter."""
        for key, value in reversed(self.query):
            if key == name:
                return value
        return None


@dataclass(slots=True)
class WsEvent:
    """One event of a connection, and what became of it."""

    peer: Peer
    event_type: str
    """``CONNECT``, ``MESSAGE`` or ``DISCONNECT``."""
    route_key: str
    request_id: str
    """``$context.requestId``, which equals ``$context.extendedRequestId``."""
    request_time: str
    request_time_epoch: int
    message_id: str | None = None
    """``$context.messageId``: MESSAGE events only."""
    body: str = ""
    disconnect_status_code: int | None = None
    disconnect_reason: str = ""

    status: int = 0
    """``$context.status``: 2xx unless the gateway or the integration refused."""
    integration_status: str = "-"
    integration_latency: int | None = None
    error_message: str = "-"

    @property
    def is_connect(self) -> bool:
        return self.event_type == CONNECT


def context_variables(event: WsEvent) -> dict[str, Any]:
    """``$context`` variables by name (without ``$context.``), nested where AWS nests them."""
    peer = event.peer
    variables: dict[str, Any] = {
        "apiId": peer.api_id,
        "connectedAt": peer.connected_at,
        "connectionId": peer.connection_id,
        "domainName": peer.domain_name,
        "eventType": event.event_type,
        "extendedRequestId": event.request_id,
        "identity": {"sourceIp": peer.source_ip, "userAgent": peer.user_agent},
        "messageDirection": "IN",
        "requestId": event.request_id,
        "requestTime": event.request_time,
        "requestTimeEpoch": event.request_time_epoch,
        "routeKey": event.route_key,
        "stage": peer.stage,
        "status": event.status,
        "integrationLatency": event.integration_latency,
        "integrationStatus": event.integration_status,
        "error": {"message": event.error_message},
        "authorizer": dict(peer.authorizer or {}),
    }
    if event.message_id is not None:
        variables["messageId"] = event.message_id
    return variables
