"""Lambda (REQUEST) authorizers of HTTP APIs (reference §8.2, §6, §3.6).

How this works
--------------
For a route whose authorizer is a Lambda function, :meth:`LambdaAuthorizer.authorize`:

1. reads the authorizer's identity sources (``$request.header.X``, ``$request.querystring.X``,
   ``$context.X``, ``$stageVariables.X``) from the request. One missing or empty answers 401 and
   the function is not called. An authorizer without identity sources always calls it;
2. with ``AuthorizerResultTtlInSeconds`` above 0, looks the identity values up in the gateway's
   :class:`AuthorizerCache` (per API, stage and authorizer), so that one identity calls the
   function once per TTL whatever route it calls, as AWS does;
3. otherwise calls the function through the gateway's function registry with the payload 1.0 or
   2.0 authorizer event (built from the integration payload builders, whose shapes these events
   share), giving it 10 seconds. An unknown function, a failure, a timeout or an answer that is
   not a valid simple or policy response answers 500, and nothing is cached;
4. decides: a simple response (2.0 with ``EnableSimpleResponses``) by its ``isAuthorized``; a
   policy response by evaluating its statements against this request's route ARN, on every
   request, so that a cached policy still allows one route and denies another. Denied is 403;
5. lets the request through with the function's ``context`` as ``inv.authorizer["lambda"]``,
   which the 2.0 payload sends as ``requestContext.authorizer.lambda``, the 1.0 payload as
   ``requestContext.authorizer`` and the access log reads as ``$context.authorizer.{key}``.

Everything but the call is pure: the identity extraction, the events, reading a response and
evaluating a policy (``lambda_responses``) take their inputs as arguments, and the cache is
given its clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from propylon.errors import GatewayForbidden, GatewayInternalError, GatewayUnauthorized
from propylon.execute.authorizers.lambda_responses import (
    InvalidResponse,
    Verdict,
    read_policy_response_v1,
    read_policy_response_v2,
    read_simple_response,
)
from propylon.execute.context import Invocation
from propylon.execute.payloads import build_event_v1, build_event_v2
from propylon.execute.selection import Expression, Scope, compile_template
from propylon.functions import FunctionNotFound, InvocationError
from propylon.functions.context import new_request_id
from propylon.store import Record

if TYPE_CHECKING:
    from propylon.execute.authorizers import Route
    from propylon.execute.chain import Gateway

log = logging.getLogger("propylon.execute")

AUTHORIZER_TIMEOUT = 10.0
"""Seconds a Lambda authorizer has to answer (reference §13.1)."""
CACHE_LIMIT = 10_000
"""Cached identities per authorizer and stage; past it, the oldest are dropped."""

_IDENTITY_SOURCES = frozenset(
    {"request.header", "request.querystring", "context", "stageVariables"}
)

Identity = tuple[str, ...]


# --- identity sources ------------------------------------------------------------------------


def compile_identity_source(source: str) -> Expression:
    """One identity source as a selection expression; ValueError for anything else."""
    parts = compile_template(source, _IDENTITY_SOURCES).parts
    if len(parts) != 1 or isinstance(parts[0], str):
        raise ValueError(f"identity source {source!r} is not one selection expression")
    return parts[0]


def read_identity(sources: tuple[Expression, ...], inv: Invocation) -> Identity | None:
    """The value of every source (repeated headers and parameters comma-joined), or None when
    one is missing or empty."""
    scope = Scope(inv, inv.stage_variables)
    values = tuple(source.read(scope) for source in sources)
    return None if "" in values else values


# --- events ----------------------------------------------------------------------------------


def route_arn(region: str, inv: Invocation) -> str:
    """``arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{METHOD}/{path}``, the path
    being the request's, decoded, after the stage segment."""
    path = unquote(inv.route_path).removeprefix("/")
    return (
        f"arn:aws:execute-api:{region}:{inv.account_id}:{inv.api_id}/{inv.stage}/"
        f"{inv.http_method}/{path}"
    )


