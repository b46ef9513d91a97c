from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from uuid import UUID

import pytest
from aiohttp import web

from propylon.errors import GatewayInternalError, GatewayServiceUnavailable
from propylon.execute.http_proxy import HttpProxy
from propylon.functions import FunctionError, FunctionNotFound, FunctionTimeout
from propylon.websocket import integrations
from propylon.websocket.integrations import WsMessage, WsReply, is_two_way
from propylon.websocket.templates import TemplateError, UnsupportedMediaType

LAMBDA_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:000000000000:function:{name}/invocations"
)
TWO_WAY = {
    "RouteKey": "join",
    "RouteResponseSelectionExpression": "$default",
    "_routeresponses": [{"RouteResponseKey": "$default", "RouteResponseId": "r1"}],
}
ONE_WAY = {"RouteKey": "join"}


def message(body: Any = None, **overrides: Any) -> WsMessage:
    fields: dict[str, Any] = {
        "route_key": "join",
        "body": json.dumps(
            body if body is not None else {"action": "join", "room": "lobby"},
            separators=(",", ":"),
        ),
        "context": {
            "connectionId": "C0nn=",
            "requestId": "req-1",
            "routeKey": "join",
            "identity": {"sourceIp": "203.0.113.7"},
        },
        "headers": {},
        "query": {},
        "stage_variables": {"env": "dev"},
    }
    fields.update(overrides)
    return WsMessage(**fields)


def responses(*pairs: tuple[str, dict[str, str]], **extra: Any) -> list[dict[str, Any]]:
    return [
        {"IntegrationResponseKey": key, "ResponseTemplates": templates, **extra}
        for key, templates in pairs
    ]


def run(coroutine: Awaitable[WsReply]) -> WsReply:
    async def main() -> WsReply:
        return await coroutine

    return asyncio.run(main())


# --- route responses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "two_way"),
    [
        (TWO_WAY, True),
        (ONE_WAY, False),
        ({**TWO_WAY, "RouteResponseSelectionExpression": None}, False),
        ({**TWO_WAY, "_routeresponses": []}, False),
    ],
)
def test_two_way_needs_a_selection_expression_and_a_default_route_response(
    route: dict[str, Any], two_way: bool
) -> None:
    assert is_two_way(route) is two_way


# --- MOCK ------------------------------------------------------------------------------------


def mock_integration(request: str, *pairs: tuple[str, dict[str, str]], **extra: Any) -> Any:
    return {
        "IntegrationType": "MOCK",
        "RequestTemplates": {"$default": request},
        "TemplateSelectionExpression": "\\$default",
        "_integrationresponses": responses(*pairs),
        **extra,
    }


def test_mock_answers_from_the_matching_integration_response() -> None:
    integration = mock_integration(
        '{"statusCode": 200}',
        ("/2\\d\\d/", {"$default": '{"joined":"$input.path(\'$\')$context.connectionId"}'}),
        ("$default", {"$default": "fallback"}),
    )
    reply = run(integrations.call(SimpleNamespace(), TWO_WAY, integration, message()))
    assert reply == WsReply(200, '{"joined":"{}C0nn="}')


@pytest.mark.parametrize(("code", "expected"), [(404, "not here"), (503, "fallback")])
def test_mock_status_code_selects_the_integration_response(code: int, expected: str) -> None:
    integration = mock_integration(
        "{\"statusCode\": $input.json('$.code')}",
        ("/2\\d\\d/", {"$default": "ok"}),
        ("/4\\d\\d/", {"$default": "not here"}),
        ("$default", {"$default": "fallback"}),
    )
    reply = run(integrations.call(SimpleNamespace(), TWO_WAY, integration, message({"code": code})))
    assert reply == WsReply(code, expected)


def test_integration_response_key_must_match_the_whole_status() -> None:
    integration = mock_integration(
        '{"statusCode": 201}', ("/20/", {"$default": "partial"}), ("$default", {"$default": "d"})
    )
    assert run(integrations.call(SimpleNamespace(), TWO_WAY, integration, message())).body == "d"


