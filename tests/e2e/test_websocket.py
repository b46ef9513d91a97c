"""WebSocket APIs served for real: a ``websockets`` client, local Lambda functions, and boto3's
``apigatewaymanagementapi`` client for the ``@connections`` API."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from propylon.functions import FunctionSpec
from propylon.settings import Settings
from propylon.websocket.quotas import Quotas
from tests.conftest import make_client
from tests.servers import threaded_server

HANDLERS = Path(__file__).parent.parent / "data" / "functions" / "websocket.py"
ACCOUNT = "000000000000"
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:ws"
AUTHORIZER = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:wsauth"
FUNCTIONS = (
    FunctionSpec("ws", f"{HANDLERS}:handler"),
    FunctionSpec("wsauth", f"{HANDLERS}:authorizer"),
)
WAIT = 5.0


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    with threaded_server(Settings(in_memory=True, functions=FUNCTIONS)) as url:
        yield url


@pytest.fixture
def control(served: str) -> Any:
    httpx.post(f"{served}/_propylon/reset").raise_for_status()
    return make_client(served)


def ws_api(
    control: Any,
    routes: tuple[str, ...],
    two_way: tuple[str, ...] = (),
    parameters: dict[str, Any] | None = None,
    expression: str = "$request.body.action",
    authorizer: bool = False,
    stage: dict[str, Any] | None = None,
) -> str:
    """A WebSocket API whose routes all call the ``ws`` function, deployed to ``prod``."""
    api_id = str(
        control.create_api(
            Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression=expression
        )["ApiId"]
    )
    integration = control.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=ARN, IntegrationMethod="POST"
    )
    target = f"integrations/{integration['IntegrationId']}"
    authorizer_id = None
    if authorizer:
        authorizer_id = control.create_authorizer(
            ApiId=api_id,
            Name="auth",
            AuthorizerType="REQUEST",
            AuthorizerUri=(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
                f"{AUTHORIZER}/invocations"
            ),
            IdentitySource=["route.request.querystring.token"],
        )["AuthorizerId"]
    for key in routes:
        extra: dict[str, Any] = {}
        if key == "$connect" and authorizer_id:
            extra.update(AuthorizationType="CUSTOM", AuthorizerId=authorizer_id)
        if key in two_way:
            extra["RouteResponseSelectionExpression"] = "$default"
        if key == "$connect" and parameters:
            extra["RequestParameters"] = parameters
        route = control.create_route(ApiId=api_id, RouteKey=key, Target=target, **extra)
        if key in two_way:
            control.create_route_response(
                ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default"
            )
    control.create_stage(ApiId=api_id, StageName="prod", **(stage or {}))
    control.create_deployment(ApiId=api_id, StageName="prod")
    return api_id


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def by_path(url: str, api_id: str, suffix: str = "") -> str:
    return f"ws://127.0.0.1:{port_of(url)}/_aws/execute-api/{api_id}/prod{suffix}"


def management(url: str, api_id: str, by_host: bool = False) -> Any:
    """A management API client by path (``/_aws/execute-api/{apiId}/prod``) or by host
    (``{apiId}.execute-api.localhost``: sent to 127.0.0.1 with that Host, as the name may not
    resolve here)."""
    endpoint = f"{url}/prod" if by_host else f"{url}/_aws/execute-api/{api_id}/prod"
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )
    if by_host:
        host = f"{api_id}.execute-api.localhost:{port_of(url)}"

        def set_host(request: Any, **_: Any) -> None:
            request.headers["Host"] = host

        client.meta.events.register("before-sign.apigatewaymanagementapi", set_host)
    return client


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), 20))


async def receive(ws: ClientConnection) -> str:
    message = await asyncio.wait_for(ws.recv(), WAIT)
    assert isinstance(message, str)
    return message


async def ask(ws: ClientConnection, document: dict[str, Any]) -> Any:
    await ws.send(json.dumps(document))
    return json.loads(await receive(ws))


async def connection_id(ws: ClientConnection) -> str:
    """The connection's id, from the event an ``echo`` route sends back."""
    event = await ask(ws, {"action": "echo"})
    return str(event["requestContext"]["connectionId"])


