"""Real AWS tooling reads what the gateway sends and answers through it.

* Powertools' parser models (``APIGatewayProxyEventV2Model``, ``APIGatewayProxyEventModel``)
  must accept the events of payload 2.0 and 1.0 for the common request shapes; the handler
  parses the event itself, as a Powertools user's would, and reports any validation error.
* A FastAPI app behind Mangum must answer through the gateway exactly as it answers when called
  directly (status, body, content-type, custom headers, cookies), on the ``$default`` stage and
  on a named one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from propylon.functions import FunctionSpec
from propylon.settings import Settings
from tests.conftest import make_client
from tests.data.functions.fastapi_app import app
from tests.servers import threaded_server

# Mangum's constructor (run when fastapi_app is imported above) gives the main thread an event
# loop of its own; the first asyncio.run() in the session would orphan it, and its sockets then
# warn whenever the collector happens to find them, in whichever test that is.
asyncio.get_event_loop_policy().get_event_loop().close()
asyncio.set_event_loop(None)

FUNCTIONS_DIR = Path(__file__).parent.parent / "data" / "functions"
POWERTOOLS = FUNCTIONS_DIR / "powertools_handlers.py"
FASTAPI = FUNCTIONS_DIR / "fastapi_app.py"
ACCOUNT = "000000000000"

POWERTOOLS_FUNCTION = {"2.0": "powertools-v2", "1.0": "powertools-v1"}
"""Payload format version → the function parsing its event with the matching model."""
POWERTOOLS_MODEL = {"2.0": "APIGatewayProxyEventV2Model", "1.0": "APIGatewayProxyEventModel"}


def arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    functions = (
        FunctionSpec("powertools-v2", f"{POWERTOOLS}:v2"),
        FunctionSpec("powertools-v1", f"{POWERTOOLS}:v1"),
        FunctionSpec("fastapi", f"{FASTAPI}:handler"),
        FunctionSpec("fastapi-prod", f"{FASTAPI}:prod_handler"),
    )
    with threaded_server(Settings(in_memory=True, functions=functions)) as url:
        yield url


@pytest.fixture
def control(served: str) -> Any:
    httpx.post(f"{served}/_propylon/reset").raise_for_status()
    return make_client(served)


def call(served: str, api_id: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A request to the API by host (``{apiId}.execute-api.localhost``)."""
    port = served.rsplit(":", 1)[1]
    headers = {"host": f"{api_id}.execute-api.localhost:{port}", **kwargs.pop("headers", {})}
    return httpx.request(method, f"{served}{path}", headers=headers, **kwargs)


def proxy_api(
    control: Any,
    function: str,
    version: str,
    stages: tuple[str, ...],
    routes: tuple[str, ...] = ("$default",),
) -> str:
    """An API whose ``routes`` all invoke ``function`` with payload ``version``, deployed to
    each of ``stages``."""
    api_id = str(control.create_api(Name="compat", ProtocolType="HTTP")["ApiId"])
    integration = control.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=arn(function),
        PayloadFormatVersion=version,
    )
    target = f"integrations/{integration['IntegrationId']}"
    for route_key in routes:
        control.create_route(ApiId=api_id, RouteKey=route_key, Target=target)
    for stage in stages:
        control.create_stage(ApiId=api_id, StageName=stage)
        control.create_deployment(ApiId=api_id, StageName=stage)
    return api_id


# --- Powertools parser models -----------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """A request and, per payload version, what its event must carry (dotted path → value)."""

    id: str
    method: str
    path: str
    expect: dict[str, dict[str, Any]]
    request: dict[str, Any] = field(default_factory=dict)


