from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from propylon.execute.context import Invocation
from propylon.execute.payloads import PAYLOADS, build_event_v1, build_event_v2
from propylon.execute.replies import LambdaReply, MalformedResponse, interpret_v1, interpret_v2
from tests.unit.execute.invocations import invocation


def with_body(body: bytes, content_type: str | None) -> Invocation:
    headers = [("host", "h")] + ([("content-type", content_type)] if content_type else [])
    return invocation(http_method="POST", headers=headers, body=body)


BOTH_BUILDERS = pytest.mark.parametrize("build", [build_event_v1, build_event_v2])


# --- request events -----------------------------------------------------------------------------


def test_v2_joins_repeated_headers_with_commas() -> None:
    event = build_event_v2(invocation(headers=[("x-multi", "v1"), ("x-multi", "v2")]))
    assert event["headers"] == {"x-multi": "v1,v2"}


def test_v2_joins_repeated_query_values_with_commas() -> None:
    inv = invocation(
        raw_query_string="a=1&a=2&b=x%20y", query=[("a", "1"), ("a", "2"), ("b", "x y")]
    )
    event = build_event_v2(inv)
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}


def test_v2_moves_cookies_out_of_headers() -> None:
    headers = [("cookie", "session=abc; theme=dark"), ("cookie", "lang=en"), ("accept", "*/*")]
    event = build_event_v2(invocation(headers=headers))
    assert event["cookies"] == ["session=abc", "theme=dark", "lang=en"]
    assert event["headers"] == {"accept": "*/*"}


def test_v2_drops_nameless_cookies() -> None:
    event = build_event_v2(invocation(headers=[("cookie", "=orphan; a=1; bare; ; b=")]))
    assert event["cookies"] == ["a=1", "b="]


def test_v2_omits_cookies_key_without_cookies() -> None:
    assert "cookies" not in build_event_v2(invocation())
    assert "cookies" not in build_event_v2(invocation(headers=[("cookie", "=x")]))


def test_v1_keeps_cookie_header() -> None:
    event = build_event_v1(invocation(headers=[("cookie", "a=1; b=2")]))
    assert event["headers"] == {"cookie": "a=1; b=2"}
    assert "cookies" not in event


def test_v1_keeps_last_query_value_and_all_in_multivalue() -> None:
    event = build_event_v1(invocation(query=[("a", "1"), ("a", "2"), ("b", "x y")]))
    assert event["queryStringParameters"] == {"a": "2", "b": "x y"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x y"]}


def test_v1_keeps_last_header_value_and_all_in_multivalue() -> None:
    event = build_event_v1(invocation(headers=[("x-multi", "v1"), ("x-multi", "v2")]))
    assert event["headers"] == {"x-multi": "v2"}
    assert event["multiValueHeaders"] == {"x-multi": ["v1", "v2"]}


def test_v2_omits_empty_maps() -> None:
    event = build_event_v2(invocation())
    for key in ("queryStringParameters", "pathParameters", "stageVariables", "body", "cookies"):
        assert key not in event
    assert event["rawQueryString"] == ""
    assert event["isBase64Encoded"] is False


def test_v2_includes_non_empty_maps() -> None:
    inv = invocation(path_parameters={"petId": "6"}, stage_variables={"env": "prod"})
    event = build_event_v2(inv)
    assert event["pathParameters"] == {"petId": "6"}
    assert event["stageVariables"] == {"env": "prod"}


def test_v1_uses_null_for_empty_maps() -> None:
    event = build_event_v1(invocation(headers=[]))
    for key in (
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "pathParameters",
        "stageVariables",
        "body",
    ):
        assert event[key] is None, key
    assert event["isBase64Encoded"] is False


def test_raw_path_keeps_the_stage() -> None:
    inv = invocation(raw_path="/prod/a%20b", path="/prod/a b", route_path="/a%20b")
    v2 = build_event_v2(inv)
    v1 = build_event_v1(inv)
    assert v2["rawPath"] == "/prod/a%20b"
    assert v2["requestContext"]["http"]["path"] == "/prod/a b"
    assert v1["path"] == v1["requestContext"]["path"] == "/prod/a b"


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
@BOTH_BUILDERS
def test_form_posts_are_base64_encoded(build: Any, content_type: str | None) -> None:
    event = build(with_body(b"a=1&b=2", content_type))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"a=1&b=2"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
        "text/plain",
        "text/csv",
        "application/xml",
        "application/javascript",
    ],
)
@BOTH_BUILDERS
def test_json_bodies_are_text(build: Any, content_type: str) -> None:
    event = build(with_body('{"ok": "é"}'.encode(), content_type))
    assert event["isBase64Encoded"] is False
    assert event["body"] == '{"ok": "é"}'


@pytest.mark.parametrize(
    "content_type", ["application/octet-stream", "application/vnd.api+json", "image/png"]
)
def test_binary_and_suffixed_types_are_base64(content_type: str) -> None:
    assert build_event_v2(with_body(b"\x00\xff", content_type))["isBase64Encoded"] is True


def test_undecodable_text_body_falls_back_to_base64() -> None:
    event = build_event_v2(with_body(b"\xff\xfe", "text/plain"))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe"


