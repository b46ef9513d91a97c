"""JWT authorizers for HTTP API routes (reference §8.1, §3.6).

How this works
--------------
A route with ``AuthorizationType: JWT`` names a ``JWT`` authorizer; :class:`JwtAuthorizer` is its
compiled form (one per deployed stage). A request passes when, in AWS's order:

1. the authorizer's one identity source (``$request.header.X`` or ``$request.querystring.X``)
   holds a token, bare or as ``Bearer <token>``;
2. the token's header names an RSA algorithm (RS256, RS384, RS512: AWS supports only RSA, so
   ``none``, HS* and ES* are refused) and a ``kid``;
3. the issuer's key with that ``kid`` verifies the signature;
4. the claims hold (:func:`check_claims`): ``iss`` is the configured issuer; ``aud`` names a
   configured audience, or, only when there is no ``aud``, ``client_id`` does; ``exp`` is in
   the future; ``nbf`` and ``iat``, when present, are not. There is no leeway.

Any failure answers ``401 {"message":"Unauthorized"}`` with a ``www-authenticate: Bearer
scope="" error="invalid_token" error_description="..."`` header. A valid token lacking every one
of the route's ``AuthorizationScopes`` (read from ``scope`` and ``scp``) answers 403 with
``error="insufficient_scope"``. On success ``inv.authorizer`` is ``{"jwt": {"claims": ...,
"scopes": ...}}`` with every claim value rendered as a string, arrays as ``[a b c]``.

Keys come from the gateway's :class:`~propylon.execute.authorizers.jwks.JwksCache` (discovery,
JWKS, caching by ``kid``); the token checks here are pure functions of the token, the key and the
time, so tests need neither sockets nor sleeps.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from propylon.errors import GatewayForbidden, GatewayUnauthorized
from propylon.execute.authorizers import Route
from propylon.execute.authorizers.jwks import ALGORITHMS, JwksCache, KeysUnavailable
from propylon.execute.context import Invocation
from propylon.store import Record

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    from propylon.execute.chain import Gateway

_SOURCE = re.compile(r"\$request\.(header|querystring)\.(.+)")

MISSING = "the token was not provided"
MALFORMED = "the token is malformed"
ALGORITHM = "the token is not signed with a supported algorithm"
NO_KEY = "the token's signing key is not known"
UNAVAILABLE = "the issuer's signing keys could not be fetched"
SIGNATURE = "the token's signature is not valid"
ISSUER = "the token does not have a valid issuer"
AUDIENCE = "the token does not have a valid audience"
NO_EXPIRY = "the token has no expiry"
EXPIRED = "the token has expired"
NOT_YET_VALID = "the token is not valid yet"
ISSUED_LATER = "the token was issued in the future"
SCOPES = "the token does not have the required scopes"


class TokenRejected(Exception):
    """A token that does not pass; ``description`` goes into ``www-authenticate``."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


# --- the pure checks ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdentitySource:
    """Where the token is read: a header (any case) or a query string parameter (exact)."""

    kind: str
    name: str

    @classmethod
    def parse(cls, sources: Iterable[str]) -> IdentitySource:
        entries = list(sources)
        match = _SOURCE.fullmatch(entries[0]) if len(entries) == 1 else None
        if match is None:
            raise ValueError(f"identity source {entries} is not one header or query parameter")
        kind, name = match[1], match[2]
        return cls(kind, name.lower() if kind == "header" else name)

    def read(self, inv: Invocation) -> str:
        """The token, without a ``Bearer`` prefix; rejected when absent or empty."""
        if self.kind == "header":
            value = inv.header(self.name)
        else:
            value = next((v for k, v in reversed(inv.query) if k == self.name), None)
        token = (value or "").strip()
        scheme, _, rest = token.partition(" ")
        if scheme.lower() == "bearer":
            token = rest.strip()
        if not token:
            raise TokenRejected(MISSING)
        return token


def unverified_header(token: str) -> tuple[str, str]:
    """The token's ``alg`` (one AWS accepts) and ``kid``, before anything is fetched."""
    import jwt  # on first use: see jwks.py

    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenRejected(MALFORMED) from None
    if header.get("alg") not in ALGORITHMS:
        raise TokenRejected(ALGORITHM)
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise TokenRejected(NO_KEY)
    return header["alg"], kid


def verified_claims(token: str, key: RSAPublicKey, algorithm: str) -> dict[str, Any]:
    """The token's claims, once ``key`` has verified its signature with ``algorithm``."""
    import jwt

    try:
        decoded = jwt.PyJWS().decode_complete(token, key, algorithms=[algorithm])
    except jwt.InvalidSignatureError:
        raise TokenRejected(SIGNATURE) from None
    except jwt.PyJWTError:
        raise TokenRejected(MALFORMED) from None
    try:
        claims = json.loads(decoded["payload"])
    except ValueError:
        raise TokenRejected(MALFORMED) from None
    if not isinstance(claims, dict):
        raise TokenRejected(MALFORMED)
    return claims


