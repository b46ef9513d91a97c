"""Lambda proxy payloads (AWS_PROXY): the event sent to a function and how its reply is read.

How it works
------------
Everything here is pure: :func:`build_event_v2` / :func:`build_event_v1` turn an
:class:`~propylon.execute.context.Invocation` into the JSON-ready event of payload format 2.0 or
1.0 (reference §3.2, §3.3), and :func:`interpret_v2` / :func:`interpret_v1` turn the decoded JSON
the function returned into a :class:`LambdaReply` (§3.5). The chain picks the pair through
:data:`PAYLOADS` by the integration's ``PayloadFormatVersion``.

The two formats differ mostly in how they flatten repeats and absences:

* 2.0 comma-joins repeated headers and query values, moves ``cookie`` headers into a
  ``cookies`` array (one element per cookie, nameless ones dropped) and *omits* empty maps and an
  absent body.
* 1.0 keeps the *last* value in ``headers``/``queryStringParameters``, every value in the
  ``multiValue*`` maps, leaves the cookie header where it is and uses ``null`` for empty maps
  and an absent body.

Request bodies are sent as text only for ``text/*``, JSON, XML and JavaScript content types;
anything else, including a missing content type, is base64 (§3.4), for both formats.

On the way back, 2.0 *infers* a response from anything that is not an object with
``statusCode``: 200, ``content-type: application/json``, the value as body (a string as is,
anything else serialized). 1.0 infers nothing. A reply that cannot be read raises
:class:`MalformedResponse`, which the chain answers with ``500 {"message":"Internal Server
Error"}``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from propylon.execute.context import Invocation

_TEXT_CONTENT_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})
_JSON_HEADERS = [("content-type", "application/json")]


class MalformedResponse(ValueError):
    """A function's reply the gateway cannot turn into an HTTP response (answered with 500)."""


@dataclass(slots=True)  # not frozen: built per request, frozen costs 3x
class LambdaReply:
    """The HTTP response a function's reply describes."""

    status: int
    headers: list[tuple[str, str]]
    """In order; a name may repeat (several ``set-cookie`` lines)."""
    body: bytes


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
    for name, value in inv.headers:
        if name == "cookie":
            _add_cookies(value, cookies)
            continue
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
    event["requestContext"] = _request_context_v2(inv)
    body, is_base64 = encode_body(inv) if inv.body else (None, False)
    if body is not None:
        event["body"] = body
    event["isBase64Encoded"] = is_base64
    return event


def _request_context_v2(inv: Invocation) -> dict[str, Any]:
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
            "userAgent": inv.user_agent,
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


# --- response: shared helpers -----------------------------------------------------------------


def _status(value: Any) -> int:
    if type(value) is int and 100 <= value <= 599:  # nearly always
        return value
    integral = (
        (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, float) and value.is_integer())
        or (isinstance(value, str) and value.isascii() and value.isdigit())
    )
    if not integral or not 100 <= int(value) <= 599:
        raise MalformedResponse(f"statusCode {value!r} is not an HTTP status code")
    return int(value)


def _header_value(name: str, value: Any) -> str:
    """A header value as text; numbers and booleans are accepted and written as JSON would."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool | int | float):
        text = json.dumps(value)
    else:
        raise MalformedResponse(f"header {name!r} has a value of type {type(value).__name__}")
    if "\r" in text or "\n" in text or "\r" in name or "\n" in name or not name:
        raise MalformedResponse(f"header {name!r} cannot be sent")
    return text


def _mapping(result: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = result.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedResponse(f"{key} is not an object")
    return value


def _headers(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    headers = _mapping(result, "headers")
    return [(name, _header_value(name, value)) for name, value in headers.items()]


def _string_list(result: Mapping[str, Any], key: str) -> list[str]:
    value = result.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MalformedResponse(f"{key} is not a list of strings")
    return value


def _body(result: Mapping[str, Any]) -> bytes:
    body = result.get("body")
    is_base64 = result.get("isBase64Encoded")
    if not isinstance(is_base64, bool | None):
        raise MalformedResponse("isBase64Encoded is not a boolean")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResponse("body is not a string")
    if not is_base64:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedResponse("body is not valid base64") from exc


# --- response: payload 2.0 --------------------------------------------------------------------


def interpret_v2(result: Any) -> LambdaReply:
    """Read a 2.0 reply: structured when it is an object with ``statusCode``, else inferred."""
    if isinstance(result, dict) and "statusCode" in result:
        return _structured_v2(result)
    return LambdaReply(200, list(_JSON_HEADERS), _inferred_body(result))


def _inferred_body(result: Any) -> bytes:
    if isinstance(result, str):
        return result.encode("utf-8")
    try:
        text = json.dumps(result, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise MalformedResponse("the function's reply is not JSON") from exc
    return text.encode("utf-8")


def _structured_v2(result: Mapping[str, Any]) -> LambdaReply:
    """``cookies`` become ``set-cookie`` lines ahead of one given in ``headers``; 2.0 has no
    ``multiValueHeaders`` (a multi-valued header is one comma-joined string)."""
    headers = [] if result.get("headers") is None else _headers(result)
    cookies = [] if result.get("cookies") is None else _string_list(result, "cookies")
    if cookies and headers:
        plain = [header for header in headers if header[0].lower() != "set-cookie"]
        given = [header for header in headers if header[0].lower() == "set-cookie"]
        headers = plain + [("set-cookie", cookie) for cookie in cookies] + given
    elif cookies:
        headers = [("set-cookie", cookie) for cookie in cookies]
    return LambdaReply(_status(result["statusCode"]), headers, _body(result))


# --- response: payload 1.0 --------------------------------------------------------------------


def interpret_v1(result: Any) -> LambdaReply:
    """Read a 1.0 reply: an object with ``statusCode`` is required, nothing is inferred.

    A header named in both ``headers`` and ``multiValueHeaders`` (compared case-insensitively)
    is sent with the multi-value entry's values only (§3.5, unverified).
    """
    if not isinstance(result, dict) or "statusCode" not in result:
        raise MalformedResponse("the function's reply has no statusCode")
    multi = _multi_value_headers(result)
    overridden = {name.lower() for name, _ in multi}
    headers = [header for header in _headers(result) if header[0].lower() not in overridden]
    return LambdaReply(_status(result["statusCode"]), headers + multi, _body(result))


def _multi_value_headers(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for name, values in _mapping(result, "multiValueHeaders").items():
        if not isinstance(values, list):
            raise MalformedResponse(f"multiValueHeaders {name!r} is not a list")
        headers.extend((name, _header_value(name, value)) for value in values)
    return headers


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
