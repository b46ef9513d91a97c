"""The HTTP API data plane as one ordered chain.

A request to an API goes through these steps, in AWS's order (reference §6, "Evaluation order"):

1. ``resolve``: the API named by the host or the ``/_aws/execute-api/`` prefix, then the stage
   (a named stage by the first path segment, else ``$default``); a stage is served only once it
   has a deployment. Unknown API, stage or a disabled default endpoint end here (404 / 403).
2. ``route``: the deployed route table picks the route (exact, greedy, ``$default``) or 404.
   When no route matches, a CORS preflight is answered from the API's CORS configuration.
3. ``integrate``: the route's integration, by type: a local Lambda function with payload 1.0
   or 2.0, or an HTTP backend with the integration's request and response parameter mapping.
   Timeouts answer 503, failures 500, as AWS does. An HTTP backend's bodies flow through as
   they come (``body.py``, ``http_proxy.py``); anything else first reads the request body whole
   (``read_whole_body``, after throttling, before authorization).
4. CORS headers (when the API has a CORS configuration), then ``apigw-requestid``; gateway
   errors are ``{"message": ...}`` bodies.

Between 2 and 3: ``throttle``, the account bucket and the route's own bucket when its stage
limits it (429, ``throttle.py``), then authorization (401 / 403 / 500, ``authorizers/``). Once
the response is sent, the door writes the stage's access-log line (``access_log.py``).
Each step reads and writes the one ``Invocation`` context.
"""

from __future__ import annotations

import logging
import re
import time
from binascii import b2a_base64
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from random import getrandbits

from propylon.errors import (
    GatewayError,
    GatewayForbidden,
    GatewayInternalError,
    GatewayNotFound,
    GatewayServiceUnavailable,
    GatewayTooManyRequests,
)
from propylon.execute.addressing import Address, locate, select_stage
from propylon.execute.authorizers import Route, authorize
from propylon.execute.authorizers.iam import IamVerifier
from propylon.execute.authorizers.jwks import JwksCache
from propylon.execute.authorizers.lambda_ import AuthorizerCache
from propylon.execute.context import Invocation
from propylon.execute.deployed import CompiledIntegration, CompiledStage, DeployedApis
from propylon.execute.http_proxy import HttpProxy, IntegrationFailure, IntegrationTimeout
from propylon.execute.logs import LogWriter
from propylon.execute.payloads import PAYLOADS
from propylon.execute.replies import MalformedResponse
from propylon.execute.routing import RouteMatch
from propylon.execute.throttle import Throttle
from propylon.functions import (
    CallerTimeout,
    FunctionNotFound,
    FunctionRegistry,
    InvocationError,
)
from propylon.functions.context import new_request_id
from propylon.settings import Settings

log = logging.getLogger("propylon.execute")

_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(slots=True)
class Response:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    """The body, or its beginning when ``stream`` is not None."""
    stream: AsyncGenerator[bytes, None] | None = None
    """The rest of the body, as an HTTP_PROXY backend sends it; it counts what it yields into
    ``$context.responseLength`` and raises a ``GatewayError`` if the backend fails midway."""
    wire: list[tuple[bytes, bytes]] | None = None
    """Headers already as sent (names lower-case, no framing), before ``headers``: an HTTP
    backend's, passed on as they came when nothing maps or decorates them."""


Integration = Callable[
    ["Gateway", Invocation, CompiledStage, CompiledIntegration], Awaitable[Response]
]


def request_id() -> str:
    """An id in AWS's HTTP API form: 16 base64 characters ending in ``=``."""
    return b2a_base64(getrandbits(88).to_bytes(11, "big"), newline=False).decode()


def clf_time(moment: datetime) -> str:
    """``$context.requestTime``: ``dd/Mon/yyyy:HH:MM:SS +0000``."""
    return f"{moment:%d}/{_MONTHS[moment.month - 1]}/{moment:%Y:%H:%M:%S} +0000"


def substitute_stage_variables(text: str, variables: Mapping[str, str]) -> str:
    """``${stageVariables.name}`` replaced by the stage's value ("" when it has none)."""
    if "${" not in text:
        return text
    return _STAGE_VARIABLE.sub(lambda match: variables.get(match[1], ""), text)


def error_response(error: GatewayError) -> Response:
    body = b'{"message":"' + error.message.encode() + b'"}'
    return Response(error.status, [("content-type", "application/json"), *error.headers], body)