def both(expected: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {"2.0": expected, "1.0": expected}


SHAPES = (
    Shape(
        "get-with-repeated-query-keys",
        "GET",
        "/search?tag=a&tag=b&q=x%20y",
        {
            "2.0": {
                "rawQueryString": "tag=a&tag=b&q=x%20y",
                "queryStringParameters": {"tag": "a,b", "q": "x y"},
            },
            "1.0": {
                "queryStringParameters": {"tag": "b", "q": "x y"},
                "multiValueQueryStringParameters": {"tag": ["a", "b"], "q": ["x y"]},
            },
        },
    ),
    Shape(
        "post-json-body",
        "POST",
        "/orders",
        both({"body": '{"id": 1}', "isBase64Encoded": False}),
        {"content": b'{"id": 1}', "headers": {"content-type": "application/json"}},
    ),
    Shape(
        "post-form-body-as-base64",
        "POST",
        "/form",
        both({"body": "YT0xJmI9Mg==", "isBase64Encoded": True}),
        {"content": b"a=1&b=2", "headers": {"content-type": "application/x-www-form-urlencoded"}},
    ),
    Shape(
        "cookies",
        "GET",
        "/",
        {"2.0": {"cookies": ["a=1", "b=2"]}, "1.0": {"headers.cookie": "a=1; b=2"}},
        {"headers": {"cookie": "a=1; b=2"}},
    ),
    Shape(
        "path-parameters-on-a-named-stage",
        "GET",
        "/prod/pets/7",
        {
            "2.0": {
                "routeKey": "ANY /pets/{id}",
                "rawPath": "/prod/pets/7",
                "pathParameters": {"id": "7"},
                "requestContext.stage": "prod",
            },
            "1.0": {
                "resource": "/pets/{id}",
                "path": "/prod/pets/7",
                "pathParameters": {"id": "7"},
                "requestContext.stage": "prod",
            },
        },
    ),
    Shape(
        "default-route-on-the-default-stage",
        "GET",
        "/any/where",
        {
            "2.0": {
                "routeKey": "$default",
                "rawPath": "/any/where",
                "requestContext.stage": "$default",
            },
            "1.0": {"path": "/any/where", "requestContext.stage": "$default"},
        },
    ),
)


def dig(event: dict[str, Any], dotted: str) -> Any:
    value: Any = event
    for key in dotted.split("."):
        value = value[key]
    return value


@pytest.mark.parametrize("version", ["2.0", "1.0"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.id)
def test_powertools_event_model_accepts_the_event(
    served: str, control: Any, version: str, shape: Shape
) -> None:
    api_id = proxy_api(
        control,
        POWERTOOLS_FUNCTION[version],
        version,
        stages=("$default", "prod"),
        routes=("$default", "ANY /pets/{id}"),
    )
    answer = call(served, api_id, shape.method, shape.path, **shape.request)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["errors"] == [], (
        f"Powertools' {POWERTOOLS_MODEL[version]} rejects the payload {version} event of "
        f"{shape.method} {shape.path} (bug in propylon/execute/payloads.py): {report['errors']}"
    )
    event = report["event"]
    assert event["version"] == version
    for dotted, expected in shape.expect[version].items():
        assert dig(event, dotted) == expected, dotted


# --- FastAPI behind Mangum --------------------------------------------------------------------


def direct(method: str, path: str, **kwargs: Any) -> httpx.Response:
    """The same request sent straight to the FastAPI app, in this process."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(send())


REQUESTS = (
    pytest.param("GET", "/items/7?q=blue", {}, id="get-with-path-and-query"),
    pytest.param("POST", "/items", {"json": {"name": "lamp", "price": 9.5}}, id="post-json-201"),
    pytest.param("GET", "/login", {}, id="two-cookies"),
    pytest.param("GET", "/missing/3", {}, id="http-exception-404"),
    pytest.param("GET", "/items/seven", {}, id="validation-error-422"),
)


def assert_same_answer(through_gateway: httpx.Response, from_app: httpx.Response) -> None:
    assert through_gateway.status_code == from_app.status_code
    assert through_gateway.content == from_app.content
    for name in ("content-type", "x-item-name"):
        assert through_gateway.headers.get(name) == from_app.headers.get(name), name
    assert through_gateway.headers.get_list("set-cookie") == from_app.headers.get_list("set-cookie")


@pytest.mark.parametrize(("method", "path", "request_kwargs"), REQUESTS)
def test_fastapi_answers_through_the_gateway_as_it_does_directly(
    served: str,
    control: Any,
    method: str,
    path: str,
    request_kwargs: dict[str, Any],
) -> None:
    api_id = proxy_api(control, "fastapi", "2.0", stages=("$default",))
    through_gateway = call(served, api_id, method, path, **request_kwargs)
    assert_same_answer(through_gateway, direct(method, path, **request_kwargs))


@pytest.mark.parametrize(("method", "path", "request_kwargs"), REQUESTS)
def test_fastapi_on_a_named_stage_sees_paths_without_the_stage(
    served: str,
    control: Any,
    method: str,
    path: str,
    request_kwargs: dict[str, Any],
) -> None:
    api_id = proxy_api(control, "fastapi-prod", "2.0", stages=("prod",))
    through_gateway = call(served, api_id, method, f"/prod{path}", **request_kwargs)
    assert_same_answer(through_gateway, direct(method, path, **request_kwargs))


def test_fastapi_answers_the_same_with_payload_1_0(served: str, control: Any) -> None:
    api_id = proxy_api(control, "fastapi-prod", "1.0", stages=("prod",))
    for method, path, request_kwargs in (param.values for param in REQUESTS):
        through_gateway = call(served, api_id, method, f"/prod{path}", **request_kwargs)
        assert_same_answer(through_gateway, direct(method, path, **request_kwargs))


def test_the_set_cookies_reach_the_client_one_per_line(served: str, control: Any) -> None:
    api_id = proxy_api(control, "fastapi", "2.0", stages=("$default",))
    cookies = call(served, api_id, "GET", "/login").headers.get_list("set-cookie")
    assert [cookie.split(";", 1)[0] for cookie in cookies] == ["session=abc123", "theme=dark"]


def test_the_plain_mangum_handler_serves_concurrent_calls(served: str, control: Any) -> None:
    api_id = proxy_api(control, "fastapi", "2.0", stages=("$default",))
    port = served.rsplit(":", 1)[1]

    async def burst() -> list[int]:
        headers = {"host": f"{api_id}.execute-api.localhost:{port}"}
        async with httpx.AsyncClient(base_url=served, headers=headers) as client:
            answers = await asyncio.gather(*(client.get(f"/items/{n}") for n in range(8)))
        return [answer.status_code for answer in answers]

    assert asyncio.run(burst()) == [200] * 8
