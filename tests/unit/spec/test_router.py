from __future__ import annotations

import re

import pytest
from botocore.model import ServiceModel

from propylon.spec.model import load_service_model
from propylon.spec.router import OperationRouter

MODEL = load_service_model("apigatewayv2")
ROUTER = OperationRouter(MODEL)
LABEL = re.compile(r"\{([^}]+?)\+?\}")


def tiny_model(*operations: tuple[str, str, str]) -> ServiceModel:
    """A service model with only ``(name, method, requestUri)`` operations."""
    return ServiceModel(
        {
            "metadata": {"protocol": "rest-json", "apiVersion": "2020-01-01"},
            "operations": {
                name: {"name": name, "http": {"method": method, "requestUri": uri}}
                for name, method, uri in operations
            },
            "shapes": {},
        },
        "tiny",
    )


def sample_path(uri: str) -> tuple[str, dict[str, str]]:
    """The template with each label replaced by a sample value, and the expected bindings."""
    path = uri.split("?", 1)[0]
    labels = LABEL.findall(path)
    return LABEL.sub(lambda m: f"sample-{m[1]}", path), {x: f"sample-{x}" for x in labels}


@pytest.mark.parametrize("name", MODEL.operation_names)
def test_every_operation_is_reachable_by_its_own_template(name: str) -> None:
    operation = MODEL.operation_model(name)
    path, expected = sample_path(operation.http["requestUri"])
    match = ROUTER.match(operation.http["method"], path)
    assert match is not None
    assert match.operation.name == name
    assert match.uri_params == expected


def test_literal_segment_beats_label_whatever_the_definition_order() -> None:
    for order in (1, -1):
        operations = [
            ("DeleteAny", "DELETE", "/v2/apis/{apiId}/{thing}"),
            ("DeleteCorsConfiguration", "DELETE", "/v2/apis/{apiId}/cors"),
        ][::order]
        router = OperationRouter(tiny_model(*operations))
        cors = router.match("DELETE", "/v2/apis/a1/cors")
        other = router.match("DELETE", "/v2/apis/a1/routes")
        assert cors is not None
        assert cors.operation.name == "DeleteCorsConfiguration"
        assert other is not None
        assert other.uri_params == {"apiId": "a1", "thing": "routes"}


def test_label_may_hold_a_literal_of_another_template() -> None:
    match = ROUTER.match("DELETE", "/v2/apis/cors/cors")
    assert match is not None
    assert match.operation.name == "DeleteCorsConfiguration"
    assert match.uri_params == {"apiId": "cors"}


def test_longer_template_is_not_shadowed_by_its_prefix() -> None:
    routes = ROUTER.match("GET", "/v2/apis/a1/routes")
    api = ROUTER.match("GET", "/v2/apis/a1")
    assert routes is not None
    assert routes.operation.name == "GetRoutes"
    assert api is not None
    assert api.operation.name == "GetApi"


@pytest.mark.parametrize(
    "raw",
    [
        "arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fabc123",
        "arn:aws:apigateway:us-east-1::%2fapis%2fabc123",
    ],
)
def test_encoded_arn_with_slashes_binds_to_one_label(raw: str) -> None:
    match = ROUTER.match("GET", f"/v2/tags/{raw}")
    assert match is not None
    assert match.operation.name == "GetTags"
    assert match.uri_params == {"resource-arn": "arn:aws:apigateway:us-east-1::/apis/abc123"}


def test_unencoded_arn_slashes_do_not_match_the_tag_template() -> None:
    assert ROUTER.match("GET", "/v2/tags/arn:aws:apigateway:us-east-1::/apis/abc123") is None


@pytest.mark.parametrize(
    ("raw", "route_key"),
    [
        ("GET%20%2Fpets%2F%7Bid%7D", "GET /pets/{id}"),
        ("ANY%20%2F%7Bproxy%2B%7D", "ANY /{proxy+}"),
        ("%24default", "$default"),
    ],
)
def test_encoded_route_key_binds_to_route_key_label(raw: str, route_key: str) -> None:
    match = ROUTER.match("DELETE", f"/v2/apis/a1/stages/prod/routesettings/{raw}")
    assert match is not None
    assert match.operation.name == "DeleteRouteSettings"
    assert match.uri_params == {"apiId": "a1", "stageName": "prod", "routeKey": route_key}


def test_unicode_label_is_decoded_as_utf8() -> None:
    match = ROUTER.match("GET", "/v2/apis/%C3%A9t%C3%A9")
    assert match is not None
    assert match.uri_params == {"apiId": "été"}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "",
        "/v2",
        "/v2/nothing",
        "/v1/apis",
        "/v2/apis//routes",
        "/v2/apis/a1/routes/r1/routeresponses/rr1/extra",
        "/v2/apis" + "/x" * 40,
    ],
)
def test_unknown_path_matches_nothing(path: str) -> None:
    assert ROUTER.match("GET", path) is None


def test_known_path_with_wrong_method_matches_nothing() -> None:
    assert ROUTER.match("POST", "/v2/apis/a1") is None
    assert ROUTER.match("BREW", "/v2/apis") is None


def test_allowed_methods_lists_every_method_of_the_path() -> None:
    assert ROUTER.allowed_methods("/v2/apis/a1") == ["DELETE", "GET", "PATCH", "PUT"]
    assert ROUTER.allowed_methods("/v2/apis") == ["GET", "POST", "PUT"]
    assert ROUTER.allowed_methods("/v2/tags/arn%3Ax") == ["DELETE", "GET", "POST"]


def test_allowed_methods_of_unknown_path_is_empty() -> None:
    assert ROUTER.allowed_methods("/v2/nothing/here") == []


def test_greedy_label_takes_the_rest_of_the_path_however_long() -> None:
    router = OperationRouter(tiny_model(("GetFile", "GET", "/files/{key+}")))
    segments = [f"s{i}" for i in range(50)]
    short = router.match("GET", "/files/a/b%20c")
    long = router.match("GET", "/files/" + "/".join(segments))
    assert short is not None
    assert short.uri_params == {"key": "a/b c"}
    assert long is not None
    assert long.uri_params == {"key": "/".join(segments)}
    assert router.match("GET", "/files/") is None
