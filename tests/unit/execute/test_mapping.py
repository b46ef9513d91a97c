from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from propylon.execute.context import Invocation
from propylon.execute.mapping import (
    BODY_LIMIT,
    MappedRequest,
    MappingError,
    compile_request_mapping,
    compile_response_mapping,
)
from tests.unit.execute.invocations import invocation as base_invocation


def invocation(**overrides: Any) -> Invocation:
    return base_invocation(**{"path_parameters": {"petId": "6"}, **overrides})


def mapped(
    parameters: dict[str, str], inv: Invocation | None = None, **stage_variables: str
) -> MappedRequest:
    mapping = compile_request_mapping(parameters)
    assert mapping is not None
    return mapping.apply(inv or invocation(), stage_variables)


def header_values(request: MappedRequest, name: str) -> list[str]:
    return [value for key, value in request.headers if key == name]


def value_of(expression: str, inv: Invocation | None = None, **stage_variables: str) -> str:
    """What ``expression`` renders to, through an ``overwrite:header.x-out`` mapping."""
    request = mapped({"overwrite:header.x-out": expression}, inv, **stage_variables)
    return ",".join(header_values(request, "x-out"))


def json_body(document: Any) -> Invocation:
    return invocation(http_method="POST", body=json.dumps(document).encode())


def respond(
    parameters: dict[str, dict[str, str]],
    status: int = 200,
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    **stage_variables: str,
) -> tuple[int, list[tuple[str, str]]]:
    mapping = compile_response_mapping(parameters)
    assert mapping is not None
    return mapping.apply(invocation(), status, headers or [], body, stage_variables)


# --- compiling -------------------------------------------------------------------------------


def test_no_parameters_compile_to_none() -> None:
    assert compile_request_mapping(None) is None
    assert compile_request_mapping({}) is None
    assert compile_response_mapping({"200": {}}) is None


def test_statuscode_is_not_a_request_key() -> None:
    with pytest.raises(MappingError):
        compile_request_mapping({"overwrite:statuscode": "200"})


def test_combining_variables_without_braces_is_rejected() -> None:
    with pytest.raises(MappingError, match="braces"):
        compile_request_mapping({"overwrite:path": "$request.path.a-$request.path.b"})


def test_response_expressions_are_rejected_in_request_mapping() -> None:
    with pytest.raises(MappingError):
        compile_request_mapping({"append:header.x": "$response.header.y"})


@pytest.mark.parametrize(
    "expression", ["$request.body..name", "${request.body..name}", "$request.body.a[?(@.b)]"]
)
def test_recursive_descent_and_filters_are_rejected(expression: str) -> None:
    with pytest.raises(MappingError, match="JSONPath"):
        compile_request_mapping({"append:header.x": expression})


# --- request headers -------------------------------------------------------------------------


def test_append_header_keeps_existing_values() -> None:
    inv = invocation(headers=[("x-tag", "a")])
    request = mapped({"append:header.x-tag": "b"}, inv)
    assert header_values(request, "x-tag") == ["a", "b"]


def test_overwrite_header_replaces_every_value() -> None:
    inv = invocation(headers=[("x-tag", "a"), ("accept", "*/*"), ("x-tag", "b")])
    request = mapped({"overwrite:header.x-tag": "c"}, inv)
    assert request.headers == [("x-tag", "c"), ("accept", "*/*")]


def test_overwrite_header_creates_a_missing_one() -> None:
    assert header_values(mapped({"overwrite:header.x-new": "v"}), "x-new") == ["v"]


def test_remove_header_deletes_it() -> None:
    inv = invocation(headers=[("x-secret", "s"), ("accept", "*/*")])
    assert mapped({"remove:header.x-secret": ""}, inv).headers == [("accept", "*/*")]


def test_header_names_are_case_insensitive() -> None:
    inv = invocation(headers=[("x-tag", "a"), ("x-from", "f")])
    request = mapped(
        {"remove:header.X-Tag": "", "append:header.X-Out": "$request.header.X-FROM"}, inv
    )
    assert request.headers == [("x-from", "f"), ("x-out", "f")]


def test_repeated_request_header_values_are_comma_joined() -> None:
    inv = invocation(headers=[("x-multi", "v1"), ("x-multi", "v2")])
    assert value_of("$request.header.x-multi", inv) == "v1,v2"


def test_rename_reads_the_original_request_whatever_the_key_order() -> None:
    inv = invocation(headers=[("header1", "value")])
    request = mapped(
        {"remove:header.header1": "", "append:header.header2": "$request.header.header1"}, inv
    )
    assert (header_values(request, "header1"), header_values(request, "header2")) == (
        [],
        ["value"],
    )


