"""The AWS CLI (the venv's ``awscli``, run as ``python -m awscli``) against a served Propylon."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ACCOUNT, REGION

LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:cli-access"
LOG_FORMAT = "$context.requestId $context.httpMethod $context.status"


@pytest.fixture
def aws_env(tmp_path: Path) -> dict[str, str]:
    """Dummy credentials and region; no profile, config file or endpoint from the machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PROPYLON_", "BOTO_"))}
    return env | {
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def aws(env: dict[str, str], command: str) -> subprocess.CompletedProcess[str]:
    """``aws apigatewayv2 COMMAND --output json``, COMMAND split as a shell would, to completion."""
    return subprocess.run(
        [sys.executable, "-m", "awscli", "apigatewayv2", *shlex.split(command), "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def aws_json(env: dict[str, str], command: str) -> Any:
    """The parsed output of a command that must succeed; None when it prints nothing."""
    result = aws(env, command)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_round_trip_with_endpoint_url_flag(url: str, client: Any, aws_env: dict[str, str]) -> None:
    endpoint = f"--endpoint-url {url}"
    api = aws_json(
        aws_env, f"create-api --name cli-pets --protocol-type HTTP --tags team=pets {endpoint}"
    )
    api_id = api["ApiId"]
    assert api["Tags"] == {"team": "pets"}
    integration_id = aws_json(
        aws_env,
        f"create-integration --api-id {api_id} --integration-type HTTP_PROXY "
        "--integration-method GET --integration-uri https://example.com/pets "
        f"--payload-format-version 1.0 {endpoint}",
    )["IntegrationId"]
    parameters = {
        "route.request.header.x-pet-id": {"Required": True},
        "route.request.querystring.page": {"Required": False},
    }
    route = aws_json(
        aws_env,
        f"create-route --api-id {api_id} --route-key 'GET /pets/{{id}}' "
        f"--target integrations/{integration_id} "
        f"--request-parameters {shlex.quote(json.dumps(parameters))} {endpoint}",
    )
    assert route["RouteKey"] == "GET /pets/{id}"
    assert route["RequestParameters"] == parameters
    access_log = {"DestinationArn": LOG_GROUP, "Format": LOG_FORMAT}
    stage = aws_json(
        aws_env,
        f"create-stage --api-id {api_id} --stage-name prod "
        f"--access-log-settings {shlex.quote(json.dumps(access_log))} {endpoint}",
    )
    assert stage["AccessLogSettings"] == access_log

    listed = aws_json(aws_env, f"get-apis {endpoint}")
    assert [(a["ApiId"], a["Name"]) for a in listed["Items"]] == [(api_id, "cli-pets")]

    deleted = f"delete-access-log-settings --api-id {api_id} --stage-name prod {endpoint}"
    assert aws_json(aws_env, deleted) is None
    assert "AccessLogSettings" not in client.get_stage(ApiId=api_id, StageName="prod")

    deleted = (
        f"delete-route-request-parameter --api-id {api_id} --route-id {route['RouteId']} "
        f"--request-parameter-key route.request.header.x-pet-id {endpoint}"
    )
    assert aws_json(aws_env, deleted) is None
    remaining = client.get_route(ApiId=api_id, RouteId=route["RouteId"])["RequestParameters"]
    assert remaining == {"route.request.querystring.page": {"Required": False}}

    assert aws_json(aws_env, f"delete-api --api-id {api_id} {endpoint}") is None
    assert client.get_apis()["Items"] == []


def test_endpoint_from_the_service_environment_variable(
    url: str, client: Any, aws_env: dict[str, str]
) -> None:
    api_id = client.create_api(Name="from-env", ProtocolType="HTTP")["ApiId"]
    listed = aws_json(aws_env | {"AWS_ENDPOINT_URL_APIGATEWAYV2": url}, "get-apis")
    assert [(a["ApiId"], a["Name"]) for a in listed["Items"]] == [(api_id, "from-env")]


def test_unknown_api_exits_non_zero_with_not_found(url: str, aws_env: dict[str, str]) -> None:
    result = aws(aws_env, f"get-api --api-id nosuchapi0 --endpoint-url {url}")
    assert result.returncode != 0
    assert "NotFoundException" in result.stderr
    assert "nosuchapi0" in result.stderr
    assert result.stdout == ""
