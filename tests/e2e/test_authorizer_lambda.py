"""Lambda (REQUEST) authorizers on HTTP APIs, served for real: APIs built with boto3, called
with httpx, authorizers running in-process (``tests/data/functions/authorizers.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from propylon.functions import FunctionSpec
from propylon.settings import Settings
from tests.conftest import make_client
from tests.data.functions import authorizers
from tests.servers import threaded_server

ECHO = Path(__file__).parent.parent / "data" / "functions" / "echo.py"
MODULE = "tests.data.functions.authorizers"
ACCOUNT = "000000000000"
HEADER = "$request.header.Authorization"


def arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"


def authorizer_uri(name: str) -> str:
    return f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{arn(name)}/invocations"


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    # The authorizers record what they were called with in module state the tests read: they
    # run in this process.
    functions = (
        FunctionSpec("echo", f"{ECHO}:echo"),
        *(
            FunctionSpec(name, f"{MODULE}.{name}", invoker="in-process")
            for name in ("simple", "policy", "explode")
        ),
        FunctionSpec("invalid", f"{MODULE}.invalid", invoker="in-process"),
        FunctionSpec("slow", f"{MODULE}.slow", timeout=0.2, invoker="in-process"),
    )
    with threaded_server(Settings(in_memory=True, functions=functions)) as url:
        yield url


@pytest.fixture
def control(served: str) -> Any:
    httpx.post(f"{served}/_propylon/reset").raise_for_status()
    authorizers.CALLS.clear()
    return make_client(served)


def call(served: str, api_id: str, path: str, token: str | None = None) -> httpx.Response:
    port = served.rsplit(":", 1)[1]
    headers = {"host": f"{api_id}.execute-api.localhost:{port}"}
    if token is not None:
        headers["authorization"] = token
    return httpx.get(f"{served}{path}", headers=headers)


def build(
    control: Any,
    function: str,
    *,
    version: str = "2.0",
    simple: bool = False,
    sources: tuple[str, ...] = (HEADER,),
    ttl: int = 0,
    integration_version: str = "2.0",
    routes: tuple[str, ...] = ("GET /pets/{id}",),
) -> tuple[str, str]:
    """An API whose routes all use one Lambda authorizer and the echo function, deployed to a
    ``prod`` stage; its id and the authorizer's."""
    api_id = control.create_api(Name="guarded", ProtocolType="HTTP")["ApiId"]
    integration = control.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=arn("echo"),
        PayloadFormatVersion=integration_version,
    )
    authorizer = control.create_authorizer(
        ApiId=api_id,
        AuthorizerType="REQUEST",
        Name="lambda",
        AuthorizerUri=authorizer_uri(function),
        AuthorizerPayloadFormatVersion=version,
        EnableSimpleResponses=simple,
        IdentitySource=list(sources),
        AuthorizerResultTtlInSeconds=ttl,
    )
    for route_key in routes:
        control.create_route(
            ApiId=api_id,
            RouteKey=route_key,
            Target=f"integrations/{integration['IntegrationId']}",
            AuthorizationType="CUSTOM",
            AuthorizerId=authorizer["AuthorizerId"],
        )
    control.create_stage(ApiId=api_id, StageName="prod", StageVariables={"env": "test"})
    control.create_deployment(ApiId=api_id, StageName="prod")
    return api_id, authorizer["AuthorizerId"]


def route_arn(api_id: str, method_and_path: str) -> str:
    return f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/prod/{method_and_path}"


# --- events the authorizer sees ----------------------------------------------------------------