async def events_of(ws: ClientConnection, wanted: str, count: int) -> list[dict[str, Any]]:
    """The ``$connect``/``$disconnect`` events the function saw for a connection, polled until
    there are ``count`` (``$disconnect`` runs after the close, on its own time)."""
    deadline = time.monotonic() + WAIT
    while True:
        seen: list[dict[str, Any]] = await ask(ws, {"action": "events", "id": wanted})
        if len(seen) >= count or time.monotonic() > deadline:
            return seen
        await asyncio.sleep(0.02)


CHAT = ("$connect", "$disconnect", "echo", "events")


def test_connect_message_and_disconnect_events_reach_the_function(
    served: str, control: Any
) -> None:
    api_id = ws_api(control, CHAT, two_way=("echo", "events"))
    host = f"{api_id}.execute-api.localhost:{port_of(served)}"

    async def scenario() -> None:
        uri = f"ws://{host}/prod?room=blue&tag=a&tag=b"
        headers = {"X-Custom": "yes", "User-Agent": "tester/1.0"}
        async with connect(uri, host="127.0.0.1", additional_headers=headers) as first:
            message = await ask(first, {"action": "echo", "text": "hi"})
            first_id = message["requestContext"]["connectionId"]
            async with connect(by_path(served, api_id)) as second:
                await first.close()
                connected, disconnected = await events_of(second, first_id, 2)
        assert message["body"] == '{"action": "echo", "text": "hi"}'
        assert message["isBase64Encoded"] is False
        context = message["requestContext"]
        assert context["eventType"] == "MESSAGE"
        assert context["routeKey"] == "echo"
        assert context["messageDirection"] == "IN"
        assert context["stage"] == "prod"
        assert context["apiId"] == api_id
        assert context["domainName"] == f"{api_id}.execute-api.localhost"
        assert context["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "tester/1.0"}
        assert context["requestId"] == context["extendedRequestId"]
        assert len(context["messageId"]) == 16
        assert context["messageId"].endswith("=")
        assert len(first_id) == 16
        assert first_id.endswith("=")

        assert connected["requestContext"]["eventType"] == "CONNECT"
        assert connected["requestContext"]["routeKey"] == "$connect"
        assert "messageId" not in connected["requestContext"]
        assert connected["requestContext"]["connectedAt"] == context["connectedAt"]
        # ASGI servers hand header names over lower-cased: the client's case is lost
        assert connected["headers"]["x-custom"] == "yes"
        assert connected["headers"]["x-forwarded-for"] == "127.0.0.1"
        assert connected["multiValueHeaders"]["x-custom"] == ["yes"]
        assert connected["queryStringParameters"] == {"room": "blue", "tag": "b"}
        assert connected["multiValueQueryStringParameters"] == {
            "room": ["blue"],
            "tag": ["a", "b"],
        }

        assert disconnected["requestContext"]["eventType"] == "DISCONNECT"
        assert disconnected["requestContext"]["disconnectStatusCode"] == 1000
        assert disconnected["requestContext"]["connectionId"] == first_id
        assert disconnected["headers"]["Host"] == f"{api_id}.execute-api.localhost"

    run(scenario)


def test_connect_without_query_string_omits_the_query_maps(served: str, control: Any) -> None:
    api_id = ws_api(control, CHAT, two_way=("echo", "events"))

    async def scenario() -> None:
        async with connect(by_path(served, api_id)) as ws:
            seen = await events_of(ws, await connection_id(ws), 1)
        assert "queryStringParameters" not in seen[0]
        assert "multiValueQueryStringParameters" not in seen[0]

    run(scenario)


@pytest.mark.parametrize("status", [401, 403])
def test_connect_function_answering_an_error_refuses_the_handshake(
    served: str, control: Any, status: int
) -> None:
    api_id = ws_api(control, CHAT, two_way=("echo",))

    async def scenario() -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(by_path(served, api_id, f"?refuse={status}")):
                pass
        assert refused.value.response.status_code == status

    run(scenario)


def test_missing_required_parameter_refuses_without_calling_the_function(
    served: str, control: Any
) -> None:
    parameters = {
        "route.request.querystring.token": {"Required": True},
        "route.request.header.X-Room": {"Required": True},
        "route.request.querystring.optional": {"Required": False},
    }
    api_id = ws_api(control, CHAT, two_way=("echo", "events"), parameters=parameters)

    async def scenario() -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(by_path(served, api_id, "?token=t")):
                pass
        assert refused.value.response.status_code == 400
        assert b"X-Room" in refused.value.response.body
        # refuse=500 would refuse: reaching the function is what the check must prevent
        with pytest.raises(InvalidStatus) as unchecked:
            async with connect(by_path(served, api_id, "?refuse=500")):
                pass
        assert unchecked.value.response.status_code == 400
        async with connect(
            by_path(served, api_id, "?token=t"), additional_headers={"X-Room": "r"}
        ) as ws:
            assert (await ask(ws, {"action": "echo"}))["requestContext"]["routeKey"] == "echo"

    run(scenario)


def test_one_way_route_sends_nothing_back(served: str, control: Any) -> None:
    api_id = ws_api(control, ("quiet", "echo"), two_way=("echo",))

    async def scenario() -> None:
        async with connect(by_path(served, api_id)) as ws:
            await ws.send(json.dumps({"action": "quiet"}))
            # messages are handled in order: an answer to "quiet" would arrive first
            answer = await ask(ws, {"action": "echo"})
        assert answer["requestContext"]["routeKey"] == "echo"

    run(scenario)


def test_default_route_takes_unmatched_and_non_json_messages(served: str, control: Any) -> None:
    api_id = ws_api(control, ("$default", "echo"), two_way=("$default", "echo"))

    async def scenario() -> None:
        async with connect(by_path(served, api_id)) as ws:
            await ws.send("plain text")
            assert await receive(ws) == "default:plain text"
            await ws.send('{"action": "unknown"}')
            assert await receive(ws) == 'default:{"action": "unknown"}'
            await ws.send('{"action": "$connect"}')
            assert await receive(ws) == 'default:{"action": "$connect"}'

    run(scenario)


def test_nested_selection_expression_picks_the_route(served: str, control: Any) -> None:
    api_id = ws_api(control, ("chat/join",), ("chat/join",), None, "${request.body.a.b}/${x.y}")
    api_id2 = ws_api(control, ("join",), ("join",), None, "$request.body.meta.kind")

    async def scenario() -> None:
        async with connect(by_path(served, api_id2)) as ws:
            event = await ask(ws, {"meta": {"kind": "join"}})
        assert event["requestContext"]["routeKey"] == "join"
        async with connect(by_path(served, api_id)) as ws:
            await ws.send(json.dumps({"a": {"b": "chat"}}))
            frame = json.loads(await receive(ws))
        assert frame["message"] == "Forbidden"  # "chat/" is not "chat/join"

    run(scenario)


def test_no_route_and_no_default_sends_the_forbidden_error_frame(served: str, control: Any) -> None:
    api_id = ws_api(control, ("echo",), two_way=("echo",))

    async def scenario() -> None:
        async with connect(by_path(served, api_id)) as ws:
            ids = await connection_id(ws)
            await ws.send('{"action": "nothing"}')
            raw = await receive(ws)
        frame = json.loads(raw)
        assert raw.startswith('{"message": "Forbidden", "connectionId":"')
        assert frame["connectionId"] == ids
        assert len(frame["requestId"]) == 16

    run(scenario)


def test_function_error_sends_the_internal_server_error_frame(served: str, control: Any) -> None:
    api_id = ws_api(control, ("explode", "echo"), two_way=("explode", "echo"))

    async def scenario() -> None:
        async with connect(by_path(served, api_id)) as ws:
            frame = await ask(ws, {"action": "explode"})
            # the connection survives the failure
            assert (await ask(ws, {"action": "echo"}))["requestContext"]["routeKey"] == "echo"
        assert frame["message"] == "Internal server error"

    run(scenario)


def test_unknown_stage_or_api_refuses_the_handshake(served: str, control: Any) -> None:
    api_id = ws_api(control, ("echo",), two_way=("echo",))

    async def scenario() -> None:
        for uri in (
            f"ws://127.0.0.1:{port_of(served)}/_aws/execute-api/{api_id}/nope",
            f"ws://127.0.0.1:{port_of(served)}/_aws/execute-api/zzzzzzzzzz/prod",
        ):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(uri):
                    pass
            assert refused.value.response.status_code == 404

    run(scenario)


def test_post_to_connection_pushes_a_message_by_either_address(served: str, control: Any) -> None:
    api_id = ws_api(control, ("echo",), two_way=("echo",))

    async def scenario() -> None:
        async with connect(by_path(served, api_id)) as ws:
            ids = await connection_id(ws)
            management(served, api_id).post_to_connection(ConnectionId=ids, Data=b"pushed")
            assert await receive(ws) == "pushed"
            by_host = management(served, api_id, by_host=True)
            by_host.post_to_connection(ConnectionId=ids, Data=b"second")
            assert await receive(ws) == "second"

    run(scenario)


def test_get_connection_describes_the_connection(served: str, control: Any) -> None:
    api_id = ws_api(control, ("echo",), two_way=("echo",))

    async def scenario() -> None:
        headers = {"User-Agent": "agent/2"}
        async with connect(by_path(served, api_id), additional_headers=headers) as ws:
            ids = await connection_id(ws)
            described = management(served, api_id).get_connection(ConnectionId=ids)
        assert described["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "agent/2"}
        assert described["ConnectedAt"] <= described["LastActiveAt"]
        assert abs(described["ConnectedAt"].timestamp() - time.time()) < 60

    run(scenario)


def test_delete_connection_closes_the_socket_and_runs_disconnect(served: str, control: Any) -> None:
    api_id = ws_api(control, CHAT, two_way=("echo", "events"))
    client = management(served, api_id)

    async def scenario() -> None:
        async with (
            connect(by_path(served, api_id)) as ws,
            connect(by_path(served, api_id)) as other,
        ):
            ids = await connection_id(ws)
            answer = client.delete_connection(ConnectionId=ids)
            assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), WAIT)
            assert ws.close_code == 1000
            seen = await events_of(other, ids, 2)
        assert seen[-1]["requestContext"]["eventType"] == "DISCONNECT"
        assert seen[-1]["requestContext"]["disconnectStatusCode"] == 1000
        for call in (
            lambda: client.post_to_connection(ConnectionId=ids, Data=b"late"),
            lambda: client.get_connection(ConnectionId=ids),
            lambda: client.delete_connection(ConnectionId=ids),
        ):
            with pytest.raises(client.exceptions.GoneException):
                call()

    run(scenario)


