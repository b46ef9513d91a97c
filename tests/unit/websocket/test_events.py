from __future__ import annotations

import pytest

from propylon.websocket.context import Peer, WsEvent, context_variables
from propylon.websocket.events import MalformedResult, interpret, lambda_event


def peer(**extra: object) -> Peer:
    fields: dict[str, object] = {
        "connection_id": "BFHPhfCWIAMCKlQ=",
        "api_id": "abcd123456",
        "account_id": "000000000000",
        "region": "us-east-1",
        "stage": "prod",
        "domain_name": "abcd123456.execute-api.localhost",
        "connected_at": 1731324924553,
        "source_ip": "203.0.113.7",
        "user_agent": "ua/1",
        "headers": [("host", "abcd123456.execute-api.localhost"), ("x-a", "1"), ("x-a", "2")],
        "query": [("token", "x"), ("token", "y")],
    }
    return Peer(**(fields | extra))  # type: ignore[arg-type]


def event(kind: str, route: str, **extra: object) -> WsEvent:
    fields: dict[str, object] = {
        "request_id": "BFHPhFe3IAMF95g=",
        "request_time": "11/Nov/2024:11:35:24 +0000",
        "request_time_epoch": 1731324924561,
    }
    return WsEvent(peer(), kind, route, **(fields | extra))  # type: ignore[arg-type]


def test_connect_event_carries_headers_and_query_maps() -> None:
    built = lambda_event(event("CONNECT", "$connect"))
    assert built["headers"]["x-a"] == "2"
    assert built["multiValueHeaders"]["x-a"] == ["1", "2"]
    assert built["headers"]["x-forwarded-for"] == "203.0.113.7"
    assert built["queryStringParameters"] == {"token": "y"}
    assert built["multiValueQueryStringParameters"] == {"token": ["x", "y"]}
    assert built["isBase64Encoded"] is False
    context = built["requestContext"]
    assert context == {
        "routeKey": "$connect",
        "eventType": "CONNECT",
        "extendedRequestId": "BFHPhFe3IAMF95g=",
        "requestTime": "11/Nov/2024:11:35:24 +0000",
        "messageDirection": "IN",
        "stage": "prod",
        "connectedAt": 1731324924553,
        "requestTimeEpoch": 1731324924561,
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "ua/1"},
        "requestId": "BFHPhFe3IAMF95g=",
        "domainName": "abcd123456.execute-api.localhost",
        "connectionId": "BFHPhfCWIAMCKlQ=",
        "apiId": "abcd123456",
    }


def test_message_event_has_body_and_message_id_only() -> None:
    built = lambda_event(event("MESSAGE", "chat", body='{"action":"chat"}', message_id="m="))
    assert set(built) == {"requestContext", "body", "isBase64Encoded"}
    assert built["body"] == '{"action":"chat"}'
    assert built["requestContext"]["messageId"] == "m="
    assert built["requestContext"]["eventType"] == "MESSAGE"


def test_disconnect_event_has_status_reason_and_fixed_headers() -> None:
    built = lambda_event(
        event(
            "DISCONNECT",
            "$disconnect",
            disconnect_status_code=1005,
            disconnect_reason="Client-side close frame status not set",
        )
    )
    context = built["requestContext"]
    assert context["disconnectStatusCode"] == 1005
    assert context["disconnectReason"] == "Client-side close frame status not set"
    assert built["headers"]["Host"] == "abcd123456.execute-api.localhost"
    assert built["multiValueHeaders"]["x-api-key"] == [""]
    assert "queryStringParameters" not in built


def test_authorizer_output_appears_on_every_event() -> None:
    built = event("MESSAGE", "chat", message_id="m=")
    built.peer.authorizer = {"principalId": "me", "room": "blue"}
    assert lambda_event(built)["requestContext"]["authorizer"] == {
        "principalId": "me",
        "room": "blue",
    }


def test_context_variables_name_every_documented_field() -> None:
    variables = context_variables(event("MESSAGE", "chat", message_id="m="))
    assert variables["connectionId"] == "BFHPhfCWIAMCKlQ="
    assert variables["eventType"] == "MESSAGE"
    assert variables["messageId"] == "m="
    assert variables["identity"]["sourceIp"] == "203.0.113.7"
    assert "messageId" not in context_variables(event("CONNECT", "$connect"))


def test_proxy_result_gives_status_body_and_headers() -> None:
    result = interpret({"statusCode": 403, "body": "no", "headers": {"A": 1}})
    assert (result.status, result.body, result.headers) == (403, "no", {"A": "1"})


@pytest.mark.parametrize(
    ("value", "body"), [(None, None), ("text", "text"), ({"a": 1}, '{"a": 1}'), ([1], "[1]")]
)
def test_other_results_are_a_200_with_the_value_as_body(value: object, body: str | None) -> None:
    result = interpret(value)
    assert (result.status, result.body) == (200, body)


@pytest.mark.parametrize("status", ["200", True, 42, 600])
def test_status_that_is_not_an_http_status_is_malformed(status: object) -> None:
    with pytest.raises(MalformedResult):
        interpret({"statusCode": status})
