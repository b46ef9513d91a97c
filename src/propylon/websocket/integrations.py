"""WebSocket integrations other than Lambda proxy: MOCK, HTTP, HTTP_PROXY and AWS (reference 12.3
to 12.5).

How this works
--------------
:func:`call` runs one route's integration for one message, in four steps:

1. **Integration request.** For MOCK, HTTP and AWS, the request template that the integration's
   ``TemplateSelectionExpression`` picks (falling back to ``$default``) renders the body; with no
   template, ``PassthroughBehavior`` passes the message on or refuses it
   (:mod:`propylon.websocket.templates`). HTTP_PROXY sends the message as it came.
2. **Backend**, by ``IntegrationType`` (the ``BACKENDS`` table): MOCK reads ``statusCode`` from
   the rendered request; HTTP and HTTP_PROXY send the body through the gateway's HTTP client
   (``RequestParameters`` mapped, ``TimeoutInMillis`` honoured); AWS invokes a local Lambda
   function with the rendered request as its event. Other AWS services cannot run locally.
3. **Integration response** (not for HTTP_PROXY, whose answer is the reply as is). The value
   AWS selects on (the status for HTTP and MOCK, the ``errorMessage`` of a Lambda function
   error) is matched against each ``/regex/`` ``IntegrationResponseKey`` (whole value, keys in
   sorted order), else ``$default`` applies. Its ``ResponseTemplates``, picked by its own
   ``TemplateSelectionExpression``, render the reply from the backend's body. Without an
   integration response the body passes unchanged; a Lambda error that nothing maps is a 500.
4. **Route response.** Only a two-way route (:func:`is_two_way`) sends the reply to the client;
   for a one-way route the reply has no body and no response template is rendered.

Failures are gateway errors: a timeout is 503, an unreachable backend, a template that cannot be
rendered or an unmapped function error 500, and a message refused by ``PassthroughBehavior``
415; the caller turns them into error frames (or a refused handshake on ``$connect``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from propylon.errors import GatewayError, GatewayInternalError, GatewayServiceUnavailable
from propylon.execute.chain import substitute_stage_variables
from propylon.functions import FunctionError, FunctionNotFound, FunctionTimeout, InvocationError
from propylon.functions.arns import parse_function_uri
from propylon.functions.context import new_request_id
from propylon.functions.errors import CallerTimeout
from propylon.websocket.templates import (
    DEFAULT_KEY,
    BackendReply,
    compact_json,
    evaluate_selection,
    pick_template,
    render,
    transform_request,
)

if TYPE_CHECKING:
    from propylon.execute.chain import Gateway

log = logging.getLogger("propylon.websocket")

DEFAULT_TIMEOUT_MS = 29_000
"""``TimeoutInMillis`` of a WebSocket integration that has none (reference 12.4)."""

_STATUS_CODE = re.compile(r"\"statusCode\"\s*:\s*\"?(\d{3})")
_TARGET = re.compile(r"integration\.request\.(header|querystring|path)\.(.+)")


@dataclass(slots=True)
class WsMessage:
    """One event of a connection, as an integration sees it."""

    route_key: str
    body: str
    """The message text; ``""`` on ``$connect`` and ``$disconnect``."""
    context: Mapping[str, Any]
    """``$context`` variables by name without ``$context.`` (``identity`` and ``authorizer``
    are nested mappings)."""
    headers: Mapping[str, str]
    """Request headers on ``$connect`` (lower-case names), else empty."""
    query: Mapping[str, str]
    """The query string on ``$connect``, else empty."""
    stage_variables: Mapping[str, str]


@dataclass(slots=True)
class WsReply:
    status: int
    """The integration's status; on ``$connect`` a non-2xx refuses the connection."""
    body: str | None
    """What to send back to the client (two-way routes only); None: send nothing."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a backend answered, and what its integration response is selected by."""

    reply: BackendReply
    selector: str | None
    """Matched against ``/regex/`` keys; None: only ``$default`` applies."""
    data: bytes | None = None
    """The backend's body as bytes, for ``CONVERT_TO_TEXT``."""
    failed: bool = False
    """A Lambda function error: a 500 unless an integration response maps it."""


Backend = Callable[["Gateway", Mapping[str, Any], WsMessage], Awaitable[Outcome]]


def is_two_way(route: Mapping[str, Any]) -> bool:
    """A route answers its client only with a ``RouteResponseSelectionExpression`` and a
    ``$default`` route response (reference 12.3)."""
    responses = route.get("_routeresponses") or ()
    return bool(route.get("RouteResponseSelectionExpression")) and any(
        response.get("RouteResponseKey") == DEFAULT_KEY for response in responses
    )


