"""JWT authorizers (``authorizers/jwt.py`` and its key cache, ``authorizers/jwks.py``): the pure
token checks, the key cache with a fake fetcher and clock, and the authorizer step against a fake
gateway."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import RSAAlgorithm

from propylon.errors import GatewayForbidden, GatewayUnauthorized
from propylon.execute.authorizers import AUTHORIZER_TYPES, Unservable, compile_authorizer
from propylon.execute.authorizers.jwks import JwksCache, KeysUnavailable, fetchable, parse_jwks
from propylon.execute.authorizers.jwt import (
    ALGORITHM,
    AUDIENCE,
    EXPIRED,
    ISSUED_LATER,
    ISSUER,
    MALFORMED,
    MISSING,
    NO_EXPIRY,
    NO_KEY,
    NOT_YET_VALID,
    SIGNATURE,
    UNAVAILABLE,
    IdentitySource,
    JwtAuthorizer,
    TokenRejected,
    check_claims,
    claim_text,
    token_scopes,
    unverified_header,
    verified_claims,
)
from tests.unit.execute.invocations import invocation

ISSUER_URL = "https://issuer.example"
DISCOVERY = f"{ISSUER_URL}/.well-known/openid-configuration"
JWKS_URL = f"{ISSUER_URL}/keys"
NOW = 1_700_000_000
AUDIENCES = frozenset({"client-1", "api"})


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(private: rsa.RSAPrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    return {**entry, "kid": kid, **extra}


def claims(**overrides: Any) -> dict[str, Any]:
    base = {"iss": ISSUER_URL, "aud": "client-1", "sub": "u1", "exp": NOW + 60, "iat": NOW - 1}
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def token(private: Any, kid: str | None = "k1", algorithm: str = "RS256", **overrides: Any) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims(**overrides), private, algorithm=algorithm, headers=headers)


def rejected(check: Callable[[], object]) -> str:
    with pytest.raises(TokenRejected) as caught:
        check()
    return caught.value.description


# --- identity source ---------------------------------------------------------------------------


def header_source() -> IdentitySource:
    return IdentitySource.parse(["$request.header.Authorization"])


def test_bearer_prefix_is_stripped_in_any_case() -> None:
    for value in ("Bearer abc.def.ghi", "bearer abc.def.ghi", "  BEARER   abc.def.ghi "):
        inv = invocation(headers=[("authorization", value)])
        assert header_source().read(inv) == "abc.def.ghi"


def test_bare_token_is_accepted() -> None:
    inv = invocation(headers=[("authorization", "abc.def.ghi")])
    assert header_source().read(inv) == "abc.def.ghi"


def test_missing_or_empty_token_is_rejected() -> None:
    for headers in ([], [("authorization", "")], [("authorization", "Bearer  ")]):
        assert rejected(lambda h=headers: header_source().read(invocation(headers=h))) == MISSING


def test_querystring_source_is_case_sensitive_and_takes_the_last_value() -> None:
    source = IdentitySource.parse(["$request.querystring.Token"])
    inv = invocation(query=[("Token", "first"), ("token", "lower"), ("Token", "last")])
    assert source.read(inv) == "last"
    assert rejected(lambda: source.read(invocation(query=[("token", "x")]))) == MISSING


def test_identity_source_must_be_one_header_or_query_parameter() -> None:
    for sources in ([], ["$context.requestId"], ["$request.header.A", "$request.header.B"]):
        with pytest.raises(ValueError, match="identity source"):
            IdentitySource.parse(sources)


# --- header and signature ----------------------------------------------------------------------


def test_rsa_algorithms_with_a_kid_are_read(key: rsa.RSAPrivateKey) -> None:
    for algorithm in ("RS256", "RS384", "RS512"):
        assert unverified_header(token(key, algorithm=algorithm)) == (algorithm, "k1")


def test_none_hmac_and_ec_algorithms_are_refused(key: rsa.RSAPrivateKey) -> None:
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": "k1"})
    hmac = token("a-shared-secret-that-is-long-enough-for-hs256", algorithm="HS256")
    ec_signed = token(ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")
    for refused in (unsigned, hmac, ec_signed):
        assert rejected(lambda t=refused: unverified_header(t)) == ALGORITHM


def test_token_without_kid_or_unreadable_is_refused(key: rsa.RSAPrivateKey) -> None:
    assert rejected(lambda: unverified_header(token(key, kid=None))) == NO_KEY
    assert rejected(lambda: unverified_header("not-a-jwt")) == MALFORMED


def test_signature_is_verified_with_the_key(
    key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    assert verified_claims(token(key), key.public_key(), "RS256")["sub"] == "u1"
    forged = token(other_key)
    assert rejected(lambda: verified_claims(forged, key.public_key(), "RS256")) == SIGNATURE


def test_payload_that_is_not_an_object_is_malformed(key: rsa.RSAPrivateKey) -> None:
    signed = jwt.PyJWS().encode(b"[1, 2]", key, algorithm="RS256")
    assert rejected(lambda: verified_claims(signed, key.public_key(), "RS256")) == MALFORMED


# --- claims -------------------------------------------------------------------------------------


def test_valid_claims_pass() -> None:
    check_claims(claims(nbf=NOW), ISSUER_URL, AUDIENCES, NOW)


def test_issuer_must_match_exactly() -> None:
    wrong = claims(iss=ISSUER_URL + "/")
    assert rejected(lambda: check_claims(wrong, ISSUER_URL, AUDIENCES, NOW)) == ISSUER


def test_audience_may_be_a_list_naming_one_configured_audience() -> None:
    check_claims(claims(aud=["other", "api"]), ISSUER_URL, AUDIENCES, NOW)
    wrong = claims(aud=["other"])
    assert rejected(lambda: check_claims(wrong, ISSUER_URL, AUDIENCES, NOW)) == AUDIENCE


def test_client_id_counts_only_without_aud() -> None:
    check_claims(claims(aud=None, client_id="client-1"), ISSUER_URL, AUDIENCES, NOW)
    both = claims(aud="other", client_id="client-1")
    assert rejected(lambda: check_claims(both, ISSUER_URL, AUDIENCES, NOW)) == AUDIENCE
    neither = claims(aud=None)
    assert rejected(lambda: check_claims(neither, ISSUER_URL, AUDIENCES, NOW)) == AUDIENCE


def test_expiry_is_required_and_must_be_in_the_future() -> None:
    assert rejected(lambda: check_claims(claims(exp=None), ISSUER_URL, AUDIENCES, NOW)) == NO_EXPIRY
    assert rejected(lambda: check_claims(claims(exp=NOW), ISSUER_URL, AUDIENCES, NOW)) == EXPIRED
    assert rejected(lambda: check_claims(claims(exp="x"), ISSUER_URL, AUDIENCES, NOW)) == MALFORMED


def test_not_before_and_issued_at_must_not_be_in_the_future() -> None:
    later = claims(nbf=NOW + 1)
    assert rejected(lambda: check_claims(later, ISSUER_URL, AUDIENCES, NOW)) == NOT_YET_VALID
    issued = claims(iat=NOW + 1)
    assert rejected(lambda: check_claims(issued, ISSUER_URL, AUDIENCES, NOW)) == ISSUED_LATER


def test_scopes_come_from_scope_and_scp() -> None:
    assert token_scopes({"scope": "read  write"}) == ["read", "write"]
    assert token_scopes({"scp": ["read", "admin"]}) == ["read", "admin"]
    assert token_scopes({"scp": "a b"}) == ["a", "b"]
    assert token_scopes({"scope": "read", "scp": ["read", "x"]}) == ["read", "x"]
    assert token_scopes({"sub": "u"}) is None
    assert token_scopes({"scope": ""}) is None


def test_claim_values_are_rendered_as_strings() -> None:
    assert claim_text("x") == "x"
    assert claim_text(1612061676) == "1612061676"
    assert claim_text(1.5) == "1.5"
    assert claim_text(True) == "true"
    assert claim_text(["a", "b", 3]) == "[a b 3]"
    assert claim_text({"b": 1, "a": ["x"]}) == "map[a:[x] b:1]"
    assert claim_text(None) == "<nil>"


# --- keys ---------------------------------------------------------------------------------------


def test_jwks_keeps_rsa_signing_keys_by_kid(key: rsa.RSAPrivateKey) -> None:
    private_jwk = json.loads(RSAAlgorithm.to_jwk(key))
    document = {
        "keys": [
            jwk(key, "sig", alg="RS256", use="sig"),
            jwk(key, "enc", use="enc"),
            {**jwk(key, "hs"), "alg": "HS256"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
            jwk(key, "private") | private_jwk | {"kid": "private"},
            {k: v for k, v in jwk(key, "none").items() if k != "kid"},
        ]
    }
    keys = parse_jwks(document)
    assert sorted(keys) == ["private", "sig"]
    assert keys["sig"].algorithm == "RS256"
    assert keys["private"].key.public_numbers() == key.public_key().public_numbers()
    assert parse_jwks({"keys": "nope"}) == {} == parse_jwks([])


def test_only_https_or_loopback_http_is_fetched() -> None:
    assert fetchable("https://idp.example/x")
    assert fetchable("http://127.0.0.1:8080/x")
    assert fetchable("http://[::1]:8080/x")
    assert fetchable("http://localhost/x")
    assert not fetchable("http://idp.example/x")
    assert not fetchable("http://10.0.0.1/x")
    assert not fetchable("ftp://127.0.0.1/x")
    assert not fetchable("https:///x")


class Issuer:
    """A fake issuer: answers discovery and the JWKS from ``documents`` and counts fetches."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.fetched: list[str] = []
        self.down = False

    async def fetch(self, url: str) -> Any:
        self.fetched.append(url)
        await asyncio.sleep(0)
        if self.down:
            raise KeysUnavailable("connection refused")
        if url == DISCOVERY:
            return {"issuer": ISSUER_URL, "jwks_uri": JWKS_URL}
        assert url == JWKS_URL
        return {"keys": self.keys}

    @property
    def jwks_fetches(self) -> int:
        return self.fetched.count(JWKS_URL)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cache(issuer: Issuer, clock: Clock) -> JwksCache:
    return JwksCache(issuer.fetch, clock, retry_interval=10.0, max_age=3600.0)


