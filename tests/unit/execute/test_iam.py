"""AWS_IAM routes: SigV4 signatures made by botocore, verified against the known keys."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from propylon.credentials import Credential
from propylon.errors import GatewayForbidden
from propylon.execute.authorizers.iam import IamVerifier, user_id
from propylon.execute.context import Invocation
from propylon.execute.payloads import build_event_v1, build_event_v2
from tests.unit.execute.invocations import invocation

KEYS = {"AKIDALICE": Credential("alice-secret", "111122223333", "alice")}
HOST = "a1b2c3d4e5.execute-api.localhost:4580"


def signed(
    method: str = "GET",
    path: str = "/prod/pets/6",
    query: str = "",
    body: bytes = b"",
    headers: Sequence[tuple[str, str]] = (),
    key: str = "AKIDALICE",
    secret: str = "alice-secret",
    service: str = "execute-api",
    presign: bool = False,
    host: str = HOST,
    sent_path: str | None = None,
) -> Invocation:
    """A request signed by botocore now, as the gateway sees it (``sent_path``: the path the
    API sees, when it differs from the one signed)."""
    url = f"http://{host}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    keys = Credentials(key, secret)
    signer = (
        SigV4QueryAuth(keys, service, "eu-west-1")
        if presign
        else SigV4Auth(keys, service, "eu-west-1")
    )
    signer.add_auth(request)
    parts = urlsplit(request.url)
    sent = [("host", host), *((name.lower(), value) for name, value in request.headers.items())]
    return invocation(
        http_method=method,
        raw_path=sent_path or parts.path,
        raw_query_string=parts.query,
        headers=sent,
        body=body,
    )


def authorize(inv: Invocation, clock: Callable[[], datetime] | None = None) -> dict[str, Any]:
    verifier = IamVerifier(KEYS) if clock is None else IamVerifier(KEYS, clock)
    asyncio.run(verifier.authorize(None, inv, {}))  # type: ignore[arg-type]
    assert inv.authorizer is not None
    return inv.authorizer


def refusal(inv: Invocation, clock: Callable[[], datetime] | None = None) -> str:
    """Why the verifier refuses ``inv`` (after checking the refusal is AWS's 403)."""
    with pytest.raises(GatewayForbidden) as raised:
        authorize(inv, clock)
    assert raised.value.status == 403
    assert raised.value.message == "Forbidden"
    assert inv.authorizer is None
    return raised.value.detail


def later(minutes: float) -> Callable[[], datetime]:
    return lambda: datetime.now(UTC) + timedelta(minutes=minutes)


def test_signed_request_is_let_through_with_the_callers_identity() -> None:
    iam = authorize(signed(query="b=2&a=x%20y", headers=[("X-Custom", "v")]))["iam"]
    assert iam == {
        "accessKey": "AKIDALICE",
        "accountId": "111122223333",
        "callerId": user_id("AKIDALICE"),
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": "arn:aws:iam::111122223333:user/alice",
        "userId": user_id("AKIDALICE"),
    }


def test_user_id_is_stable_and_shaped_like_an_iam_user_id() -> None:
    assert user_id("AKIDALICE") == user_id("AKIDALICE") != user_id("AKIDBOB")
    assert user_id("AKIDALICE").startswith("AIDA")
    assert len(user_id("AKIDALICE")) == 21


def test_identity_reaches_both_payload_formats() -> None:
    inv = signed()
    authorize(inv)
    assert build_event_v2(inv)["requestContext"]["authorizer"]["iam"]["accessKey"] == "AKIDALICE"
    identity = build_event_v1(inv)["requestContext"]["identity"]
    assert identity["accessKey"] == "AKIDALICE"
    assert identity["accountId"] == "111122223333"
    assert identity["caller"] == identity["user"] == user_id("AKIDALICE")
    assert identity["userArn"] == "arn:aws:iam::111122223333:user/alice"
    assert identity["sourceIp"] == "203.0.113.7"


def test_signed_body_is_verified() -> None:
    authorize(
        signed("POST", body=b'{"name":"rex"}', headers=[("Content-Type", "application/json")])
    )


def test_tampered_body_is_refused() -> None:
    inv = signed("POST", body=b'{"name":"rex"}')
    inv.body = b'{"name":"max"}'
    assert refusal(inv).startswith("InvalidSignatureException")


def test_tampered_path_is_refused() -> None:
    inv = signed(path="/prod/pets/6")
    inv.raw_path = "/prod/pets/7"
    assert refusal(inv).startswith("InvalidSignatureException")


def test_tampered_query_is_refused() -> None:
    inv = signed(query="a=1")
    inv.raw_query_string = "a=2"
    assert refusal(inv).startswith("InvalidSignatureException")


def test_tampered_signed_header_is_refused() -> None:
    inv = signed(headers=[("X-Role", "reader")])
    inv.headers = [(k, "admin" if k == "x-role" else v) for k, v in inv.headers]
    assert refusal(inv).startswith("InvalidSignatureException")


def test_headers_added_after_signing_do_not_matter() -> None:
    inv = signed()
    inv.headers.append(("accept-encoding", "gzip"))
    authorize(inv)


def test_wrong_secret_is_refused() -> None:
    assert refusal(signed(secret="guess")).startswith("InvalidSignatureException")


def test_unknown_key_is_refused() -> None:
    assert refusal(signed(key="AKIDMALLORY")).startswith("UnrecognizedClientException")


def test_unsigned_request_is_refused() -> None:
    assert refusal(invocation()).startswith("MissingAuthenticationTokenException")


def test_bearer_token_is_an_incomplete_signature() -> None:
    inv = invocation(headers=[("host", HOST), ("authorization", "Bearer abc")])
    assert refusal(inv).startswith("IncompleteSignatureException")


def test_request_time_may_be_off_by_less_than_15_minutes() -> None:
    authorize(signed(), later(14))
    authorize(signed(), later(-14))


def test_request_older_than_15_minutes_is_refused() -> None:
    assert "Signature expired" in refusal(signed(), later(16))


def test_request_more_than_15_minutes_ahead_is_refused() -> None:
    assert "Signature not yet current" in refusal(signed(), later(-16))


def test_signature_for_another_service_is_refused() -> None:
    assert "correct service: 'execute-api'" in refusal(signed(service="apigateway"))


def test_path_style_request_verifies_against_the_path_it_sent() -> None:
    inv = signed(
        path="/_aws/execute-api/a1b2c3d4e5/prod/pets/6",
        host="127.0.0.1:4580",
        sent_path="/prod/pets/6",
    )
    authorize(inv)


def test_encoded_path_verifies() -> None:
    authorize(signed(path="/prod/pets/a%20b/%C3%A9"))


def test_content_sha256_header_must_match_the_body() -> None:
    body = b"original"
    digest = hashlib.sha256(body).hexdigest()
    authorize(signed("PUT", body=body, headers=[("X-Amz-Content-SHA256", digest)]))
    swapped = signed("PUT", body=body, headers=[("X-Amz-Content-SHA256", digest)])
    swapped.body = b"swapped"
    assert "x-amz-content-sha256" in refusal(swapped)


def test_date_header_may_stand_in_for_x_amz_date() -> None:
    inv = signed(headers=[("Date", "Mon, 01 Jan 2024 00:00:00 GMT")])
    assert not any(name == "x-amz-date" for name, _ in inv.headers)
    authorize(inv)


def test_presigned_url_verifies() -> None:
    authorize(signed(query="a=1", presign=True))


def test_presigned_url_with_a_changed_query_is_refused() -> None:
    inv = signed(query="a=1", presign=True)
    inv.raw_query_string = inv.raw_query_string.replace("a=1", "a=2")
    assert refusal(inv).startswith("InvalidSignatureException")


def test_presigned_url_expires_after_x_amz_expires() -> None:
    authorize(signed(presign=True), later(59))
    assert "Signature expired" in refusal(signed(presign=True), later(61))
