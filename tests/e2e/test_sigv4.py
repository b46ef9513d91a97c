"""SigV4 for real: AWS_IAM routes and ``--verify-signatures``, with botocore-signed requests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from propylon.execute.authorizers.iam import user_id
from propylon.functions import FunctionSpec
from propylon.settings import Settings
from tests.servers import START_TIMEOUT, clean_environment, threaded_server

HANDLERS = Path(__file__).parent.parent / "data" / "functions" / "echo.py"
ACCOUNT = "000000000000"
ALICE = ("AKIDALICE", "alice-secret")
CREDENTIALS = """\
[default]
aws_access_key_id = AKIDEXAMPLE
aws_secret_access_key = secret

[alice]
aws_access_key_id = AKIDALICE
aws_secret_access_key = alice-secret
aws_account_id = 111122223333
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with keys and ``--verify-signatures``."""
    path = tmp_path_factory.mktemp("sigv4") / "credentials"
    path.write_text(CREDENTIALS)
    settings = Settings(
        in_memory=True,
        functions=(FunctionSpec("echo", f"{HANDLERS}:echo"),),
        credentials=path,
        verify_signatures=True,
    )
    with threaded_server(settings) as url:
        yield url


def client(url: str, key: str = "AKIDEXAMPLE", secret: str = "secret") -> Any:
    return boto3.client(
        "apigatewayv2",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )


@pytest.fixture
def control(served: str) -> Any:
    httpx.post(f"{served}/_propylon/reset").raise_for_status()
    return client(served)


@pytest.fixture
def api_id(control: Any) -> str:
    """An API with AWS_IAM routes (payload 2.0 and 1.0) and an open one, deployed to ``prod``."""
    api = str(control.create_api(Name="iam", ProtocolType="HTTP")["ApiId"])
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:echo"
    for route_key, version, authorization in (
        ("ANY /pets/{id}", "2.0", "AWS_IAM"),
        ("GET /v1", "1.0", "AWS_IAM"),
        ("GET /open", "2.0", "NONE"),
    ):
        integration = control.create_integration(
            ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=arn, PayloadFormatVersion=version
        )
        control.create_route(
            ApiId=api,
            RouteKey=route_key,
            AuthorizationType=authorization,
            Target=f"integrations/{integration['IntegrationId']}",
        )
    control.create_stage(ApiId=api, StageName="prod")
    control.create_deployment(ApiId=api, StageName="prod")
    return api


def signed_headers(
    method: str, url: str, body: bytes, keys: tuple[str, str], service: str = "execute-api"
) -> dict[str, str]:
    request = AWSRequest(method=method, url=url, data=body)
    SigV4Auth(Credentials(*keys), service, "us-east-1").add_auth(request)
    return dict(request.headers.items())


def call(
    served: str,
    api_id: str,
    path: str,
    method: str = "GET",
    body: bytes = b"",
    keys: tuple[str, str] | None = ALICE,
    signed_path: str | None = None,
    signed_body: bytes | None = None,
) -> httpx.Response:
    """A request to the API by host, signed (when ``keys``) for ``signed_path``/``signed_body``
    (by default what is sent)."""
    host = f"{api_id}.execute-api.localhost:{served.rsplit(':', 1)[1]}"
    headers = {"host": host}
    if keys is not None:
        signed_url = f"http://{host}{signed_path or path}"
        headers |= signed_headers(
            method, signed_url, body if signed_body is None else signed_body, keys
        )
    return httpx.request(method, f"{served}{path}", headers=headers, content=body)


def refused(answer: httpx.Response) -> bool:
    return (
        answer.status_code == 403
        and answer.content == b'{"message":"Forbidden"}'
        and "apigw-requestid" in answer.headers
    )


def sign_in_the_past(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on botocore signs as if it were 20 minutes ago."""
    stale = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: stale)


# --- AWS_IAM routes --------------------------------------------------------------------------


def test_signed_request_reaches_the_function_with_the_callers_identity(
    served: str, api_id: str
) -> None:
    answer = call(served, api_id, "/prod/pets/7?b=2&a=x%20y", "POST", b'{"name":"rex"}')
    assert answer.status_code == 200
    event = answer.json()
    assert event["pathParameters"] == {"id": "7"}
    assert event["requestContext"]["authorizer"]["iam"] == {
        "accessKey": "AKIDALICE",
        "accountId": "111122223333",
        "callerId": user_id("AKIDALICE"),
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": "arn:aws:iam::111122223333:user/alice",
        "userId": user_id("AKIDALICE"),
    }


def test_payload_1_0_carries_the_identity_in_request_context(served: str, api_id: str) -> None:
    answer = call(served, api_id, "/prod/v1", keys=("AKIDEXAMPLE", "secret"))
    assert answer.status_code == 200
    identity = answer.json()["requestContext"]["identity"]
    assert identity["accessKey"] == "AKIDEXAMPLE"
    assert identity["accountId"] == ACCOUNT
    assert identity["userArn"] == f"arn:aws:iam::{ACCOUNT}:user/default"
    assert identity["user"] == identity["caller"] == user_id("AKIDEXAMPLE")