def test_connection_of_another_api_is_gone(served: str, control: Any) -> None:
    first = ws_api(control, ("echo",), two_way=("echo",))
    second = ws_api(control, ("echo",), two_way=("echo",))

    async def scenario() -> None:
        async with connect(by_path(served, first)) as ws:
            ids = await connection_id(ws)
            client = management(served, second)
            with pytest.raises(client.exceptions.GoneException):
                client.get_connection(ConnectionId=ids)

    run(scenario)


def test_post_over_128_kb_is_payload_too_large(served: str, control: Any) -> None:
    api_id = ws_api(control, ("echo",), two_way=("echo",))
    client = management(served, api_id)

    async def scenario() -> None:
        async with connect(by_path(served, api_id)) as ws:
            ids = await connection_id(ws)
            with pytest.raises(ClientError) as caught:
                client.post_to_connection(ConnectionId=ids, Data=b"x" * (128 * 1024 + 1))
            client.post_to_connection(ConnectionId=ids, Data=b"y" * (128 * 1024))
            assert len(await receive(ws)) == 128 * 1024
        assert caught.value.response["Error"]["Code"] == "PayloadTooLargeException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413

    run(scenario)


def test_message_over_128_kb_closes_with_1009(served: str, control: Any) -> None:
    api_id = ws_api(control, ("$default",), two_way=("$default",))

    async def scenario() -> None:
        async with connect(by_path(served, api_id), max_size=None) as ws:
            await ws.send("z" * (128 * 1024))
            assert len(await receive(ws)) == len("default:") + 128 * 1024
            await ws.send("z" * (128 * 1024 + 1))
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), WAIT)
        assert ws.close_code == 1009

    run(scenario)