def _timestamp(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(MALFORMED)
    return float(value)


def _audience_matches(claims: Mapping[str, Any], audiences: frozenset[str]) -> bool:
    """``aud`` (a string or a list) when the token has one, else ``client_id``."""
    if "aud" in claims:
        aud = claims["aud"]
        named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        return any(isinstance(item, str) and item in audiences for item in named)
    client_id = claims.get("client_id")
    return isinstance(client_id, str) and client_id in audiences


def check_claims(
    claims: Mapping[str, Any], issuer: str, audiences: frozenset[str], now: float
) -> None:
    """Raise :class:`TokenRejected` unless the claims hold at ``now`` (seconds since epoch)."""
    if claims.get("iss") != issuer:
        raise TokenRejected(ISSUER)
    if not _audience_matches(claims, audiences):
        raise TokenRejected(AUDIENCE)
    expiry = _timestamp(claims, "exp")
    if expiry is None:
        raise TokenRejected(NO_EXPIRY)
    if now >= expiry:
        raise TokenRejected(EXPIRED)
    not_before = _timestamp(claims, "nbf")
    if not_before is not None and now < not_before:
        raise TokenRejected(NOT_YET_VALID)
    issued = _timestamp(claims, "iat")
    if issued is not None and now < issued:
        raise TokenRejected(ISSUED_LATER)


def token_scopes(claims: Mapping[str, Any]) -> list[str] | None:
    """The scopes of ``scope`` (space-separated) and ``scp`` (list or string); None if none."""
    scopes: list[str] = []
    for name in ("scope", "scp"):
        value = claims.get(name)
        items = value.split() if isinstance(value, str) else value
        if isinstance(items, list):
            scopes.extend(s for s in items if isinstance(s, str) and s and s not in scopes)
    return scopes or None


def claim_text(value: Any) -> str:
    """A claim as AWS hands it on: text, with arrays as ``[a b c]`` (observed, §3.6); objects
    as ``map[k:v]`` and null as ``<nil>`` follow the same (Go) formatting, unverified."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + " ".join(claim_text(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{key}:{claim_text(item)}" for key, item in sorted(value.items()))
        return "map[" + " ".join(pairs) + "]"
    return "<nil>"


def challenge(error: str, description: str, scope: str = "") -> str:
    """The ``www-authenticate`` value, in AWS's form."""
    return f'Bearer scope="{scope}" error="{error}" error_description="{description}"'


# --- the authorizer -----------------------------------------------------------------------------


class JwtAuthorizer:
    """A deployed ``JWT`` authorizer."""

    def __init__(self, record: Record, clock: Callable[[], float] = time.time) -> None:
        self.record = record
        config = record.get("JwtConfiguration") or {}
        issuer = config.get("Issuer")
        if not isinstance(issuer, str) or not issuer:
            raise ValueError("the JWT authorizer has no issuer")
        self.issuer = issuer
        self.audiences = frozenset(config.get("Audience") or ())
        self.source = IdentitySource.parse(record.get("IdentitySource") or ())
        self._clock = clock

    async def authorize(self, gateway: Gateway, inv: Invocation, route: Route) -> None:
        try:
            claims = await self.verify(gateway.jwks, self.source.read(inv))
        except TokenRejected as exc:
            www = challenge("invalid_token", exc.description)
            raise GatewayUnauthorized(exc.description, (("www-authenticate", www),)) from None
        scopes = token_scopes(claims)
        required = route.get("AuthorizationScopes") or []
        if required and not set(required) & set(scopes or ()):
            www = challenge("insufficient_scope", SCOPES, " ".join(required))
            raise GatewayForbidden(SCOPES, (("www-authenticate", www),))
        rendered = {name: claim_text(value) for name, value in claims.items()}
        inv.authorizer = {"jwt": {"claims": rendered, "scopes": scopes}}

    async def verify(self, keys: JwksCache, token: str) -> dict[str, Any]:
        """The token's claims once its signature and claims hold, else :class:`TokenRejected`."""
        algorithm, kid = unverified_header(token)
        try:
            key = await keys.key(self.issuer, kid)
        except KeysUnavailable:
            raise TokenRejected(UNAVAILABLE) from None
        except KeyError:
            raise TokenRejected(NO_KEY) from None
        if key.algorithm not in (None, algorithm):
            raise TokenRejected(ALGORITHM)
        claims = verified_claims(token, key.key, algorithm)
        check_claims(claims, self.issuer, self.audiences, self._clock())
        return claims
