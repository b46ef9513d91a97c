"""Write operation outputs and errors the way the service does.

Outputs use the model's wire names (``locationName``), ISO-8601 timestamps and the operation's
success status; a ``payload`` member is written as the raw body. Errors are written as
``x-amzn-ErrorType: <Code>`` and ``{"message": "..."}`` with the status of the model's error shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.model import OperationModel, Shape

from propylon.errors import ControlPlaneError
from propylon.spec.model import error_statuses

JSON = "application/json"
OCTETS = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer: status, body and the headers beyond Content-Type."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = field(default=())


def serialize_output(
    operation: OperationModel, output: dict[str, Any] | None, payload_type: str = OCTETS
) -> Reply:
    """The answer for ``output``: members located in headers become headers, one located in
    the status code sets it, a ``payload`` member is the raw body (of ``payload_type``), the
    rest the JSON body."""
    status = int(operation.http.get("responseCode", 200))
    shape = operation.output_shape
    if shape is None or output is None:
        return Reply(status, b"")
    headers: list[tuple[str, str]] = []
    members: dict[str, Shape] = shape.members
    located = [(name, m) for name, m in members.items() if "location" in m.serialization]
    if located:
        output = dict(output)
        for name, member in located:
            value = output.pop(name, None)
            if value is None:
                continue
            if member.serialization["location"] == "statusCode":
                status = int(value)
            elif member.serialization["location"] == "header":
                headers.append((member.serialization.get("name", name), str(value)))
    payload = shape.serialization.get("payload")
    if payload:
        raw = output.get(payload, b"")
        body = raw.encode() if isinstance(raw, str) else bytes(raw)
        return Reply(status, body, payload_type, tuple(headers))
    document = to_wire(shape, output)
    return Reply(status, _ENCODER.encode(document).encode(), headers=tuple(headers))


def _message_body(error: ControlPlaneError, status: int) -> dict[str, str]:
    return {"message": error.message}


def _lambda_body(error: ControlPlaneError, status: int) -> dict[str, str]:
    return {"Type": "Service" if status >= 500 else "User", "Message": error.message}


_ERROR_BODIES: dict[str, Callable[[ControlPlaneError, int], dict[str, str]]] = {
    "lambda": _lambda_body,
}
"""Error bodies by service: API Gateway writes ``{"message"}``, Lambda ``{"Type", "Message"}``."""


def serialize_error(service_name: str, error: ControlPlaneError) -> Reply:
    status = error_statuses(service_name).get(error.code, error.status or 400)
    document = getattr(error, "document", None) or _ERROR_BODIES.get(service_name, _message_body)(
        error, status
    )
    body = json.dumps(document).encode()
    return Reply(status, body, headers=(("x-amzn-ErrorType", error.code),))


Writer = Callable[[Any], Any]
_WRITERS: dict[int, tuple[Shape, Writer | None]] = {}


def to_wire(shape: Shape, value: Any) -> Any:
    """Rename structure members to their wire names and format timestamps, recursively."""
    write = writer(shape)
    return value if write is None else write(value)


def writer(shape: Shape) -> Writer | None:
    """The function that writes values of ``shape``, compiled once per shape; None when values
    are written as they are (strings, numbers, booleans, and lists or maps of them)."""
    cached = _WRITERS.get(id(shape))
    if cached is not None and cached[0] is shape:
        return cached[1]
    # A placeholder first, so a shape that contains itself finds a writer while compiling.
    slot: list[Writer | None] = [None]
    _WRITERS[id(shape)] = (shape, lambda value: slot[0](value) if slot[0] else value)
    compiled = _COMPILERS.get(shape.type_name, _plain)(shape)
    slot[0] = compiled
    _WRITERS[id(shape)] = (shape, compiled)
    return compiled


def _plain(shape: Shape) -> Writer | None:
    return None


def _structure(shape: Shape) -> Writer | None:
    plan: dict[str, tuple[str, Writer | None]] = {
        name: (member.serialization.get("name", name), writer(member))
        for name, member in shape.members.items()
    }

    def write(value: dict[str, Any]) -> dict[str, Any]:
        document: dict[str, Any] = {}
        for name, item in value.items():
            entry = plan.get(name)
            if entry is not None and item is not None:
                wire, inner = entry
                document[wire] = item if inner is None else inner(item)
        return document

    return write


def _list(shape: Shape) -> Writer | None:
    inner = writer(shape.member)
    if inner is None:
        return None
    return lambda value: [inner(item) for item in value]


def _map(shape: Shape) -> Writer | None:
    inner = writer(shape.value)
    if inner is None:
        return None
    return lambda value: {key: inner(item) for key, item in value.items()}


def _timestamp(shape: Shape) -> Writer | None:
    return lambda value: iso8601(value) if isinstance(value, datetime) else value


_COMPILERS: dict[str, Callable[[Shape], Writer | None]] = {
    "structure": _structure,
    "list": _list,
    "map": _map,
    "timestamp": _timestamp,
}

_ENCODER = json.JSONEncoder(separators=(",", ":"))


def iso8601(moment: datetime) -> str:
    """AWS's timestamp form, in UTC with a ``Z`` and no fraction: ``2020-03-12T21:32:38Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
