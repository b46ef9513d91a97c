"""A WebSocket API's routes as deployed, compiled once per stage (reference §12.2, §12.3).

``compile_routes`` turns a deployment snapshot into ``WsRoutes``: the API's route selection
expression and the routes by key, each knowing whether it is two-way (it has a
``RouteResponseSelectionExpression`` and a ``$default`` route response, so the integration's
answer goes back to the client) and which request parameters it requires (checked on
``$connect``, the only event with headers and a query string).

``WsRoutes.select`` picks the route of a message: the evaluated expression must equal a custom
route key (or ``$default``) exactly; otherwise, and for messages that are not JSON, ``$default``;
without ``$default``, None (the client gets the "Forbidden" error frame). ``$connect`` and
``$disconnect`` are never chosen by a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from propylon.websocket.selection import Selector, compile_selector

CONNECT = "$connect"
DISCONNECT = "$disconnect"
DEFAULT = "$default"
_LIFECYCLE = frozenset({CONNECT, DISCONNECT})
_PARAMETER_PREFIX = "route.request."


@dataclass(frozen=True, slots=True)
class WsRoute:
    record: Mapping[str, Any]
    key: str
    two_way: bool
    required: tuple[tuple[str, str], ...]
    """``(location, name)`` of each required parameter: ``("querystring", "token")``."""

    @property
    def target(self) -> str:
        """The integration id the route's ``Target`` names ("" without one)."""
        target: str = self.record.get("Target") or ""
        return target.removeprefix("integrations/")


@dataclass(frozen=True, slots=True)
class WsRoutes:
    selector: Selector
    routes: Mapping[str, WsRoute]

    def get(self, key: str) -> WsRoute | None:
        return self.routes.get(key)

    def select(self, body: str) -> WsRoute | None:
        """The route a message takes, or None when there is neither a match nor ``$default``."""
        key = self.selector.select(body)
        route = None if key is None or key in _LIFECYCLE else self.routes.get(key)
        return route or self.routes.get(DEFAULT)


def compile_route(record: Mapping[str, Any]) -> WsRoute:
    responses = record.get("_routeresponses") or ()
    two_way = bool(record.get("RouteResponseSelectionExpression")) and any(
        response.get("RouteResponseKey") == DEFAULT for response in responses
    )
    required: list[tuple[str, str]] = []
    for key, constraint in (record.get("RequestParameters") or {}).items():
        location, _, name = key.removeprefix(_PARAMETER_PREFIX).partition(".")
        if key.startswith(_PARAMETER_PREFIX) and name and (constraint or {}).get("Required"):
            required.append((location, name))
    return WsRoute(record, record["RouteKey"], two_way, tuple(required))


def compile_routes(snapshot: Mapping[str, Any]) -> WsRoutes:
    """The routes of a deployment snapshot of a WebSocket API."""
    expression = snapshot["Api"].get("RouteSelectionExpression") or ""
    routes = {record["RouteKey"]: compile_route(record) for record in snapshot.get("routes", ())}
    return WsRoutes(compile_selector(expression), routes)
