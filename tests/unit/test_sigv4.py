"""The SigV4 core: AWS's checks, and only SignatureErrors whatever a client sends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given
from hypothesis import strategies as st

from propylon.credentials import Credential
from propylon.sigv4 import (
    IncompleteSignature,
    InvalidSignature,
    MissingAuthentication,
    SignatureError,
    SignedRequest,
    UnknownAccessKey,
    verify,
)

KEYS = {"AKID": Credential("secret", "123456789012", "alice")}
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
STAMP = "20240501T120000Z"


def request(authorization: str, *, date: str = STAMP, path: str = "/v2/apis") -> SignedRequest:
    headers = [("host", "localhost"), ("x-amz-date", date), ("authorization", authorization)]
    return SignedRequest("GET", path, "", headers, b"")


def header(
    credential: str = "AKID/20240501/us-east-1/apigateway/aws4_request",
    signed: str = "host;x-amz-date",
    signature: str = "0" * 64,
) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed}, Signature={signature}"
    )


def test_botocore_signature_made_at_the_request_time_verifies() -> None:
    aws = AWSRequest(method="GET", url="http://localhost/v2/apis", headers={"X-Amz-Date": STAMP})
    signer = SigV4Auth(Credentials("AKID", "secret"), "apigateway", "us-east-1")
    aws.context["timestamp"] = STAMP
    signature = signer.signature(signer.string_to_sign(aws, signer.canonical_request(aws)), aws)
    verified = verify(request(header(signature=signature)), KEYS, "apigateway", NOW)
    assert (verified.access_key, verified.region) == ("AKID", "us-east-1")
    with pytest.raises(InvalidSignature):
        verify(request(header(signature=signature), path="/v2/apis/x"), KEYS, "apigateway", NOW)


def test_no_authorization_is_a_missing_token() -> None:
    bare = SignedRequest("GET", "/", "", [("host", "localhost")], b"")
    with pytest.raises(MissingAuthentication, match=r"^Missing Authentication Token$"):
        verify(bare, KEYS, "apigateway", NOW)


def test_incomplete_authorization_lists_what_is_missing() -> None:
    with pytest.raises(IncompleteSignature) as raised:
        verify(request("AWS4-HMAC-SHA256 Credential=AKID/x"), KEYS, "apigateway", NOW)
    assert "requires 'Signature' parameter" in raised.value.message
    assert "requires 'SignedHeaders' parameter" in raised.value.message
    assert raised.value.code == "IncompleteSignatureException"


def test_credential_must_have_five_parts() -> None:
    with pytest.raises(IncompleteSignature, match="5 slash-delimited"):
        verify(
            request(header(credential="AKID/20240501/us-east-1/apigateway")),
            KEYS,
            "apigateway",
            NOW,
        )


def test_scope_date_must_be_the_request_date() -> None:
    stale_scope = header(credential="AKID/20240430/us-east-1/apigateway/aws4_request")
    with pytest.raises(InvalidSignature, match="Date in Credential scope does not match"):
        verify(request(stale_scope), KEYS, "apigateway", NOW)


def test_host_must_be_signed() -> None:
    with pytest.raises(InvalidSignature, match="'Host' or ':authority' must be a 'SignedHeader'"):
        verify(request(header(signed="x-amz-date")), KEYS, "apigateway", NOW)


def test_unknown_key_is_unrecognized() -> None:
    with pytest.raises(UnknownAccessKey) as raised:
        verify(
            request(header(credential="NOPE/20240501/us-east-1/apigateway/aws4_request")),
            KEYS,
            "apigateway",
            NOW,
        )
    assert raised.value.code == "UnrecognizedClientException"


def test_non_ascii_signature_is_a_mismatch_not_a_crash() -> None:
    with pytest.raises(InvalidSignature):
        verify(request(header(signature="é" * 64)), KEYS, "apigateway", NOW)


@given(
    authorization=st.text(max_size=200),
    date=st.text(max_size=30) | st.just(STAMP),
    path=st.text(max_size=40),
    query=st.text(max_size=40),
)
def test_any_input_is_answered_with_a_signature_error(
    authorization: str, date: str, path: str, query: str
) -> None:
    headers = [("host", "h"), ("x-amz-date", date), ("authorization", authorization)]
    with pytest.raises(SignatureError):
        verify(SignedRequest("GET", "/" + path, query, headers, b""), KEYS, "apigateway", NOW)


@given(
    signature=st.text(max_size=80),
    signed=st.text(max_size=40),
    path=st.text(max_size=40),
    query=st.text(max_size=40),
)
def test_any_request_reaching_the_signature_check_is_answered_with_a_signature_error(
    signature: str, signed: str, path: str, query: str
) -> None:
    text = header(signed="host;" + signed, signature=signature)
    headers = [("host", "h"), ("x-amz-date", STAMP), ("authorization", text), ("é", "ü")]
    with pytest.raises(SignatureError):
        verify(SignedRequest("GET", "/" + path, query, headers, b""), KEYS, "apigateway", NOW)


@given(date=st.text(max_size=40))
def test_any_date_header_is_answered_with_a_signature_error(date: str) -> None:
    headers = [("host", "h"), ("date", date), ("authorization", header())]
    with pytest.raises(SignatureError):
        verify(SignedRequest("GET", "/", "", headers, b""), KEYS, "apigateway", NOW)


PRESIGNED = (
    "X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKID%2F20240501%2Fus-east-1%2Fapigateway%2Faws4_request"
    "&X-Amz-Date=20240501T120000Z&X-Amz-SignedHeaders=host"
)


@given(expires=st.text(max_size=10), signature=st.text(max_size=70), extra=st.text(max_size=30))
def test_any_presigned_query_is_answered_with_a_signature_error(
    expires: str, signature: str, extra: str
) -> None:
    query = f"{PRESIGNED}&X-Amz-Expires={expires}&{extra}&X-Amz-Signature={signature}"
    with pytest.raises(SignatureError):
        verify(SignedRequest("GET", "/", query, [("host", "h")], b""), KEYS, "apigateway", NOW)
