"""HTTP APIs served for real: HTTP_PROXY integrations to local backends, TLS included."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from propylon.settings import Settings
from tests.conftest import make_client
from tests.servers import threaded_server

SERVER_NAME = "backend.internal"


class Echo(BaseHTTPRequestHandler):
    """Answers every request with what it received, as JSON."""

    release: threading.Event | None = None

    def _answer(self) -> None:
        if self.path.startswith("/slow") and self.release is not None:
            self.release.wait(10)
        length = int(self.headers.get("content-length") or 0)
        document = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": self.rfile.read(length).decode(),
        }
        body = json.dumps(document).encode()
        self.send_response(201)
        self.send_header("content-type", "application/json")
        self.send_header("x-backend", "echo")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return


class QuietServer(ThreadingHTTPServer):
    """A backend the gateway may hang up on (after its timeout): that is expected, not news."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def _serve(server: ThreadingHTTPServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def backend() -> Iterator[str]:
    yield from _serve(QuietServer(("127.0.0.1", 0), Echo))


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls_backend(authority: trustme.CA) -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), Echo)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(SERVER_NAME).configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield from _serve(server)


@pytest.fixture(scope="module")
def served(authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    bundle = Path(tmp_path_factory.mktemp("ca")) / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    with threaded_server(Settings(in_memory=True, ca_bundle=bundle)) as url:
        yield url


@pytest.fixture
def control(served: str) -> Any:
    httpx.post(f"{served}/_propylon/reset").raise_for_status()
    return make_client(served)


def call(served: str, api_id: str, path: str, method: str = "GET", **kwargs: Any) -> httpx.Response:
    return httpx.request(method, f"{served}/_aws/execute-api/{api_id}{path}", **kwargs)


def proxied_api(control: Any, uri: str, route_key: str = "$default", **integration: Any) -> str:
    api_id = str(control.create_api(Name="p", ProtocolType="HTTP")["ApiId"])
    created = control.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="ANY",
        IntegrationUri=uri,
        PayloadFormatVersion="1.0",
        **integration,
    )
    control.create_route(
        ApiId=api_id, RouteKey=route_key, Target=f"integrations/{created['IntegrationId']}"
    )
    control.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    return api_id


def test_default_route_forwards_method_path_query_and_body(
    served: str, control: Any, backend: str
) -> None:
    api_id = proxied_api(control, f"http://{backend}")
    answer = call(served, api_id, "/pets/7?a=1", method="POST", content=b"hello")
    assert answer.status_code == 201
    assert answer.headers["x-backend"] == "echo"
    assert answer.headers["apigw-requestid"]
    seen = answer.json()
    assert (seen["method"], seen["path"], seen["body"]) == ("POST", "/pets/7?a=1", "hello")
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert seen["headers"]["x-forwarded-proto"] == "http"


def test_greedy_path_variable_fills_the_uri(served: str, control: Any, backend: str) -> None:
    api_id = proxied_api(control, f"http://{backend}/files/{{proxy}}", "GET /f/{proxy+}")
    assert call(served, api_id, "/f/a/b.txt").json()["path"] == "/files/a/b.txt"


def test_a_slow_backend_answers_503_after_the_integration_timeout(
    served: str, control: Any, backend: str
) -> None:
    Echo.release = threading.Event()
    try:
        api_id = proxied_api(control, f"http://{backend}", TimeoutInMillis=100)
        answer = call(served, api_id, "/slow")
    finally:
        Echo.release.set()
    assert answer.status_code == 503
    assert answer.json() == {"message": "Service Unavailable"}


def test_an_unreachable_backend_answers_500(served: str, control: Any) -> None:
    api_id = proxied_api(control, "http://127.0.0.1:9")
    answer = call(served, api_id, "/")
    assert answer.status_code == 500
    assert answer.json() == {"message": "Internal Server Error"}


