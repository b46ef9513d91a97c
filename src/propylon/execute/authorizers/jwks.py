"""The signing keys of JWT issuers (reference §8.1, step 3), for :mod:`.jwt`.

How this works: :class:`JwksCache` lives on the gateway, so it survives recompiles, and keeps
each issuer's RSA keys by ``kid``. For an issuer it reads
``{issuer}/.well-known/openid-configuration``, then the ``jwks_uri`` it names, with aiohttp
(1.5 s per request and 150000 bytes per document, AWS's limits; redirects are not followed).
Keys are fetched again when a token names an unknown ``kid`` or the keys are an hour old; after
a refetch for an unknown ``kid``, or after any failed fetch, the issuer is left alone for
``retry_interval`` seconds, so a stream of made-up ``kid`` values cannot hammer it. Keys that
have grown old are still used while the issuer cannot be reached. Only https URLs are fetched,
except on loopback hosts, where http is allowed for local identity providers. Issuers come from
the deployed authorizers, never from tokens, so the cache holds one entry per configured issuer.

The fetcher and the clock are arguments, so tests need neither sockets nor sleeps.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # imported on first use: aiohttp and PyJWT cost a quarter second at start-up
    import aiohttp
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

log = logging.getLogger("propylon.execute")

ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})
"""What AWS accepts: "only RSA signature algorithms are supported" (§8.1)."""
FETCH_TIMEOUT = 1.5
"""Seconds for the discovery document and for the JWKS, each (AWS's quota)."""
MAX_DOCUMENT_BYTES = 150_000
"""AWS's limit on the JWKS response; applied to the discovery document too."""
LOOPBACK_NAMES = frozenset({"localhost"})


class KeysUnavailable(Exception):
    """The issuer's keys could not be fetched (the reason is logged where it happened)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    key: RSAPublicKey
    algorithm: str | None
    """The JWK's ``alg``, when it names one: the only algorithm the key may verify."""


def parse_jwks(document: Any) -> dict[str, SigningKey]:
    """The RSA signing keys of a JWK set by ``kid``; other and unreadable keys are skipped."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from jwt.algorithms import RSAAlgorithm

    entries = document.get("keys") if isinstance(document, dict) else None
    keys: dict[str, SigningKey] = {}
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or entry.get("use") == "enc":
            continue
        kid, algorithm = entry.get("kid"), entry.get("alg")
        if not isinstance(kid, str) or algorithm not in (None, *ALGORITHMS):
            continue
        try:
            key = RSAAlgorithm.from_jwk(entry)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
        public = key.public_key() if isinstance(key, RSAPrivateKey) else key
        keys[kid] = SigningKey(public, algorithm)
    return keys


def fetchable(url: str) -> bool:
    """https anywhere; http only on a loopback host (a local identity provider)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


FetchJson = Callable[[str], Awaitable[Any]]
"""Read a URL's JSON document, raising :class:`KeysUnavailable` when it cannot."""


@dataclass(slots=True)
class _IssuerKeys:
    keys: dict[str, SigningKey]
    fetched_at: float | None
    """When the keys were last fetched successfully (None: never)."""
    quiet_until: float
    """No fetch before this time: set after a refetch for an unknown ``kid`` or a failure."""
    error: str | None = None
    """Why the last fetch failed; None when it did not."""


class JwksCache:
    """The signing keys of every issuer the gateway's JWT authorizers name, by ``kid``."""

    def __init__(
        self,
        fetch_json: FetchJson | None = None,
        clock: Callable[[], float] = time.monotonic,
        retry_interval: float = 10.0,
        max_age: float = 3600.0,
    ) -> None:
        self._fetch_json = fetch_json or self._http_json
        self._clock = clock
        self._retry_interval = retry_interval
        self._max_age = max_age
        self._issuers: dict[str, _IssuerKeys] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._session: aiohttp.ClientSession | None = None

    async def key(self, issuer: str, kid: str) -> SigningKey:
        """The issuer's key ``kid``, fetching the keys when they are missing, stale or lack
        it (and the issuer is not resting); :class:`KeyError` when it has no such key,
        :class:`KeysUnavailable` when it may have but its keys could not be fetched."""
        known = self._issuers.get(issuer)
        if known is not None and kid in known.keys and not self._stale(known):
            return known.keys[kid]
        async with self._locks.setdefault(issuer, asyncio.Lock()):
            known = self._issuers.get(issuer)
            if known is None or (
                self._clock() >= known.quiet_until and (kid not in known.keys or self._stale(known))
            ):
                known = await self._refresh(issuer, known, kid)
        if kid not in known.keys and known.error is not None:
            raise KeysUnavailable(known.error)
        return known.keys[kid]

    def _stale(self, known: _IssuerKeys) -> bool:
        return known.fetched_at is None or self._clock() - known.fetched_at >= self._max_age

    async def _refresh(self, issuer: str, known: _IssuerKeys | None, kid: str) -> _IssuerKeys:
        now = self._clock()
        try:
            keys = await self._load(issuer)
        except KeysUnavailable as exc:
            log.warning("JWT issuer %s: keys not fetched: %s", issuer, exc)
            old = known.keys if known is not None else {}
            fetched_at = known.fetched_at if known is not None else None
            failed = _IssuerKeys(old, fetched_at, now + self._retry_interval, str(exc))
            self._issuers[issuer] = failed
            return failed
        unknown_kid = known is not None and kid not in known.keys
        quiet_until = now + self._retry_interval if unknown_kid else now
        self._issuers[issuer] = fresh = _IssuerKeys(keys, now, quiet_until)
        return fresh

    async def _load(self, issuer: str) -> dict[str, SigningKey]:
        discovery_url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        discovery = await self._fetch_json(self._checked(discovery_url))
        jwks_uri = discovery.get("jwks_uri") if isinstance(discovery, dict) else None
        if not isinstance(jwks_uri, str):
            raise KeysUnavailable(f"{discovery_url} names no jwks_uri")
        keys = parse_jwks(await self._fetch_json(self._checked(jwks_uri)))
        if not keys:
            log.warning("JWT issuer %s: %s has no RSA signing key with a kid", issuer, jwks_uri)
        return keys

    @staticmethod
    def _checked(url: str) -> str:
        if not fetchable(url):
            raise KeysUnavailable(f"{url} is not https (http is allowed on loopback only)")
        return url

    async def _http_json(self, url: str) -> Any:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
            )
        try:
            async with self._session.get(url, allow_redirects=False) as response:
                if response.status != 200:
                    raise KeysUnavailable(f"{url} answered {response.status}")
                body = bytearray()
                async for chunk in response.content.iter_chunked(65536):
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise KeysUnavailable(f"{url} is over {MAX_DOCUMENT_BYTES} bytes")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise KeysUnavailable(f"{url}: {exc!r}") from None
        try:
            return json.loads(body)
        except ValueError:
            raise KeysUnavailable(f"{url} is not JSON") from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