def test_v2_request_context() -> None:
    context = build_event_v2(invocation())["requestContext"]
    assert context == {
        "accountId": "123456789012",
        "apiId": "a1b2c3d4e5",
        "domainName": "a1b2c3d4e5.example.com",
        "domainPrefix": "a1b2c3d4e5",
        "http": {
            "method": "GET",
            "path": "/prod/pets/6",
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.7",
            "userAgent": "curl/8.0",
        },
        "requestId": "Mc7UVioPPHcEKPA=",
        "routeKey": "GET /pets/{petId}",
        "stage": "prod",
        "time": "12/Mar/2020:19:03:58 +0000",
        "timeEpoch": 1583348638390,
    }


def test_v2_route_key_and_version() -> None:
    event = build_event_v2(invocation(route_key="$default"))
    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == "$default"


def test_v1_request_context() -> None:
    event = build_event_v1(invocation())
    context = event["requestContext"]
    assert event["version"] == "1.0"
    assert event["httpMethod"] == context["httpMethod"] == "GET"
    assert event["resource"] == context["resourcePath"] == "/pets/{petId}"
    assert context["extendedRequestId"] == context["requestId"] == "Mc7UVioPPHcEKPA="
    assert context["requestTime"] == "12/Mar/2020:19:03:58 +0000"
    assert context["requestTimeEpoch"] == 1583348638390
    assert context["stage"] == "prod"
    assert context["domainPrefix"] == "a1b2c3d4e5"
    assert context["identity"]["sourceIp"] == "203.0.113.7"
    assert context["identity"]["userAgent"] == "curl/8.0"
    others = {k: v for k, v in context["identity"].items() if k not in ("sourceIp", "userAgent")}
    assert others
    assert set(others.values()) == {None}
    assert "authorizer" not in context


def test_v1_resource_of_default_route_is_default() -> None:
    event = build_event_v1(invocation(route_key="$default"))
    assert event["resource"] == event["requestContext"]["resourcePath"] == "$default"


def test_v2_authorizer_is_passed_as_given() -> None:
    jwt = {"jwt": {"claims": {"sub": "abc", "groups": "[a b]"}, "scopes": ["read"]}}
    assert build_event_v2(invocation(authorizer=jwt))["requestContext"]["authorizer"] == jwt
    lam = {"lambda": {"user": "u1", "n": 1, "ok": True}}
    assert build_event_v2(invocation(authorizer=lam))["requestContext"]["authorizer"] == lam


def test_v2_omits_authorizer_without_authorization() -> None:
    assert "authorizer" not in build_event_v2(invocation())["requestContext"]


def test_v1_jwt_authorizer_has_claims_and_scopes() -> None:
    jwt = {"jwt": {"claims": {"sub": "abc"}, "scopes": None}}
    context = build_event_v1(invocation(authorizer=jwt))["requestContext"]
    assert context["authorizer"] == {"claims": {"sub": "abc"}, "scopes": None}


def test_v1_lambda_authorizer_context_is_flattened() -> None:
    context = build_event_v1(invocation(authorizer={"lambda": {"user": "u1", "n": 1}}))
    assert context["requestContext"]["authorizer"] == {"user": "u1", "n": 1}


def test_v1_iam_fills_identity() -> None:
    iam = {"iam": {"accessKey": "AKIA", "accountId": "111", "callerId": "C", "userArn": "arn:x"}}
    context = build_event_v1(invocation(authorizer=iam))["requestContext"]
    assert "authorizer" not in context
    assert context["identity"]["accessKey"] == "AKIA"
    assert context["identity"]["caller"] == "C"
    assert context["identity"]["userArn"] == "arn:x"


@BOTH_BUILDERS
def test_events_are_json_serializable(build: Any) -> None:
    inv = invocation(
        query=[("a", "1")], headers=[("cookie", "a=1"), ("x", "y")], body=b"\x00", stage="$default"
    )
    assert json.loads(json.dumps(build(inv))) == build(inv)


# --- responses ----------------------------------------------------------------------------------


def test_v2_string_result_becomes_200_json_body_unquoted() -> None:
    assert interpret_v2("Hello from Lambda!") == LambdaReply(
        200, [("content-type", "application/json")], b"Hello from Lambda!"
    )


def test_v2_dict_without_status_code_is_json() -> None:
    reply = interpret_v2({"body": "x", "headers": {}})
    assert reply.status == 200
    assert reply.headers == [("content-type", "application/json")]
    assert json.loads(reply.body) == {"body": "x", "headers": {}}


@pytest.mark.parametrize(("value", "body"), [([1, 2], b"[1,2]"), (42, b"42"), (True, b"true")])
def test_v2_other_json_values_become_json_bodies(value: Any, body: bytes) -> None:
    assert interpret_v2(value).body == body


def test_v2_null_result_is_json_null() -> None:
    assert interpret_v2(None) == LambdaReply(200, [("content-type", "application/json")], b"null")


def test_v2_structured_result() -> None:
    reply = interpret_v2(
        {"statusCode": 201, "headers": {"content-type": "text/plain", "x-a": "1,2"}, "body": "hi"}
    )
    assert reply == LambdaReply(201, [("content-type", "text/plain"), ("x-a", "1,2")], b"hi")


