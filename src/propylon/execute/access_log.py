"""Access logs (reference §10): one line per request, rendered from the stage's format.

How this works: a stage's ``AccessLogSettings.Format`` is compiled once per compiled stage into
an ``AccessLogFormat``: the text split into literals and ``$context.<name>`` references. A
reference takes the longest known variable name that follows ``$context.`` (so in
``$context.status.`` the trailing dot stays text, and ``$context.error.messageString`` is not
``error.message`` plus ``String``); the open families ``$context.authorizer.claims.<claim>`` and
``$context.authorizer.<property>`` take the property name that follows. A reference to no known
name stays in the line as written, so a typo shows up in the log.

Rendering asks a lookup for each reference, by the name after ``$context.``, and writes what
it answers: ``-`` for None or "", ``true``/``false`` for booleans, compact JSON for lists and
objects, the text of anything else. ``http_lookup`` answers for an HTTP API request from its
``Invocation``; the WebSocket side supplies its own lookup for the same formats (the known
names in ``context_variables.py`` cover both protocols).

``StageAccessLog.write`` renders and queues one line for the stage's log group after the
response was sent; the ``LogWriter`` thread does the file I/O. Every ``CompiledStage`` carries
its ``access_log`` (None without ``AccessLogSettings``), so another protocol writes its lines as
``logs.write(stage.access_log.group, stage.access_log.format.render(its_lookup))``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from propylon.execute.context import Invocation
from propylon.execute.context_variables import HTTP_VARIABLES, WEBSOCKET_VARIABLES
from propylon.execute.logs import log_group_of

log = logging.getLogger("propylon.execute")

Lookup = Callable[[str], object | None]
"""The value of ``$context.<name>`` for one request, given ``name``; None when it has none."""

KNOWN_VARIABLES = HTTP_VARIABLES | WEBSOCKET_VARIABLES
FAMILIES = ("authorizer.claims.", "authorizer.")
"""Prefixes followed by a name of the caller's choosing (a JWT claim, an authorizer property)."""

_REFERENCE = re.compile(r"\$context\.([A-Za-z0-9_.:\-]*)")
_PROPERTY = re.compile(r"[A-Za-z0-9_:\-]+")
_WORD = re.compile(r"[A-Za-z0-9_]")


def _variable(candidate: str) -> str | None:
    """The longest variable name ``candidate`` starts with, or None."""
    best: str | None = None
    for name in KNOWN_VARIABLES:
        bounded = candidate.startswith(name) and not _WORD.match(candidate, len(name))
        if bounded and (best is None or len(name) > len(best)):
            best = name
    for family in FAMILIES:
        if candidate.startswith(family):
            found = _PROPERTY.match(candidate, len(family))
            if found is not None:
                name = family + found[0].rstrip(":-")
                if best is None or len(name) > len(best):
                    best = name
    return best


def _text(value: object | None) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), default=str)


class AccessLogFormat:
    """A compiled access-log format: ``render(lookup)`` gives one line."""

    __slots__ = ("format", "parts", "tail")

    def __init__(self, log_format: str) -> None:
        self.format = log_format
        parts: list[tuple[str, str]] = []
        position = 0
        for reference in _REFERENCE.finditer(log_format):
            name = _variable(reference[1])
            if name is not None:
                parts.append((log_format[position : reference.start()], name))
                position = reference.start() + len("$context.") + len(name)
        self.parts: tuple[tuple[str, str], ...] = tuple(parts)
        """(literal text, the variable after it), in order."""
        self.tail = log_format[position:]
        """The literal text after the last variable."""

    @property
    def variables(self) -> tuple[str, ...]:
        """The variable names the format refers to, in order."""
        return tuple(name for _, name in self.parts)

    def render(self, lookup: Lookup) -> str:
        pieces: list[str] = []
        for literal, name in self.parts:
            pieces.append(literal)
            pieces.append(_text(lookup(name)))
        pieces.append(self.tail)
        return "".join(pieces)


