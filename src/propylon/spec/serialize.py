"""Write operation outputs and errors the way the service does.

Outputs use the model's wire names (``locationName``), ISO-8601 timestamps and the operation's
success status; a ``payload`` member is written as the raw body. Errors are written as
``x-amzn-ErrorType: <Code>`` and ``{"message": "..."}`` with the status of the model's error shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.model import OperationModel, Shape

from propylon.errors import ControlPlaneError
from propylon.spec.model import error_statuses

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer: status, body and the headers beyond Content-Type."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = field(default=())


def serialize_output(operation: OperationModel, output: dict[str, Any] | None) -> Reply:
    status = int(operation.http.get("responseCode", 200))
    shape = operation.output_shape
    if shape is None or output is None:
        return Reply(status, b"")
    payload = shape.serialization.get("payload")
    if payload:
        raw = output.get(payload, b"")
        body = raw.encode() if isinstance(raw, str) else bytes(raw)
        return Reply(status, body, "application/octet-stream")
    document = to_wire(shape, output)
    return Reply(status, json.dumps(document, separators=(",", ":")).encode())


def serialize_error(service_name: str, error: ControlPlaneError) -> Reply:
    status = error_statuses(service_name).get(error.code, 400)
    body = json.dumps({"message": error.message}).encode()
    return Reply(status, body, headers=(("x-amzn-ErrorType", error.code),))


def to_wire(shape: Shape, value: Any) -> Any:
    """Rename structure members to their wire names and format timestamps, recursively."""
    kind = shape.type_name
    if kind == "structure":
        members: dict[str, Shape] = shape.members
        document: dict[str, Any] = {}
        for name, item in value.items():
            member = members.get(name)
            if member is not None and item is not None:
                document[member.serialization.get("name", name)] = to_wire(member, item)
        return document
    if kind == "list":
        element: Shape = shape.member
        return [to_wire(element, item) for item in value]
    if kind == "map":
        value_shape: Shape = shape.value
        return {key: to_wire(value_shape, item) for key, item in value.items()}
    if kind == "timestamp" and isinstance(value, datetime):
        return iso8601(value)
    return value


def iso8601(moment: datetime) -> str:
    """AWS's timestamp form, in UTC with a ``Z`` and no fraction: ``2020-03-12T21:32:38Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