def test_a_2_0_authorizer_receives_the_2_0_request_event(served: str, control: Any) -> None:
    api_id, _ = build(control, "simple", simple=True)
    answer = call(served, api_id, "/prod/pets/7?a=1&a=2", token="allow")
    assert answer.status_code == 200
    [event] = authorizers.CALLS
    assert event["version"] == "2.0"
    assert event["type"] == "REQUEST"
    assert event["routeArn"] == route_arn(api_id, "GET/pets/7")
    assert event["identitySource"] == ["allow"]
    assert event["routeKey"] == "GET /pets/{id}"
    assert event["rawPath"] == "/prod/pets/7"
    assert event["rawQueryString"] == "a=1&a=2"
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["headers"]["authorization"] == "allow"
    assert event["pathParameters"] == {"id": "7"}
    assert event["stageVariables"] == {"env": "test"}
    context = event["requestContext"]
    assert context["requestId"] == answer.headers["apigw-requestid"]
    assert context["http"]["path"] == "/prod/pets/7"
    assert "authorizer" not in context
    assert "body" not in event


def test_a_1_0_authorizer_receives_the_rest_compatible_event(served: str, control: Any) -> None:
    sources = (HEADER, "$request.querystring.team")
    api_id, _ = build(control, "policy", version="1.0", sources=sources)
    assert call(served, api_id, "/prod/pets/7?team=blue", token="allow").status_code == 200
    [event] = authorizers.CALLS
    assert event["version"] == "1.0"
    assert event["type"] == "REQUEST"
    assert event["methodArn"] == route_arn(api_id, "GET/pets/7")
    assert event["identitySource"] == event["authorizationToken"] == "allow,blue"
    assert event["resource"] == "/pets/{id}"
    assert event["path"] == "/prod/pets/7"
    assert event["httpMethod"] == "GET"
    assert event["queryStringParameters"] == {"team": "blue"}
    assert event["pathParameters"] == {"id": "7"}
    context = event["requestContext"]
    assert context["stage"] == "prod"
    assert context["apiId"] == api_id
    assert context["resourcePath"] == "/pets/{id}"
    assert context["identity"]["sourceIp"] == "127.0.0.1"


# --- simple responses --------------------------------------------------------------------------


def test_simple_response_allows_and_its_context_reaches_a_2_0_integration(
    served: str, control: Any
) -> None:
    api_id, _ = build(control, "simple", simple=True)
    answer = call(served, api_id, "/prod/pets/1", token="allow")
    assert answer.status_code == 200
    lambda_context = answer.json()["requestContext"]["authorizer"]["lambda"]
    assert lambda_context == {**authorizers.CONTEXT, "token": "allow"}


def test_simple_response_denies_with_403(served: str, control: Any) -> None:
    api_id, _ = build(control, "simple", simple=True)
    answer = call(served, api_id, "/prod/pets/1", token="nope")
    assert answer.status_code == 403
    assert answer.content == b'{"message":"Forbidden"}'
    assert answer.headers["apigw-requestid"]


def test_context_reaches_a_1_0_integration_as_request_context_authorizer(
    served: str, control: Any
) -> None:
    api_id, _ = build(control, "simple", simple=True, integration_version="1.0")
    event = call(served, api_id, "/prod/pets/1", token="allow").json()
    assert event["version"] == "1.0"
    assert event["requestContext"]["authorizer"] == {**authorizers.CONTEXT, "token": "allow"}


# --- IAM policy responses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "status"),
    [("allow", 200), ("deny", 403), ("wildcard", 200), ("elsewhere", 403), ("mixed", 403)],
)
def test_policy_response_is_evaluated_against_the_route_arn(
    served: str, control: Any, token: str, status: int
) -> None:
    api_id, _ = build(control, "policy")
    assert call(served, api_id, "/prod/pets/1", token=token).status_code == status


def test_policy_context_reaches_the_integration(served: str, control: Any) -> None:
    api_id, _ = build(control, "policy", version="1.0", integration_version="2.0")
    event = call(served, api_id, "/prod/pets/1", token="allow").json()
    assert event["requestContext"]["authorizer"] == {
        "lambda": {**authorizers.CONTEXT, "token": "allow"}
    }


def test_a_cached_policy_is_evaluated_again_for_each_route(served: str, control: Any) -> None:
    api_id, _ = build(
        control, "policy", ttl=300, routes=("GET /pets/{id}", "GET /other", "POST /pets/{id}")
    )
    assert call(served, api_id, "/prod/other", token="elsewhere").status_code == 200
    assert call(served, api_id, "/prod/pets/1", token="elsewhere").status_code == 403
    assert len(authorizers.CALLS) == 1


