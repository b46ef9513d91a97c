"""Throttling (429) and access logs, served for real and read back from the log files."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from propylon.functions import FunctionSpec
from propylon.settings import Settings
from tests.conftest import make_client
from tests.servers import threaded_server

HANDLERS = Path(__file__).parent.parent / "data" / "functions" / "echo.py"
NAMES = ("echo", "teapot", "explode")
ACCOUNT = "000000000000"
THROTTLED = b'{"message":"Too Many Requests"}'
CLF = (
    "$context.identity.sourceIp - - [$context.requestTime] "
    '"$context.httpMethod $context.routeKey $context.protocol" '
    "$context.status $context.responseLength $context.requestId"
)
JSON = (
    '{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", '
    '"requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod",'
    '"routeKey":"$context.routeKey", "status":"$context.status",'
    '"protocol":"$context.protocol", "responseLength":"$context.responseLength" }'
)
CLF_TIME = re.compile(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000")
DEADLINE = 10.0


def arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"


def functions() -> tuple[FunctionSpec, ...]:
    return tuple(FunctionSpec(name, f"{HANDLERS}:{name}") for name in NAMES)


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="module")
def served(log_dir: Path) -> Iterator[str]:
    with threaded_server(Settings(in_memory=True, functions=functions(), log_dir=log_dir)) as url:
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


def staged_api(
    control: Any, routes: dict[str, str], stages: tuple[str, ...] = ("prod",), **stage: Any
) -> str:
    """An API whose routes (route key → function) are deployed to each of ``stages``."""
    api_id = str(control.create_api(Name="t", ProtocolType="HTTP")["ApiId"])
    for route_key, function in routes.items():
        integration = control.create_integration(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=arn(function),
            PayloadFormatVersion="2.0",
        )
        control.create_route(
            ApiId=api_id, RouteKey=route_key, Target=f"integrations/{integration['IntegrationId']}"
        )
    deployment = control.create_deployment(ApiId=api_id)["DeploymentId"]
    for name in stages:
        control.create_stage(ApiId=api_id, StageName=name, DeploymentId=deployment, **stage)
    return api_id


def statuses(served: str, api_id: str, path: str, count: int) -> list[int]:
    return [call(served, api_id, path).status_code for _ in range(count)]


def access_log(group: str, log_format: str) -> dict[str, str]:
    destination = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}"
    return {"DestinationArn": destination, "Format": log_format}


def lines(path: Path, count: int) -> list[str]:
    """The file's lines once it has at least ``count`` (polled, with a deadline)."""
    deadline = time.monotonic() + DEADLINE
    while True:
        found = path.read_text().splitlines() if path.exists() else []
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{path}: {len(found)} lines, expected {count}: {found}")
        time.sleep(0.01)


# --- throttling ----------------------------------------------------------------------------


def test_stage_burst_lets_that_many_through_then_answers_429(served: str, control: Any) -> None:
    limits = {"ThrottlingBurstLimit": 3, "ThrottlingRateLimit": 0.01}
    api_id = staged_api(control, {"GET /pets": "echo"}, DefaultRouteSettings=limits)
    answers = [call(served, api_id, "/prod/pets") for _ in range(10)]
    assert [a.status_code for a in answers] == [200] * 3 + [429] * 7
    refused = answers[-1]
    assert refused.content == THROTTLED
    assert refused.headers["content-type"] == "application/json"
    assert refused.headers["apigw-requestid"]


def test_each_route_has_its_own_bucket_and_route_settings_override(
    served: str, control: Any
) -> None:
    api_id = staged_api(
        control,
        {"GET /pets": "echo", "GET /toys": "echo", "GET /free": "echo"},
        DefaultRouteSettings={"ThrottlingBurstLimit": 2, "ThrottlingRateLimit": 0.01},
        RouteSettings={"GET /free": {"ThrottlingBurstLimit": 50}},
    )
    assert statuses(served, api_id, "/prod/pets", 4) == [200, 200, 429, 429]
    assert statuses(served, api_id, "/prod/toys", 3) == [200, 200, 429]
    assert statuses(served, api_id, "/prod/free", 8) == [200] * 8


def test_zero_limits_throttle_every_request(served: str, control: Any) -> None:
    zero = {"ThrottlingBurstLimit": 0, "ThrottlingRateLimit": 0}
    api_id = staged_api(control, {"GET /pets": "echo"}, DefaultRouteSettings=zero)
    answer = call(served, api_id, "/prod/pets")
    assert answer.status_code == 429
    assert answer.content == THROTTLED


def test_unknown_routes_answer_404_not_429(served: str, control: Any) -> None:
    zero = {"ThrottlingBurstLimit": 0, "ThrottlingRateLimit": 0}
    api_id = staged_api(control, {"GET /pets": "echo"}, DefaultRouteSettings=zero)
    assert call(served, api_id, "/prod/nothing").status_code == 404


