"""CORS for HTTP APIs: the automatic preflight answer and the headers on every other answer.

How this works (reference §7)
-----------------------------
An API's ``CorsConfiguration`` is compiled once per deployed stage by :func:`compile_cors`;
``None`` means CORS is not configured and the gateway adds and removes nothing (§7.2, last
point). A compiled :class:`Cors` is used at two places of the chain:

* :meth:`Cors.preflight`, only after route matching found **no** route. A route that captures
  the ``OPTIONS`` request (``OPTIONS /x``, an ``ANY`` route, or ``$default``) is served like any
  other request, authorizer included (§7.2, "Preflight"; §2.2 "OPTIONS"), so the chain asks for
  the automatic answer only where it would otherwise answer 404. A preflight is an ``OPTIONS``
  request carrying both ``Origin`` and ``Access-Control-Request-Method``; anything else gets
  ``None`` and stays a 404. The answer is ``204`` with no body.
* :meth:`Cors.decorate`, on every other answer: integration responses and the gateway's own
  errors alike (§6: CORS headers are added to gateway errors too, unverified). Whatever
  ``access-control-*`` headers the backend sent are dropped first, with or without ``Origin``:
  once CORS is configured the backend's CORS headers are ignored (§7.2, doc).

Only a request with ``Origin`` gets CORS headers, and only when its origin is allowed: an
exact entry of ``AllowOrigins`` (compared case-insensitively), ``*``, or a scheme wildcard
(``https://*`` / ``http://*``: any origin of that scheme). ``Access-Control-Allow-Origin`` is
``*`` when ``*`` is configured, else the request's own origin, with ``Vary: Origin`` since the
answer then depends on it. A disallowed origin gets an answer without any CORS header; the
status is unchanged (a preflight still answers 204).

The preflight's requested method and headers are not checked against the configuration: the
answer lists what is allowed and the browser decides (unverified). Lists are sent as
configured, comma-joined (methods upper-cased, header names lower-cased), ``Max-Age`` only
when ``MaxAge`` is set. One exception: with ``AllowCredentials`` a browser reads ``*`` in
``Allow-Methods`` and ``Allow-Headers`` literally, so there a configured ``*`` answers the
preflight's requested method and headers instead (our choice; the reference is silent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from propylon.execute.context import Invocation

WILDCARD = "*"
PREFLIGHT_STATUS = 204  # reference §7.2: unverified, 200 is also reported
_PREFIX = "access-control-"


class HasHeaders(Protocol):
    """What :meth:`Cors.decorate` needs of a response (the chain's ``Response`` has it)."""

    headers: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Preflight:
    """The gateway's own answer to a preflight: a status and headers, never a body."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Listing:
    """A configured list of methods or header names, as a header value."""

    joined: str | None
    """The entries comma-joined in their configured order (duplicates dropped); None if empty."""
    wildcard: bool

    @classmethod
    def of(cls, entries: Iterable[str] | None, normal: Callable[[str], str]) -> _Listing:
        unique = list(dict.fromkeys(normal(entry.strip()) for entry in entries or ()))
        return cls(",".join(unique) or None, WILDCARD in unique)

    def answer(self, requested: str, credentials: bool) -> str | None:
        """The preflight's header value: ``*`` means "whatever was asked" with credentials."""
        if not self.wildcard:
            return self.joined
        if credentials:
            return requested.strip() or None
        return WILDCARD


@dataclass(frozen=True, slots=True)
class Cors:
    """A ``CorsConfiguration`` compiled for the request path."""

    origins: frozenset[str]
    """Allowed origins, lower-cased, without wildcards."""
    any_origin: bool
    schemes: tuple[str, ...]
    """Prefixes such as ``https://`` from the ``https://*`` entries."""
    allow_methods: _Listing
    allow_headers: _Listing
    expose_headers: str | None
    max_age: str | None
    credentials: bool

    def allows(self, origin: str) -> bool:
        lowered = origin.lower()
        return self.any_origin or lowered in self.origins or lowered.startswith(self.schemes)

    def preflight(self, inv: Invocation) -> Preflight | None:
        """The automatic answer when no route captured the request; None if not a preflight."""
        origin = inv.header("origin")
        method = inv.header("access-control-request-method")
        if inv.http_method != "OPTIONS" or origin is None or method is None:
            return None
        if not self.allows(origin):
            return Preflight(PREFLIGHT_STATUS)
        headers = self._allow_origin(origin)
        methods = self.allow_methods.answer(method, self.credentials)
        if methods:
            headers.append(("access-control-allow-methods", methods))
        requested = inv.header("access-control-request-headers")
        allowed = self.allow_headers.answer((requested or "").lower(), self.credentials)
        if allowed:
            headers.append(("access-control-allow-headers", allowed))
        if self.max_age is not None:
            headers.append(("access-control-max-age", self.max_age))
        return Preflight(PREFLIGHT_STATUS, headers)

    def decorate(self, inv: Invocation, response: HasHeaders) -> None:
        """Replace the backend's CORS headers by the configured ones (none without ``Origin``)."""
        kept = [(name, value) for name, value in response.headers if not name.startswith(_PREFIX)]
        origin = inv.header("origin")
        if origin is not None and self.allows(origin):
            added = self._allow_origin(origin)
            if self.expose_headers:
                added.append(("access-control-expose-headers", self.expose_headers))
            if _varies_on_origin(kept):
                added = [header for header in added if header[0] != "vary"]
            kept += added
        response.headers[:] = kept

    def _allow_origin(self, origin: str) -> list[tuple[str, str]]:
        """Allow-Origin (with ``Vary: Origin`` when echoed) and Allow-Credentials."""
        if self.any_origin:
            headers = [("access-control-allow-origin", WILDCARD)]
        else:
            headers = [("access-control-allow-origin", origin), ("vary", "origin")]
        if self.credentials:
            headers.append(("access-control-allow-credentials", "true"))
        return headers


def compile_cors(configuration: Mapping[str, Any] | None) -> Cors | None:
    """The deployed API's ``CorsConfiguration`` ready for requests; None when not configured."""
    if configuration is None:
        return None
    origins = [origin.lower() for origin in configuration.get("AllowOrigins") or ()]
    exposed = _Listing.of(configuration.get("ExposeHeaders"), str.lower)
    max_age = configuration.get("MaxAge")
    return Cors(
        origins=frozenset(o for o in origins if o != WILDCARD and not o.endswith("://*")),
        any_origin=WILDCARD in origins,
        schemes=tuple(o.removesuffix("*") for o in origins if o.endswith("://*")),
        allow_methods=_Listing.of(configuration.get("AllowMethods"), str.upper),
        allow_headers=_Listing.of(configuration.get("AllowHeaders"), str.lower),
        expose_headers=WILDCARD if exposed.wildcard else exposed.joined,
        max_age=None if max_age is None else str(max_age),
        credentials=bool(configuration.get("AllowCredentials")),
    )


def _varies_on_origin(headers: Sequence[tuple[str, str]]) -> bool:
    """Whether a ``Vary`` header already covers ``Origin`` (or everything)."""
    for name, value in headers:
        if name == "vary":
            fields = {part.strip().lower() for part in value.split(",")}
            if fields & {"origin", WILDCARD}:
                return True
    return False
