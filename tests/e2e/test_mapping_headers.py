"""Header parameter mapping of HTTP_PROXY integrations: reserved headers are refused by the
control plane (reference 5.1), the others reach the backend as mapped."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.helpers import error

RESTRICTED = (
    "Invalid mapping expression specified: Validation Result: warnings : [], "
    "errors : [Operations on header {} are restricted]"
)


class Echo(BaseHTTPRequestHandler):
    """Answers with the headers it received, as JSON (names lower-case, repeats joined)."""

    def do_GET(self) -> None:
        seen: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            seen[key] = f"{seen[key]},{value}" if key in seen else value
        body = json.dumps(seen).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def backend() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def integration(client: Any, api_id: str, backend: str, **mapping: Any) -> dict[str, Any]:
    created: dict[str, Any] = client.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="GET",
        IntegrationUri=backend,
        PayloadFormatVersion="1.0",
        **mapping,
    )
    return created


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("overwrite:header.Authorization", "Authorization"),
        ("append:header.x-amz-date", "x-amz-date"),
        ("append:header.X-Amzn-Trace-Id", "X-Amzn-Trace-Id"),
        ("remove:header.content-length", "content-length"),
        ("overwrite:header.X-Forwarded-For", "X-Forwarded-For"),
        ("append:header.apigw-requestid", "apigw-requestid"),
        ("overwrite:header.Access-Control-Allow-Origin", "Access-Control-Allow-Origin"),
        ("append:header.Via", "Via"),
        ("overwrite:header.Transfer-Encoding", "Transfer-Encoding"),
        ("overwrite:header.Origin", "Origin"),
    ],
)
def test_a_reserved_request_header_cannot_be_mapped(
    client: Any, api_id: str, key: str, name: str
) -> None:
    value = "''" if key.startswith("remove:") else "static"  # "''" is the empty value
    with pytest.raises(ClientError) as caught:
        integration(client, api_id, "http://backend.example", RequestParameters={key: value})
    assert error(caught) == ("BadRequestException", RESTRICTED.format(name), 400)
    assert client.get_integrations(ApiId=api_id)["Items"] == []


def test_an_update_cannot_map_a_reserved_header(client: Any, api_id: str) -> None:
    created = integration(client, api_id, "http://backend.example")
    with pytest.raises(ClientError) as caught:
        client.update_integration(
            ApiId=api_id,
            IntegrationId=created["IntegrationId"],
            RequestParameters={"overwrite:header.x-amz-security-token": "t"},
        )
    assert error(caught) == (
        "BadRequestException",
        RESTRICTED.format("x-amz-security-token"),
        400,
    )
    kept = client.get_integration(ApiId=api_id, IntegrationId=created["IntegrationId"])
    assert "RequestParameters" not in kept


def test_a_reserved_response_header_cannot_be_mapped(client: Any, api_id: str) -> None:
    with pytest.raises(ClientError) as caught:
        integration(
            client,
            api_id,
            "http://backend.example",
            ResponseParameters={"200": {"overwrite:header.Content-Encoding": "gzip"}},
        )
    assert error(caught) == ("BadRequestException", RESTRICTED.format("Content-Encoding"), 400)


def test_allowed_header_mappings_reach_the_backend(
    client: Any, api_id: str, url: str, backend: str
) -> None:
    created = integration(
        client,
        api_id,
        backend,
        RequestParameters={
            "append:header.x-tenant": "$request.header.x-client",
            "overwrite:header.user-agent": "propylon-test",
            "remove:header.x-secret": "''",
            # reading a reserved header is allowed: only mapping onto one is not
            "append:header.x-auth-copy": "$request.header.authorization",
            "append:header.x-stage": "$context.stage",
        },
    )
    client.create_route(
        ApiId=api_id, RouteKey="GET /who", Target=f"integrations/{created['IntegrationId']}"
    )
    client.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    answer = httpx.get(
        f"{url}/_aws/execute-api/{api_id}/who",
        headers={
            "x-client": "acme",
            "user-agent": "curl/8",
            "x-secret": "hush",
            "authorization": "Bearer t0k3n",
        },
    )
    assert answer.status_code == 200
    seen = answer.json()
    assert seen["x-tenant"] == "acme"
    assert seen["user-agent"] == "propylon-test"
    assert "x-secret" not in seen
    assert seen["x-auth-copy"] == "Bearer t0k3n"
    assert seen["authorization"] == "Bearer t0k3n"  # forwarded as the client sent it
    assert seen["x-stage"] == "$default"