def test_response_template_selection_expression_picks_the_response_template() -> None:
    integration = mock_integration('{"statusCode": 200}')
    integration["_integrationresponses"] = [
        {
            "IntegrationResponseKey": "$default",
            "TemplateSelectionExpression": "${request.body.room}",
            "ResponseTemplates": {"lobby": "in the lobby", "$default": "elsewhere"},
        }
    ]
    lobby = run(integrations.call(SimpleNamespace(), TWO_WAY, integration, message()))
    other = run(
        integrations.call(SimpleNamespace(), TWO_WAY, integration, message({"room": "attic"}))
    )
    assert (lobby.body, other.body) == ("in the lobby", "elsewhere")


def test_request_template_selection_by_message_body() -> None:
    integration = mock_integration("unused", ("$default", {"$default": "$input.body"}))
    integration["TemplateSelectionExpression"] = "$request.body.action"
    integration["RequestTemplates"] = {"join": '{"statusCode": 202}', "$default": "{}"}
    reply = run(integrations.call(SimpleNamespace(), TWO_WAY, integration, message()))
    assert reply.status == 202


def test_one_way_route_sends_nothing_but_keeps_the_status() -> None:
    integration = mock_integration('{"statusCode": 403}', ("$default", {"$default": "no"}))
    assert run(integrations.call(SimpleNamespace(), ONE_WAY, integration, message())) == WsReply(
        403, None
    )


def test_mock_without_integration_responses_or_templates() -> None:
    integration = {"IntegrationType": "MOCK", "PassthroughBehavior": "WHEN_NO_MATCH"}
    connect = message(body="", route_key="$connect")
    connect.body = ""
    assert run(integrations.call(SimpleNamespace(), TWO_WAY, integration, connect)) == WsReply(
        200, None
    )


@pytest.mark.parametrize(
    ("rendered", "status"),
    [('{"statusCode": 204}', 204), ('{"statusCode": "418"}', 418), ("{statusCode: 1}", 200)],
)
def test_mock_status(rendered: str, status: int) -> None:
    assert integrations.mock_status(rendered) == status


def test_mock_status_out_of_range_fails() -> None:
    with pytest.raises(GatewayInternalError):
        integrations.mock_status('{"statusCode": 42}')


def test_broken_response_template_is_an_integration_failure() -> None:
    integration = mock_integration(
        '{"statusCode": 200}', ("$default", {"$default": "$util.parseJson('nope')"})
    )
    with pytest.raises(TemplateError) as caught:
        run(integrations.call(SimpleNamespace(), TWO_WAY, integration, message()))
    assert caught.value.status == 500
    assert "parseJson" in caught.value.detail


def test_passthrough_never_refuses_unmatched_messages() -> None:
    integration = mock_integration("x", PassthroughBehavior="NEVER")
    integration["TemplateSelectionExpression"] = "$request.body.action"
    integration["RequestTemplates"] = {"leave": '{"statusCode": 200}'}
    with pytest.raises(UnsupportedMediaType):
        run(integrations.call(SimpleNamespace(), TWO_WAY, integration, message()))


def test_proxy_lambda_is_not_served_here() -> None:
    with pytest.raises(GatewayInternalError, match="AWS_PROXY"):
        run(
            integrations.call(
                SimpleNamespace(), TWO_WAY, {"IntegrationType": "AWS_PROXY"}, message()
            )
        )


# --- AWS (Lambda custom integration) -----------------------------------------------------------


@dataclass
class FakeFunction:
    handler: Callable[[Any], Any]
    seen: list[tuple[Any, str, float | None]] = field(default_factory=list)

    async def invoke(self, event: Any, request_id: str, timeout: float | None = None) -> Any:  # noqa: ASYNC109
        self.seen.append((event, request_id, timeout))
        return self.handler(event)


@dataclass
class FakeRegistry:
    functions: dict[str, FakeFunction]

    def resolve(self, uri: str) -> FakeFunction:
        for name, function in self.functions.items():
            if uri == LAMBDA_URI.format(name=name):
                return function
        raise FunctionNotFound(uri, list(self.functions))