def test_missing_header_appends_nothing() -> None:
    request = mapped({"append:header.x-out": "$request.header.x-absent"})
    assert header_values(request, "x-out") == []


def test_overwrite_with_an_empty_value_removes_the_client_header() -> None:
    inv = invocation(headers=[("x-user", "forged")])
    request = mapped({"overwrite:header.x-user": "$context.authorizer.claims.sub"}, inv)
    assert header_values(request, "x-user") == []


# --- query strings ---------------------------------------------------------------------------


def test_repeated_query_values_are_comma_joined() -> None:
    inv = invocation(query=[("a", "1"), ("b", "x"), ("a", "2")])
    assert value_of("$request.querystring.a", inv) == "1,2"


def test_query_names_are_case_sensitive() -> None:
    inv = invocation(query=[("A", "upper")])
    assert value_of("$request.querystring.a", inv) == ""


def test_append_query_keeps_existing_values() -> None:
    inv = invocation(raw_query_string="a=1", query=[("a", "1")])
    assert mapped({"append:querystring.a": "2"}, inv).query == [("a", "1"), ("a", "2")]


def test_overwrite_and_remove_query_parameters() -> None:
    inv = invocation(query=[("a", "1"), ("b", "2"), ("a", "3")])
    request = mapped({"overwrite:querystring.a": "x", "remove:querystring.b": ""}, inv)
    assert request.query == [("a", "x")]


def test_mapped_query_is_reencoded() -> None:
    inv = invocation(raw_query_string="q=a%20b", query=[("q", "a b")])
    request = mapped({"append:querystring.sum": "1+1=2&"}, inv)
    assert request.raw_query_string == "q=a%20b&sum=1%2B1%3D2%26"


def test_unmapped_query_keeps_the_client_encoding() -> None:
    inv = invocation(raw_query_string="q=a+b", query=[("q", "a b")])
    assert mapped({"append:header.x": "y"}, inv).raw_query_string == "q=a+b"


# --- body ------------------------------------------------------------------------------------


def test_body_path_selects_a_nested_value() -> None:
    assert (
        value_of(
            "$request.body.order.customer.name", json_body({"order": {"customer": {"name": "Ada"}}})
        )
        == "Ada"
    )


def test_body_path_indexes_arrays() -> None:
    inv = json_body({"items": [{"sku": "a"}, {"sku": "b"}]})
    assert value_of("$request.body.items[1].sku", inv) == "b"


def test_body_path_wildcard_collects_values() -> None:
    inv = json_body({"items": [{"sku": "a"}, {"sku": "b"}]})
    assert value_of("${request.body.items[*].sku}", inv) == '["a","b"]'


def test_body_path_renders_non_strings_as_json() -> None:
    inv = json_body({"n": 3, "ok": True, "o": {"k": [1]}})
    assert (
        value_of("${request.body.n}/${request.body.ok}/${request.body.o}", inv)
        == '3/true/{"k":[1]}'
    )


def test_body_path_on_a_non_json_body_is_empty() -> None:
    assert value_of("$request.body.a", invocation(body=b"not json")) == ""


def test_body_is_truncated_to_100_kb_before_evaluation() -> None:
    document = {"a": "x", "pad": "p" * BODY_LIMIT}
    assert value_of("$request.body.a", json_body(document)) == ""


def test_body_just_under_the_limit_is_evaluated() -> None:
    body = json.dumps({"a": "x", "pad": ""}).encode()
    body = body[:-2] + b"p" * (BODY_LIMIT - len(body)) + b'"}'
    assert len(body) == BODY_LIMIT
    assert value_of("$request.body.a", invocation(body=body)) == "x"


def test_whole_body_is_not_truncated() -> None:
    body = b"b" * (BODY_LIMIT + 10)
    assert value_of("$request.body", invocation(body=body)) == body.decode()


# --- path, context, stage variables ----------------------------------------------------------


def test_request_path_has_no_stage() -> None:
    assert value_of("$request.path") == "/pets/6"


def test_path_parameter() -> None:
    assert value_of("$request.path.petId") == "6"


def test_context_request_id() -> None:
    assert value_of("$context.requestId") == "Mc7UVioPPHcEKPA="


def test_context_names_map_to_invocation_fields() -> None:
    expression = "${context.stage} ${context.httpMethod} ${context.identity.sourceIp}"
    assert value_of(expression) == "prod GET 203.0.113.7"


def test_context_reads_jwt_claims_and_lambda_authorizer_context() -> None:
    inv = invocation(authorizer={"jwt": {"claims": {"sub": "u1"}, "scopes": None}})
    assert value_of("$context.authorizer.claims.sub", inv) == "u1"
    inv = invocation(authorizer={"lambda": {"tenant": "t9", "admin": False}})
    assert value_of("${context.authorizer.tenant}:${context.authorizer.admin}", inv) == "t9:false"