def test_throttling_comes_before_authorization(served: str, control: Any) -> None:
    api_id = staged_api(control, {"GET /pets": "echo"}, stages=("open", "shut"))
    route_id = control.get_routes(ApiId=api_id)["Items"][0]["RouteId"]
    control.update_route(ApiId=api_id, RouteId=route_id, AuthorizationType="AWS_IAM")
    control.create_deployment(ApiId=api_id, StageName="open")
    control.create_deployment(ApiId=api_id, StageName="shut")
    zero = {"ThrottlingBurstLimit": 0, "ThrottlingRateLimit": 0}
    control.update_stage(ApiId=api_id, StageName="shut", DefaultRouteSettings=zero)
    assert call(served, api_id, "/open/pets").status_code == 403  # unsigned
    assert call(served, api_id, "/shut/pets").status_code == 429


def test_changed_limits_take_effect_at_once_and_start_a_full_bucket(
    served: str, control: Any
) -> None:
    one = {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 0.01}
    api_id = staged_api(control, {"GET /pets": "echo"}, DefaultRouteSettings=one)
    assert statuses(served, api_id, "/prod/pets", 2) == [200, 429]
    control.update_stage(ApiId=api_id, StageName="prod", Description="unrelated change")
    assert statuses(served, api_id, "/prod/pets", 1) == [429]  # same limits: same bucket
    control.update_stage(
        ApiId=api_id, StageName="prod", DefaultRouteSettings={"ThrottlingBurstLimit": 2}
    )
    assert statuses(served, api_id, "/prod/pets", 3) == [200, 200, 429]


def test_account_limits_from_settings_apply_to_every_api(tmp_path: Path) -> None:
    settings = Settings(
        in_memory=True,
        functions=functions(),
        log_dir=tmp_path,
        throttle_rate=0.01,
        throttle_burst=3,
    )
    with threaded_server(settings) as url:
        control = make_client(url)
        first = staged_api(control, {"GET /pets": "echo"})
        second = staged_api(control, {"GET /pets": "echo"})
        assert statuses(url, first, "/prod/pets", 2) == [200, 200]
        assert statuses(url, second, "/prod/pets", 2) == [200, 429]
        refused = call(url, first, "/prod/pets")
        assert refused.status_code == 429
        assert refused.content == THROTTLED
        assert control.get_apis()["Items"]  # the control plane is not throttled


# --- access logs ---------------------------------------------------------------------------


def test_clf_lines_are_written_to_the_log_group_file(
    served: str, control: Any, log_dir: Path
) -> None:
    group = "/aws/apigw/clf"
    api_id = staged_api(
        control, {"GET /pets/{id}": "echo"}, AccessLogSettings=access_log(group, CLF)
    )
    answers = [call(served, api_id, "/prod/pets/7"), call(served, api_id, "/prod/missing")]
    found = lines(log_dir / "aws" / "apigw" / "clf.log", 2)
    assert len(found) == 2
    for line, answer, route_key in zip(found, answers, ["GET /pets/{id}", "-"], strict=True):
        match = re.fullmatch(r'(\S+) - - \[(.+)\] "(\S+) (.+) (\S+)" (\d+) (\d+) (\S+)', line)
        assert match is not None, line
        ip, when, method, logged_route, protocol, status, length, request_id = match.groups()
        assert ip == "127.0.0.1"
        assert CLF_TIME.fullmatch(when)
        assert (method, logged_route, protocol) == ("GET", route_key, "HTTP/1.1")
        assert int(status) == answer.status_code
        assert int(length) == len(answer.content)
        assert request_id == answer.headers["apigw-requestid"]
    assert answers[1].status_code == 404


