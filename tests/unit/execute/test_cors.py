from __future__ import annotations

from typing import Any

import pytest

from propylon.execute.chain import Response
from propylon.execute.context import Invocation
from propylon.execute.cors import Cors, Preflight, compile_cors
from tests.unit.execute.invocations import invocation as base_invocation

APP = "https://app.example.com"
CONFIG: dict[str, Any] = {
    "AllowOrigins": [APP, "https://admin.example.com"],
    "AllowMethods": ["GET", "post"],
    "AllowHeaders": ["Authorization", "content-type"],
    "ExposeHeaders": ["X-Request-Id", "date"],
    "MaxAge": 300,
}


def invocation(method: str = "GET", headers: list[tuple[str, str]] | None = None) -> Invocation:
    return base_invocation(
        http_method=method,
        raw_path="/pets",
        path="/pets",
        route_path="/pets",
        headers=[("host", "a1b2c3d4e5.example.com"), *(headers or [])],
        stage="$default",
        route_key="-",
    )


def preflight_request(origin: str = APP, requested_headers: str | None = None) -> Invocation:
    headers = [("origin", origin), ("access-control-request-method", "POST")]
    if requested_headers is not None:
        headers.append(("access-control-request-headers", requested_headers))
    return invocation("OPTIONS", headers)


def cors(**overrides: Any) -> Cors:
    compiled = compile_cors({**CONFIG, **overrides})
    assert compiled is not None
    return compiled


def answer(config: Cors, inv: Invocation) -> dict[str, str]:
    preflight = config.preflight(inv)
    assert preflight is not None
    assert preflight.status == 204
    return dict(preflight.headers)


def decorated(config: Cors, inv: Invocation, headers: list[tuple[str, str]]) -> Response:
    response = Response(200, list(headers), b"{}")
    config.decorate(inv, response)
    return response


# --- compiling ----------------------------------------------------------------------------------


def test_no_cors_configuration_compiles_to_none() -> None:
    assert compile_cors(None) is None


def test_empty_cors_configuration_is_still_configured() -> None:
    config = compile_cors({})
    assert config is not None
    assert config.preflight(preflight_request()) == Preflight(204, [])


# --- preflight ----------------------------------------------------------------------------------


def test_preflight_answers_204_with_configured_headers() -> None:
    assert answer(cors(), preflight_request()) == {
        "access-control-allow-origin": APP,
        "vary": "origin",
        "access-control-allow-methods": "GET,POST",
        "access-control-allow-headers": "authorization,content-type",
        "access-control-max-age": "300",
    }


@pytest.mark.parametrize(
    "headers",
    [
        [("origin", APP)],
        [("access-control-request-method", "POST")],
        [],
    ],
)
def test_options_without_origin_and_request_method_is_not_a_preflight(
    headers: list[tuple[str, str]],
) -> None:
    assert cors().preflight(invocation("OPTIONS", headers)) is None


def test_non_options_request_is_not_a_preflight() -> None:
    inv = invocation("POST", [("origin", APP), ("access-control-request-method", "POST")])
    assert cors().preflight(inv) is None


def test_preflight_from_disallowed_origin_gets_204_without_cors_headers() -> None:
    assert answer(cors(), preflight_request("https://evil.example.net")) == {}


def test_preflight_max_age_only_when_configured() -> None:
    config = compile_cors({"AllowOrigins": [APP]})
    assert config is not None
    assert "access-control-max-age" not in answer(config, preflight_request())


def test_preflight_max_age_zero_is_sent() -> None:
    assert answer(cors(MaxAge=0), preflight_request())["access-control-max-age"] == "0"


def test_preflight_lists_configured_headers_not_requested_ones() -> None:
    headers = answer(cors(), preflight_request(requested_headers="x-custom"))
    assert headers["access-control-allow-headers"] == "authorization,content-type"


def test_preflight_wildcard_headers_and_methods_sent_as_wildcard() -> None:
    config = cors(AllowHeaders=["*"], AllowMethods=["*"])
    headers = answer(config, preflight_request(requested_headers="x-custom"))
    assert headers["access-control-allow-headers"] == "*"
    assert headers["access-control-allow-methods"] == "*"


