"""JWT authorizers served for real: boto3 configures the API, a local OpenID provider on a
loopback port serves discovery and the JWKS, httpx calls the API, and the echo function shows
what reached the integration."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from propylon.functions import FunctionSpec
from propylon.settings import Settings
from tests.conftest import make_client
from tests.servers import threaded_server

HANDLERS = Path(__file__).parent.parent / "data" / "functions" / "echo.py"
ECHO = "arn:aws:lambda:us-east-1:000000000000:function:echo"
UNAUTHORIZED = b'{"message":"Unauthorized"}'
FORBIDDEN = b'{"message":"Forbidden"}'
AUDIENCE = "client-1"
SCOPE = "pets/read"


class IdentityProvider:
    """OpenID discovery and JWKS for any number of issuers ``{url}/{name}``, counting hits."""

    def __init__(self) -> None:
        self.jwks: dict[str, list[dict[str, Any]]] = {}
        self.hits: Counter[str] = Counter()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.hits[self.path] += 1
                name, _, rest = self.path.lstrip("/").partition("/")
                if name not in provider.jwks:
                    document: Any = None
                elif rest == ".well-known/openid-configuration":
                    issuer = f"{provider.url}/{name}"
                    document = {"issuer": issuer, "jwks_uri": f"{issuer}/jwks"}
                elif rest == "jwks":
                    document = {"keys": provider.jwks[name]}
                else:
                    document = None
                body = json.dumps(document).encode()
                self.send_response(200 if document is not None else 404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def issuer(self, *keys: dict[str, Any]) -> str:
        """A new issuer serving ``keys``."""
        name = uuid.uuid4().hex
        self.jwks[name] = list(keys)
        return f"{self.url}/{name}"

    def jwks_hits(self, issuer: str) -> int:
        return self.hits[issuer.removeprefix(self.url) + "/jwks"]


def jwk(private: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    return {**entry, "kid": kid, "use": "sig", "alg": "RS256"}


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rotated_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    thread = threading.Thread(target=provider.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        provider.server.shutdown()
        provider.server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    functions = (FunctionSpec("echo", f"{HANDLERS}:echo"),)
    with threaded_server(Settings(in_memory=True, functions=functions)) as url:
        yield url


@pytest.fixture
def control(served: str) -> Any:
    httpx.post(f"{served}/_propylon/reset").raise_for_status()
    return make_client(served)


def jwt_api(
    control: Any, issuer: str, source: str = "$request.header.Authorization", version: str = "2.0"
) -> str:
    """An API on ``$default`` (auto-deployed): ``GET /pets`` needs a token with ``pets/read``,
    ``GET /open`` any valid token; both reach the echo function."""
    api_id = str(control.create_api(Name="jwt", ProtocolType="HTTP")["ApiId"])
    authorizer = control.create_authorizer(
        ApiId=api_id,
        AuthorizerType="JWT",
        Name="idp",
        IdentitySource=[source],
        JwtConfiguration={"Issuer": issuer, "Audience": [AUDIENCE, "other-client"]},
    )["AuthorizerId"]
    integration = control.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=ECHO, PayloadFormatVersion=version
    )["IntegrationId"]
    for route_key, scopes in (("GET /pets", [SCOPE]), ("GET /open", [])):
        control.create_route(
            ApiId=api_id,
            RouteKey=route_key,
            AuthorizationType="JWT",
            AuthorizerId=authorizer,
            AuthorizationScopes=scopes,
            Target=f"integrations/{integration}",
        )
    control.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    return api_id


def call(served: str, api_id: str, path: str, token: str | None = None) -> httpx.Response:
    port = served.rsplit(":", 1)[1]
    headers = {"host": f"{api_id}.execute-api.localhost:{port}"}
    if token is not None:
        headers["authorization"] = token
    return httpx.get(f"{served}{path}", headers=headers)


def claims(issuer: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": "user-1",
        "exp": now + 300,
        "iat": now - 5,
        "scope": f"{SCOPE} pets/write",
    }
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def sign(private: Any, issuer: str, kid: str = "k1", algorithm: str = "RS256", **over: Any) -> str:
    return jwt.encode(claims(issuer, **over), private, algorithm=algorithm, headers={"kid": kid})


def refused(description: str) -> str:
    return f'Bearer scope="" error="invalid_token" error_description="{description}"'


def assert_unauthorized(answer: httpx.Response, description: str) -> None:
    assert answer.status_code == 401
    assert answer.content == UNAUTHORIZED
    assert answer.headers["www-authenticate"] == refused(description)
    assert answer.headers["apigw-requestid"]


def test_valid_token_reaches_the_function_with_claims_and_scopes(
    served: str, control: Any, idp: IdentityProvider, key: rsa.RSAPrivateKey
) -> None:
    issuer = idp.issuer(jwk(key, "k1"))
    api_id = jwt_api(control, issuer)
    expiry = int(time.time()) + 300
    token = sign(key, issuer, exp=expiry, groups=["admins", "dev"], email_verified=True)
    answer = call(served, api_id, "/pets", f"Bearer {token}")
    assert answer.status_code == 200
    authorizer = answer.json()["requestContext"]["authorizer"]
    assert authorizer["jwt"]["scopes"] == [SCOPE, "pets/write"]
    jwt_claims = authorizer["jwt"]["claims"]
    assert jwt_claims["sub"] == "user-1"
    assert jwt_claims["iss"] == issuer
    assert jwt_claims["groups"] == "[admins dev]"
    assert jwt_claims["email_verified"] == "true"
    assert jwt_claims["exp"] == str(expiry)
    assert "www-authenticate" not in answer.headers


def test_bare_token_and_payload_1_0_claims(
    served: str, control: Any, idp: IdentityProvider, key: rsa.RSAPrivateKey
) -> None:
    issuer = idp.issuer(jwk(key, "k1"))
    api_id = jwt_api(control, issuer, version="1.0")
    answer = call(served, api_id, "/pets", sign(key, issuer, scope=None, scp=[SCOPE]))
    assert answer.status_code == 200
    authorizer = answer.json()["requestContext"]["authorizer"]
    assert authorizer["scopes"] == [SCOPE]
    assert authorizer["claims"]["scp"] == f"[{SCOPE}]"
    assert authorizer["claims"]["aud"] == AUDIENCE


def test_token_from_the_query_string(
    served: str, control: Any, idp: IdentityProvider, key: rsa.RSAPrivateKey
) -> None:
    issuer = idp.issuer(jwk(key, "k1"))
    api_id = jwt_api(control, issuer, source="$request.querystring.access_token")
    token = sign(key, issuer)
    answer = call(served, api_id, f"/open?access_token={token}")
    assert answer.status_code == 200
    assert answer.json()["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] == "user-1"
    assert_unauthorized(call(served, api_id, "/open", token), "the token was not provided")


@pytest.mark.parametrize(
    ("case", "description"),
    [
        ("expired", "the token has expired"),
        ("not-yet-valid", "the token is not valid yet"),
        ("issued-later", "the token was issued in the future"),
        ("wrong-audience", "the token does not have a valid audience"),
        ("wrong-issuer", "the token does not have a valid issuer"),
        ("bad-signature", "the token's signature is not valid"),
        ("alg-none", "the token is not signed with a supported algorithm"),
        ("hs256", "the token is not signed with a supported algorithm"),
        ("missing", "the token was not provided"),
        ("empty-bearer", "the token was not provided"),
        ("garbage", "the token is malformed"),
        ("no-expiry", "the token has no expiry"),
    ],
)
def test_invalid_token_is_401(
    served: str,
    control: Any,
    idp: IdentityProvider,
    key: rsa.RSAPrivateKey,
    rotated_key: rsa.RSAPrivateKey,
    case: str,
    description: str,
) -> None:
    issuer = idp.issuer(jwk(key, "k1"))
    api_id = jwt_api(control, issuer)
    now = int(time.time())
    tokens: dict[str, str | None] = {
        "expired": sign(key, issuer, exp=now - 1),
        "not-yet-valid": sign(key, issuer, nbf=now + 300),
        "issued-later": sign(key, issuer, iat=now + 300),
        "wrong-audience": sign(key, issuer, aud="someone-else"),
        "wrong-issuer": sign(key, issuer, iss=issuer + "/other"),
        "bad-signature": sign(rotated_key, issuer),
        "alg-none": jwt.encode(claims(issuer), None, algorithm="none", headers={"kid": "k1"}),
        "hs256": sign("a-shared-secret-long-enough-for-hmac-sha256", issuer, algorithm="HS256"),
        "missing": None,
        "empty-bearer": "Bearer",
        "garbage": "Bearer not.a.jwt",
        "no-expiry": sign(key, issuer, exp=None),
    }
    token = tokens[case]
    header = token if token is None or token.startswith("Bearer") else f"Bearer {token}"
    assert_unauthorized(call(served, api_id, "/pets", header), description)


def test_missing_scope_is_403(
    served: str, control: Any, idp: IdentityProvider, key: rsa.RSAPrivateKey
) -> None:
    issuer = idp.issuer(jwk(key, "k1"))
    api_id = jwt_api(control, issuer)
    token = f"Bearer {sign(key, issuer, scope='pets/write')}"
    answer = call(served, api_id, "/pets", token)
    assert answer.status_code == 403
    assert answer.content == FORBIDDEN
    assert answer.headers["www-authenticate"] == (
        f'Bearer scope="{SCOPE}" error="insufficient_scope" '
        'error_description="the token does not have the required scopes"'
    )
    open_route = call(served, api_id, "/open", token)
    assert open_route.status_code == 200
    assert open_route.json()["requestContext"]["authorizer"]["jwt"]["scopes"] == ["pets/write"]
    no_scopes = call(served, api_id, "/open", f"Bearer {sign(key, issuer, scope=None)}")
    assert no_scopes.json()["requestContext"]["authorizer"]["jwt"]["scopes"] is None


def test_client_id_counts_only_without_aud(
    served: str, control: Any, idp: IdentityProvider, key: rsa.RSAPrivateKey
) -> None:
    issuer = idp.issuer(jwk(key, "k1"))
    api_id = jwt_api(control, issuer)
    access = sign(key, issuer, aud=None, client_id="other-client")
    answer = call(served, api_id, "/pets", f"Bearer {access}")
    assert answer.status_code == 200
    assert answer.json()["requestContext"]["authorizer"]["jwt"]["claims"]["client_id"] == (
        "other-client"
    )
    both = sign(key, issuer, aud="someone-else", client_id=AUDIENCE)
    assert_unauthorized(
        call(served, api_id, "/pets", f"Bearer {both}"), "the token does not have a valid audience"
    )


def test_rotated_keys_are_fetched_for_an_unknown_kid_but_not_for_every_one(
    served: str,
    control: Any,
    idp: IdentityProvider,
    key: rsa.RSAPrivateKey,
    rotated_key: rsa.RSAPrivateKey,
) -> None:
    issuer = idp.issuer(jwk(key, "k1"))
    api_id = jwt_api(control, issuer)
    assert call(served, api_id, "/open", sign(key, issuer)).status_code == 200
    assert call(served, api_id, "/open", sign(key, issuer)).status_code == 200
    assert idp.jwks_hits(issuer) == 1
    idp.jwks[issuer.rsplit("/", 1)[1]].append(jwk(rotated_key, "k2"))
    assert call(served, api_id, "/open", sign(rotated_key, issuer, kid="k2")).status_code == 200
    assert idp.jwks_hits(issuer) == 2
    for kid in ("k3", "k4", "k5"):
        answer = call(served, api_id, "/open", sign(rotated_key, issuer, kid=kid))
        assert_unauthorized(answer, "the token's signing key is not known")
    assert idp.jwks_hits(issuer) == 2
    assert call(served, api_id, "/open", sign(key, issuer)).status_code == 200


def test_unreachable_issuer_is_401(served: str, control: Any, key: rsa.RSAPrivateKey) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    issuer = f"http://127.0.0.1:{closed}/nobody"
    api_id = jwt_api(control, issuer)
    for _ in range(2):
        answer = call(served, api_id, "/open", sign(key, issuer))
        assert_unauthorized(answer, "the issuer's signing keys could not be fetched")


def test_plain_http_issuer_off_loopback_is_401(
    served: str, control: Any, key: rsa.RSAPrivateKey
) -> None:
    issuer = "http://idp.invalid"
    api_id = jwt_api(control, issuer)
    answer = call(served, api_id, "/open", sign(key, issuer))
    assert_unauthorized(answer, "the issuer's signing keys could not be fetched")


def test_unauthorized_route_next_to_open_routes(
    served: str, control: Any, idp: IdentityProvider, key: rsa.RSAPrivateKey
) -> None:
    issuer = idp.issuer(jwk(key, "k1"))
    api_id = jwt_api(control, issuer)
    integration = control.get_integrations(ApiId=api_id)["Items"][0]["IntegrationId"]
    control.create_route(ApiId=api_id, RouteKey="GET /public", Target=f"integrations/{integration}")
    public = call(served, api_id, "/public")
    assert public.status_code == 200
    assert "authorizer" not in public.json()["requestContext"]
    assert call(served, api_id, "/pets").status_code == 401