def lambda_integration(name: str = "greeter", *pairs: tuple[str, dict[str, str]]) -> Any:
    return {
        "IntegrationType": "AWS",
        "IntegrationUri": LAMBDA_URI.format(name=name),
        "TimeoutInMillis": 1000,
        "RequestTemplates": {
            "$default": '{"room": $input.json(\'$.room\'), "who": "$context.connectionId"}'
        },
        "_integrationresponses": responses(*pairs),
    }


def test_lambda_gets_the_rendered_event_and_its_result_is_the_response_body() -> None:
    function = FakeFunction(lambda event: {"greeting": f"hello {event['who']} in {event['room']}"})
    gateway = SimpleNamespace(functions=FakeRegistry({"greeter": function}))
    integration = lambda_integration(
        "greeter", ("$default", {"$default": "$input.path('$.greeting')"})
    )
    reply = run(integrations.call(gateway, TWO_WAY, integration, message()))
    assert reply == WsReply(200, "hello C0nn= in lobby")
    ((event, request_id, limit),) = function.seen
    assert (event, limit) == ({"room": "lobby", "who": "C0nn="}, 1.0)
    assert UUID(request_id).version == 4  # the function's own request id, not the message's


def test_lambda_result_passes_through_without_integration_responses() -> None:
    gateway = SimpleNamespace(functions=FakeRegistry({"greeter": FakeFunction(lambda e: [1, "a"])}))
    reply = run(integrations.call(gateway, TWO_WAY, lambda_integration(), message()))
    assert reply == WsReply(200, '[1,"a"]')


def test_lambda_uri_takes_stage_variables() -> None:
    gateway = SimpleNamespace(functions=FakeRegistry({"fn-dev": FakeFunction(lambda e: "ok")}))
    integration = lambda_integration("fn-${stageVariables.env}")
    assert run(integrations.call(gateway, TWO_WAY, integration, message())).body == '"ok"'


def raises(error: Exception) -> Callable[[Any], Any]:
    def handler(event: Any) -> Any:
        raise error

    return handler


def test_function_error_is_selected_by_its_error_message() -> None:
    error = FunctionError("greeter", "KeyError", "room not found")
    gateway = SimpleNamespace(functions=FakeRegistry({"greeter": FakeFunction(raises(error))}))
    integration = lambda_integration(
        "greeter",
        ("/.*not found.*/", {"$default": "missing: $input.path('$.errorMessage')"}),
        ("$default", {"$default": "ok"}),
    )
    assert run(integrations.call(gateway, TWO_WAY, integration, message())) == WsReply(
        200, "missing: room not found"
    )


def test_unmapped_function_error_falls_to_default() -> None:
    error = FunctionError("greeter", "ValueError", "bad")
    gateway = SimpleNamespace(functions=FakeRegistry({"greeter": FakeFunction(raises(error))}))
    integration = lambda_integration(
        "greeter",
        ("/never/", {"$default": "no"}),
        ("$default", {"$default": "$input.path('$.errorType')"}),
    )
    assert run(integrations.call(gateway, TWO_WAY, integration, message())).body == "ValueError"


def test_error_patterns_do_not_match_across_newlines() -> None:
    error = FunctionError("greeter", "ValueError", "first line\nsecond line")
    gateway = SimpleNamespace(functions=FakeRegistry({"greeter": FakeFunction(raises(error))}))
    integration = lambda_integration(
        "greeter", ("/first.+/", {"$default": "pattern"}), ("$default", {"$default": "default"})
    )
    assert run(integrations.call(gateway, TWO_WAY, integration, message())).body == "default"


@pytest.mark.parametrize("route", [TWO_WAY, ONE_WAY])
def test_function_error_mapped_by_nothing_is_a_500(route: dict[str, Any]) -> None:
    error = FunctionError("greeter", "ValueError", "bad")
    gateway = SimpleNamespace(functions=FakeRegistry({"greeter": FakeFunction(raises(error))}))
    integration = lambda_integration("greeter", ("/never/", {"$default": "no"}))
    with pytest.raises(GatewayInternalError) as caught:
        run(integrations.call(gateway, route, integration, message()))
    assert "bad" in caught.value.detail


