"""Lambda proxy payloads (AWS_PROXY): the event sent to a function and how its reply is read.

How it works
------------
Everything here is pure: :func:`build_event_v2` / :func:`build_event_v1` turn an
:class:`~propylon.execute.context.Invocation` into the JSON-ready event of payload format 2.0 or
1.0 (reference §3.2, §3.3); :mod:`propylon.execute.replies` reads what the function returns
(§3.5). The chain picks the pair through :data:`PAYLOADS` by the integration's
``PayloadFormatVersion``.

The two formats differ mostly in how they flatten repeats and absences:

* 2.0 comma-joins repeated headers and query values, moves ``cookie`` headers into a
  ``cookies`` array (one element per cookie, nameless ones dropped) and *omits* empty maps and an
  absent body.
* 1.0 keeps the *last* value in ``headers``/``queryStringParameters``, every value in the
  ``multiValue*`` maps, leaves the cookie header where it is and uses ``null`` for empty maps
  and an absent body.

Request bodies are sent as text only for ``text/*``, JSON, XML and JavaScript content types;
anything else, including a missing content type, is base64 (§3.4), for both formats.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from propylon.execute.context import Invocation
from propylon.execute.replies import LambdaReply, interpret_v1, interpret_v2

_TEXT_CONTENT_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})


# --- request: shared helpers ------------------------------------------------------------------


def _grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for name, value in pairs:
        groups.setdefault(name, []).append(value)
    return groups


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in pairs:
        before = joined.get(name)
        joined[name] = value if before is None else f"{before},{value}"
    return joined


def _last(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    return dict(pairs)  # later pairs overwrite earlier ones


def _is_text(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in _TEXT_CONTENT_TYPES


def encode_body(inv: Invocation) -> tuple[str | None, bool]:
    """The request body as the event carries it, and ``isBase64Encoded`` (§3.4).

    None when the request has no body. A "text" body that is not valid UTF-8 is sent as base64
    rather than mangled (AWS's behaviour there is not known).
    """
    if not inv.body:
        return None, False
    if _is_text(inv.header("content-type")):
        try:
            return inv.body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(inv.body).decode("ascii"), True


def _add_cookies(header: str, cookies: list[str]) -> None:
    """Every ``name=value`` of one ``cookie`` header onto ``cookies``; nameless (or ``=``-less)
    ones dropped."""
    for part in header.split(";"):
        cookie = part.strip()
        name_part, equals, _ = cookie.partition("=")
        if equals and name_part.strip():
            cookies.append(cookie)


def _route_path(route_key: str) -> str:
    """``/pets/{id}`` for ``GET /pets/{id}``; ``$default`` stays ``$default`` (observed)."""
    return route_key.partition(" ")[2] or route_key


# --- request: payload 2.0 ---------------------------------------------------------------------


def build_event_v2(inv: Invocation) -> dict[str, Any]:
    """The payload format 2.0 event for ``inv`` (reference §3.2, §3.6)."""
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": inv.route_key,
        "rawPath": inv.raw_path,
        "rawQueryString": inv.raw_query_string,
    }
    # One pass over the headers (this runs for every request): cookies apart, the rest joined.
    headers: dict[str, str] = {}
    cookies: list[str] = []
    user_agent = ""  # the last one, as Invocation.user_agent gives it
    for name, value in inv.headers:
        if name == "cookie":
            _add_cookies(value, cookies)
            continue
        if name == "user-agent":
            user_agent = value
        before = headers.get(name)
        headers[name] = value if before is None else f"{before},{value}"
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if inv.query:
        event["queryStringParameters"] = _joined(inv.query)
    if inv.path_parameters:
        event["pathParameters"] = dict(inv.path_parameters)
    if inv.stage_variables:
        event["stageVariables"] = dict(inv.stage_variables)
    event["requestContext"] = _request_context_v2(inv, user_agent)
    body, is_base64 = encode_body(inv) if inv.body else (None, False)
    if body is not None:
        event["body"] = body
    event["isBase64Encoded"] = is_base64
    return event


def _request_context_v2(inv: Invocation, user_agent: str) -> dict[str, Any]:
    context = {
        "accountId": inv.account_id,
        "apiId": inv.api_id,
        "domainName": inv.domain_name,
        "domainPrefix": inv.domain_prefix,
        "http": {
            "method": inv.http_method,
            "path": inv.path,
            "protocol": inv.protocol,
            "sourceIp": inv.source_ip,
            "userAgent": user_agent,
        },
        "requestId": inv.request_id,
        "routeKey": inv.route_key,
        "stage": inv.stage,
        "time": inv.request_time,
        "timeEpoch": inv.request_time_epoch,
    }
    if inv.authorizer is None:
        return context
    # AWS's order, the authorizer after apiId: later keys keep the place of the first ones
    return {"accountId": "", "apiId": "", "authorizer": inv.authorizer, **context}


# --- request: payload 1.0 ---------------------------------------------------------------------


def build_event_v1(inv: Invocation) -> dict[str, Any]:
    """The payload format 1.0 event for ``inv`` (reference §3.3); empty maps are ``null``."""
    body, is_base64 = encode_body(inv)
    return {
        "version": "1.0",
        "resource": _route_path(inv.route_key),
        "path": inv.path,
        "httpMethod": inv.http_method,
        "headers": _last(inv.headers) or None,
        "multiValueHeaders": _grouped(inv.headers) or None,
        "queryStringParameters": _last(inv.query) or None,
        "multiValueQueryStringParameters": _grouped(inv.query) or None,
        "requestContext": _request_context_v1(inv),
        "pathParameters": dict(inv.path_parameters) or None,
        "stageVariables": dict(inv.stage_variables) or None,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _request_context_v1(inv: Invocation) -> dict[str, Any]:
    context: dict[str, Any] = {"accountId": inv.account_id, "apiId": inv.api_id}
    authorizer = _authorizer_v1(inv.authorizer)
    if authorizer is not None:
        context["authorizer"] = authorizer
    context.update(
        domainName=inv.domain_name,
        domainPrefix=inv.domain_prefix,
        extendedRequestId=inv.request_id,
        httpMethod=inv.http_method,
        identity=_identity_v1(inv),
        path=inv.path,
        protocol=inv.protocol,
        requestId=inv.request_id,
        requestTime=inv.request_time,
        requestTimeEpoch=inv.request_time_epoch,
        resourceId=inv.route_key,
        resourcePath=_route_path(inv.route_key),
        stage=inv.stage,
    )
    return context


def _jwt_v1(jwt: Mapping[str, Any]) -> dict[str, Any]:
    return {"claims": jwt.get("claims"), "scopes": jwt.get("scopes")}


_V1_AUTHORIZERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "jwt": _jwt_v1,
    "lambda": dict,
}
"""2.0 authorizer kind → its 1.0 ``requestContext.authorizer``. IAM has none: it fills
``identity`` instead (see :func:`_identity_v1`)."""


def _authorizer_v1(authorizer: Mapping[str, Any] | None) -> dict[str, Any] | None:
    for kind, value in (authorizer or {}).items():
        convert = _V1_AUTHORIZERS.get(kind)
        if convert is not None:
            return convert(value or {})
    return None


def _identity_v1(inv: Invocation) -> dict[str, Any]:
    """The caller's identity: all null but the peer, unless IAM (SigV4) authorized the call."""
    iam = (inv.authorizer or {}).get("iam") or {}
    cognito = iam.get("cognitoIdentity") or {}
    return {
        "accessKey": iam.get("accessKey"),
        "accountId": iam.get("accountId"),
        "caller": iam.get("callerId"),
        "cognitoAmr": cognito.get("amr"),
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": cognito.get("identityId"),
        "cognitoIdentityPoolId": cognito.get("identityPoolId"),
        "principalOrgId": iam.get("principalOrgId"),
        "sourceIp": inv.source_ip,
        "user": iam.get("userId"),
        "userAgent": inv.user_agent,
        "userArn": iam.get("userArn"),
    }


# --- dispatch ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Payload:
    """One payload format version: how to build its event and read its reply."""

    build: Callable[[Invocation], dict[str, Any]]
    interpret: Callable[[Any], LambdaReply]


PAYLOADS: dict[str, Payload] = {
    "1.0": Payload(build_event_v1, interpret_v1),
    "2.0": Payload(build_event_v2, interpret_v2),
}
"""``PayloadFormatVersion`` → its :class:`Payload`."""
