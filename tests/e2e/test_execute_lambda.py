"""HTTP APIs served for real: Lambda proxy integrations running local handlers."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from propylon.functions import FunctionSpec
from propylon.settings import Settings
from tests.conftest import make_client
from tests.servers import process_server, threaded_server

HANDLERS = Path(__file__).parent.parent / "data" / "functions" / "echo.py"
NAMES = ("echo", "hello", "inferred", "teapot", "explode", "malformed", "async_echo")
ACCOUNT = "000000000000"


def arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    # Every function runs in a worker of its own, but the async one: Lambda's Python runtime
    # does not await handlers, Propylon's in-process mode does.
    functions = tuple(
        FunctionSpec(
            name, f"{HANDLERS}:{name}", invoker="in-process" if name == "async_echo" else "worker"
        )
        for name in NAMES
    )
    with threaded_server(Settings(in_memory=True, functions=functions)) as url:
        yield url


@pytest.fixture
def control(served: str) -> Any:
    httpx.post(f"{served}/_propylon/reset").raise_for_status()
    return make_client(served)


def call(served: str, api_id: str, path: str, method: str = "GET", **kwargs: Any) -> httpx.Response:
    """A request to the API by host (``{apiId}.execute-api.localhost``)."""
    port = served.rsplit(":", 1)[1]
    headers = {"host": f"{api_id}.execute-api.localhost:{port}", **kwargs.pop("headers", {})}
    return httpx.request(method, f"{served}{path}", headers=headers, **kwargs)


def quick_api(control: Any, function: str) -> str:
    return str(control.create_api(Name="q", ProtocolType="HTTP", Target=arn(function))["ApiId"])


def staged_api(control: Any, route_key: str, function: str, version: str = "1.0") -> str:
    """An API with one route, deployed to a ``prod`` stage (no auto-deploy)."""
    api_id = str(control.create_api(Name="s", ProtocolType="HTTP")["ApiId"])
    integration = control.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=arn(function),
        PayloadFormatVersion=version,
    )
    control.create_route(
        ApiId=api_id, RouteKey=route_key, Target=f"integrations/{integration['IntegrationId']}"
    )
    control.create_stage(ApiId=api_id, StageName="prod", StageVariables={"env": "test"})
    control.create_deployment(ApiId=api_id, StageName="prod")
    return api_id


def test_quick_created_api_sends_a_2_0_event(served: str, control: Any) -> None:
    api_id = quick_api(control, "echo")
    answer = call(served, api_id, "/pets/7?a=1&a=2&b=x%20y", headers={"X-Multi": "v1"})
    assert answer.status_code == 200
    event = answer.json()
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/pets/7"
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["headers"]["x-multi"] == "v1"
    context = event["requestContext"]
    assert context["http"]["method"] == "GET"
    assert context["stage"] == "$default"
    assert context["apiId"] == api_id
    assert context["accountId"] == ACCOUNT
    assert context["requestId"] == answer.headers["apigw-requestid"]
    assert answer.headers["x-function"] == "echo"


def test_path_style_address_reaches_the_same_api(served: str, control: Any) -> None:
    api_id = quick_api(control, "echo")
    answer = httpx.get(f"{served}/_aws/execute-api/{api_id}/hello")
    assert answer.status_code == 200
    assert answer.json()["rawPath"] == "/hello"


def test_named_stage_sends_a_1_0_event_with_the_stage_in_the_path(
    served: str, control: Any
) -> None:
    api_id = staged_api(control, "GET /pets/{id}", "echo")
    answer = call(served, api_id, "/prod/pets/7?a=1&a=2")
    assert answer.status_code == 200
    event = answer.json()
    assert event["version"] == "1.0"
    assert event["path"] == "/prod/pets/7"
    assert event["resource"] == "/pets/{id}"
    assert event["pathParameters"] == {"id": "7"}
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}
    assert event["stageVariables"] == {"env": "test"}
    assert event["requestContext"]["stage"] == "prod"


def test_changes_are_served_only_once_deployed(served: str, control: Any) -> None:
    api_id = staged_api(control, "GET /pets", "echo")
    integration_id = control.get_integrations(ApiId=api_id)["Items"][0]["IntegrationId"]
    control.create_route(
        ApiId=api_id, RouteKey="GET /toys", Target=f"integrations/{integration_id}"
    )
    assert call(served, api_id, "/prod/toys").status_code == 404
    control.create_deployment(ApiId=api_id, StageName="prod")
    assert call(served, api_id, "/prod/toys").status_code == 200


def test_auto_deploy_stage_follows_changes_at_once(served: str, control: Any) -> None:
    api_id = quick_api(control, "echo")
    control.update_api(ApiId=api_id, Target=arn("hello"))
    answer = call(served, api_id, "/")
    assert answer.text == "Hello from Lambda!"


def test_a_string_result_is_a_200_json_response_with_the_string_as_body(
    served: str, control: Any
) -> None:
    answer = call(served, quick_api(control, "hello"), "/")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.text == "Hello from Lambda!"


def test_an_object_without_status_code_is_the_json_body(served: str, control: Any) -> None:
    answer = call(served, quick_api(control, "inferred"), "/x")
    assert answer.status_code == 200
    assert answer.json() == {"message": "hi", "path": "/x"}


def test_status_code_and_cookies_reach_the_client(served: str, control: Any) -> None:
    answer = call(served, quick_api(control, "teapot"), "/")
    assert answer.status_code == 418
    assert answer.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert answer.text == "short and stout"


@pytest.mark.parametrize("function", ["explode", "malformed"])
def test_a_failing_or_malformed_function_answers_500(
    served: str, control: Any, function: str
) -> None:
    answer = call(served, quick_api(control, function), "/")
    assert answer.status_code == 500
    assert answer.json() == {"message": "Internal Server Error"}
    assert answer.headers["apigw-requestid"]


def test_an_unknown_function_answers_500(served: str, control: Any) -> None:
    answer = call(served, quick_api(control, "nobody"), "/")
    assert answer.status_code == 500
    assert answer.json() == {"message": "Internal Server Error"}


def test_async_handlers_are_awaited_and_form_bodies_arrive_base64(
    served: str, control: Any
) -> None:
    api_id = quick_api(control, "echo")
    answer = call(
        served,
        api_id,
        "/form",
        method="POST",
        content=b"a=1&b=2",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    event = answer.json()
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"a=1&b=2"
    answer = call(served, quick_api(control, "async_echo"), "/", method="POST", json={"k": 1})
    assert json.loads(answer.text) == {"k": 1}


def test_unknown_api_stage_and_route_answer_404(served: str, control: Any) -> None:
    api_id = staged_api(control, "GET /pets", "echo")
    for target, path in (("zzzzzzzzzz", "/prod/pets"), (api_id, "/dev/pets"), (api_id, "/prod/x")):
        answer = call(served, target, path)
        assert answer.status_code == 404
        assert answer.json() == {"message": "Not Found"}
        assert answer.headers["apigw-requestid"].endswith("=")


def test_a_stage_without_a_deployment_is_not_served(served: str, control: Any) -> None:
    api_id = str(control.create_api(Name="s", ProtocolType="HTTP")["ApiId"])
    control.create_stage(ApiId=api_id, StageName="prod")
    assert call(served, api_id, "/prod/").status_code == 404


def test_a_disabled_default_endpoint_answers_403(served: str, control: Any) -> None:
    api_id = quick_api(control, "echo")
    control.update_api(ApiId=api_id, DisableExecuteApiEndpoint=True)
    answer = call(served, api_id, "/")
    assert answer.status_code == 403
    assert answer.json() == {"message": "Forbidden"}


def test_a_body_over_10_mb_answers_413(served: str, control: Any) -> None:
    api_id = quick_api(control, "echo")
    answer = call(served, api_id, "/", method="POST", content=b"x" * (10 * 1024 * 1024 + 1))
    assert answer.status_code == 413
    assert answer.json() == {"message": "Request Entity Too Large"}


def test_the_function_flag_of_propylon_serve_wires_a_handler() -> None:
    with process_server("--in-memory", "--function", f"greeter={HANDLERS}:hello") as served:
        client = make_client(served.url)
        api_id = client.create_api(Name="cli", ProtocolType="HTTP", Target=arn("greeter"))["ApiId"]
        answer = httpx.get(f"{served.url}/_aws/execute-api/{api_id}/")
    assert answer.status_code == 200
    assert answer.text == "Hello from Lambda!"


def test_stage_variables_choose_the_function(served: str, control: Any) -> None:
    api_id = str(control.create_api(Name="s", ProtocolType="HTTP")["ApiId"])
    integration = control.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=arn("${stageVariables.fn}"),
        PayloadFormatVersion="2.0",
    )
    target = f"integrations/{integration['IntegrationId']}"
    control.create_route(ApiId=api_id, RouteKey="GET /", Target=target)
    for stage, function in (("blue", "hello"), ("green", "inferred")):
        control.create_stage(ApiId=api_id, StageName=stage, StageVariables={"fn": function})
        control.create_deployment(ApiId=api_id, StageName=stage)
    assert call(served, api_id, "/blue/").text == "Hello from Lambda!"
    assert call(served, api_id, "/green/").json() == {"message": "hi", "path": "/green/"}
