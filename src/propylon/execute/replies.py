"""Lambda proxy replies (AWS_PROXY): what a function returned, read as an HTTP response.

:func:`interpret_v2` / :func:`interpret_v1` turn the decoded JSON the function returned into a
:class:`LambdaReply` (reference §3.5); :mod:`propylon.execute.payloads` pairs each with the
event of its payload format version.

2.0 *infers* a response from anything that is not an object with ``statusCode``: 200,
``content-type: application/json``, the value as body (a string as is, anything else
serialized). 1.0 infers nothing. A reply that cannot be read raises :class:`MalformedResponse`,
which the chain answers with ``500 {"message":"Internal Server Error"}``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
    # not isinstance(is_base64, bool | None): that builds the union on every call
    if is_base64 is not None and not isinstance(is_base64, bool):
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