def authorizer_event_v2(inv: Invocation, arn: str, identity: Identity) -> dict[str, Any]:
    """The 2.0 authorizer event: the 2.0 integration event without its body, plus the type,
    route ARN and identity values."""
    event: dict[str, Any] = {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": arn,
        "identitySource": list(identity),
    }
    integration = build_event_v2(inv)
    for key, value in integration.items():
        if key not in ("version", "body", "isBase64Encoded"):
            event[key] = value
    event["requestContext"].pop("authorizer", None)
    return event


_V1_REQUEST_KEYS = (
    "resource",
    "path",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
)


def authorizer_event_v1(inv: Invocation, arn: str, identity: Identity) -> dict[str, Any]:
    """The 1.0 (REST-compatible REQUEST) authorizer event; the identity values are joined by
    ``,`` in both ``identitySource`` and ``authorizationToken``."""
    integration = build_event_v1(inv)
    joined = ",".join(identity)
    event: dict[str, Any] = {
        "version": "1.0",
        "type": "REQUEST",
        "methodArn": arn,
        "identitySource": joined,
        "authorizationToken": joined,
    }
    event.update((key, integration[key]) for key in _V1_REQUEST_KEYS)
    context = integration["requestContext"]
    event["requestContext"] = {
        "path": context["path"],
        "accountId": context["accountId"],
        "resourceId": context["resourceId"],
        "stage": context["stage"],
        "requestId": context["requestId"],
        "identity": {"apiKey": None, "sourceIp": inv.source_ip},
        "resourcePath": context["resourcePath"],
        "httpMethod": context["httpMethod"],
        "apiId": context["apiId"],
    }
    return event


EventBuilder = Callable[[Invocation, str, Identity], dict[str, Any]]

EVENTS: dict[str, EventBuilder] = {"1.0": authorizer_event_v1, "2.0": authorizer_event_v2}
"""``AuthorizerPayloadFormatVersion`` → the event builder."""


# --- the cache -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Results:
    """One authorizer's cached results on one stage, valid while its configuration is."""

    config: Record
    entries: dict[Identity, tuple[float, Verdict]] = field(default_factory=dict)


