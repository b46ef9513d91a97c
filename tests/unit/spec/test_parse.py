from __future__ import annotations

import pytest
from botocore.model import ServiceModel

from propylon.errors import BadRequestException
from propylon.spec.model import load_service_model
from propylon.spec.parse import parse_request

MODEL = load_service_model("apigatewayv2")
PING = ServiceModel(
    {
        "metadata": {"protocol": "rest-json", "apiVersion": "2020-01-01"},
        "operations": {
            "Ping": {
                "name": "Ping",
                "http": {"method": "POST", "requestUri": "/ping"},
                "input": {"shape": "PingRequest"},
            }
        },
        "shapes": {
            "PingRequest": {
                "type": "structure",
                "members": {
                    "TraceId": {
                        "shape": "Text",
                        "location": "header",
                        "locationName": "X-Trace-Id",
                    },
                    "Hops": {"shape": "Count", "location": "header", "locationName": "X-Hops"},
                    "Ratio": {"shape": "Ratio", "location": "querystring", "locationName": "r"},
                },
            },
            "Text": {"type": "string"},
            "Count": {"type": "integer"},
            "Ratio": {"type": "double"},
        },
    },
    "ping",
).operation_model("Ping")


def parse(
    operation: str,
    uri: dict[str, str] | None = None,
    query: dict[str, list[str]] | None = None,
    body: bytes = b"",
) -> dict[str, object]:
    return parse_request(MODEL.operation_model(operation), uri or {}, query or {}, {}, body)


def test_uri_member_is_read_by_its_wire_name() -> None:
    arn = "arn:aws:apigateway:us-east-1::/apis/a1"
    assert parse("GetTags", uri={"resource-arn": arn}) == {"ResourceArn": arn}


def test_querystring_members_are_read_by_wire_name() -> None:
    params = parse("GetApis", query={"maxResults": ["5"], "nextToken": ["t0"]})
    assert params == {"MaxResults": "5", "NextToken": "t0"}


def test_repeated_scalar_querystring_takes_the_last_value() -> None:
    assert parse("GetApis", query={"nextToken": ["a", "b"]}) == {"NextToken": "b"}


def test_list_querystring_keeps_every_value() -> None:
    params = parse("UntagResource", uri={"resource-arn": "arn"}, query={"tagKeys": ["a", "b"]})
    assert params == {"ResourceArn": "arn", "TagKeys": ["a", "b"]}


def test_integer_querystring_is_converted() -> None:
    params = parse("ListRoutingRules", uri={"domainName": "d"}, query={"maxResults": ["7"]})
    assert params["MaxResults"] == 7


def test_non_integer_querystring_is_a_bad_request() -> None:
    with pytest.raises(BadRequestException, match="'maxResults'"):
        parse("ListRoutingRules", uri={"domainName": "d"}, query={"maxResults": ["seven"]})


def test_refused_value_is_quoted_briefly() -> None:
    with pytest.raises(BadRequestException) as caught:
        parse("ListRoutingRules", uri={"domainName": "d"}, query={"maxResults": ["9x" * 5000]})
    assert len(caught.value.message) < 200


@pytest.mark.parametrize(("text", "value"), [("true", True), ("False", False)])
def test_boolean_querystring_is_converted(text: str, value: bool) -> None:
    params = parse("ExportApi", query={"includeExtensions": [text]})
    assert params["IncludeExtensions"] is value


def test_non_boolean_querystring_is_a_bad_request() -> None:
    with pytest.raises(BadRequestException, match="a boolean"):
        parse("ExportApi", query={"includeExtensions": ["yes"]})


def test_header_members_are_read_case_insensitively_by_wire_name() -> None:
    headers = {"x-trace-id": "t-1", "x-hops": "3"}
    assert parse_request(PING, {}, {}, headers, b"") == {"TraceId": "t-1", "Hops": 3}


