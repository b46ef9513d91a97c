from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from propylon.websocket.templates import (
    BackendReply,
    TemplateError,
    UnsupportedMediaType,
    evaluate_selection,
    pick_template,
    render,
    request_template,
    select,
    transform_request,
)

BODY = json.dumps(
    {"action": "join", "room": {"name": "lobby", "tags": ["a", "b"]}, "n": 3, "ok": True}
)


@dataclass
class Message:
    body: str = BODY
    context: Mapping[str, Any] = field(
        default_factory=lambda: {
            "connectionId": "C0nn=",
            "routeKey": "join",
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "ua"},
            "authorizer": {"principalId": "me"},
        }
    )
    headers: Mapping[str, str] = field(default_factory=lambda: {"x-token": "tok"})
    query: Mapping[str, str] = field(default_factory=lambda: {"room": "q-room"})
    stage_variables: Mapping[str, str] = field(default_factory=lambda: {"env": "dev"})


# --- JSONPath --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", {"a": {"b": [1, {"c": 2}]}}),
        ("$.a.b[0]", 1),
        ("$.a.b[-1].c", 2),
        ("$['a'][\"b\"][1]", {"c": 2}),
        ("a.b[1].c", 2),
        ("$.a.b[*]", [1, {"c": 2}]),
        ("$..c", [2]),
        ("$.a.*", [[1, {"c": 2}]]),
    ],
)
def test_json_path_selects(path: str, expected: Any) -> None:
    assert select({"a": {"b": [1, {"c": 2}]}}, path) == expected


@pytest.mark.parametrize("path", ["$.a.x", "$.a.b[5]", "$.a.b.c"])
def test_json_path_missing_is_not_none(path: str) -> None:
    assert select({"a": {"b": [1]}}, path) is not None
    assert render("[$input.path('" + path + "')]", Message(body='{"a":{"b":[1]}}')) == "[]"


def test_unsupported_json_path_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="unsupported JSONPath"):
        render("$input.json('$.a[?(@.x)]')", Message())


# --- $input --------------------------------------------------------------------------------


def test_input_body_json_and_path() -> None:
    out = render(
        "$input.body|$input.json('$.room')|$input.path('$.room.name')|"
        "$input.path('$.room.tags').size()$input.path('$.room.tags').get(1)|$input.json('$.n')|$input.json('$.missing')",
        Message(),
    )
    assert out.split("|") == [BODY, '{"name":"lobby","tags":["a","b"]}', "lobby", "2b", "3", '""']


def test_input_path_objects_print_like_java_maps() -> None:
    assert render("$input.path('$.room')", Message()) == "{name=lobby, tags=[a, b]}"
    assert render("$input.path('$.ok')", Message()) == "true"


def test_input_path_values_work_in_vtl() -> None:
    template = (
        "#set($room = $input.path('$.room'))"
        "#foreach($tag in $room.tags)$tag#if($foreach.hasNext),#end#end"
        "#if($room.containsKey('name')) named $room.get('name')#end"
    )
    assert render(template, Message()) == "a,b named lobby"


def test_empty_body_is_an_empty_object() -> None:
    assert render("$input.json('$')", Message(body="")) == "{}"


def test_non_json_body_is_its_text() -> None:
    out = render("$input.json('$')|$input.path('$')|[$input.path('$.a')]", Message(body="hi"))
    assert out == '"hi"|hi|[]'


def test_input_params() -> None:
    out = render(
        "$input.params('room')|$input.params('X-Token')|[$input.params('nope')]|"
        "$input.params().header.get('x-token')|$input.params().querystring.keySet()",
        Message(),
    )
    assert out == "q-room|tok|[]|tok|[room]"


# --- $context, $stageVariables, $util --------------------------------------------------------


def test_context_and_stage_variables() -> None:
    out = render(
        "$context.connectionId $context.identity.sourceIp $context.authorizer.principalId "
        "$stageVariables.env [$context.nothing]",
        Message(),
    )
    assert out == "C0nn= 203.0.113.7 me dev []"


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ('$util.escapeJavaScript("it\'s ""q"" a/b")', 'it\\\'s \\"q\\" a\\/b'),
        ("$util.escapeJavaScript('tab\tline\nend')", "tab\\tline\\nend"),
        ("$util.escapeJavaScript('é😀')", "\\u00E9\\uD83D\\uDE00"),
        ("$util.urlEncode('a b&c=d~*')", "a+b%26c%3Dd%7E*"),
        ("$util.urlDecode('a+b%26c')", "a b&c"),
        ("$util.base64Encode('héllo')", "aMOpbGxv"),
        ("$util.base64Decode('aMOpbGxv')", "héllo"),
        ("$util.parseJson('{\"k\":[1,true]}').k", "[1, true]"),
    ],
)
def test_util(call: str, expected: str) -> None:
    assert render(call, Message()) == expected


