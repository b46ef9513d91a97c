from __future__ import annotations

from typing import Any

import pytest
from botocore.model import Shape, ShapeResolver

from propylon.errors import BadRequestException
from propylon.spec.model import load_service_model
from propylon.spec.validate import validate_input

MODEL = load_service_model("apigatewayv2")
API = {"Name": "n", "ProtocolType": "HTTP"}


def shape_of(operation: str) -> Shape:
    shape = MODEL.operation_model(operation).input_shape
    assert shape is not None
    return shape


def refusal(operation: str, value: dict[str, Any]) -> str:
    with pytest.raises(BadRequestException) as caught:
        validate_input(shape_of(operation), value)
    return caught.value.message


def integration(**members: Any) -> dict[str, Any]:
    return {"ApiId": "a1", "IntegrationType": "MOCK", **members}


def test_valid_input_passes() -> None:
    validate_input(shape_of("CreateApi"), {**API, "Tags": {"k": "v"}, "Version": "1"})


def test_operation_without_input_accepts_anything() -> None:
    validate_input(None, {"Anything": 1})


def test_missing_required_member_is_named_by_wire_name() -> None:
    message = refusal("CreateApi", {"ProtocolType": "HTTP"})
    assert message == (
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_explicit_null_counts_as_missing() -> None:
    assert "Value null at 'name'" in refusal("CreateApi", {"Name": None, "ProtocolType": "HTTP"})


def test_every_error_is_counted() -> None:
    message = refusal("CreateApi", {})
    assert message.startswith("2 validation errors detected: ")
    assert "at 'protocolType'" in message
    assert "at 'name'" in message


def test_at_most_ten_errors_are_shown_but_all_are_counted() -> None:
    tags = {f"k{i}": i for i in range(12)}
    message = refusal("CreateApi", {**API, "Tags": tags})
    assert message.startswith("12 validation errors detected: ")
    assert message.count("failed to satisfy constraint") == 10


def test_value_outside_enum_is_refused_with_the_enum() -> None:
    message = refusal("CreateApi", {"Name": "n", "ProtocolType": "SOAP"})
    assert "Value 'SOAP' at 'protocolType'" in message
    assert "Member must satisfy enum value set: [WEBSOCKET, HTTP]" in message


@pytest.mark.parametrize("name", ["x", "x" * 255])
def test_string_within_length_limits_passes(name: str) -> None:
    validate_input(shape_of("CreatePortalProduct"), {"DisplayName": name})


def test_string_shorter_than_min_is_refused() -> None:
    message = refusal("CreatePortalProduct", {"DisplayName": ""})
    assert "at 'displayName'" in message
    assert "Member must have length greater than or equal to 1" in message


def test_string_longer_than_max_is_refused_and_described_briefly() -> None:
    message = refusal("CreatePortalProduct", {"DisplayName": "x" * 100_000})
    assert "Member must have length less than or equal to 255" in message
    assert len(message) < 300


def test_pattern_is_enforced() -> None:
    shapes = ShapeResolver(
        {
            "Req": {"type": "structure", "members": {"Id": {"shape": "Id"}}},
            "Id": {"type": "string", "pattern": "^[a-z0-9]+$"},
        }
    )
    shape = shapes.get_shape_by_name("Req")
    validate_input(shape, {"Id": "abc1"})
    with pytest.raises(BadRequestException, match=r"regular expression pattern: \^\[a-z0-9\]"):
        validate_input(shape, {"Id": "ABC"})


def test_blob_is_checked_as_text() -> None:
    shapes = ShapeResolver(
        {
            "Req": {"type": "structure", "members": {"Data": {"shape": "Data"}}},
            "Data": {"type": "blob", "max": 3},
        }
    )
    shape = shapes.get_shape_by_name("Req")
    validate_input(shape, {"Data": "abc"})
    with pytest.raises(BadRequestException, match="length less than or equal to 3"):
        validate_input(shape, {"Data": "abcd"})


@pytest.mark.parametrize("timeout", [50, 29000, 30000])
def test_integer_within_range_passes(timeout: int) -> None:
    validate_input(shape_of("CreateIntegration"), integration(TimeoutInMillis=timeout))


@pytest.mark.parametrize(
    ("timeout", "constraint"),
    [
        (49, "value greater than or equal to 50"),
        (30001, "value less than or equal to 30000"),
    ],
)
def test_integer_out_of_range_is_refused(timeout: int, constraint: str) -> None:
    message = refusal("CreateIntegration", integration(TimeoutInMillis=timeout))
    assert f"Value '{timeout}' at 'timeoutInMillis'" in message
    assert constraint in message


@pytest.mark.parametrize(
    ("max_age", "ok"), [(-1, True), (86400, True), (-2, False), (86401, False)]
)
def test_nested_integer_range_is_checked_at_its_path(max_age: int, ok: bool) -> None:
    value = {**API, "CorsConfiguration": {"MaxAge": max_age}}
    if ok:
        validate_input(shape_of("CreateApi"), value)
    else:
        assert "at 'corsConfiguration.maxAge'" in refusal("CreateApi", value)


@pytest.mark.parametrize("timeout", [True, 100.0, "100", [100]])
def test_non_integer_is_refused_where_an_integer_is_expected(timeout: Any) -> None:
    message = refusal("CreateIntegration", integration(TimeoutInMillis=timeout))
    assert "at 'timeoutInMillis' failed to satisfy constraint: Member must be an integer" in message


@pytest.mark.parametrize("rate", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_double_is_refused(rate: float) -> None:
    value = {"ApiId": "a1", "StageName": "s", "DefaultRouteSettings": {"ThrottlingRateLimit": rate}}
    message = refusal("CreateStage", value)
    assert "at 'defaultRouteSettings.throttlingRateLimit'" in message
    assert "Member must be a finite number" in message


@pytest.mark.parametrize("rate", [True, "1.5"])
def test_non_number_is_refused_where_a_double_is_expected(rate: Any) -> None:
    value = {"ApiId": "a1", "StageName": "s", "DefaultRouteSettings": {"ThrottlingRateLimit": rate}}
    assert "Member must be a number" in refusal("CreateStage", value)


def test_int_is_accepted_where_a_double_is_expected() -> None:
    value = {"ApiId": "a1", "StageName": "s", "DefaultRouteSettings": {"ThrottlingRateLimit": 10}}
    validate_input(shape_of("CreateStage"), value)


@pytest.mark.parametrize("flag", ["true", 1, 0])
def test_non_boolean_is_refused_where_a_boolean_is_expected(flag: Any) -> None:
    message = refusal("CreateApi", {**API, "DisableSchemaValidation": flag})
    assert (
        "at 'disableSchemaValidation' failed to satisfy constraint: Member must be a boolean"
        in (message)
    )


def test_non_string_is_refused_where_a_string_is_expected() -> None:
    assert "at 'name' failed to satisfy constraint: Member must be a string" in refusal(
        "CreateApi", {"Name": 5, "ProtocolType": "HTTP"}
    )


def test_non_object_is_refused_where_a_structure_is_expected() -> None:
    message = refusal("CreateApi", {**API, "CorsConfiguration": ["*"]})
    assert (
        "at 'corsConfiguration' failed to satisfy constraint: Member must be an object" in message
    )


def test_non_list_is_refused_where_a_list_is_expected() -> None:
    message = refusal("CreateApi", {**API, "CorsConfiguration": {"AllowOrigins": "*"}})
    assert "at 'corsConfiguration.allowOrigins'" in message
    assert "Member must be a list" in message


def test_list_elements_are_checked_at_one_based_paths() -> None:
    value = {**API, "CorsConfiguration": {"AllowOrigins": ["*", None, 3]}}
    message = refusal("CreateApi", value)
    assert message.startswith("2 validation errors detected")
    assert "Value null at 'corsConfiguration.allowOrigins.2'" in message
    assert "Value '3' at 'corsConfiguration.allowOrigins.3'" in message


def test_non_map_is_refused_where_a_map_is_expected() -> None:
    assert "at 'tags' failed to satisfy constraint: Member must be a map" in refusal(
        "CreateApi", {**API, "Tags": ["k"]}
    )


def test_map_values_are_checked_at_their_key() -> None:
    message = refusal("CreateApi", {**API, "Tags": {"ok": "v", "bad": 1, "gone": None}})
    assert message.startswith("2 validation errors detected")
    assert "at 'tags.bad' failed to satisfy constraint: Member must be a string" in message
    assert "Value null at 'tags.gone'" in message


def test_map_of_structures_is_checked_member_by_member() -> None:
    value = {
        "ApiId": "a1",
        "StageName": "s",
        "RouteSettings": {"GET /": {"LoggingLevel": "LOUD"}},
    }
    assert "at 'routeSettings.GET /.loggingLevel'" in refusal("CreateStage", value)


def test_deeply_nested_wrong_value_is_described_briefly() -> None:
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    message = refusal("CreateApi", {"Name": deep, "ProtocolType": "HTTP"})
    assert "Member must be a string" in message
    assert len(message) < 300


def test_length_limits_stated_only_in_a_shape_name_are_enforced() -> None:
    shape = MODEL.operation_model("CreateApi").input_shape
    with pytest.raises(BadRequestException, match="length less than or equal to 128"):
        validate_input(shape, {"Name": "n" * 129, "ProtocolType": "HTTP"})
    validate_input(shape, {"Name": "n" * 128, "ProtocolType": "HTTP"})


def test_thirty_two_k_in_a_shape_name_means_32768() -> None:
    shape = MODEL.operation_model("CreateModel").input_shape
    schema = "s" * (32 * 1024 + 1)
    with pytest.raises(BadRequestException, match="less than or equal to 32768"):
        validate_input(shape, {"ApiId": "a", "Name": "m", "Schema": schema})