def test_non_integer_header_is_a_bad_request() -> None:
    with pytest.raises(BadRequestException, match="'X-Hops'"):
        parse_request(PING, {}, {}, {"x-hops": "many"}, b"")


def test_double_querystring_is_converted_or_refused() -> None:
    assert parse_request(PING, {}, {"r": ["0.5"]}, {}, b"") == {"Ratio": 0.5}
    with pytest.raises(BadRequestException, match="a number"):
        parse_request(PING, {}, {"r": ["half"]}, {}, b"")


def test_body_members_are_renamed_recursively() -> None:
    body = b'{"name":"n","protocolType":"HTTP","corsConfiguration":{"allowOrigins":["*"]}}'
    assert parse("CreateApi", body=body) == {
        "Name": "n",
        "ProtocolType": "HTTP",
        "CorsConfiguration": {"AllowOrigins": ["*"]},
    }


def test_map_values_and_list_elements_are_renamed() -> None:
    body = b'{"routeSettings":{"GET /":{"throttlingBurstLimit":5}}}'
    params = parse("CreateStage", uri={"apiId": "a1"}, body=body)
    assert params["RouteSettings"] == {"GET /": {"ThrottlingBurstLimit": 5}}
    rule = b'{"actions":[{"invokeApi":{"apiId":"a1","stage":"s"}}]}'
    params = parse("CreateRoutingRule", uri={"domainName": "d"}, body=rule)
    assert params["Actions"] == [{"InvokeApi": {"ApiId": "a1", "Stage": "s"}}]


def test_member_names_that_are_not_wire_names_are_ignored() -> None:
    assert parse("CreateApi", body=b'{"Name":"n","unknown":1}') == {}


def test_wrong_typed_body_value_is_passed_through_for_validation() -> None:
    assert parse("CreateApi", body=b'{"corsConfiguration":"x"}') == {"CorsConfiguration": "x"}


@pytest.mark.parametrize("body", [b"", b"  \n"])
def test_empty_body_is_an_empty_input(body: bytes) -> None:
    assert parse("CreateApi", body=body) == {}


def test_body_of_an_operation_without_body_members_is_ignored() -> None:
    assert parse("GetApi", uri={"apiId": "a1"}, body=b"{not json") == {"ApiId": "a1"}


@pytest.mark.parametrize(
    "body",
    [b"{", b'{"name":}', b"nul", b'{"name":"\xff"}', b'{"name":"x"} trailing'],
)
def test_malformed_json_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequestException, match="Could not parse request body into json"):
        parse("CreateApi", body=body)


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"1", b"null", b"true"])
def test_non_object_json_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequestException, match="must be a JSON object"):
        parse("CreateApi", body=body)


def test_deeply_nested_json_is_a_bad_request() -> None:
    body = b'{"name":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(BadRequestException, match="nested too deeply"):
        parse("CreateApi", body=body)


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_json_number_constants_are_a_bad_request(constant: bytes) -> None:
    with pytest.raises(BadRequestException, match="not a valid JSON value"):
        parse("CreateIntegration", body=b'{"timeoutInMillis":' + constant + b"}")


def test_a_payload_member_is_the_raw_body_and_blobs_in_json_are_base64() -> None:
    from propylon.spec.model import load_service_model

    model = load_service_model("lambda")
    invoke = model.operation_model("Invoke")
    params = parse_request(
        invoke, {"FunctionName": "f"}, {}, {"x-amz-invocation-type": "Event"}, b'{"a": 1}'
    )
    assert params == {"FunctionName": "f", "InvocationType": "Event", "Payload": b'{"a": 1}'}
    create = model.operation_model("CreateFunction")
    body = b'{"FunctionName": "f", "Code": {"ZipFile": "UEsDBA=="}}'
    assert parse_request(create, {}, {}, {}, body)["Code"] == {"ZipFile": b"PK\x03\x04"}
    with pytest.raises(BadRequestException, match="base64"):
        parse_request(create, {}, {}, {}, b'{"Code": {"ZipFile": "not base64!"}}')
