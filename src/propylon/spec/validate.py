"""Check an operation's input against the model: required members, types, enums and limits.

Messages follow AWS's validation style ("1 validation error detected: Value ... at 'name' failed
to satisfy constraint: ..."), naming members by their wire names.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from botocore.model import Shape

from propylon.errors import BadRequestException

_MAX_REPORTED = 10


def validate_input(shape: Shape | None, value: dict[str, Any]) -> None:
    """Raise ``BadRequestException`` listing what in ``value`` breaks ``shape``'s rules."""
    if shape is None:
        return
    errors: list[str] = []
    _check_structure(shape, value, "", errors)
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        shown = "; ".join(errors[:_MAX_REPORTED])
        raise BadRequestException(f"{count} validation {noun} detected: {shown}")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 64 else text[:61] + "..."


def _fail(errors: list[str], path: str, value: Any, constraint: str) -> None:
    errors.append(
        f"Value '{_describe(value)}' at '{path}' failed to satisfy constraint: {constraint}"
    )


@cache
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    checker = _CHECKERS.get(shape.type_name, _check_nothing)
    checker(shape, value, path, errors)


def _check_nothing(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    return


def _check_structure(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, dict):
        _fail(errors, path, value, "Member must be an object")
        return
    members: dict[str, Shape] = shape.members
    required: list[str] = shape.required_members
    prefix = f"{path}." if path else ""
    for name in required:
        if value.get(name) is None:
            wire = members[name].serialization.get("name", name)
            errors.append(
                f"Value null at '{prefix}{wire}' failed to satisfy constraint: "
                "Member must not be null"
            )
    for name, item in value.items():
        member = members.get(name)
        if member is not None and item is not None:
            wire = member.serialization.get("name", name)
            _check(member, item, f"{prefix}{wire}", errors)


def _check_string(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, str):
        _fail(errors, path, value, "Member must be a string")
        return
    enum = shape.enum
    if enum and value not in enum:
        _fail(errors, path, value, f"Member must satisfy enum value set: [{', '.join(enum)}]")
    _check_length(shape, value, len(value), path, errors, "length")
    pattern = shape.metadata.get("pattern")
    if pattern and not _pattern(pattern).search(value):
        _fail(errors, path, value, f"Member must satisfy regular expression pattern: {pattern}")


def _check_length(
    shape: Shape, value: Any, size: int, path: str, errors: list[str], what: str
) -> None:
    low = shape.metadata.get("min")
    high = shape.metadata.get("max")
    if low is not None and size < low:
        _fail(errors, path, value, f"Member must have {what} greater than or equal to {low}")
    if high is not None and size > high:
        _fail(errors, path, value, f"Member must have {what} less than or equal to {high}")


def _check_integer(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(errors, path, value, "Member must be an integer")
        return
    _check_range(shape, value, path, errors)


def _check_double(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(errors, path, value, "Member must be a number")
        return
    if value != value or value in (float("inf"), float("-inf")):
        _fail(errors, path, value, "Member must be a finite number")
        return
    _check_range(shape, value, path, errors)


def _check_range(shape: Shape, value: float, path: str, errors: list[str]) -> None:
    low = shape.metadata.get("min")
    high = shape.metadata.get("max")
    if low is not None and value < low:
        _fail(errors, path, value, f"Member must have value greater than or equal to {low}")
    if high is not None and value > high:
        _fail(errors, path, value, f"Member must have value less than or equal to {high}")


def _check_boolean(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, bool):
        _fail(errors, path, value, "Member must be a boolean")


def _check_list(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, list):
        _fail(errors, path, value, "Member must be a list")
        return
    _check_length(shape, value, len(value), path, errors, "length")
    element: Shape = shape.member
    for index, item in enumerate(value):
        if item is None:
            _fail(errors, f"{path}.{index + 1}", item, "Member must not be null")
        else:
            _check(element, item, f"{path}.{index + 1}", errors)


def _check_map(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if not isinstance(value, dict):
        _fail(errors, path, value, "Member must be a map")
        return
    _check_length(shape, value, len(value), path, errors, "length")
    key_shape: Shape = shape.key
    value_shape: Shape = shape.value
    for key, item in value.items():
        _check(key_shape, key, f"{path}.key", errors)
        if item is None:
            _fail(errors, f"{path}.{key}", item, "Member must not be null")
        else:
            _check(value_shape, item, f"{path}.{key}", errors)


def _check_timestamp(shape: Shape, value: Any, path: str, errors: list[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        _fail(errors, path, value, "Member must be a timestamp")


_CHECKERS = {
    "structure": _check_structure,
    "string": _check_string,
    "blob": _check_string,
    "integer": _check_integer,
    "long": _check_integer,
    "double": _check_double,
    "float": _check_double,
    "boolean": _check_boolean,
    "list": _check_list,
    "map": _check_map,
    "timestamp": _check_timestamp,
}