def test_json_lines_parse_and_a_throttled_request_is_logged(
    served: str, control: Any, log_dir: Path
) -> None:
    group = "/aws/apigw/json-preset"
    api_id = staged_api(
        control,
        {"POST /orders": "echo"},
        AccessLogSettings=access_log(group, JSON),
        DefaultRouteSettings={"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 0.01},
    )
    answers = [call(served, api_id, "/prod/orders", "POST", content=b"{}") for _ in range(2)]
    records = [json.loads(line) for line in lines(log_dir / "aws/apigw/json-preset.log", 2)]
    assert [record["status"] for record in records] == ["200", "429"]
    for record, answer in zip(records, answers, strict=True):
        assert record["requestId"] == answer.headers["apigw-requestid"]
        assert record["ip"] == "127.0.0.1"
        assert CLF_TIME.fullmatch(record["requestTime"])
        assert record["httpMethod"] == "POST"
        assert record["routeKey"] == "POST /orders"
        assert record["protocol"] == "HTTP/1.1"
        assert record["responseLength"] == str(len(answer.content))


def test_a_format_of_many_variables(served: str, control: Any, log_dir: Path) -> None:
    group = "many-variables"
    names = [
        "requestId",
        "apiId",
        "accountId",
        "stage",
        "path",
        "domainName",
        "domainPrefix",
        "httpMethod",
        "identity.userAgent",
        "integrationStatus",
        "integration.status",
        "integrationLatency",
        "responseLatency",
        "error.message",
        "error.messageString",
        "error.responseType",
        "integrationErrorMessage",
        "requestTimeEpoch",
        "dataProcessed",
        "extendedRequestId",
        "awsEndpointRequestId",
        "authorizer.error",
        "customDomain.basePathMatched",
    ]
    log_format = "\t".join(f"$context.{name}" for name in names)
    api_id = staged_api(
        control,
        {"GET /tea": "teapot", "GET /boom": "explode"},
        AccessLogSettings=access_log(group, log_format),
    )
    before = int(time.time())
    tea = call(served, api_id, "/prod/tea", headers={"user-agent": "pytest-agent/1"})
    boom = call(served, api_id, "/prod/boom", headers={"user-agent": "pytest-agent/1"})
    found = [
        dict(zip(names, line.split("\t"), strict=True))
        for line in lines(log_dir / "many-variables.log", 2)
    ]
    assert tea.status_code == 418
    assert boom.status_code == 500
    first, second = found
    assert first["requestId"] == first["extendedRequestId"] == tea.headers["apigw-requestid"]
    assert first["apiId"] == first["domainPrefix"] == api_id
    assert first["accountId"] == ACCOUNT
    assert first["stage"] == "prod"
    assert first["path"] == "/prod/tea"
    assert first["domainName"] == f"{api_id}.execute-api.localhost"
    assert first["httpMethod"] == "GET"
    assert first["identity.userAgent"] == "pytest-agent/1"
    assert first["integrationStatus"] == "200"
    assert first["integration.status"] == "418"
    assert int(first["integrationLatency"]) >= 0
    assert int(first["responseLatency"]) >= int(first["integrationLatency"])
    assert first["error.message"] == first["error.messageString"] == "-"
    assert first["error.responseType"] == first["integrationErrorMessage"] == "-"
    assert before <= int(first["requestTimeEpoch"]) <= int(time.time())
    assert first["dataProcessed"] == str(len(tea.content))
    # The Lambda invocation's own request id, a UUID, not API Gateway's
    assert UUID(first["awsEndpointRequestId"]).version == 4
    assert first["authorizer.error"] == first["customDomain.basePathMatched"] == "-"
    assert second["error.message"] == "Internal Server Error"
    assert second["error.messageString"] == '"Internal Server Error"'
    assert second["error.responseType"] == "INTEGRATION_FAILURE"
    assert "boom" in second["integrationErrorMessage"]
    assert second["integration.status"] == "-"


def test_deleting_the_settings_stops_the_log_at_once(
    served: str, control: Any, log_dir: Path
) -> None:
    group = "/aws/apigw/deleted"
    settings = access_log(group, "$context.stage $context.requestId")
    api_id = staged_api(
        control, {"GET /pets": "echo"}, stages=("prod", "beta"), AccessLogSettings=settings
    )
    call(served, api_id, "/prod/pets")
    path = log_dir / "aws/apigw/deleted.log"
    assert lines(path, 1)[0].startswith("prod ")
    control.delete_access_log_settings(ApiId=api_id, StageName="prod")
    assert call(served, api_id, "/prod/pets").status_code == 200
    assert call(served, api_id, "/prod/nowhere").status_code == 404
    sentinel = call(served, api_id, "/beta/pets")  # lines are written in order
    found = lines(path, 2)
    assert found[1] == f"beta {sentinel.headers['apigw-requestid']}"
    assert len(found) == 2


def test_an_updated_format_applies_to_the_next_request(
    served: str, control: Any, log_dir: Path
) -> None:
    group = "/aws/apigw/updated"
    api_id = staged_api(
        control,
        {"GET /pets": "echo"},
        AccessLogSettings=access_log(group, "old $context.requestId"),
    )
    first = call(served, api_id, "/prod/pets")
    control.update_stage(
        ApiId=api_id,
        StageName="prod",
        AccessLogSettings=access_log(group, "new $context.requestId $context.status"),
    )
    second = call(served, api_id, "/prod/pets")
    found = lines(log_dir / "aws/apigw/updated.log", 2)
    assert found == [
        f"old {first.headers['apigw-requestid']}",
        f"new {second.headers['apigw-requestid']} 200",
    ]