def test_util_failures_are_template_errors() -> None:
    with pytest.raises(TemplateError, match="parseJson"):
        render("$util.parseJson('{nope')", Message())
    with pytest.raises(TemplateError, match="base64Decode"):
        render("$util.base64Decode('***')", Message())


def test_syntax_error_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="does not parse"):
        render("#foreach($x in", Message())


def test_a_mapping_template_builds_json() -> None:
    template = """{
  "who": "$context.connectionId",
  "room": $input.json('$.room.name'),
  "raw": "$util.escapeJavaScript($input.body)"
}"""
    out = json.loads(render(template, Message()).replace("\\'", "'"))
    assert out == {"who": "C0nn=", "room": "lobby", "raw": BODY}


# --- selection expressions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("\\$default", "$default"),
        ("$default", "$default"),
        ("$request.body.action", "join"),
        ("${request.body.action}", "join"),
        ("${request.body.room.name}/${request.body.action}", "lobby/join"),
        ("${request.body.action}-${request.body.invalidPath}", "join-"),
        ("$request.body.room.tags", '["a","b"]'),
        ("$request.body.n", "3"),
        ("static", "static"),
        ("${context.identity.sourceIp}", "203.0.113.7"),
        ("${stageVariables.env}", "dev"),
    ],
)
def test_selection_expressions(expression: str, expected: str) -> None:
    assert evaluate_selection(expression, Message()) == expected


def test_selection_on_a_non_json_body_is_empty() -> None:
    assert evaluate_selection("$request.body.action", Message(body="plain")) == ""


def test_integration_response_selection_variables() -> None:
    reply = BackendReply(404, "", (("x-kind", "a"), ("X-Kind", "b")))
    assert evaluate_selection("${integration.response.statuscode}", Message(), reply) == "404"
    assert evaluate_selection("$integration.response.header.X-KIND", Message(), reply) == "b"
    text = evaluate_selection("${integration.response.multivalueheader.x-kind}", Message(), reply)
    assert text == "a,b"


def test_pick_template_falls_back_to_default() -> None:
    templates = {"join": "J", "$default": "D"}
    assert pick_template(templates, "$request.body.action", Message()) == "J"
    assert pick_template(templates, "$request.body.other", Message()) == "D"
    assert pick_template(templates, None, Message()) == "D"
    assert pick_template({"join": "J"}, "$request.body.other", Message()) is None


# --- passthrough behaviour -------------------------------------------------------------------


def integration(behaviour: str | None, templates: dict[str, str] | None) -> dict[str, Any]:
    record: dict[str, Any] = {"TemplateSelectionExpression": "$request.body.action"}
    if behaviour is not None:
        record["PassthroughBehavior"] = behaviour
    if templates is not None:
        record["RequestTemplates"] = templates
    return record


@pytest.mark.parametrize("behaviour", [None, "WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"])
def test_a_matching_template_is_rendered_whatever_the_behaviour(behaviour: str | None) -> None:
    record = integration(behaviour, {"join": '{"room":"$input.path(\'$.room.name\')"}'})
    assert transform_request(record, Message()) == '{"room":"lobby"}'


@pytest.mark.parametrize(
    ("behaviour", "templates", "passes"),
    [
        (None, {"other": "x"}, True),
        ("WHEN_NO_MATCH", {"other": "x"}, True),
        ("WHEN_NO_MATCH", None, True),
        ("WHEN_NO_TEMPLATES", None, True),
        ("WHEN_NO_TEMPLATES", {"other": "x"}, False),
        ("NEVER", None, False),
        ("NEVER", {"other": "x"}, False),
    ],
)
def test_passthrough_behaviour_without_a_match(
    behaviour: str | None, templates: dict[str, str] | None, passes: bool
) -> None:
    record = integration(behaviour, templates)
    if passes:
        assert request_template(record, Message()) is None
        assert transform_request(record, Message()) == BODY
    else:
        with pytest.raises(UnsupportedMediaType) as caught:
            transform_request(record, Message())
        assert caught.value.status == 415


def test_compiled_templates_are_reused_with_fresh_variables() -> None:
    template = "$context.connectionId"
    first = render(template, Message(context={"connectionId": "one"}))
    second = render(template, Message(context={"connectionId": "two"}))
    assert (first, second) == ("one", "two")