def test_binary_message_closes_with_1003(served: str, control: Any) -> None:
    api_id = ws_api(control, ("$default",), two_way=("$default",))

    async def scenario() -> None:
        async with connect(by_path(served, api_id)) as ws:
            await ws.send(b"\x00\x01")
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), WAIT)
        assert ws.close_code == 1003

    run(scenario)


def test_idle_connection_is_closed_and_disconnect_runs() -> None:
    quotas = Quotas(idle_timeout=0.3)
    with threaded_server(Settings(in_memory=True, functions=FUNCTIONS), quotas) as url:
        control = make_client(url)
        api_id = ws_api(control, CHAT, two_way=("echo", "events"))

        async def scenario() -> None:
            async with connect(by_path(url, api_id)) as idle:
                ids = await connection_id(idle)
                started = time.monotonic()
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(idle.recv(), WAIT)
                assert time.monotonic() - started >= 0.25
            assert idle.close_code == 1001
            with pytest.raises(ClientError) as caught:
                management(url, api_id).get_connection(ConnectionId=ids)
            assert caught.value.response["Error"]["Code"] == "GoneException"
            async with connect(by_path(url, api_id)) as watcher:
                seen = await events_of(watcher, ids, 2)
            assert seen[-1]["requestContext"]["disconnectStatusCode"] == 1001

        run(scenario)


