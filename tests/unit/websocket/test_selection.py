from __future__ import annotations

import pytest

from propylon.websocket.selection import compile_selector

BODY = '{"service": "chat", "action": "join", "n": 3, "flag": true, "list": [1, {"k": "v"}]}'


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("$request.body.action", "join"),
        ("${request.body.action}", "join"),
        ("${request.body.service}/${request.body.action}", "chat/join"),
        ("${request.body.action}-${request.body.invalidPath}", "join-"),
        ("action", "action"),
        ("\\$default", "$default"),
        ("$request.body.n", "3"),
        ("$request.body.flag", "true"),
        ("$request.body.list[1].k", "v"),
        ("${request.body['service']}", "chat"),
        ("$request.body.list", '[1,{"k":"v"}]'),
        ("$context.routeKey", ""),
    ],
)
def test_expression_evaluates_as_aws_documents(expression: str, expected: str) -> None:
    assert compile_selector(expression).select(BODY) == expected


def test_nested_path_reads_inner_objects() -> None:
    selector = compile_selector("$request.body.a.b")
    assert selector.select('{"a": {"b": "deep"}}') == "deep"
    assert selector.select('{"a": "flat"}') == ""


def test_message_that_is_not_json_has_no_value() -> None:
    assert compile_selector("$request.body.action").select("hello there") is None


def test_static_expression_does_not_need_json() -> None:
    assert compile_selector("fixed").select("hello there") == "fixed"


def test_unbraced_variable_ends_at_a_character_outside_names() -> None:
    selector = compile_selector("$request.body.a-$request.body.b")
    assert selector.select('{"a": "x", "b": "y"}') == "x-y"


def test_null_is_empty() -> None:
    assert compile_selector("$request.body.action").select('{"action": null}') == ""