def test_v2_structured_result_without_body_or_headers() -> None:
    assert interpret_v2({"statusCode": 204}) == LambdaReply(204, [], b"")


def test_v2_cookies_become_set_cookie_headers() -> None:
    reply = interpret_v2(
        {
            "statusCode": 200,
            "headers": {"Set-Cookie": "c=3", "x-a": "1"},
            "cookies": ["sid=1; HttpOnly", "theme=dark"],
        }
    )
    assert reply.headers == [
        ("x-a", "1"),
        ("set-cookie", "sid=1; HttpOnly"),
        ("set-cookie", "theme=dark"),
        ("Set-Cookie", "c=3"),
    ]


def test_v2_ignores_multi_value_headers() -> None:
    reply = interpret_v2({"statusCode": 200, "multiValueHeaders": {"x-a": ["1", "2"]}})
    assert reply.headers == []


@pytest.mark.parametrize("interpret", [interpret_v1, interpret_v2])
def test_base64_response_body_is_decoded(interpret: Any) -> None:
    body = base64.b64encode(b"\x89PNG\x00").decode()
    reply = interpret({"statusCode": 200, "body": body, "isBase64Encoded": True})
    assert reply.body == b"\x89PNG\x00"


@pytest.mark.parametrize("interpret", [interpret_v1, interpret_v2])
def test_text_response_body_is_utf8(interpret: Any) -> None:
    reply = interpret({"statusCode": 200, "body": "é", "isBase64Encoded": False})
    assert reply.body == "é".encode()


@pytest.mark.parametrize("status", [200.0, "404"])
def test_int_like_status_codes_are_accepted(status: Any) -> None:
    assert interpret_v1({"statusCode": status}).status == int(status)


def test_numeric_and_boolean_header_values_are_written_as_json() -> None:
    reply = interpret_v2({"statusCode": 200, "headers": {"content-length": 2, "x-ok": True}})
    assert reply.headers == [("content-length", "2"), ("x-ok", "true")]


@pytest.mark.parametrize("result", ["hello", {"body": "x"}, [1], None, 200])
def test_v1_requires_status_code(result: Any) -> None:
    with pytest.raises(MalformedResponse):
        interpret_v1(result)


def test_v1_merges_headers_and_multi_value_headers() -> None:
    reply = interpret_v1(
        {
            "statusCode": 201,
            "headers": {"content-type": "application/json", "Set-Cookie": "ignored=1"},
            "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]},
            "body": '{"ok":true}',
        }
    )
    assert reply == LambdaReply(
        201,
        [("content-type", "application/json"), ("set-cookie", "a=1"), ("set-cookie", "b=2")],
        b'{"ok":true}',
    )


def test_v1_null_body_is_empty() -> None:
    assert interpret_v1({"statusCode": 200, "body": None}).body == b""


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "abc"},
        {"statusCode": True},
        {"statusCode": 200.5},
        {"statusCode": 42},
        {"statusCode": 1000},
        {"statusCode": None},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": 5},
        {"statusCode": 200, "headers": ["content-type"]},
        {"statusCode": 200, "headers": {"x-a": {"nested": 1}}},
        {"statusCode": 200, "headers": {"x-a": None}},
        {"statusCode": 200, "headers": {"x-a": "1\r\nx-injected: 1"}},
        {"statusCode": 200, "body": "not base64!", "isBase64Encoded": True},
        {"statusCode": 200, "body": "x", "isBase64Encoded": "yes"},
    ],
)
@pytest.mark.parametrize("interpret", [interpret_v1, interpret_v2])
def test_malformed_results_raise(interpret: Any, result: Any) -> None:
    with pytest.raises(MalformedResponse):
        interpret(result)


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "cookies": [1]},
    ],
)
def test_v2_malformed_cookies_raise(result: Any) -> None:
    with pytest.raises(MalformedResponse):
        interpret_v2(result)


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": 200, "multiValueHeaders": {"x-a": "1"}},
        {"statusCode": 200, "multiValueHeaders": {"x-a": [{"n": 1}]}},
        {"statusCode": 200, "multiValueHeaders": ["x-a"]},
    ],
)
def test_v1_malformed_multi_value_headers_raise(result: Any) -> None:
    with pytest.raises(MalformedResponse):
        interpret_v1(result)


def test_v2_unserializable_result_raises() -> None:
    with pytest.raises(MalformedResponse):
        interpret_v2(b"bytes from an in-process handler")


def test_malformed_response_is_a_value_error() -> None:
    assert issubclass(MalformedResponse, ValueError)


# --- dispatch -------------------------------------------------------------------------------------


def test_payloads_dispatch_by_format_version() -> None:
    assert PAYLOADS["1.0"].build is build_event_v1
    assert PAYLOADS["1.0"].interpret is interpret_v1
    assert PAYLOADS["2.0"].build is build_event_v2
    assert PAYLOADS["2.0"].interpret is interpret_v2
    assert set(PAYLOADS) == {"1.0", "2.0"}