# --- identity sources --------------------------------------------------------------------------


def test_a_missing_identity_source_is_401_without_calling_the_function(
    served: str, control: Any
) -> None:
    api_id, _ = build(control, "simple", simple=True)
    answer = call(served, api_id, "/prod/pets/1")
    assert answer.status_code == 401
    assert answer.content == b'{"message":"Unauthorized"}'
    assert call(served, api_id, "/prod/pets/1", token="").status_code == 401
    assert authorizers.CALLS == []


def test_every_identity_source_must_be_present(served: str, control: Any) -> None:
    sources = (HEADER, "$request.querystring.team", "$stageVariables.env", "$context.routeKey")
    api_id, _ = build(control, "simple", simple=True, sources=sources)
    assert call(served, api_id, "/prod/pets/1", token="allow").status_code == 401
    assert authorizers.CALLS == []
    assert call(served, api_id, "/prod/pets/1?team=red", token="allow").status_code == 200
    assert authorizers.CALLS[0]["identitySource"] == ["allow", "red", "test", "GET /pets/{id}"]


def test_without_identity_sources_the_function_is_always_called(served: str, control: Any) -> None:
    api_id, _ = build(control, "simple", simple=True, sources=())
    assert call(served, api_id, "/prod/pets/1").status_code == 200
    assert call(served, api_id, "/prod/pets/1").status_code == 200
    assert len(authorizers.CALLS) == 2
    assert authorizers.CALLS[0]["identitySource"] == []


# --- caching -----------------------------------------------------------------------------------


def test_results_are_cached_by_identity_until_the_cache_is_reset(served: str, control: Any) -> None:
    api_id, _ = build(control, "simple", simple=True, ttl=300)
    assert call(served, api_id, "/prod/pets/1", token="allow").status_code == 200
    assert call(served, api_id, "/prod/pets/2", token="allow").status_code == 200
    assert len(authorizers.CALLS) == 1
    assert call(served, api_id, "/prod/pets/1", token="nope").status_code == 403
    assert call(served, api_id, "/prod/pets/1", token="nope").status_code == 403
    assert len(authorizers.CALLS) == 2  # a denial is cached too
    control.reset_authorizers_cache(ApiId=api_id, StageName="prod")
    assert call(served, api_id, "/prod/pets/1", token="allow").status_code == 200
    assert len(authorizers.CALLS) == 3


def test_cached_context_still_reaches_the_integration(served: str, control: Any) -> None:
    api_id, _ = build(control, "simple", simple=True, ttl=300)
    first = call(served, api_id, "/prod/pets/1", token="allow").json()
    second = call(served, api_id, "/prod/pets/1", token="allow").json()
    assert len(authorizers.CALLS) == 1
    assert second["requestContext"]["authorizer"] == first["requestContext"]["authorizer"]


def test_with_ttl_0_the_function_is_called_every_time(served: str, control: Any) -> None:
    api_id, _ = build(control, "simple", simple=True, ttl=0)
    for _ in range(3):
        assert call(served, api_id, "/prod/pets/1", token="allow").status_code == 200
    assert len(authorizers.CALLS) == 3


# --- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("function", ["explode", "slow", "invalid"])
def test_a_failing_slow_or_invalid_authorizer_is_500_and_not_cached(
    served: str, control: Any, function: str
) -> None:
    api_id, _ = build(control, function, simple=True, ttl=300)
    for _ in range(2):
        answer = call(served, api_id, "/prod/pets/1", token="allow")
        assert answer.status_code == 500
        assert answer.content == b'{"message":"Internal Server Error"}'
    assert len(authorizers.CALLS) == 2


def test_an_unknown_authorizer_function_is_500(served: str, control: Any) -> None:
    api_id, _ = build(control, "missing", simple=True)
    assert call(served, api_id, "/prod/pets/1", token="allow").status_code == 500
