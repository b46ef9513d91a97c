from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from propylon.errors import (
    AccessDeniedException,
    BadRequestException,
    ConflictException,
    ControlPlaneError,
    NotFoundException,
    TooManyRequestsException,
)
from propylon.spec.model import error_statuses, load_service_model
from propylon.spec.serialize import Reply, iso8601, serialize_error, serialize_output

MODEL = load_service_model("apigatewayv2")


def output(operation: str, value: dict[str, object] | None) -> Reply:
    return serialize_output(MODEL.operation_model(operation), value)


def test_members_are_written_by_wire_name_recursively() -> None:
    reply = output(
        "GetApi",
        {"ApiId": "a1", "Name": "n", "CorsConfiguration": {"AllowOrigins": ["*"], "MaxAge": 5}},
    )
    assert reply.content_type == "application/json"
    assert json.loads(reply.body) == {
        "apiId": "a1",
        "name": "n",
        "corsConfiguration": {"allowOrigins": ["*"], "maxAge": 5},
    }


def test_list_items_and_map_values_are_written_by_wire_name() -> None:
    stage = {"StageName": "s", "RouteSettings": {"GET /": {"ThrottlingBurstLimit": 3}}}
    reply = output("GetStages", {"Items": [stage], "NextToken": "t"})
    assert json.loads(reply.body) == {
        "items": [{"stageName": "s", "routeSettings": {"GET /": {"throttlingBurstLimit": 3}}}],
        "nextToken": "t",
    }


def test_none_and_unknown_members_are_left_out() -> None:
    reply = output("GetApi", {"ApiId": "a1", "Description": None, "Internal": "secret"})
    assert json.loads(reply.body) == {"apiId": "a1"}


def test_timestamps_are_iso8601_in_utc_without_fraction() -> None:
    plus_two = timezone(timedelta(hours=2))
    created = datetime(2020, 3, 12, 23, 32, 38, 123456, tzinfo=plus_two)
    reply = output("GetApi", {"ApiId": "a1", "CreatedDate": created})
    assert json.loads(reply.body)["createdDate"] == "2020-03-12T21:32:38Z"


def test_iso8601_of_utc_moment() -> None:
    assert iso8601(datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2021-01-02T03:04:05Z"


@pytest.mark.parametrize(
    ("operation", "status"),
    [("CreateApi", 201), ("TagResource", 201), ("GetApi", 200), ("UpdateApi", 200)],
)
def test_success_status_comes_from_the_model(operation: str, status: int) -> None:
    assert output(operation, {}).status == status


def test_accepted_operation_answers_202() -> None:
    reply = output("DeleteVpcLink", {})
    assert reply.status == 202
    assert json.loads(reply.body) == {}


@pytest.mark.parametrize("operation", ["DeleteApi", "DeleteRoute", "UntagResource"])
def test_operation_without_output_answers_204_with_no_body(operation: str) -> None:
    reply = output(operation, None)
    assert reply.status == 204
    assert reply.body == b""


def test_payload_member_is_the_raw_body() -> None:
    reply = output("ExportApi", {"body": b"openapi: 3.0.1\n"})
    assert reply.status == 200
    assert reply.body == b"openapi: 3.0.1\n"
    assert reply.content_type != "application/json"


def test_text_payload_is_encoded_as_utf8() -> None:
    assert output("ExportApi", {"body": '{"title":"été"}'}).body == '{"title":"été"}'.encode()


def test_missing_payload_is_an_empty_body() -> None:
    assert output("ExportApi", {}).body == b""


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (BadRequestException, 400),
        (AccessDeniedException, 403),
        (NotFoundException, 404),
        (ConflictException, 409),
        (TooManyRequestsException, 429),
    ],
)
def test_error_carries_its_code_and_the_model_status(
    error: type[ControlPlaneError], status: int
) -> None:
    reply = serialize_error("apigatewayv2", error("Invalid API identifier specified"))
    assert reply.status == status
    assert ("x-amzn-ErrorType", error.code) in reply.headers
    assert reply.content_type == "application/json"
    assert json.loads(reply.body) == {"message": "Invalid API identifier specified"}


@pytest.mark.parametrize(
    ("service", "module"),
    [
        ("apigatewayv2", "propylon.errors"),
        ("apigatewaymanagementapi", "propylon.websocket.manage"),
    ],
)
def test_every_error_class_maps_to_an_error_shape_of_its_model(service: str, module: str) -> None:
    importlib.import_module(module)
    classes = [cls for cls in ControlPlaneError.__subclasses__() if cls.__module__ == module]
    assert classes
    assert {cls.code for cls in classes} <= set(error_statuses(service))


def test_error_code_unknown_to_the_model_answers_400() -> None:
    class Teapot(ControlPlaneError):
        code = "TeapotException"

    assert serialize_error("apigatewayv2", Teapot("short and stout")).status == 400


LAMBDA = load_service_model("lambda")


def test_header_and_status_code_members_leave_the_body() -> None:
    reply = serialize_output(
        LAMBDA.operation_model("Invoke"),
        {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "ExecutedVersion": "$LATEST",
            "Payload": b'{"errorMessage":"boom"}',
        },
        "application/json",
    )
    assert reply.status == 200
    assert reply.body == b'{"errorMessage":"boom"}'
    assert reply.content_type == "application/json"
    assert dict(reply.headers) == {
        "X-Amz-Function-Error": "Unhandled",
        "X-Amz-Executed-Version": "$LATEST",
    }


def test_a_status_code_member_sets_the_status() -> None:
    reply = serialize_output(LAMBDA.operation_model("Invoke"), {"StatusCode": 202})
    assert (reply.status, reply.body) == (202, b"")


def test_lambda_errors_are_type_and_message() -> None:
    class ResourceNotFoundException(ControlPlaneError):
        code = "ResourceNotFoundException"

    class ServiceException(ControlPlaneError):
        code = "ServiceException"

    missing = serialize_error("lambda", ResourceNotFoundException("Function not found: x"))
    assert missing.status == 404
    assert json.loads(missing.body) == {"Type": "User", "Message": "Function not found: x"}
    assert dict(missing.headers) == {"x-amzn-ErrorType": "ResourceNotFoundException"}
    broken = serialize_error("lambda", ServiceException("oops"))
    assert (broken.status, json.loads(broken.body)["Type"]) == (500, "Service")


def test_an_error_the_model_does_not_list_keeps_its_own_status() -> None:
    class ValidationException(ControlPlaneError):
        code = "ValidationException"
        status = 400

    class Unlisted(ControlPlaneError):
        code = "RequestEntityTooLargeException"
        status = 413

    assert serialize_error("lambda", ValidationException("v")).status == 400
    assert serialize_error("lambda", Unlisted("big")).status == 413