def test_server_name_to_verify_is_the_sni_and_certificate_name(
    served: str, control: Any, tls_backend: str
) -> None:
    tls = {"ServerNameToVerify": SERVER_NAME}
    api_id = proxied_api(control, f"https://{tls_backend}", TlsConfig=tls)
    answer = call(served, api_id, "/secure")
    assert answer.status_code == 201
    assert answer.json()["path"] == "/secure"


def test_a_certificate_not_naming_the_host_is_refused(
    served: str, control: Any, tls_backend: str
) -> None:
    api_id = proxied_api(control, f"https://{tls_backend}")
    assert call(served, api_id, "/secure").status_code == 500
    control.update_integration(
        ApiId=api_id,
        IntegrationId=control.get_integrations(ApiId=api_id)["Items"][0]["IntegrationId"],
        TlsConfig={"ServerNameToVerify": "other.internal"},
    )
    assert call(served, api_id, "/secure").status_code == 500


def test_request_mapping_renames_headers_and_rewrites_the_path(
    served: str, control: Any, backend: str
) -> None:
    api_id = proxied_api(
        control,
        f"http://{backend}",
        "GET /pets/{id}",
        RequestParameters={
            "append:header.x-pet": "$request.header.x-old",
            "remove:header.x-old": "''",
            "overwrite:path": "/v2/pets/${request.path.id}",
            "append:querystring.by": "$context.requestId",
        },
    )
    answer = call(served, api_id, "/pets/7?q=1", headers={"x-old": "rex"})
    seen = answer.json()
    assert seen["headers"]["x-pet"] == "rex"
    assert "x-old" not in seen["headers"]
    path, _, query = seen["path"].partition("?")
    assert path == "/v2/pets/7"
    assert query.startswith("q=1&by=")


def test_response_mapping_applies_to_its_status_only(
    served: str, control: Any, backend: str
) -> None:
    api_id = proxied_api(
        control,
        f"http://{backend}",
        ResponseParameters={
            "201": {"overwrite:statuscode": "202", "append:header.x-stage": "$context.stage"},
            "500": {"overwrite:statuscode": "503"},
        },
    )
    answer = call(served, api_id, "/")
    assert answer.status_code == 202
    assert answer.headers["x-stage"] == "$default"


def test_cors_preflight_is_answered_from_the_configuration(
    served: str, control: Any, backend: str
) -> None:
    api_id = proxied_api(control, f"http://{backend}", "GET /pets")
    control.update_api(
        ApiId=api_id,
        CorsConfiguration={
            "AllowOrigins": ["https://app.example"],
            "AllowMethods": ["GET", "POST"],
            "AllowHeaders": ["content-type"],
            "MaxAge": 300,
        },
    )
    answer = call(
        served,
        api_id,
        "/pets",
        method="OPTIONS",
        headers={"origin": "https://app.example", "access-control-request-method": "POST"},
    )
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == "https://app.example"
    assert answer.headers["access-control-allow-methods"] == "GET,POST"
    assert answer.headers["access-control-max-age"] == "300"
    assert answer.headers["apigw-requestid"]


def test_cors_headers_are_added_for_allowed_origins_only(
    served: str, control: Any, backend: str
) -> None:
    api_id = proxied_api(control, f"http://{backend}")
    control.update_api(ApiId=api_id, CorsConfiguration={"AllowOrigins": ["https://app.example"]})
    allowed = call(served, api_id, "/pets", headers={"origin": "https://app.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    refused = call(served, api_id, "/pets", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in refused.headers


def test_the_answer_has_one_content_length_and_one_date(
    served: str, control: Any, backend: str
) -> None:
    api_id = proxied_api(control, f"http://{backend}")
    answer = call(served, api_id, "/")
    assert len(answer.headers.get_list("content-length")) == 1
    assert len(answer.headers.get_list("date")) == 1
    assert int(answer.headers["content-length"]) == len(answer.content)