async def keep_busy(ws: ClientConnection) -> None:
    """Send a message every 50 ms, so the idle timeout never applies, until the socket closes."""
    while True:
        await ask(ws, {"action": "echo"})
        await asyncio.sleep(0.05)


def test_connection_is_closed_at_its_maximum_duration_despite_activity() -> None:
    quotas = Quotas(max_duration=0.5)
    with threaded_server(Settings(in_memory=True, functions=FUNCTIONS), quotas) as url:
        control = make_client(url)
        api_id = ws_api(control, ("echo",), two_way=("echo",))

        async def scenario() -> None:
            async with connect(by_path(url, api_id)) as ws:
                started = time.monotonic()
                with pytest.raises(ConnectionClosed):
                    await keep_busy(ws)
                assert 0.4 <= time.monotonic() - started < WAIT
            assert ws.close_code == 1001

        run(scenario)


def test_connect_function_chooses_the_subprotocol_and_adds_headers(
    served: str, control: Any
) -> None:
    api_id = ws_api(control, CHAT, two_way=("echo",))

    async def scenario() -> None:
        async with connect(by_path(served, api_id), subprotocols=["chat.v2", "chat.v1"]) as ws:  # type: ignore[list-item]
            assert ws.subprotocol == "chat.v2"
            assert ws.response is not None
            assert ws.response.headers["X-Connect"] == "done"

    run(scenario)