def test_function_timeout_is_a_function_error_in_lambdas_words() -> None:
    error = FunctionTimeout("greeter", 3.0, "req-1")
    gateway = SimpleNamespace(functions=FakeRegistry({"greeter": FakeFunction(raises(error))}))
    integration = lambda_integration(
        "greeter", ("/.*Task timed out.*/", {"$default": "$input.path('$.errorMessage')"})
    )
    reply = run(integrations.call(gateway, TWO_WAY, integration, message()))
    assert reply.body == "req-1 Task timed out after 3.00 seconds"


def test_unknown_function_is_a_500() -> None:
    gateway = SimpleNamespace(functions=FakeRegistry({}))
    with pytest.raises(GatewayInternalError, match="no local function"):
        run(integrations.call(gateway, TWO_WAY, lambda_integration("ghost"), message()))


def test_request_that_is_not_json_fails_before_invoking() -> None:
    function = FakeFunction(lambda e: "never")
    gateway = SimpleNamespace(functions=FakeRegistry({"greeter": function}))
    integration = lambda_integration()
    integration["RequestTemplates"] = {"$default": "not json"}
    with pytest.raises(GatewayInternalError, match="not JSON"):
        run(integrations.call(gateway, TWO_WAY, integration, message()))
    assert function.seen == []


@pytest.mark.parametrize(
    "integration",
    [
        {"IntegrationType": "AWS", "IntegrationUri": "arn:aws:apigateway:us-east-1:sqs:path/1/q"},
        {"IntegrationType": "AWS", "IntegrationSubtype": "SQS-SendMessage"},
    ],
)
def test_other_aws_services_cannot_run_locally(integration: dict[str, Any]) -> None:
    with pytest.raises(GatewayInternalError, match="cannot be called locally"):
        run(integrations.call(SimpleNamespace(), TWO_WAY, integration, message()))


# --- HTTP and HTTP_PROXY -----------------------------------------------------------------------


@dataclass
class Backend:
    port: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


async def _echo(request: web.Request) -> web.Response:
    seen = {
        "method": request.method,
        "path": request.path,
        "query": request.query_string,
        "headers": {k.lower(): v for k, v in request.headers.items()},
        "body": await request.text(),
    }
    status = int(request.query.get("status", "200"))
    return web.json_response(seen, status=status, headers={"X-Kind": "echo"})