class AuthorizerCache:
    """Lambda authorizer results by (API, stage), authorizer and identity values, each kept
    for its TTL.

    Requests read and write it on the event loop; ``reset`` (``ResetAuthorizersCache``) runs on
    the control plane's writer thread and only drops a stage's whole table in one ``dict.pop``,
    which needs no lock. Results are dropped too when an authorizer's configuration changes (a
    deployment with a new TTL, function or identity sources), but not by a redeployment alone.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, limit: int = CACHE_LIMIT):
        self._clock = clock
        self._limit = limit
        self._stages: dict[tuple[str, str], dict[str, _Results]] = {}

    def get(self, api_id: str, stage: str, config: Record, identity: Identity) -> Verdict | None:
        results = self._stages.get((api_id, stage), {}).get(config.get("AuthorizerId", ""))
        if results is None or results.config != config:
            return None
        entry = results.entries.get(identity)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            results.entries.pop(identity, None)
            return None
        return entry[1]

    def put(
        self,
        api_id: str,
        stage: str,
        config: Record,
        identity: Identity,
        verdict: Verdict,
        ttl: float,
    ) -> None:
        authorizers = self._stages.setdefault((api_id, stage), {})
        authorizer_id = config.get("AuthorizerId", "")
        results = authorizers.get(authorizer_id)
        if results is None or results.config != config:
            results = authorizers[authorizer_id] = _Results(config)
        now = self._clock()
        if len(results.entries) >= self._limit:
            self._evict(results, now)
        results.entries[identity] = (now + ttl, verdict)

    def _evict(self, results: _Results, now: float) -> None:
        """Drop the expired entries, or else the oldest one."""
        expired = [key for key, (expires, _) in results.entries.items() if expires <= now]
        for key in expired or [next(iter(results.entries))]:
            del results.entries[key]

    def reset(self, api_id: str, stage: str) -> None:
        """Forget every result cached for the stage (``ResetAuthorizersCache``)."""
        self._stages.pop((api_id, stage), None)


# --- the authorizer --------------------------------------------------------------------------


class LambdaAuthorizer:
    """A compiled REQUEST authorizer (see the module docstring for the steps)."""

    timeout: float = AUTHORIZER_TIMEOUT

    def __init__(self, record: Record) -> None:
        version = record.get("AuthorizerPayloadFormatVersion")
        if version not in EVENTS:
            raise ValueError(f"AuthorizerPayloadFormatVersion {version!r} is not 1.0 or 2.0")
        self.record = record
        self.authorizer_id: str = record.get("AuthorizerId", "")
        self.uri: str = record.get("AuthorizerUri") or ""
        self.build_event = EVENTS[version]
        self.read_response: Callable[[Any], Verdict]
        if version == "2.0" and record.get("EnableSimpleResponses"):
            self.read_response = read_simple_response
        elif version == "2.0":
            self.read_response = read_policy_response_v2
        else:
            self.read_response = read_policy_response_v1
        self.sources = tuple(map(compile_identity_source, record.get("IdentitySource") or ()))
        self.ttl: int = (record.get("AuthorizerResultTtlInSeconds") or 0) if self.sources else 0

    async def authorize(self, gateway: Gateway, inv: Invocation, route: Route) -> None:
        identity = read_identity(self.sources, inv)
        if identity is None:
            raise GatewayUnauthorized(f"authorizer {self.authorizer_id}: identity source missing")
        deployed = gateway.deployed.get(inv.api_id)
        arn = route_arn(deployed.region if deployed else gateway.settings.region, inv)
        cache = gateway.authorizer_cache
        verdict = cache.get(inv.api_id, inv.stage, self.record, identity) if self.ttl else None
        if verdict is None:
            verdict = await self._ask(gateway, inv, arn, identity)
            if self.ttl:
                cache.put(inv.api_id, inv.stage, self.record, identity, verdict, self.ttl)
        if not verdict.allows(arn):
            raise GatewayForbidden(f"authorizer {self.authorizer_id} denied {arn}")
        inv.authorizer = {"lambda": verdict.context}
        inv.principal_id = verdict.principal_id

    async def _ask(
        self, gateway: Gateway, inv: Invocation, arn: str, identity: Identity
    ) -> Verdict:
        """Call the function and read its answer; every failure is a logged 500."""
        from propylon.execute.chain import substitute_stage_variables  # chain imports us

        uri = substitute_stage_variables(self.uri, inv.stage_variables)
        try:
            invoker = gateway.functions.resolve(uri)
        except FunctionNotFound as exc:
            log.error("authorizer %s: no local function for %s: %s", self.authorizer_id, uri, exc)
            raise GatewayInternalError(f"no function for authorizer {self.authorizer_id}") from None
        event = self.build_event(inv, arn, identity)
        try:
            async with asyncio.timeout(self.timeout):
                result = await invoker.invoke(event, new_request_id())
        except TimeoutError:
            log.warning("authorizer %s: %s gave no answer in time", self.authorizer_id, uri)
            raise GatewayInternalError(f"authorizer {self.authorizer_id} timed out") from None
        except InvocationError as exc:
            log.warning("authorizer %s: %s failed: %s", self.authorizer_id, uri, exc)
            raise GatewayInternalError(f"authorizer {self.authorizer_id} failed") from None
        try:
            return self.read_response(result)
        except InvalidResponse as exc:
            log.warning("authorizer %s: invalid response from %s: %s", self.authorizer_id, uri, exc)
            raise GatewayInternalError(f"authorizer {self.authorizer_id}: {exc}") from None