def test_path_style_request_is_verified_against_the_path_it_sent(served: str, api_id: str) -> None:
    url = f"{served}/_aws/execute-api/{api_id}/prod/pets/3"
    answer = httpx.get(url, headers=signed_headers("GET", url, b"", ALICE))
    assert answer.status_code == 200
    assert answer.json()["requestContext"]["authorizer"]["iam"]["accessKey"] == "AKIDALICE"


def test_tampered_body_is_refused(served: str, api_id: str) -> None:
    answer = call(served, api_id, "/prod/pets/7", "POST", b"max", signed_body=b"rex")
    assert refused(answer)


def test_tampered_path_is_refused(served: str, api_id: str) -> None:
    assert refused(call(served, api_id, "/prod/pets/8", signed_path="/prod/pets/7"))


def test_wrong_secret_is_refused(served: str, api_id: str) -> None:
    assert refused(call(served, api_id, "/prod/pets/7", keys=("AKIDALICE", "guess")))


def test_unknown_key_is_refused(served: str, api_id: str) -> None:
    assert refused(call(served, api_id, "/prod/pets/7", keys=("AKIDMALLORY", "alice-secret")))


def test_unsigned_request_is_refused(served: str, api_id: str) -> None:
    assert refused(call(served, api_id, "/prod/pets/7", keys=None))


def test_stale_signature_is_refused(
    served: str, api_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert call(served, api_id, "/prod/pets/7").status_code == 200
    sign_in_the_past(monkeypatch)
    assert refused(call(served, api_id, "/prod/pets/7"))


def test_routes_without_authorization_need_no_signature(served: str, api_id: str) -> None:
    assert call(served, api_id, "/prod/open", keys=None).status_code == 200


# --- the control plane with --verify-signatures ----------------------------------------------


def error_of(call_: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as raised:
        call_()
    error = raised.value.response
    return (
        error["Error"]["Code"],
        error["Error"]["Message"],
        error["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_known_key_is_served(control: Any) -> None:
    created = control.create_api(Name="signed", ProtocolType="HTTP")
    assert (
        client(control.meta.endpoint_url, *ALICE).get_api(ApiId=created["ApiId"])["Name"]
        == "signed"
    )


def test_wrong_secret_gets_invalid_signature(served: str) -> None:
    code, message, status = error_of(client(served, "AKIDALICE", "guess").get_apis)
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith("The request signature we calculated does not match")


def test_unknown_key_gets_unrecognized_client(served: str) -> None:
    code, message, status = error_of(client(served, "AKIDMALLORY", "secret").get_apis)
    assert (code, status) == ("UnrecognizedClientException", 403)
    assert message == "The security token included in the request is invalid."


def test_stale_signature_gets_signature_expired(
    served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in_the_past(monkeypatch)
    code, message, status = error_of(client(served).get_apis)
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith("Signature expired: ")


def test_unsigned_request_gets_missing_authentication_token(served: str) -> None:
    answer = httpx.get(f"{served}/v2/apis")
    assert answer.status_code == 403
    assert answer.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert answer.json() == {"message": "Missing Authentication Token"}


def test_signature_for_another_service_is_refused(served: str) -> None:
    url = f"{served}/v2/apis"
    answer = httpx.get(url, headers=signed_headers("GET", url, b"", ALICE, "execute-api"))
    assert answer.status_code == 403
    assert answer.headers["x-amzn-ErrorType"] == "InvalidSignatureException"


def test_signed_body_must_match(served: str) -> None:
    url = f"{served}/v2/apis"
    headers = signed_headers(
        "POST", url, b'{"name":"a","protocolType":"HTTP"}', ALICE, "apigateway"
    )
    answer = httpx.post(url, headers=headers, content=b'{"name":"b","protocolType":"HTTP"}')
    assert answer.status_code == 403
    assert answer.headers["x-amzn-ErrorType"] == "InvalidSignatureException"


def test_admin_endpoints_stay_open(served: str) -> None:
    assert httpx.get(f"{served}/_propylon/health").status_code == 200


def test_without_the_flag_anything_goes(url: str) -> None:
    assert httpx.get(f"{url}/v2/apis").status_code == 200
    assert client(url, "AKIDMALLORY", "whatever").get_apis()["Items"] == []


# --- start-up --------------------------------------------------------------------------------


def test_unreadable_credentials_file_stops_startup_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "propylon",
            "serve",
            "--port",
            "0",
            "--in-memory",
            "--credentials",
            str(missing),
        ],
        cwd=tmp_path,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(f"propylon: {missing}: cannot be read")
