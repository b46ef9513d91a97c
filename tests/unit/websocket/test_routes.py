from __future__ import annotations

from typing import Any

from propylon.websocket.routes import compile_route, compile_routes


def snapshot(*routes: dict[str, Any], expression: str = "$request.body.action") -> dict[str, Any]:
    return {"Api": {"RouteSelectionExpression": expression}, "routes": list(routes)}


def route(key: str, **extra: Any) -> dict[str, Any]:
    return {"RouteKey": key, "RouteId": key.strip("$"), "Target": "integrations/abc", **extra}


def test_message_takes_the_route_whose_key_equals_the_value() -> None:
    routes = compile_routes(snapshot(route("join"), route("$default")))
    selected = routes.select('{"action": "join"}')
    assert selected is not None
    assert selected.key == "join"
    assert selected.target == "abc"


def test_unmatched_and_non_json_messages_take_default() -> None:
    routes = compile_routes(snapshot(route("join"), route("$default")))
    assert [routes.select(m).key for m in ('{"action": "Join"}', "text")] == [  # type: ignore[union-attr]
        "$default",
        "$default",
    ]


def test_no_match_without_default_is_none() -> None:
    routes = compile_routes(snapshot(route("join")))
    assert routes.select('{"action": "leave"}') is None
    assert routes.select("text") is None


def test_lifecycle_routes_are_never_selected_by_a_message() -> None:
    routes = compile_routes(snapshot(route("$connect"), route("$disconnect")))
    assert routes.select('{"action": "$connect"}') is None
    assert routes.select('{"action": "$disconnect"}') is None


def test_route_is_two_way_only_with_expression_and_default_response() -> None:
    response = {"RouteResponseKey": "$default"}
    both = compile_route(
        route("a", RouteResponseSelectionExpression="$default", _routeresponses=[response])
    )
    no_response = compile_route(route("b", RouteResponseSelectionExpression="$default"))
    no_expression = compile_route(route("c", _routeresponses=[response]))
    assert (both.two_way, no_response.two_way, no_expression.two_way) == (True, False, False)


def test_required_parameters_are_listed_by_location() -> None:
    compiled = compile_route(
        route(
            "$connect",
            RequestParameters={
                "route.request.querystring.token": {"Required": True},
                "route.request.header.X-Room": {"Required": True},
                "route.request.querystring.page": {"Required": False},
            },
        )
    )
    assert sorted(compiled.required) == [("header", "X-Room"), ("querystring", "token")]