def test_mock_integration_accepts_the_connection_and_answers_a_two_way_route(
    served: str, control: Any
) -> None:
    api_id = str(
        control.create_api(
            Name="mock", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
        )["ApiId"]
    )
    integration = control.create_integration(
        ApiId=api_id,
        IntegrationType="MOCK",
        RequestTemplates={"$default": '{"statusCode": 200}'},
        TemplateSelectionExpression="\\$default",
    )
    integration_id = integration["IntegrationId"]
    control.create_integration_response(
        ApiId=api_id,
        IntegrationId=integration_id,
        IntegrationResponseKey="$default",
        ResponseTemplates={
            "$default": '{"route": "$context.routeKey", "id": "$context.connectionId"}'
        },
        TemplateSelectionExpression="\\$default",
    )
    route = control.create_route(
        ApiId=api_id,
        RouteKey="ping",
        Target=f"integrations/{integration_id}",
        RouteResponseSelectionExpression="$default",
    )
    control.create_route_response(
        ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default"
    )
    control.create_route(ApiId=api_id, RouteKey="$connect", Target=f"integrations/{integration_id}")
    control.create_stage(ApiId=api_id, StageName="prod")
    control.create_deployment(ApiId=api_id, StageName="prod")

    async def scenario() -> None:
        async with connect(by_path(served, api_id)) as ws:
            answer = await ask(ws, {"action": "ping"})
            ids = answer["id"]
            described = management(served, api_id).get_connection(ConnectionId=ids)
        assert answer["route"] == "ping"
        assert described["Identity"]["SourceIp"] == "127.0.0.1"

    run(scenario)


def test_lambda_authorizer_lets_the_connection_through_with_its_context(
    served: str, control: Any
) -> None:
    api_id = ws_api(control, CHAT, two_way=("echo", "events"), authorizer=True)

    async def scenario() -> None:
        async with connect(by_path(served, api_id, "?token=allow")) as ws:
            event = await ask(ws, {"action": "echo"})
        authorizer = event["requestContext"]["authorizer"]
        assert authorizer["principalId"] == "user-1"
        assert authorizer["type"] == "REQUEST"
        assert authorizer["n"] == 1
        assert (
            authorizer["arn"] == f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/prod/$connect"
        )

    run(scenario)


@pytest.mark.parametrize(("query", "status"), [("?token=deny", 403), ("", 401)])
def test_lambda_authorizer_refuses_the_handshake(
    served: str, control: Any, query: str, status: int
) -> None:
    api_id = ws_api(control, CHAT, two_way=("echo",), authorizer=True)

    async def scenario() -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(by_path(served, api_id, query)):
                pass
        assert refused.value.response.status_code == status

    run(scenario)


def test_throttled_connect_is_refused_with_429(served: str, control: Any) -> None:
    limits = {"ThrottlingBurstLimit": 0, "ThrottlingRateLimit": 0.0}
    api_id = ws_api(control, CHAT, two_way=("echo",), stage={"DefaultRouteSettings": limits})

    async def scenario() -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(by_path(served, api_id)):
                pass
        assert refused.value.response.status_code == 429

    run(scenario)


def test_throttled_message_gets_an_error_frame(served: str, control: Any) -> None:
    limits = {"echo": {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 0.0}}
    api_id = ws_api(control, ("echo",), two_way=("echo",), stage={"RouteSettings": limits})

    async def scenario() -> None:
        async with connect(by_path(served, api_id)) as ws:
            first = await ask(ws, {"action": "echo"})
            second = await ask(ws, {"action": "echo"})
        assert first["requestContext"]["routeKey"] == "echo"
        assert second["message"] == "Too many requests"

    run(scenario)


def read_when(path: Path, done: Callable[[str], bool]) -> str:
    """A log file's text once ``done`` says it is complete (the writer has its own thread)."""
    deadline = time.monotonic() + WAIT
    while True:
        text = path.read_text() if path.exists() else ""
        if done(text) or time.monotonic() > deadline:
            return text
        time.sleep(0.02)


