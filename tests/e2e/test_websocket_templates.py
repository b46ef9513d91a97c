"""WebSocket MOCK integrations answering from mapping templates, through a real ``websockets``
client: request template → ``statusCode`` → integration response → response template chosen by
its selection expression → the message a two-way route sends back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from propylon.settings import Settings
from tests.conftest import make_client
from tests.servers import threaded_server

WAIT = 5.0
CONNECT_TEMPLATE = '{"statusCode": #if($input.params(\'deny\') == "yes")403#{else}200#end}'
GREETINGS = {
    "formal": '{"greeting": "Good day", "to": "$context.connectionId", '
    '"route": "$context.routeKey", "env": "$stageVariables.env"}',
    "$default": '{"greeting": "hi", "route": "$context.routeKey"}',
}


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    with threaded_server(Settings(in_memory=True)) as url:
        yield url


@pytest.fixture
def control(served: str) -> Any:
    httpx.post(f"{served}/_propylon/reset").raise_for_status()
    return make_client(served)


def mock(control: Any, api_id: str, request: str, **response: Any) -> str:
    integration = control.create_integration(
        ApiId=api_id,
        IntegrationType="MOCK",
        TemplateSelectionExpression="\\$default",
        RequestTemplates={"$default": request},
    )
    integration_id = integration["IntegrationId"]
    if response:
        control.create_integration_response(ApiId=api_id, IntegrationId=integration_id, **response)
    return f"integrations/{integration_id}"


def templated_api(control: Any) -> str:
    api_id = str(
        control.create_api(
            Name="mocked", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
        )["ApiId"]
    )
    connect_target = mock(control, api_id, CONNECT_TEMPLATE)
    control.create_route(ApiId=api_id, RouteKey="$connect", Target=connect_target)
    greet_target = mock(
        control,
        api_id,
        '{"statusCode": 200}',
        IntegrationResponseKey="/2\\d\\d/",
        TemplateSelectionExpression="${request.body.kind}",
        ResponseTemplates=GREETINGS,
    )
    route = control.create_route(
        ApiId=api_id,
        RouteKey="greet",
        Target=greet_target,
        RouteResponseSelectionExpression="$default",
    )
    control.create_route_response(
        ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default"
    )
    control.create_route(ApiId=api_id, RouteKey="quiet", Target=greet_target)  # one-way
    control.create_stage(ApiId=api_id, StageName="prod", StageVariables={"env": "e2e"})
    control.create_deployment(ApiId=api_id, StageName="prod")
    return api_id


def address(served: str, api_id: str, query: str = "") -> str:
    port = served.rsplit(":", 1)[1]
    return f"ws://127.0.0.1:{port}/_aws/execute-api/{api_id}/prod{query}"


async def ask(ws: ClientConnection, document: dict[str, Any]) -> Any:
    await ws.send(json.dumps(document))
    message = await asyncio.wait_for(ws.recv(), WAIT)
    assert isinstance(message, str)
    return json.loads(message)


def test_two_way_mock_route_answers_from_the_selected_response_template(
    served: str, control: Any
) -> None:
    api_id = templated_api(control)

    async def scenario() -> None:
        async with connect(address(served, api_id)) as ws:
            formal = await ask(ws, {"action": "greet", "kind": "formal"})
            await ws.send(json.dumps({"action": "quiet", "kind": "formal"}))
            plain = await ask(ws, {"action": "greet"})
        assert formal["greeting"] == "Good day"
        assert formal["route"] == "greet"
        assert formal["env"] == "e2e"
        assert formal["to"].endswith("=")
        assert len(formal["to"]) == 16
        assert plain == {"greeting": "hi", "route": "greet"}  # nothing came from "quiet"

    asyncio.run(asyncio.wait_for(scenario(), 20))


def test_connect_mock_status_from_the_template_refuses_the_handshake(
    served: str, control: Any
) -> None:
    api_id = templated_api(control)

    async def scenario() -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(address(served, api_id, "?deny=yes")):
                pass
        assert refused.value.response.status_code == 403
        async with connect(address(served, api_id, "?deny=no")) as ws:
            assert (await ask(ws, {"action": "greet"}))["greeting"] == "hi"

    asyncio.run(asyncio.wait_for(scenario(), 20))