def test_preflight_wildcard_with_credentials_echoes_requested_method_and_headers() -> None:
    config = cors(AllowHeaders=["*"], AllowMethods=["*"], AllowCredentials=True)
    headers = answer(config, preflight_request(requested_headers="X-Custom, Content-Type"))
    assert headers["access-control-allow-headers"] == "x-custom, content-type"
    assert headers["access-control-allow-methods"] == "POST"
    assert headers["access-control-allow-credentials"] == "true"


def test_preflight_credentials_with_specific_origin() -> None:
    headers = answer(cors(AllowCredentials=True), preflight_request())
    assert headers["access-control-allow-origin"] == APP
    assert headers["access-control-allow-credentials"] == "true"


# --- origins ------------------------------------------------------------------------------------


def test_allowed_origin_is_echoed_with_vary_origin() -> None:
    response = decorated(cors(), invocation(headers=[("origin", APP)]), [])
    assert ("access-control-allow-origin", APP) in response.headers
    assert ("vary", "origin") in response.headers


def test_origin_matching_ignores_case_and_echoes_as_sent() -> None:
    origin = "https://App.Example.com"
    response = decorated(cors(), invocation(headers=[("origin", origin)]), [])
    assert ("access-control-allow-origin", origin) in response.headers


def test_wildcard_origin_answers_star_without_vary() -> None:
    config = cors(AllowOrigins=["*"])
    response = decorated(config, invocation(headers=[("origin", "https://any.example")]), [])
    assert ("access-control-allow-origin", "*") in response.headers
    assert all(name != "vary" for name, _ in response.headers)


def test_scheme_wildcard_allows_any_origin_of_that_scheme() -> None:
    config = cors(AllowOrigins=["https://*"])
    assert config.allows("https://any.example.org")
    assert not config.allows("http://any.example.org")
    response = decorated(config, invocation(headers=[("origin", "https://x.example")]), [])
    assert ("access-control-allow-origin", "https://x.example") in response.headers


def test_credentials_with_specific_origin() -> None:
    response = decorated(cors(AllowCredentials=True), invocation(headers=[("origin", APP)]), [])
    assert ("access-control-allow-origin", APP) in response.headers
    assert ("access-control-allow-credentials", "true") in response.headers


def test_disallowed_origin_gets_no_cors_headers() -> None:
    inv = invocation(headers=[("origin", "https://evil.example.net")])
    response = decorated(cors(), inv, [("content-type", "application/json")])
    assert response.headers == [("content-type", "application/json")]


# --- actual responses ---------------------------------------------------------------------------


def test_expose_headers_added_to_actual_response() -> None:
    response = decorated(cors(), invocation(headers=[("origin", APP)]), [])
    assert ("access-control-expose-headers", "x-request-id,date") in response.headers


def test_actual_response_carries_no_preflight_only_headers() -> None:
    response = decorated(cors(), invocation(headers=[("origin", APP)]), [])
    names = {name for name, _ in response.headers}
    assert not names & {"access-control-allow-methods", "access-control-max-age"}


def test_backend_access_control_headers_are_replaced() -> None:
    backend = [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "DELETE"),
        ("content-type", "application/json"),
    ]
    response = decorated(cors(), invocation(headers=[("origin", APP)]), backend)
    assert response.headers == [
        ("content-type", "application/json"),
        ("access-control-allow-origin", APP),
        ("vary", "origin"),
        ("access-control-expose-headers", "x-request-id,date"),
    ]


def test_backend_access_control_headers_are_dropped_even_without_origin() -> None:
    backend = [("access-control-allow-origin", "*"), ("x-backend", "1")]
    response = decorated(cors(), invocation(), backend)
    assert response.headers == [("x-backend", "1")]


def test_no_origin_gets_no_cors_headers_and_keeps_other_headers() -> None:
    backend = [("content-type", "text/plain"), ("vary", "accept")]
    response = decorated(cors(), invocation(), backend)
    assert response.headers == backend
    assert response.status == 200
    assert response.body == b"{}"


def test_vary_origin_not_repeated_when_backend_varies_on_origin() -> None:
    backend = [("vary", "Accept, Origin")]
    response = decorated(cors(), invocation(headers=[("origin", APP)]), backend)
    assert [value for name, value in response.headers if name == "vary"] == ["Accept, Origin"]
