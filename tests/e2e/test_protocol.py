"""The control plane's wire protocol, seen with a plain HTTP client: status codes, error
headers and bodies, validation messages, wire names, request ids and the SigV4 region."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conftest import make_client

ISO_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def assert_error(answer: httpx.Response, status: int, code: str) -> str:
    assert answer.status_code == status
    assert answer.headers["x-amzn-ErrorType"] == code
    assert answer.headers["content-type"] == "application/json"
    document = answer.json()
    assert list(document) == ["message"]
    return str(document["message"])


def test_unknown_path_is_404_not_found(http: httpx.Client) -> None:
    message = assert_error(http.get("/v2/nothing-here"), 404, "NotFoundException")
    assert message


def test_unknown_method_on_a_known_path_is_404_naming_the_allowed_ones(
    http: httpx.Client,
) -> None:
    message = assert_error(http.patch("/v2/apis", json={}), 404, "NotFoundException")
    assert "GET" in message
    assert "POST" in message


def test_malformed_json_body_is_400(http: httpx.Client) -> None:
    answer = http.post(
        "/v2/apis", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    message = assert_error(answer, 400, "BadRequestException")
    assert "json" in message.lower()


def test_json_body_that_is_not_an_object_is_400(http: httpx.Client) -> None:
    assert_error(http.post("/v2/apis", json=["name"]), 400, "BadRequestException")


def test_wrong_member_type_gets_an_aws_validation_message(http: httpx.Client) -> None:
    answer = http.post("/v2/apis", json={"name": 5, "protocolType": "HTTP"})
    assert assert_error(answer, 400, "BadRequestException") == (
        "1 validation error detected: Value '5' at 'name' failed to satisfy constraint: "
        "Member must be a string"
    )


def test_bad_enum_value_gets_an_aws_validation_message(http: httpx.Client) -> None:
    answer = http.post("/v2/apis", json={"name": "x", "protocolType": "FOO"})
    message = assert_error(answer, 400, "BadRequestException")
    assert message.startswith(
        "1 validation error detected: Value 'FOO' at 'protocolType' failed to satisfy "
        "constraint: Member must satisfy enum value set: ["
    )
    assert "HTTP" in message
    assert "WEBSOCKET" in message


def test_missing_required_member_is_named_by_its_wire_name(http: httpx.Client) -> None:
    answer = http.post("/v2/apis", json={"protocolType": "HTTP"})
    assert assert_error(answer, 400, "BadRequestException") == (
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_every_validation_error_is_counted(http: httpx.Client) -> None:
    answer = http.post("/v2/apis", json={"name": 5, "protocolType": "FOO"})
    assert assert_error(answer, 400, "BadRequestException").startswith(
        "2 validation errors detected: "
    )


def test_nested_member_errors_name_the_wire_path(http: httpx.Client) -> None:
    body = {"name": "x", "protocolType": "HTTP", "corsConfiguration": {"maxAge": "long"}}
    message = assert_error(http.post("/v2/apis", json=body), 400, "BadRequestException")
    assert "'corsConfiguration.maxAge'" in message


def test_query_parameter_of_the_wrong_type_is_400(http: httpx.Client) -> None:
    assert_error(http.get("/v2/apis", params={"maxResults": "many"}), 400, "BadRequestException")


def test_create_answers_201_with_camel_case_wire_names(http: httpx.Client) -> None:
    answer = http.post("/v2/apis", json={"name": "pets", "protocolType": "HTTP"})
    assert answer.status_code == 201
    assert answer.headers["content-type"] == "application/json"
    document = answer.json()
    assert document["name"] == "pets"
    assert document["protocolType"] == "HTTP"
    assert re.fullmatch(r"[a-z0-9]{10}", document["apiId"])
    assert document["apiEndpoint"].startswith(f"http://{document['apiId']}.execute-api.")
    assert ISO_SECONDS.fullmatch(document["createdDate"])
    assert "ApiId" not in document


def test_get_and_delete_over_plain_http(http: httpx.Client) -> None:
    api_id = http.post("/v2/apis", json={"name": "p", "protocolType": "HTTP"}).json()["apiId"]
    assert http.get(f"/v2/apis/{api_id}").json()["apiId"] == api_id
    deleted = http.delete(f"/v2/apis/{api_id}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_error(http.get(f"/v2/apis/{api_id}"), 404, "NotFoundException")


def test_not_found_message_is_aws_text(http: httpx.Client) -> None:
    message = assert_error(http.get("/v2/apis/abcdefghij"), 404, "NotFoundException")
    assert message == "Invalid API identifier specified 000000000000:abcdefghij"


def test_conflict_is_409(http: httpx.Client) -> None:
    api_id = http.post("/v2/apis", json={"name": "p", "protocolType": "HTTP"}).json()["apiId"]
    http.post(f"/v2/apis/{api_id}/stages", json={"stageName": "prod"})
    answer = http.post(f"/v2/apis/{api_id}/stages", json={"stageName": "prod"})
    assert_error(answer, 409, "ConflictException")


@pytest.mark.parametrize("path", ["/v2/apis", "/v2/apis/abcdefghij", "/v2/nothing"])
def test_every_answer_carries_a_request_id(http: httpx.Client, path: str) -> None:
    answer = http.get(path)
    assert re.fullmatch(r"[0-9a-f-]{36}", answer.headers["x-amzn-RequestId"])


def test_request_ids_differ_between_requests(http: httpx.Client) -> None:
    first = http.get("/v2/apis").headers["x-amzn-RequestId"]
    second = http.get("/v2/apis").headers["x-amzn-RequestId"]
    assert first != second


def test_boto3_sees_the_request_id(client: Any) -> None:
    answer = client.get_apis()
    assert answer["ResponseMetadata"]["RequestId"]


# Regions


def test_api_created_in_one_region_is_invisible_in_another(url: str) -> None:
    east = make_client(url, region="us-east-1")
    west = make_client(url, region="eu-west-1")
    west_id = west.create_api(Name="west", ProtocolType="HTTP")["ApiId"]
    assert east.get_apis()["Items"] == []
    with pytest.raises(east.exceptions.NotFoundException):
        east.get_api(ApiId=west_id)
    assert [api["ApiId"] for api in west.get_apis()["Items"]] == [west_id]


def test_api_created_in_us_east_1_is_invisible_in_eu_west_1(url: str) -> None:
    east = make_client(url, region="us-east-1")
    west = make_client(url, region="eu-west-1")
    east_id = east.create_api(Name="east", ProtocolType="HTTP")["ApiId"]
    assert west.get_apis()["Items"] == []
    with pytest.raises(west.exceptions.NotFoundException):
        west.delete_api(ApiId=east_id)
    assert east.get_api(ApiId=east_id)["Name"] == "east"


def test_unsigned_requests_use_the_default_region(http: httpx.Client, client: Any) -> None:
    api_id = http.post("/v2/apis", json={"name": "p", "protocolType": "HTTP"}).json()["apiId"]
    assert [api["ApiId"] for api in client.get_apis()["Items"]] == [api_id]


def test_tags_use_the_region_of_the_arn(url: str) -> None:
    west = make_client(url, region="eu-west-1")
    api_id = west.create_api(Name="west", ProtocolType="HTTP", Tags={"a": "1"})["ApiId"]
    arn = f"arn:aws:apigateway:eu-west-1::/apis/{api_id}"
    assert west.get_tags(ResourceArn=arn)["Tags"] == {"a": "1"}


def test_another_regions_api_cannot_be_tagged_by_arn(url: str) -> None:
    east = make_client(url, region="us-east-1")
    west = make_client(url, region="eu-west-1")
    api_id = west.create_api(Name="west", ProtocolType="HTTP")["ApiId"]
    arn = f"arn:aws:apigateway:eu-west-1::/apis/{api_id}"
    with pytest.raises(east.exceptions.NotFoundException):
        east.tag_resource(ResourceArn=arn, Tags={"a": "1"})
    assert west.get_tags(ResourceArn=arn)["Tags"] == {}