def lookup(keys: JwksCache, kid: str, issuer: str = ISSUER_URL) -> Any:
    return asyncio.run(keys.key(issuer, kid))


def test_keys_are_fetched_once_through_discovery(key: rsa.RSAPrivateKey) -> None:
    issuer, clock = Issuer(jwk(key, "k1")), Clock()
    keys = cache(issuer, clock)
    assert lookup(keys, "k1").key.public_numbers() == key.public_key().public_numbers()
    clock.now += 100
    lookup(keys, "k1")
    assert issuer.fetched == [DISCOVERY, JWKS_URL]


def test_unknown_kid_refetches_once_then_rests(
    key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    issuer, clock = Issuer(jwk(key, "k1")), Clock()
    keys = cache(issuer, clock)
    lookup(keys, "k1")
    issuer.keys = [jwk(key, "k1"), jwk(other_key, "k2")]
    assert lookup(keys, "k2").key.public_numbers() == other_key.public_key().public_numbers()
    assert issuer.jwks_fetches == 2
    for _ in range(5):
        with pytest.raises(KeyError):
            lookup(keys, "made-up")
    assert issuer.jwks_fetches == 2
    clock.now += 10
    issuer.keys.append(jwk(key, "k3"))
    lookup(keys, "k3")
    assert issuer.jwks_fetches == 3


def test_failed_fetch_is_not_retried_until_the_interval_passes(key: rsa.RSAPrivateKey) -> None:
    issuer, clock = Issuer(jwk(key, "k1")), Clock()
    issuer.down = True
    keys = cache(issuer, clock)
    with pytest.raises(KeysUnavailable):
        lookup(keys, "k1")
    issuer.down = False
    with pytest.raises(KeysUnavailable):
        lookup(keys, "k1")
    assert issuer.fetched == [DISCOVERY]
    clock.now += 10
    lookup(keys, "k1")
    assert issuer.jwks_fetches == 1


def test_stale_keys_are_refetched_and_kept_when_the_issuer_is_down(
    key: rsa.RSAPrivateKey,
) -> None:
    issuer, clock = Issuer(jwk(key, "k1")), Clock()
    keys = cache(issuer, clock)
    lookup(keys, "k1")
    clock.now += 3600
    issuer.down = True
    assert lookup(keys, "k1").key.public_numbers() == key.public_key().public_numbers()
    lookup(keys, "k1")
    assert issuer.fetched == [DISCOVERY, JWKS_URL, DISCOVERY]


def test_concurrent_lookups_share_one_fetch(key: rsa.RSAPrivateKey) -> None:
    issuer, clock = Issuer(jwk(key, "k1")), Clock()
    keys = cache(issuer, clock)

    async def many() -> None:
        await asyncio.gather(*(keys.key(ISSUER_URL, "k1") for _ in range(10)))

    asyncio.run(many())
    assert issuer.jwks_fetches == 1


def test_plain_http_issuer_off_loopback_is_never_fetched() -> None:
    issuer, clock = Issuer(), Clock()
    keys = cache(issuer, clock)
    with pytest.raises(KeysUnavailable, match="not https"):
        lookup(keys, "k1", issuer="http://idp.example")
    assert issuer.fetched == []


# --- the authorizer -----------------------------------------------------------------------------


RECORD = {
    "AuthorizerId": "abc123",
    "AuthorizerType": "JWT",
    "IdentitySource": ["$request.header.Authorization"],
    "JwtConfiguration": {"Issuer": ISSUER_URL, "Audience": ["client-1"]},
}


def authorize(keys: JwksCache, header: str | None, route: dict[str, Any] | None = None) -> Any:
    authorizer = JwtAuthorizer(RECORD, clock=lambda: NOW)
    inv = invocation(headers=[("authorization", header)] if header is not None else [])
    gateway: Any = SimpleNamespace(jwks=keys)
    asyncio.run(authorizer.authorize(gateway, inv, route or {}))
    return inv.authorizer


def test_jwt_type_is_registered() -> None:
    assert AUTHORIZER_TYPES["JWT"] is JwtAuthorizer
    assert isinstance(compile_authorizer(RECORD), JwtAuthorizer)
    no_issuer = {**RECORD, "JwtConfiguration": {"Audience": ["a"]}}
    assert isinstance(compile_authorizer(no_issuer), Unservable)


def test_valid_token_sets_claims_and_scopes(key: rsa.RSAPrivateKey) -> None:
    keys = cache(Issuer(jwk(key, "k1")), Clock())
    signed = token(key, scope="read write", groups=["a", "b"])
    result = authorize(keys, f"Bearer {signed}", {"AuthorizationScopes": ["write"]})
    assert result["jwt"]["scopes"] == ["read", "write"]
    assert result["jwt"]["claims"]["groups"] == "[a b]"
    assert result["jwt"]["claims"]["exp"] == str(int(NOW + 60))


def test_refusal_is_401_with_www_authenticate(key: rsa.RSAPrivateKey) -> None:
    keys = cache(Issuer(jwk(key, "k1")), Clock())
    with pytest.raises(GatewayUnauthorized) as caught:
        authorize(keys, token(key, aud="someone-else"))
    assert caught.value.headers == (
        (
            "www-authenticate",
            'Bearer scope="" error="invalid_token" '
            'error_description="the token does not have a valid audience"',
        ),
    )


def test_unknown_kid_and_unreachable_issuer_are_401(key: rsa.RSAPrivateKey) -> None:
    keys = cache(Issuer(jwk(key, "k1")), Clock())
    with pytest.raises(GatewayUnauthorized, match=NO_KEY):
        authorize(keys, token(key, kid="k9"))
    down = Issuer()
    down.down = True
    with pytest.raises(GatewayUnauthorized, match=UNAVAILABLE):
        authorize(cache(down, Clock()), token(key))


def test_key_restricted_to_another_algorithm_refuses_the_token(key: rsa.RSAPrivateKey) -> None:
    keys = cache(Issuer(jwk(key, "k1", alg="RS512")), Clock())
    with pytest.raises(GatewayUnauthorized, match=ALGORITHM):
        authorize(keys, token(key, algorithm="RS256"))


def test_missing_scope_is_403_naming_the_required_scopes(key: rsa.RSAPrivateKey) -> None:
    keys = cache(Issuer(jwk(key, "k1")), Clock())
    with pytest.raises(GatewayForbidden) as caught:
        authorize(keys, token(key, scope="read"), {"AuthorizationScopes": ["write", "admin"]})
    assert caught.value.headers == (
        (
            "www-authenticate",
            'Bearer scope="write admin" error="insufficient_scope" '
            'error_description="the token does not have the required scopes"',
        ),
    )
