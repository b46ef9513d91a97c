"""Access and execution logs of WebSocket events (reference §10.3, §12.10).

Access logs: the stage's ``AccessLogSettings.Format`` (compiled with the stage, see
``propylon.execute.access_log``) rendered once per event (``$connect``, each message,
``$disconnect``) with ``ws_lookup``, which answers the WebSocket ``$context`` variables from
the event's ``context_variables`` (dotted names reach into ``identity``, ``authorizer``,
``error``).

Execution logs: the lines AWS writes to ``API-Gateway-Execution-Logs_{apiId}/{stage}``, as far
as an emulator can tell them. The route's ``LoggingLevel`` (its ``RouteSettings`` entry over the
stage's ``DefaultRouteSettings``) decides: ``OFF`` (or unset) writes nothing, ``ERROR`` only
failures, ``INFO`` every step; ``DataTraceEnabled`` adds the message bodies. Each line starts
with ``({requestId})`` as AWS's do. Lines are collected while the event runs and written at its
end, so a log file never interleaves the steps of two events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from propylon.execute.access_log import Lookup
from propylon.websocket.context import WsEvent, context_variables

if TYPE_CHECKING:
    from propylon.execute.chain import Gateway
    from propylon.execute.deployed import CompiledStage

_LEVELS = {"OFF": 0, "ERROR": 1, "INFO": 2}


def ws_lookup(event: WsEvent) -> Lookup:
    """``$context.<name>`` of a WebSocket event, by ``name``."""
    variables = context_variables(event)

    def lookup(name: str) -> object | None:
        node: Any = variables
        for part in name.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
        found: object | None = node
        return found

    return lookup


def route_logging(stage: Mapping[str, Any], route_key: str) -> tuple[int, bool]:
    """The route's logging level (0 off, 1 errors, 2 info) and whether data is traced."""
    default = stage.get("DefaultRouteSettings") or {}
    route = (stage.get("RouteSettings") or {}).get(route_key) or {}
    level = route.get("LoggingLevel") or default.get("LoggingLevel") or "OFF"
    trace = route.get("DataTraceEnabled", default.get("DataTraceEnabled", False))
    return _LEVELS.get(str(level).upper(), 0), bool(trace)


@dataclass(slots=True)
class ExecutionLog:
    """The execution log lines of one event."""

    request_id: str
    level: int
    trace: bool
    lines: list[str] = field(default_factory=list)

    def info(self, text: str) -> None:
        if self.level >= 2:
            self.lines.append(f"({self.request_id}) {text}")

    def data(self, text: str) -> None:
        if self.level >= 2 and self.trace:
            self.lines.append(f"({self.request_id}) {text}")

    def error(self, text: str) -> None:
        if self.level >= 1:
            self.lines.append(f"({self.request_id}) {text}")


def execution_log(stage: CompiledStage, event: WsEvent) -> ExecutionLog:
    level, trace = route_logging(stage.stage, event.route_key)
    return ExecutionLog(event.request_id, level, trace)


def write_logs(gateway: Gateway, stage: CompiledStage, event: WsEvent, log: ExecutionLog) -> None:
    """Queue the event's execution log lines and its access log line."""
    if log.lines:
        group = f"API-Gateway-Execution-Logs_{event.peer.api_id}/{event.peer.stage}"
        for line in log.lines:
            gateway.logs.write(group, line)
    access = stage.access_log
    if access is not None:
        gateway.logs.write(access.group, access.format.render(ws_lookup(event)))
