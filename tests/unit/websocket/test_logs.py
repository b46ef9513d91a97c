from __future__ import annotations

from propylon.websocket.logs import ExecutionLog, route_logging, ws_lookup
from tests.unit.websocket.test_events import event


def test_route_settings_override_the_stage_defaults_field_by_field() -> None:
    stage = {
        "DefaultRouteSettings": {"LoggingLevel": "INFO", "DataTraceEnabled": True},
        "RouteSettings": {"chat": {"LoggingLevel": "ERROR"}, "quiet": {"LoggingLevel": "OFF"}},
    }
    assert route_logging(stage, "chat") == (1, True)
    assert route_logging(stage, "quiet") == (0, True)
    assert route_logging(stage, "other") == (2, True)
    assert route_logging({}, "chat") == (0, False)


def test_execution_log_keeps_only_what_the_level_allows() -> None:
    logs = [ExecutionLog("r=", level, trace) for level, trace in ((0, True), (1, True), (2, False))]
    for log in logs:
        log.info("info")
        log.data("data")
        log.error("error")
    assert [log.lines for log in logs] == [[], ["(r=) error"], ["(r=) info", "(r=) error"]]


def test_lookup_answers_nested_websocket_context_variables() -> None:
    built = event("MESSAGE", "chat", message_id="m=")
    built.peer.authorizer = {"principalId": "me", "n": 1}
    lookup = ws_lookup(built)
    assert lookup("connectionId") == "BFHPhfCWIAMCKlQ="
    assert lookup("identity.sourceIp") == "203.0.113.7"
    assert lookup("authorizer.principalId") == "me"
    assert lookup("messageId") == "m="
    assert lookup("eventType") == "MESSAGE"
    assert lookup("identity.nothing") is None
    assert lookup("nothing") is None