@asynccontextmanager
async def backend() -> AsyncIterator[Backend]:
    state = Backend()

    async def slow(request: web.Request) -> web.Response:
        await state.release.wait()  # set once the test is over
        return web.Response(text="late")

    app = web.Application()
    app.router.add_route("*", "/slow", slow)
    app.router.add_route("*", "/{tail:.*}", _echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = runner.addresses[0][1]
    try:
        yield state
    finally:
        state.release.set()
        await runner.cleanup()


def with_backend(test: Callable[[Any, Backend], Awaitable[None]]) -> None:
    async def main() -> None:
        gateway = SimpleNamespace(http=HttpProxy())
        try:
            async with backend() as upstream:
                await test(gateway, upstream)
        finally:
            await gateway.http.aclose()

    asyncio.run(main())


def http_integration(uri: str, *pairs: tuple[str, dict[str, str]], **extra: Any) -> Any:
    return {
        "IntegrationType": "HTTP",
        "IntegrationMethod": "PUT",
        "IntegrationUri": uri,
        "TimeoutInMillis": 5000,
        "RequestTemplates": {"$default": "{\"joined\": $input.json('$.room')}"},
        "_integrationresponses": responses(*pairs),
        **extra,
    }


def test_http_sends_the_rendered_request_and_maps_the_response() -> None:
    async def test(gateway: Any, upstream: Backend) -> None:
        integration = http_integration(
            upstream.url("/rooms/{room}?fixed=1"),
            ("/2\\d\\d/", {"$default": "$input.path('$.body') via $input.path('$.method')"}),
            RequestParameters={
                "integration.request.header.x-conn": "context.connectionId",
                "integration.request.querystring.env": "stageVariables.env",
                "integration.request.path.room": "route.request.body.room",
                "integration.request.header.x-static": "'yes'",
            },
        )
        reply = await integrations.call(gateway, TWO_WAY, integration, message())
        assert reply == WsReply(200, '{"joined": "lobby"} via PUT')

        seen_integration = {**integration, "_integrationresponses": []}
        raw = await integrations.call(gateway, TWO_WAY, seen_integration, message())
        assert raw.body is not None
        seen = json.loads(raw.body)
        assert (seen["path"], seen["query"]) == ("/rooms/lobby", "fixed=1&env=dev")
        assert seen["headers"]["x-conn"] == "C0nn="
        assert seen["headers"]["x-static"] == "yes"
        assert seen["headers"]["content-type"] == "application/json"

    with_backend(test)


def test_http_status_selects_the_integration_response() -> None:
    async def test(gateway: Any, upstream: Backend) -> None:
        integration = http_integration(
            upstream.url("/x?status=503"),
            ("/2\\d\\d/", {"$default": "fine"}),
            ("/5\\d\\d/", {"$default": "down: ${integration.response.statuscode}"}),
        )
        integration["_integrationresponses"][1]["TemplateSelectionExpression"] = (
            "$integration.response.header.x-kind"
        )
        integration["_integrationresponses"][1]["ResponseTemplates"] = {
            "echo": "echoed $input.path('$.method')",
            "$default": "other",
        }
        reply = await integrations.call(gateway, TWO_WAY, integration, message())
        assert reply == WsReply(503, "echoed PUT")

    with_backend(test)


def test_http_timeout_is_a_503() -> None:
    async def test(gateway: Any, upstream: Backend) -> None:
        integration = http_integration(upstream.url("/slow"), TimeoutInMillis=50)
        with pytest.raises(GatewayServiceUnavailable):
            await integrations.call(gateway, TWO_WAY, integration, message())

    with_backend(test)


def test_unreachable_backend_is_a_500() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused

        async def test(gateway: Any, upstream: Backend) -> None:
            integration = http_integration(f"http://127.0.0.1:{port}/")
            with pytest.raises(GatewayInternalError):
                await integrations.call(gateway, TWO_WAY, integration, message())

        with_backend(test)


def test_http_uri_takes_stage_variables_and_any_is_post() -> None:
    async def test(gateway: Any, upstream: Backend) -> None:
        uri = upstream.url("/${stageVariables.env}/in")
        integration = http_integration(uri, IntegrationMethod="ANY", _integrationresponses=[])
        reply = await integrations.call(gateway, TWO_WAY, integration, message())
        assert reply.body is not None
        seen = json.loads(reply.body)
        assert (seen["method"], seen["path"]) == ("POST", "/dev/in")

    with_backend(test)


def test_http_proxy_sends_the_message_as_is_and_answers_the_backend_body() -> None:
    async def test(gateway: Any, upstream: Backend) -> None:
        integration = {
            "IntegrationType": "HTTP_PROXY",
            "IntegrationMethod": "POST",
            "IntegrationUri": upstream.url("/proxy?status=202"),
        }
        text = '{"action":"join","room":"lobby"}'
        reply = await integrations.call(gateway, TWO_WAY, integration, message(body=None))
        assert reply.status == 202
        assert reply.body is not None
        assert json.loads(reply.body)["body"] == text
        one_way = await integrations.call(gateway, ONE_WAY, integration, message())
        assert one_way == WsReply(202, None)

    with_backend(test)


def test_convert_to_text_base64_encodes_the_backend_body() -> None:
    async def test(gateway: Any, upstream: Backend) -> None:
        integration = http_integration(upstream.url("/b"))
        integration["_integrationresponses"] = [
            {"IntegrationResponseKey": "$default", "ContentHandlingStrategy": "CONVERT_TO_TEXT"}
        ]
        reply = await integrations.call(gateway, TWO_WAY, integration, message())
        assert reply.body is not None
        decoded = json.loads(base64.b64decode(reply.body))
        assert decoded["body"] == '{"joined": "lobby"}'

    with_backend(test)