# --- HTTP APIs ---------------------------------------------------------------------------------


def _kind(inv: Invocation, kind: str) -> Mapping[str, Any]:
    found = (inv.authorizer or {}).get(kind)
    return found if isinstance(found, Mapping) else {}


def _claims(inv: Invocation) -> Mapping[str, Any]:
    claims = _kind(inv, "jwt").get("claims")
    return claims if isinstance(claims, Mapping) else {}


def _principal_id(inv: Invocation) -> object | None:
    return inv.principal_id or _kind(inv, "lambda").get("principalId")


def _cognito(inv: Invocation, name: str) -> object | None:
    cognito = _kind(inv, "iam").get("cognitoIdentity")
    return cognito.get(name) if isinstance(cognito, Mapping) else None


def _error(inv: Invocation) -> str | None:
    return None if inv.error_message == "-" else inv.error_message


def _quoted_error(inv: Invocation) -> str | None:
    message = _error(inv)
    return None if message is None else f'"{message}"'


_RESPONSE_TYPES = {
    401: "UNAUTHORIZED",
    403: "ACCESS_DENIED",
    404: "RESOURCE_NOT_FOUND",
    413: "REQUEST_TOO_LARGE",
    429: "THROTTLED",
    503: "INTEGRATION_TIMEOUT",
}


def response_type(inv: Invocation) -> str | None:
    """``$context.error.responseType``: the gateway-response type of the gateway's own answer
    (REST API names, as AWS documents the variable by them), None when the answer was not the
    gateway's."""
    if inv.error_message == "-":
        return None
    if inv.status in _RESPONSE_TYPES:
        return _RESPONSE_TYPES[inv.status]
    if inv.status == 500:
        if inv.authorizer_error is not None:
            return "AUTHORIZER_FAILURE"
        if inv.integration_error_message != "-":
            return "INTEGRATION_FAILURE"
    return "DEFAULT_5XX" if inv.status >= 500 else "DEFAULT_4XX"


def _dash(value: str) -> str | None:
    return None if value == "-" else value