async def call(
    gateway: Gateway, route: Mapping[str, Any], integration: Mapping[str, Any], message: WsMessage
) -> WsReply:
    """Run ``integration`` for ``message`` on ``route``; raises GatewayError subclasses."""
    kind = integration.get("IntegrationType", "")
    backend = BACKENDS.get(kind)
    if backend is None:
        raise GatewayInternalError(f"{kind} integrations are not served by this module")
    outcome = await backend(gateway, integration, message)
    two_way = is_two_way(route)
    if kind == "HTTP_PROXY":
        reply = WsReply(outcome.reply.status, outcome.reply.body or None)
    else:
        reply = integration_response(integration, outcome, message, render_body=two_way)
    if not two_way:
        reply.body = None
    return reply


# --- step 3: integration responses -------------------------------------------------------------


def _key_matches(key: str, value: str) -> bool:
    if len(key) < 3 or not key.startswith("/") or not key.endswith("/"):
        return False
    try:
        return re.fullmatch(key[1:-1], value) is not None  # "." stops at a newline, as in Java
    except re.error:
        return False


def select_integration_response(
    integration: Mapping[str, Any], selector: str | None
) -> Mapping[str, Any] | None:
    """The integration response whose regex key matches ``selector``, else ``$default``."""
    responses: list[Mapping[str, Any]] = sorted(
        integration.get("_integrationresponses") or (),
        key=lambda response: str(response.get("IntegrationResponseKey", "")),
    )
    if selector is not None:
        for response in responses:
            if _key_matches(str(response.get("IntegrationResponseKey", "")), selector):
                return response
    defaults = [r for r in responses if r.get("IntegrationResponseKey") == DEFAULT_KEY]
    return defaults[0] if defaults else None


def integration_response(
    integration: Mapping[str, Any], outcome: Outcome, message: WsMessage, *, render_body: bool
) -> WsReply:
    """The reply after the integration response that applies (step 3)."""
    reply = outcome.reply
    response = select_integration_response(integration, outcome.selector)
    if response is None:
        if outcome.failed:
            log.warning("function error mapped by no integration response: %s", reply.body)
            raise GatewayInternalError(f"function error not mapped: {reply.body}")
        return WsReply(reply.status, reply.body or None)
    body = reply.body
    if response.get("ContentHandlingStrategy") == "CONVERT_TO_TEXT" and outcome.data is not None:
        body = base64.b64encode(outcome.data).decode()
    if render_body:
        template = pick_template(
            response.get("ResponseTemplates"),
            response.get("TemplateSelectionExpression"),
            message,
            reply,
        )
        if template is not None:
            body = render(template, message, body)
    return WsReply(reply.status, body or None)


# --- step 2: backends --------------------------------------------------------------------------


def mock_status(rendered: str) -> int:
    """The status a MOCK integration answers: ``statusCode`` of its rendered request (200
    without one)."""
    try:
        document = json.loads(rendered)
    except (ValueError, RecursionError):
        document = None
    value = document.get("statusCode") if isinstance(document, dict) else None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        match = _STATUS_CODE.search(rendered)  # a template that renders almost-JSON
        value = int(match[1]) if match else 200
    if not 100 <= value <= 599:
        raise GatewayInternalError(f"MOCK statusCode {value} is not an HTTP status")
    return value


async def mock(gateway: Gateway, integration: Mapping[str, Any], message: WsMessage) -> Outcome:
    status = mock_status(transform_request(integration, message))
    return Outcome(BackendReply(status), str(status))


async def http(gateway: Gateway, integration: Mapping[str, Any], message: WsMessage) -> Outcome:
    body = transform_request(integration, message)
    if integration.get("ContentHandlingStrategy") == "CONVERT_TO_BINARY":
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise GatewayInternalError("CONVERT_TO_BINARY: the request is not base64") from None
    else:
        data = body.encode()
    outcome = await _send(gateway, integration, message, data)
    return Outcome(outcome.reply, str(outcome.reply.status), outcome.data)


async def http_proxy(
    gateway: Gateway, integration: Mapping[str, Any], message: WsMessage
) -> Outcome:
    return await _send(gateway, integration, message, message.body.encode())


async def _send(
    gateway: Gateway, integration: Mapping[str, Any], message: WsMessage, data: bytes
) -> Outcome:
    uri = substitute_stage_variables(integration.get("IntegrationUri", ""), message.stage_variables)
    url, headers = map_request(integration, message, uri)
    if data and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    method = integration.get("IntegrationMethod") or "POST"
    timeout_ms = integration.get("TimeoutInMillis") or DEFAULT_TIMEOUT_MS
    try:
        upstream = await gateway.http.send(
            "POST" if method == "ANY" else method, url, data, headers, timeout_ms
        )
    except GatewayError as exc:
        log.warning("WebSocket integration %s failed: %s", url, exc.detail)
        raise
    text = upstream.body.decode("utf-8", "replace")
    return Outcome(BackendReply(upstream.status, text, upstream.headers), None, upstream.body)


