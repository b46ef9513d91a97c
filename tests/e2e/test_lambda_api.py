"""The Lambda API through boto3's ``lambda`` client and the AWS CLI: functions created from
zips built in the test, invoked, updated, deleted, behind API Gateway routes, kept across a
restart, and every refusal with Lambda's error."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from propylon.functions import FunctionSpec
from propylon.settings import Settings
from tests.conftest import ACCOUNT, REGION, make_client
from tests.helpers import error
from tests.servers import process_server, threaded_server

ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"
APP = """
import os

COUNT = 0

def handler(event, context):
    global COUNT
    COUNT += 1
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"version": VERSION, "event": event, "count": COUNT, "table": os.environ.get("TABLE"),
            "arn": context.invoked_function_arn}

VERSION = 1
"""


def zip_of(files: dict[str, str], modes: dict[str, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = ((modes or {}).get(name, 0o644)) << 16
            archive.writestr(info, textwrap.dedent(text).lstrip())
    return buffer.getvalue()


def lambda_client(url: str) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    code = tmp_path_factory.mktemp("configured")
    (code / "app.py").write_text("def handler(event, context):\n    return 'configured'\n")
    settings = Settings(
        in_memory=True,
        functions=(FunctionSpec("configured", "app.handler", code=code),),
        log_dir=tmp_path_factory.mktemp("logs"),
        reload=False,
    )
    with threaded_server(settings) as url:
        yield url


@pytest.fixture
def client(served: str) -> Any:
    httpx.post(f"{served}/_propylon/reset").raise_for_status()
    return lambda_client(served)


def create(client: Any, name: str = "orders", **extra: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.11",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": zip_of({"app.py": APP})},
    }
    options.update(extra)
    answer: dict[str, Any] = client.create_function(**options)
    return answer


def invoke(client: Any, name: str, event: Any, **extra: Any) -> tuple[dict[str, Any], Any]:
    answer = client.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **extra)
    body = answer["Payload"].read()
    return answer, json.loads(body) if body else None


def test_the_whole_life_of_a_function(client: Any) -> None:
    package = zip_of({"app.py": APP})
    created = create(
        client, Environment={"Variables": {"TABLE": "orders"}}, Code={"ZipFile": package}
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders"
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(package).digest()).decode()
    assert created["CodeSize"] == len(package)
    assert (created["State"], created["LastUpdateStatus"], created["Version"]) == (
        "Active",
        "Successful",
        "$LATEST",
    )
    assert (created["Timeout"], created["MemorySize"], created["PackageType"]) == (3, 128, "Zip")
    answer, result = invoke(client, "orders", {"n": 1})
    assert answer["StatusCode"] == 200
    assert answer["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in answer
    assert result == {
        "version": 1,
        "event": {"n": 1},
        "count": 1,
        "table": "orders",
        "arn": created["FunctionArn"],
    }
    assert invoke(client, "orders", {})[1]["count"] == 2  # warm
    updated = client.update_function_code(
        FunctionName="orders", ZipFile=zip_of({"app.py": APP.replace("VERSION = 1", "VERSION = 2")})
    )
    assert updated["CodeSha256"] != created["CodeSha256"]
    assert updated["RevisionId"] != created["RevisionId"]
    answer, result = invoke(client, "orders", {"n": 2})
    assert (result["version"], result["count"]) == (2, 1)  # new code, a new environment
    configured = client.update_function_configuration(
        FunctionName="orders", Timeout=10, Environment={"Variables": {"TABLE": "v2"}}
    )
    assert (configured["Timeout"], configured["CodeSha256"]) == (10, updated["CodeSha256"])
    assert invoke(client, "orders", {})[1]["table"] == "v2"
    got = client.get_function(FunctionName="orders")
    assert got["Configuration"]["Timeout"] == 10
    assert httpx.get(got["Code"]["Location"]).content == zip_of(
        {"app.py": APP.replace("VERSION = 1", "VERSION = 2")}
    )
    client.delete_function(FunctionName="orders")
    with pytest.raises(ClientError) as caught:
        client.get_function_configuration(FunctionName="orders")
    assert error(caught) == (
        "ResourceNotFoundException",
        f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:orders",
        404,
    )


def test_a_function_error_is_200_with_the_error_document(client: Any) -> None:
    create(client)
    answer, document = invoke(client, "orders", {"fail": True})
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    assert (document["errorType"], document["errorMessage"]) == ("ValueError", "asked to fail")
    assert list(document) == ["errorMessage", "errorType", "requestId", "stackTrace"]


def test_event_and_dry_run_invocations(client: Any, served: str) -> None:
    create(client)
    event = client.invoke(FunctionName="orders", InvocationType="Event", Payload=b'{"n": 1}')
    assert event["StatusCode"] == 202
    dry = client.invoke(FunctionName="orders", InvocationType="DryRun", Payload=b"{}")
    assert dry["StatusCode"] == 204
    deadline = (
        time.monotonic() + 10
    )  # the Event invocation runs on its own: its warm count shows it
    while invoke(client, "orders", {})[1]["count"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_a_payload_that_is_not_json_is_refused(client: Any) -> None:
    create(client)
    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName="orders", Payload=b"{not json")
    code, message, status = error(caught)
    assert (code, status) == ("InvalidRequestContentException", 400)
    assert message.startswith(
        "Could not parse request body into json: Could not parse payload into json"
    )


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (
            {"Code": {"ZipFile": b"not a zip"}},
            "InvalidParameterValueException",
            "Could not unzip uploaded file.",
        ),
        (
            {"Code": {"ZipFile": zip_of({"../escape.py": "x = 1"})}},
            "InvalidParameterValueException",
            "Could not unzip uploaded file.",
        ),
        (
            {"Runtime": "java21"},
            "InvalidParameterValueException",
            "The runtime parameter of java21 is not supported by Propylon",
        ),
        (
            {"Runtime": "python2.7"},
            "InvalidParameterValueException",
            "The runtime parameter of python2.7 is no longer supported",
        ),
        (
            {"MemorySize": 20000},
            "ValidationException",
            "Member must have value less than or equal to 10240",
        ),
        (
            {"Environment": {"Variables": {"AWS_REGION": "x", "TABLE": "t"}}},
            "InvalidParameterValueException",
            "Reserved keys used in this request: AWS_REGION",
        ),
        (
            {"Environment": {"Variables": {"BIG": "x" * 5000}}},
            "InvalidParameterValueException",
            "exceeded the 4KB limit",
        ),
        (
            {"PackageType": "Image", "Code": {"ImageUri": "x"}},
            "InvalidParameterValueException",
            "Propylon runs .zip deployment packages only",
        ),
    ],
)
def test_create_refusals_leave_nothing_behind(
    client: Any, extra: dict[str, Any], code: str, message: str
) -> None:
    with pytest.raises(ClientError) as caught:
        create(client, **extra)
    got_code, got_message, status = error(caught)
    assert (got_code, status) == (code, 400)
    assert message in got_message
    assert client.list_functions()["Functions"] == []


def test_a_name_taken_answers_a_conflict(client: Any) -> None:
    create(client)
    for name in ("orders", "configured"):
        with pytest.raises(ClientError) as caught:
            create(client, name)
        assert error(caught) == (
            "ResourceConflictException",
            f"Function already exist: {name}",
            409,
        )


def test_list_functions_pages(client: Any) -> None:
    for number in range(3):
        create(client, f"fn-{number}")
    first = client.list_functions(MaxItems=2)
    assert [f["FunctionName"] for f in first["Functions"]] == ["fn-0", "fn-1"]
    second = client.list_functions(MaxItems=2, Marker=first["NextMarker"])
    assert [f["FunctionName"] for f in second["Functions"]] == ["fn-2"]
    assert "NextMarker" not in second
    settings = client.get_account_settings()
    assert settings["AccountUsage"]["FunctionCount"] == 3


def test_a_configured_function_is_invoked_through_the_api_too(client: Any) -> None:
    assert invoke(client, "configured", {})[1] == "configured"


def test_an_http_route_runs_a_function_created_through_the_api(client: Any, served: str) -> None:
    created = create(client)
    control = make_client(served)
    api_id = control.create_api(Name="orders", ProtocolType="HTTP", Target=created["FunctionArn"])[
        "ApiId"
    ]
    answer = httpx.get(f"{served}/_aws/execute-api/{api_id}/path?x=1")
    assert answer.status_code == 200
    assert answer.json()["event"]["rawPath"] == "/path"


def test_functions_survive_a_restart(tmp_path: Path) -> None:
    state = ("--state-dir", str(tmp_path / "state"), "--no-reload")
    with process_server(*state, cwd=tmp_path) as served:
        client = lambda_client(served.url)
        create(client)
        assert invoke(client, "orders", {"n": 1})[1]["version"] == 1
    with process_server(*state, cwd=tmp_path) as served:
        client = lambda_client(served.url)
        assert client.get_function_configuration(FunctionName="orders")["State"] == "Active"
        assert invoke(client, "orders", {"n": 2})[1]["event"] == {"n": 2}


def test_the_aws_cli_creates_and_invokes(tmp_path: Path, served: str) -> None:
    httpx.post(f"{served}/_propylon/reset").raise_for_status()
    package = tmp_path / "fn.zip"
    package.write_bytes(
        zip_of({"index.mjs": "export const handler = async (e) => ({ got: e.n * 2 });\n"})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PROPYLON_"))}
    env |= {
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "awscli", "lambda", *args, "--endpoint-url", served]
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=60, check=False
        )

    made = aws(
        "create-function",
        "--function-name",
        "doubler",
        "--runtime",
        "nodejs20.x",
        "--role",
        ROLE,
        "--handler",
        "index.handler",
        "--zip-file",
        f"fileb://{package}",
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["Runtime"] == "nodejs20.x"
    out = tmp_path / "out.json"
    called = aws(
        "invoke",
        "--function-name",
        "doubler",
        "--payload",
        '{"n": 21}',
        str(out),
    )
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout)["StatusCode"] == 200
    assert json.loads(out.read_text()) == {"got": 42}


def test_log_type_tail_gives_the_invocations_own_log(client: Any) -> None:
    create(
        client,
        Code={
            "ZipFile": zip_of(
                {"app.py": "def handler(e, c):\n    print('said', e['n'])\n    return e['n']\n"}
            )
        },
    )
    answer = client.invoke(FunctionName="orders", Payload=b'{"n": 7}', LogType="Tail")
    tail = base64.b64decode(answer["LogResult"]).decode()
    request = tail.split("START RequestId: ", 1)[1].split(" ", 1)[0]
    assert (
        f"Version: $LATEST\nsaid 7\nEND RequestId: {request}\nREPORT RequestId: {request}\t" in tail
    )
    assert "Billed Duration" in tail
    failed = client.invoke(FunctionName="orders", Payload=b"{}", LogType="Tail")
    assert failed["FunctionError"] == "Unhandled"
    assert "[ERROR] KeyError: 'n'" in base64.b64decode(failed["LogResult"]).decode()


def test_tags_of_a_function(client: Any) -> None:
    arn = create(client, Tags={"team": "orders"})["FunctionArn"]
    assert client.list_tags(Resource=arn)["Tags"] == {"team": "orders"}
    client.tag_resource(Resource=arn, Tags={"stage": "dev"})
    client.untag_resource(Resource=arn, TagKeys=["team"])
    assert client.list_tags(Resource=arn)["Tags"] == {"stage": "dev"}
    assert client.get_function(FunctionName="orders")["Tags"] == {"stage": "dev"}
    with pytest.raises(ClientError) as caught:
        client.list_tags(Resource=arn.replace("orders", "nothing"))
    assert error(caught)[0] == "ResourceNotFoundException"
