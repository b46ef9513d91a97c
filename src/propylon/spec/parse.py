"""Turn an HTTP request into an operation's input, named as boto3 names it (PascalCase).

Where each member comes from (uri, querystring, header or the JSON body) and its wire name come
from the model. Values are converted to the member's type where the wire carries text (uri and
querystring); body values are left as the client sent them and checked by ``validate``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from botocore.model import OperationModel, Shape, StructureShape

from propylon.errors import BadRequestException

Input = dict[str, Any]
_MAX_SHOWN = 64  # characters of a refused value quoted back in a message


def parse_request(
    operation: OperationModel,
    uri_params: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    body: bytes,
) -> Input:
    """Build the operation's input from the request's parts."""
    shape = operation.input_shape
    if shape is None:
        return {}
    payload = shape.serialization.get("payload")
    document = _json_body(body) if not payload and _has_body_members(shape) else {}
    result: Input = {}
    if payload and body:  # the member is the whole body (Lambda's Invoke Payload)
        result[payload] = body
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri":
            if wire in uri_params:
                result[name] = _from_text(member, uri_params[wire], wire)
        elif location == "querystring":
            if wire in query:
                result[name] = _from_query(member, query[wire], wire)
        elif location == "header":
            if wire.lower() in headers:
                result[name] = _from_text(member, headers[wire.lower()], wire)
        elif name != payload and wire in document:
            result[name] = from_wire(member, document[wire])
    return result


def _has_body_members(shape: StructureShape) -> bool:
    return any("location" not in m.serialization for m in shape.members.values())


def _json_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        document = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise BadRequestException(
            "Could not parse request body into json: the body is nested too deeply"
        ) from None
    except ValueError as exc:  # UnicodeDecodeError included
        raise BadRequestException(f"Could not parse request body into json: {exc}") from None
    if not isinstance(document, dict):
        raise BadRequestException(
            "Could not parse request body into json: the body must be a JSON object"
        )
    return document


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON (and AWS) do not.
    raise ValueError(f"{name} is not a valid JSON value")


def from_wire(shape: Shape, value: Any) -> Any:
    """Rename a body value's structure members from wire names to member names, recursively."""
    if shape.type_name == "structure" and isinstance(value, dict):
        members: dict[str, Shape] = shape.members
        renamed: dict[str, Any] = {}
        for name, member in members.items():
            wire = member.serialization.get("name", name)
            if wire in value:
                renamed[name] = from_wire(member, value[wire])
        return renamed
    if shape.type_name == "list" and isinstance(value, list):
        element: Shape = shape.member
        return [from_wire(element, item) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        value_shape: Shape = shape.value
        return {key: from_wire(value_shape, item) for key, item in value.items()}
    if shape.type_name == "blob" and isinstance(value, str):  # base64 in a JSON body
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequestException("Could not decode base64 in the request body") from None
    return value


def _from_query(shape: Shape, values: list[str], wire: str) -> Any:
    if shape.type_name == "list":
        element: Shape = shape.member
        return [_from_text(element, v, wire) for v in values]
    return _from_text(shape, values[-1], wire)


def _from_text(shape: Shape, text: str, wire: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise BadRequestException(_not_a(wire, text, "an integer")) from None
    if kind == "double":
        try:
            return float(text)
        except ValueError:
            raise BadRequestException(_not_a(wire, text, "a number")) from None
    if kind == "boolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise BadRequestException(_not_a(wire, text, "a boolean")) from None
    return text


def _not_a(wire: str, text: str, what: str) -> str:
    shown = text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."
    return f"Invalid value '{shown}' for parameter '{wire}': it must be {what}"