def _parameter(source: str, message: WsMessage) -> str:
    """One ``RequestParameters`` value (reference 12.4)."""
    if len(source) >= 2 and source[0] == source[-1] == "'":
        return source[1:-1]
    for prefix in ("route.request.header.", "route.request.multivalueheader."):
        if source.startswith(prefix):
            return message.headers.get(source.removeprefix(prefix).lower(), "")
    for prefix in ("route.request.querystring.", "route.request.multivaluequerystring."):
        if source.startswith(prefix):
            return message.query.get(source.removeprefix(prefix), "")
    if source.startswith("route.request.body"):
        return evaluate_selection("${" + source.removeprefix("route.") + "}", message)
    if source.startswith(("context.", "stageVariables.")):
        return evaluate_selection("${" + source + "}", message)
    return source


def map_request(
    integration: Mapping[str, Any], message: WsMessage, uri: str
) -> tuple[str, list[tuple[str, str]]]:
    """The URL and headers after the integration's ``RequestParameters``: headers set, query
    parameters added, ``{name}`` path placeholders filled."""
    headers: list[tuple[str, str]] = []
    query: list[tuple[str, str]] = []
    for target, source in (integration.get("RequestParameters") or {}).items():
        match = _TARGET.fullmatch(target)
        if match is None:
            continue
        where, name = match.groups()
        value = _parameter(str(source), message)
        if where == "header":
            headers.append((name, value))
        elif where == "querystring":
            query.append((name, value))
        else:
            uri = uri.replace("{" + name + "}", quote(value, safe=""))
    if query:
        uri += ("&" if "?" in uri else "?") + urlencode(query)
    return uri, headers


def _is_lambda(integration: Mapping[str, Any], uri: str) -> bool:
    return not integration.get("IntegrationSubtype") and parse_function_uri(uri) is not None


def _lambda_event(rendered: str) -> Any:
    if not rendered.strip():
        return {}
    try:
        return json.loads(rendered)
    except (ValueError, RecursionError) as exc:
        raise GatewayInternalError(f"the Lambda integration request is not JSON: {exc}") from None


async def aws(gateway: Gateway, integration: Mapping[str, Any], message: WsMessage) -> Outcome:
    """A Lambda custom (non-proxy) integration; other AWS services cannot run locally."""
    uri = substitute_stage_variables(integration.get("IntegrationUri", ""), message.stage_variables)
    if not _is_lambda(integration, uri):
        service = integration.get("IntegrationSubtype") or uri
        log.error("AWS service integration %s cannot be called locally", service)
        raise GatewayInternalError(
            f"AWS service integration {service} cannot be called locally: "
            "only Lambda functions run in Propylon"
        )
    event = _lambda_event(transform_request(integration, message))
    try:
        invoker = gateway.functions.resolve(uri)
    except FunctionNotFound as exc:
        log.error("no local function for %s: %s", uri, exc)
        raise GatewayInternalError(str(exc)) from None
    timeout = (integration.get("TimeoutInMillis") or DEFAULT_TIMEOUT_MS) / 1000
    request_id = new_request_id()
    try:
        async with asyncio.timeout(timeout):
            result = await invoker.invoke(event, request_id, timeout)
    except (TimeoutError, CallerTimeout):
        raise GatewayServiceUnavailable(f"the function did not answer within {timeout}s") from None
    except FunctionError as exc:
        log.warning("function failed for %s: %s", uri, exc)
        return _function_error(exc.payload())
    except FunctionTimeout as exc:
        log.warning("function timed out for %s: %s", uri, exc)
        text = f"{exc.request_id} Task timed out after {exc.timeout:.2f} seconds"
        return _function_error({"errorMessage": text})
    except InvocationError as exc:
        log.warning("function invocation failed for %s: %s", uri, exc)
        raise GatewayInternalError(str(exc)) from None
    return Outcome(BackendReply(200, compact_json(result)), None)


def _function_error(payload: Mapping[str, str]) -> Outcome:
    """Lambda answers a function error with 200 and the error as body; the integration
    response is selected by its ``errorMessage``."""
    body = compact_json(payload)
    return Outcome(BackendReply(200, body), payload.get("errorMessage", ""), failed=True)


BACKENDS: dict[str, Backend] = {"MOCK": mock, "HTTP": http, "HTTP_PROXY": http_proxy, "AWS": aws}
"""``IntegrationType`` → the backend it calls (Lambda proxy is served elsewhere)."""