def test_access_and_execution_logs_follow_the_stage_settings(tmp_path: Path) -> None:
    settings = Settings(in_memory=True, functions=FUNCTIONS, log_dir=tmp_path)
    with threaded_server(settings) as url:
        control = make_client(url)
        access = {
            "DestinationArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:ws-access",
            "Format": "$context.eventType $context.routeKey $context.connectionId "
            "$context.status $context.identity.sourceIp $context.requestId",
        }
        stage = {
            "AccessLogSettings": access,
            "DefaultRouteSettings": {"LoggingLevel": "INFO", "DataTraceEnabled": True},
            "RouteSettings": {"echo": {"LoggingLevel": "ERROR"}},
        }
        api_id = ws_api(control, (*CHAT, "explode"), ("echo", "explode"), stage=stage)

        async def scenario() -> str:
            async with connect(by_path(url, api_id)) as ws:
                ids = await connection_id(ws)
                await ask(ws, {"action": "explode"})
            return ids

        ids = asyncio.run(scenario())
        access_log = read_when(tmp_path / "ws-access.log", lambda t: "DISCONNECT" in t)
        execution = read_when(
            tmp_path / f"API-Gateway-Execution-Logs_{api_id}" / "prod.log",
            lambda t: "[$disconnect]" in t,
        )
    lines = [line.split() for line in access_log.splitlines()]
    assert [line[:2] for line in lines] == [
        ["CONNECT", "$connect"],
        ["MESSAGE", "echo"],
        ["MESSAGE", "explode"],
        ["DISCONNECT", "$disconnect"],
    ]
    assert {line[2] for line in lines} == {ids}
    assert [line[3] for line in lines] == ["200", "200", "500", "200"]
    assert lines[0][4] == "127.0.0.1"
    assert "WebSocket Request Route: [$connect]" in execution
    assert "is connecting to WebSocket API" in execution
    assert 'Request body: {"action": "explode"}' in execution
    assert "Execution failed: ws: RuntimeError: boom" in execution
    assert "[echo]" not in execution  # the echo route logs errors only, and had none


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server that knows one key (the one ``make_client`` signs with) and verifies
    signatures."""
    credentials = tmp_path_factory.mktemp("keys") / "credentials"
    credentials.write_text(
        "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n"
    )
    settings = Settings(
        in_memory=True, functions=FUNCTIONS, credentials=credentials, verify_signatures=True
    )
    with threaded_server(settings) as url:
        yield url


def presigned(url: str, secret: str = "secret") -> str:
    request = AWSRequest(method="GET", url=url.replace("ws://", "http://", 1))
    SigV4QueryAuth(Credentials("AKIDEXAMPLE", secret), "execute-api", "us-east-1", 60).add_auth(
        request
    )
    return str(request.url).replace("http://", "ws://", 1)


def test_iam_connect_needs_a_valid_signature(signed_server: str) -> None:
    control = make_client(signed_server)
    api_id = ws_api(control, ("$connect", "echo"), two_way=("echo",))
    route_id = next(
        r["RouteId"]
        for r in control.get_routes(ApiId=api_id)["Items"]
        if r["RouteKey"] == "$connect"
    )
    control.update_route(ApiId=api_id, RouteId=route_id, AuthorizationType="AWS_IAM")
    control.create_deployment(ApiId=api_id, StageName="prod")
    address = by_path(signed_server, api_id)

    async def scenario() -> None:
        for refused_uri in (address, presigned(address, secret="wrong")):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(refused_uri):
                    pass
            assert refused.value.response.status_code == 403
        async with connect(presigned(address)) as ws:
            assert (await ask(ws, {"action": "echo"}))["requestContext"]["routeKey"] == "echo"

    run(scenario)


def test_connections_api_refuses_a_bad_signature_when_signatures_are_verified(
    signed_server: str,
) -> None:
    api_id = ws_api(make_client(signed_server), ("echo",), two_way=("echo",))
    good = management(signed_server, api_id)
    bad = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"{signed_server}/_aws/execute-api/{api_id}/prod",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="wrong",
        config=Config(retries={"max_attempts": 1}),
    )

    async def scenario() -> None:
        async with connect(by_path(signed_server, api_id)) as ws:
            ids = await connection_id(ws)
            with pytest.raises(bad.exceptions.ForbiddenException):
                bad.post_to_connection(ConnectionId=ids, Data=b"no")
            good.post_to_connection(ConnectionId=ids, Data=b"yes")
            assert await receive(ws) == "yes"

    run(scenario)


def test_connections_api_over_the_account_limit_is_limit_exceeded() -> None:
    settings = Settings(in_memory=True, functions=FUNCTIONS, throttle_rate=0.0, throttle_burst=2)
    with threaded_server(settings) as url:
        api_id = ws_api(make_client(url), ("echo",), two_way=("echo",))  # no $connect: no token
        client = management(url, api_id)

        async def scenario() -> None:
            async with connect(by_path(url, api_id)) as ws:
                ids = await connection_id(ws)  # the first token
                client.get_connection(ConnectionId=ids)  # the second
                with pytest.raises(client.exceptions.LimitExceededException):
                    client.get_connection(ConnectionId=ids)

        run(scenario)


def test_the_seed_settings_take_effect_off_silences_and_deletions_stop(tmp_path: Path) -> None:
    """The 2020-03-12 changes, end to end: LoggingLevel OFF writes no execution log,
    DeleteAccessLogSettings stops the access log, DeleteRouteRequestParameter lifts the check."""
    settings = Settings(in_memory=True, functions=FUNCTIONS, log_dir=tmp_path)
    with threaded_server(settings) as url:
        control = make_client(url)
        access = {
            "DestinationArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:seed-access",
            "Format": "$context.eventType $context.routeKey $context.requestId",
        }
        stage = {
            "AccessLogSettings": access,
            "DefaultRouteSettings": {"LoggingLevel": "OFF"},
            "RouteSettings": {"events": {"LoggingLevel": "INFO"}},
        }
        parameters = {"route.request.querystring.token": {"Required": True}}
        api_id = ws_api(control, CHAT, ("echo", "events"), parameters=parameters, stage=stage)
        execution_log = tmp_path / f"API-Gateway-Execution-Logs_{api_id}" / "prod.log"
        access_log = tmp_path / "seed-access.log"

        async def talk(suffix: str, actions: tuple[str, ...]) -> None:
            async with connect(by_path(url, api_id, suffix)) as ws:
                for action in actions:
                    await ask(ws, {"action": action, "id": "nobody"})

        asyncio.run(talk("?token=t", ("echo", "events")))
        execution = read_when(execution_log, lambda t: "[events]" in t)
        lines = read_when(access_log, lambda t: "DISCONNECT" in t).splitlines()
        assert "[events]" in execution  # the INFO route writes ...
        assert "[echo]" not in execution  # ... the OFF routes do not
        assert "[$connect]" not in execution
        assert [line.split()[:2] for line in lines] == [
            ["CONNECT", "$connect"],
            ["MESSAGE", "echo"],
            ["MESSAGE", "events"],
            ["DISCONNECT", "$disconnect"],
        ]

        async def refused() -> int:
            with pytest.raises(InvalidStatus) as caught:
                async with connect(by_path(url, api_id)):
                    pass
            return int(caught.value.response.status_code)

        assert asyncio.run(refused()) == 400  # refused before any integration, and logged
        lines = read_when(access_log, lambda t: len(t.splitlines()) == 5).splitlines()
        assert lines[4].split()[:2] == ["CONNECT", "$connect"]
        connect_route = next(
            r for r in control.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "$connect"
        )
        control.delete_route_request_parameter(
            ApiId=api_id,
            RouteId=connect_route["RouteId"],
            RequestParameterKey="route.request.querystring.token",
        )
        control.delete_access_log_settings(ApiId=api_id, StageName="prod")
        control.update_stage(
            ApiId=api_id, StageName="prod", RouteSettings={"events": {"LoggingLevel": "OFF"}}
        )
        control.create_deployment(ApiId=api_id, StageName="prod")
        asyncio.run(talk("", ("events", "echo")))  # no token needed any more
    # The server has stopped, and its log writer with it: whatever it was going to write is
    # written.
    assert access_log.read_text().splitlines() == lines  # nothing after the deletion
    assert execution_log.read_text() == execution  # OFF everywhere: nothing new