def test_stage_variable() -> None:
    assert value_of("$stageVariables.env", env="beta") == "beta"


def test_combined_braces_template_with_static_text() -> None:
    inv = invocation(
        route_key="GET /a/{x}/{y}", path_parameters={"x": "1", "y": "2"}, route_path="/a/1/2"
    )
    assert (
        value_of("id-${request.path.x}-${request.path.y}-${stageVariables.v}", inv, v="z")
        == "id-1-2-z"
    )


def test_unknown_source_stays_static_text() -> None:
    assert value_of("$5 ${price}") == "$5 ${price}"


# --- overwrite:path --------------------------------------------------------------------------


def test_overwrite_path_with_greedy_parameter() -> None:
    inv = invocation(
        route_key="ANY /parent/{proxy+}",
        route_path="/parent/a/b",
        path_parameters={"proxy": "a/b"},
    )
    assert mapped({"overwrite:path": "/v2/${request.path.proxy}"}, inv).path == "/v2/a/b"


def test_overwrite_path_encodes_substituted_values() -> None:
    inv = invocation(route_key="GET /f/{name}", path_parameters={"name": "a b/c"})
    assert mapped({"overwrite:path": "/files/$request.path.name"}, inv).path == "/files/a%20b%2Fc"


def test_overwrite_path_sends_request_path_as_received() -> None:
    inv = invocation(route_path="/a%2Fb/c%20d")
    assert mapped({"overwrite:path": "/v1$request.path"}, inv).path == "/v1/a%2Fb/c%20d"


def test_path_is_none_when_not_overwritten() -> None:
    assert mapped({"append:header.x": "y"}).path is None


# --- response mapping ------------------------------------------------------------------------


def test_response_mapping_applies_only_to_the_exact_status() -> None:
    parameters = {"404": {"append:header.x-mapped": "yes"}}
    assert respond(parameters, status=200, headers=[("a", "1")]) == (200, [("a", "1")])
    assert respond(parameters, status=404) == (404, [("x-mapped", "yes")])


def test_overwrite_statuscode() -> None:
    assert respond({"500": {"overwrite:statuscode": "403"}}, status=500)[0] == 403


def test_overwrite_statuscode_from_a_header() -> None:
    parameters = {"200": {"overwrite:statuscode": "$response.header.x-status"}}
    assert respond(parameters, headers=[("x-status", "201")])[0] == 201


def test_invalid_rendered_statuscode_keeps_the_backend_status(
    caplog: pytest.LogCaptureFixture,
) -> None:
    parameters = {"200": {"overwrite:statuscode": "$response.header.x-status"}}
    with caplog.at_level(logging.WARNING, "propylon.execute"):
        assert respond(parameters, headers=[("x-status", "700")])[0] == 200
    assert "700" in caplog.text


def test_invalid_static_statuscode_is_rejected() -> None:
    with pytest.raises(MappingError):
        compile_response_mapping({"200": {"overwrite:statuscode": "99"}})


def test_invalid_response_status_key_is_rejected() -> None:
    with pytest.raises(MappingError):
        compile_response_mapping({"2XX": {"append:header.a": "b"}})


def test_response_headers_append_overwrite_remove() -> None:
    backend = [("x-a", "1"), ("x-b", "2"), ("x-c", "3")]
    parameters = {
        "200": {"append:header.x-a": "4", "overwrite:header.X-B": "5", "remove:header.x-c": ""}
    }
    assert respond(parameters, headers=backend)[1] == [("x-a", "1"), ("x-b", "5"), ("x-a", "4")]


def test_response_header_and_body_expressions() -> None:
    parameters = {
        "200": {
            "append:header.x-copy": "$response.header.X-Origin",
            "append:header.x-id": "$response.body.data.id",
        }
    }
    _, headers = respond(parameters, headers=[("x-origin", "o")], body=b'{"data": {"id": 7}}')
    assert headers[-2:] == [("x-copy", "o"), ("x-id", "7")]


def test_response_mapping_reads_context_and_stage_variables() -> None:
    parameters = {"200": {"append:header.x": "${context.requestId}/${stageVariables.env}"}}
    assert respond(parameters, env="prod")[1] == [("x", "Mc7UVioPPHcEKPA=/prod")]


def test_request_expressions_are_rejected_in_response_mapping() -> None:
    with pytest.raises(MappingError):
        compile_response_mapping({"200": {"append:header.x": "$request.header.y"}})
