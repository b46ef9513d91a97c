from __future__ import annotations

from propylon.websocket.authorize import authorizer_event, identity_value, method_arn
from tests.unit.websocket.test_events import event


def test_identity_sources_read_headers_query_stage_variables_and_context() -> None:
    connect = event("CONNECT", "$connect")
    connect.peer.stage_variables = {"env": "test"}
    assert identity_value("route.request.header.X-A", connect) == "2"
    assert identity_value("route.request.querystring.token", connect) == "y"
    assert identity_value("stageVariables.env", connect) == "test"
    assert identity_value("context.identity.sourceIp", connect) == "203.0.113.7"
    assert identity_value("route.request.header.missing", connect) == ""
    assert identity_value("stageVariables.missing", connect) == ""


def test_authorizer_event_is_a_request_event_for_the_connect_route() -> None:
    connect = event("CONNECT", "$connect")
    built = authorizer_event(connect)
    assert built["type"] == "REQUEST"
    assert built["methodArn"] == method_arn(connect)
    assert method_arn(connect) == (
        "arn:aws:execute-api:us-east-1:000000000000:abcd123456/prod/$connect"
    )
    assert built["queryStringParameters"] == {"token": "y"}
    assert built["requestContext"]["eventType"] == "CONNECT"
    assert built["stageVariables"] == {}
    assert "isBase64Encoded" not in built