async def lambda_proxy(
    gateway: Gateway, inv: Invocation, stage: CompiledStage, compiled: CompiledIntegration
) -> Response:
    integration = compiled.record
    uri = substitute_stage_variables(integration.get("IntegrationUri", ""), stage.stage_variables)
    try:
        invoker = gateway.functions.resolve(uri)
    except FunctionNotFound as exc:
        log.error("no local function for %s: %s", uri, exc)
        raise GatewayInternalError(str(exc)) from None
    payload = PAYLOADS[integration.get("PayloadFormatVersion", "1.0")]
    event = payload.build(inv)
    started = time.monotonic()
    inv.integration_request_id = request_id = new_request_id()  # the function's own
    try:
        limit = integration.get("TimeoutInMillis", 30000) / 1000
        result = await invoker.invoke(event, request_id, limit)
    except CallerTimeout:
        raise GatewayServiceUnavailable("the integration timed out") from None
    except InvocationError as exc:
        log.warning("function failed for %s: %s", uri, exc)
        raise GatewayInternalError(str(exc)) from None
    finally:
        inv.integration_latency = int((time.monotonic() - started) * 1000)
    inv.integration_status = "200"
    try:
        reply = payload.interpret(result)
    except MalformedResponse as exc:
        log.warning("malformed Lambda proxy response from %s: %s", uri, exc)
        raise GatewayInternalError(f"malformed Lambda proxy response: {exc}") from None
    return Response(reply.status, reply.headers, reply.body)


async def http_proxy(
    gateway: Gateway, inv: Invocation, stage: CompiledStage, compiled: CompiledIntegration
) -> Response:
    integration = compiled.record
    uri = substitute_stage_variables(integration.get("IntegrationUri", ""), stage.stage_variables)
    variables = stage.stage_variables
    mapped = compiled.request_mapping.apply(inv, variables) if compiled.request_mapping else None
    started = time.monotonic()
    try:
        reply = await gateway.http.stream(inv, integration, uri, mapped)
        if reply.rest is not None and _maps_from_body(compiled, reply.status):
            reply = await reply.whole()
    except IntegrationTimeout as exc:
        raise GatewayServiceUnavailable(str(exc)) from None
    except IntegrationFailure as exc:
        log.warning("HTTP integration %s failed: %s", uri, exc)
        raise GatewayInternalError(str(exc)) from None
    finally:
        inv.integration_latency = int((time.monotonic() - started) * 1000)
    inv.integration_status = str(reply.status)
    if compiled.response_mapping is None and stage.cors is None and reply.rest is None:
        return Response(reply.status, [], reply.body, wire=reply.wire_headers())
    status, headers = reply.status, list(reply.headers)
    if compiled.response_mapping is not None:
        status, headers = compiled.response_mapping.apply(
            inv, status, headers, reply.body, variables
        )
    rest = None if reply.rest is None else _counted(inv, reply.rest)
    return Response(status, headers, reply.body, rest)


def _maps_from_body(compiled: CompiledIntegration, status: int) -> bool:
    mapping = compiled.response_mapping
    return mapping is not None and mapping.reads_body(status)


async def _counted(
    inv: Invocation, chunks: AsyncGenerator[bytes, None]
) -> AsyncGenerator[bytes, None]:
    """``chunks``, their bytes added to ``inv.response_length`` as they pass."""
    async with aclosing(chunks):
        try:
            async for chunk in chunks:
                inv.response_length += len(chunk)
                yield chunk
        except GatewayError as exc:
            inv.integration_error_message = exc.detail or exc.message
            raise


def _streams_body(stage: CompiledStage, route: Route) -> bool:
    """Whether the route passes a request body on as it arrives: an HTTP_PROXY integration
    whose mapping does not read the body, behind no SigV4 check (the signature covers it)."""
    if route.get("AuthorizationType") == "AWS_IAM":
        return False
    target = route.get("Target") or ""
    compiled = stage.integrations.get(target.removeprefix("integrations/"))
    if compiled is None or compiled.record.get("IntegrationType") != "HTTP_PROXY":
        return False
    return compiled.request_mapping is None or not compiled.request_mapping.reads_body


async def read_whole_body(inv: Invocation) -> None:
    """Read the rest of a body still arriving into ``inv.body`` (413 past 10 MB)."""
    if inv.body_stream is not None:
        stream, inv.body_stream = inv.body_stream, None
        inv.body = await stream.read()


INTEGRATIONS: dict[str, Integration] = {"AWS_PROXY": lambda_proxy, "HTTP_PROXY": http_proxy}

Resolved = tuple[CompiledStage, str, str, str]
"""What ``Gateway.resolve`` finds: the stage, its name, the routed path and the account."""

_ADDRESSES_KEPT = 4096  # (host, path) pairs whose API and stage are remembered