_HTTP_VALUES: dict[str, Callable[[Invocation], object | None]] = {
    "accountId": lambda inv: inv.account_id,
    "apiId": lambda inv: inv.api_id,
    "authorize.error": lambda inv: inv.authorizer_error,
    "authorize.latency": lambda inv: inv.authorize_latency,
    "authorize.status": lambda inv: inv.authorize_status,
    "authorizer.claims": lambda inv: None,
    "authorizer.error": lambda inv: inv.authorizer_error,
    "authorizer.latency": lambda inv: inv.authorize_latency,
    "authorizer.principalId": _principal_id,
    "authorizer.status": lambda inv: inv.authorize_status,
    "awsEndpointRequestId": lambda inv: inv.integration_request_id,
    "awsEndpointRequestId2": lambda inv: None,
    "customDomain.basePathMatched": lambda inv: inv.base_path_matched,
    "dataProcessed": lambda inv: len(inv.body) + inv.response_length,
    "domainName": lambda inv: inv.domain_name,
    "domainPrefix": lambda inv: inv.domain_prefix,
    "error.message": _error,
    "error.messageString": _quoted_error,
    "error.responseType": response_type,
    "extendedRequestId": lambda inv: inv.request_id,
    "httpMethod": lambda inv: inv.http_method,
    "identity.accountId": lambda inv: _kind(inv, "iam").get("accountId"),
    "identity.caller": lambda inv: _kind(inv, "iam").get("callerId"),
    "identity.clientCert.clientCertPem": lambda inv: None,
    "identity.clientCert.issuerDN": lambda inv: None,
    "identity.clientCert.serialNumber": lambda inv: None,
    "identity.clientCert.subjectDN": lambda inv: None,
    "identity.clientCert.validity.notAfter": lambda inv: None,
    "identity.clientCert.validity.notBefore": lambda inv: None,
    "identity.cognitoAuthenticationProvider": lambda inv: None,
    "identity.cognitoAuthenticationType": lambda inv: None,
    "identity.cognitoIdentityId": lambda inv: _cognito(inv, "identityId"),
    "identity.cognitoIdentityPoolId": lambda inv: _cognito(inv, "identityPoolId"),
    "identity.principalOrgId": lambda inv: _kind(inv, "iam").get("principalOrgId"),
    "identity.sourceIp": lambda inv: inv.source_ip,
    "identity.user": lambda inv: _kind(inv, "iam").get("userId"),
    "identity.userAgent": lambda inv: inv.user_agent,
    "identity.userArn": lambda inv: _kind(inv, "iam").get("userArn"),
    "integration.error": lambda inv: _dash(inv.integration_error_message),
    "integration.integrationStatus": lambda inv: _dash(inv.integration_status),
    "integration.latency": lambda inv: inv.integration_latency,
    "integration.requestId": lambda inv: inv.integration_request_id,
    "integration.status": lambda inv: inv.integration_response_status,
    "integrationErrorMessage": lambda inv: _dash(inv.integration_error_message),
    "integrationLatency": lambda inv: inv.integration_latency,
    "integrationStatus": lambda inv: _dash(inv.integration_status),
    "path": lambda inv: inv.path,
    "protocol": lambda inv: inv.protocol,
    "requestId": lambda inv: inv.request_id,
    "requestTime": lambda inv: inv.request_time,
    "requestTimeEpoch": lambda inv: inv.request_time_epoch // 1000,
    "responseLatency": lambda inv: inv.response_latency,
    "responseLength": lambda inv: inv.response_length,
    "routeKey": lambda inv: _dash(inv.route_key),
    "stage": lambda inv: inv.stage,
    "status": lambda inv: inv.status or None,
}
"""Every HTTP API variable (reference §10.2) → its value for a request."""

_CLAIM = "authorizer.claims."
_PROPERTY_PREFIX = "authorizer."


def http_lookup(inv: Invocation) -> Lookup:
    """The ``$context`` variables of an HTTP API request."""

    def lookup(name: str) -> object | None:
        value = _HTTP_VALUES.get(name)
        if value is not None:
            return value(inv)
        if name.startswith(_CLAIM):
            return _claims(inv).get(name[len(_CLAIM) :])
        if name.startswith(_PROPERTY_PREFIX):
            return _kind(inv, "lambda").get(name[len(_PROPERTY_PREFIX) :])
        return None

    return lookup


# --- a stage's access log ------------------------------------------------------------------


class LogSink(Protocol):
    """Where lines go: the gateway's ``LogWriter``."""

    def write(self, group: str, line: str) -> None: ...


@dataclass(frozen=True, slots=True)
class StageAccessLog:
    """Where a stage's access log goes and how its lines look."""

    group: str
    """The CloudWatch Logs group named by ``DestinationArn``."""
    format: AccessLogFormat

    def write(self, logs: LogSink, inv: Invocation, wall: Callable[[], float] = time.time) -> None:
        """Queue the line for a request whose response was sent (``responseLatency`` is now)."""
        inv.response_latency = max(0, int(wall() * 1000) - inv.request_time_epoch)
        logs.write(self.group, self.format.render(http_lookup(inv)))


def compile_access_log(settings: Mapping[str, Any] | None) -> StageAccessLog | None:
    """A stage's ``AccessLogSettings`` compiled; None when it has none (or none usable)."""
    if not settings or not settings.get("Format"):
        return None
    group = log_group_of(settings.get("DestinationArn") or "")
    if group is None:
        log.error("access log destination %r is not a log group", settings.get("DestinationArn"))
        return None
    return StageAccessLog(group, AccessLogFormat(settings["Format"]))