class Gateway:
    """Serves the deployed HTTP APIs."""

    def __init__(
        self,
        settings: Settings,
        deployed: DeployedApis,
        functions: FunctionRegistry,
        http: HttpProxy,
        iam: IamVerifier,
        logs: LogWriter,
    ):
        self.settings = settings
        self.deployed = deployed
        self.functions = functions
        self.http = http
        self.iam = iam
        self.jwks = JwksCache()
        self.authorizer_cache = AuthorizerCache()
        self.logs = logs
        self.throttle = Throttle(settings.throttle_rate, settings.throttle_burst)
        self._addresses: dict[tuple[str, str], tuple[Address, Resolved]] = {}
        self._addresses_generation = -1

    def locate(self, host: str, raw_path: str) -> tuple[Address, Resolved]:
        """The API a request's Host and path address and the stage serving it (``locate``,
        then :meth:`resolve`), or the gateway's error. What was found is remembered per (host,
        path), a few thousand at most, until the deployed APIs next change: most requests
        repeat an address seen just before."""
        generation = self.deployed.generation  # read first: what follows is at least as new
        if generation != self._addresses_generation:
            self._addresses.clear()
            self._addresses_generation = generation
        key = (host, raw_path)
        found = self._addresses.get(key)
        if found is None:
            address = locate(host, raw_path)
            if address is None:
                raise GatewayNotFound("no API at this address")
            found = (address, self.resolve(address))
            if len(self._addresses) >= _ADDRESSES_KEPT:
                self._addresses.clear()
            self._addresses[key] = found
        return found

    def resolve(self, address: Address) -> Resolved:
        """The stage serving the address, its name, the routed path and the account."""
        api = self.deployed.get(address.api_id)
        if api is None or api.protocol != "HTTP":
            raise GatewayNotFound(f"no HTTP API {address.api_id}")
        selection = select_stage(address.path, api.stages)
        if selection is None:
            raise GatewayNotFound("no stage serves this path")
        stage = api.stages[selection.stage]
        if stage.api.get("DisableExecuteApiEndpoint"):
            raise GatewayForbidden("the default endpoint is disabled")
        return stage, selection.stage, selection.route_path, api.account_id

    async def serve(self, inv: Invocation, stage: CompiledStage) -> Response:
        """Steps 2 to 4 for a resolved request; gateway errors become their answers."""
        match = stage.routes.match(inv.http_method, inv.route_path)
        preflight = stage.cors.preflight(inv) if match is None and stage.cors else None
        if preflight is not None:
            response = Response(preflight.status, list(preflight.headers))
        else:
            try:
                response = await self._integrate(inv, stage, match)
            except GatewayError as exc:
                inv.error_message = exc.message
                response = error_response(exc)
            if stage.cors is not None:
                stage.cors.decorate(inv, response)
        response.headers.append(("apigw-requestid", inv.request_id))
        inv.status = response.status
        inv.response_length = len(response.body)
        return response

    async def _integrate(
        self, inv: Invocation, stage: CompiledStage, match: RouteMatch | None
    ) -> Response:
        if match is None:
            raise GatewayNotFound("no route matches")
        inv.route_key = match.route_key
        inv.path_parameters = match.path_parameters
        limits = stage.limits.get(match.route_key)
        if not self.throttle.take(inv.api_id, inv.stage, match.route_key, limits):
            raise GatewayTooManyRequests(f"route {match.route_key} is throttled")
        if inv.body_stream is not None and not _streams_body(stage, match.route):
            await read_whole_body(inv)
        if match.route.get("AuthorizationType", "NONE") != "NONE":
            await self._authorize(inv, stage, match.route)
        target = match.route.get("Target") or ""
        compiled = stage.integrations.get(target.removeprefix("integrations/"))
        if compiled is None:
            raise GatewayInternalError(f"route {match.route_key} has no integration")
        kind = compiled.record.get("IntegrationType", "")
        step = INTEGRATIONS.get(kind)
        if step is None:
            raise GatewayInternalError(f"{kind} integrations are not served yet")
        try:
            response = await step(self, inv, stage, compiled)
        except GatewayError as exc:
            inv.integration_error_message = exc.detail or exc.message
            raise
        inv.integration_response_status = response.status
        return response

    async def _authorize(self, inv: Invocation, stage: CompiledStage, route: Route) -> None:
        """The authorization step, timed and its outcome kept for ``$context.authorize.*``."""
        started = time.monotonic()
        try:
            await authorize(self, inv, stage, route)
        except GatewayError as exc:
            inv.authorize_status = exc.status
            inv.authorizer_error = exc.detail or exc.message
            raise
        else:
            inv.authorize_status = 200
        finally:
            inv.authorize_latency = int((time.monotonic() - started) * 1000)

    async def aclose(self) -> None:
        await self.functions.aclose()
        await self.http.aclose()
        await self.jwks.aclose()
        self.logs.close()


class RequestClock:
    """``$context.requestTime`` and ``requestTimeEpoch`` for now. The text changes once a
    second, so it is formatted once a second rather than per request."""

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._second = -1
        self._text = ""

    def __call__(self) -> tuple[str, int]:
        stamp = self._wall()
        second = int(stamp)
        if second != self._second:
            self._second = second
            self._text = clf_time(datetime.fromtimestamp(second, UTC))
        return self._text, int(stamp * 1000)


now = RequestClock()
