"""Check an operation's input against the model: required members, types, enums and limits.

Messages follow AWS's validation style ("1 validation error detected: Value ... at 'name' failed
to satisfy constraint: ..."), naming members by their wire names.

Length limits come from a shape's ``min``/``max``. The JSON model botocore ships drops them from
some string shapes whose names still state them (``StringWithLengthBetween1And128``,
``StringWithLengthBetween0And32K``): for those the limits are read from the name.
"""

from __future__ import annotations

import re
import reprlib
from functools import cache
from typing import Any

from botocore.model import Shape

from propylon.errors import BadRequestException, ControlPlaneError

_MAX_REPORTED = 10
_MAX_DESCRIBED = 64

# A bounded repr: a client's 10 MB or 900-level-deep value is described in a few characters.
_SHORT = reprlib.Repr()
_SHORT.maxlevel = 3
_SHORT.maxstring = _MAX_DESCRIBED
_SHORT.maxother = _MAX_DESCRIBED


def validate_input(
    shape: Shape | None,
    value: dict[str, Any],
    error: type[ControlPlaneError] = BadRequestException,
) -> None:
    """Raise ``error`` (the service's validation error: ``BadRequestException`` for API
    Gateway, ``ValidationException`` for Lambda) listing what in ``value`` breaks ``shape``'s
    rules."""
    if shape is None:
        return
    errors = _Errors()
    _check_structure(shape, value, "", errors)
    if errors.count:
        noun = "error" if errors.count == 1 else "errors"
        shown = "; ".join(errors.shown)
        raise error(f"{errors.count} validation {noun} detected: {shown}")


class _Errors:
    """Every error is counted; only the first few are written out (a 10 MB list may hold
    millions, and formatting them all would hold the event loop for seconds)."""

    def __init__(self) -> None:
        self.count = 0
        self.shown: list[str] = []

    def add(self, path: str, value: Any, constraint: str) -> None:
        self.count += 1
        if len(self.shown) < _MAX_REPORTED:
            shown = "null" if value is None else f"'{_describe(value)}'"
            self.shown.append(
                f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"
            )


def _describe(value: Any) -> str:
    text = value[: _MAX_DESCRIBED + 1] if isinstance(value, str) else _SHORT.repr(value)
    return text if len(text) <= _MAX_DESCRIBED else text[: _MAX_DESCRIBED - 3] + "..."


_UNICODE_CLASSES = {r"\p{L}": r"\w", r"\p{N}": r"\d", r"\p{Z}": r"\s", r"\p{S}": r"\W"}
"""Unicode property classes (Lambda's tag patterns use them), which ``re`` does not know: each
is read as the nearest class ``re`` has (a letter as a word character), so a value a pattern
allows is never refused."""


@cache
def _pattern(text: str) -> re.Pattern[str] | None:
    """The compiled pattern; None for one ``re`` cannot read even so (left unchecked)."""
    for unicode_class, nearest in _UNICODE_CLASSES.items():
        text = text.replace(unicode_class, nearest)
    try:
        return re.compile(text)
    except re.error:
        return None


def _check(shape: Shape, value: Any, path: str, errors: _Errors) -> None:
    checker = _CHECKERS.get(shape.type_name, _check_nothing)
    checker(shape, value, path, errors)


def _check_nothing(shape: Shape, value: Any, path: str, errors: _Errors) -> None:
    return


def _check_structure(shape: Shape, value: Any, path: str, errors: _Errors) -> None:
    if not isinstance(value, dict):
        errors.add(path, value, "Member must be an object")
        return
    members: dict[str, Shape] = shape.members
    required: list[str] = shape.required_members
    prefix = f"{path}." if path else ""
    for name in required:
        if value.get(name) is None:
            wire = members[name].serialization.get("name", name)
            errors.add(f"{prefix}{wire}", None, "Member must not be null")
    for name, item in value.items():
        member = members.get(name)
        if member is not None and item is not None:
            wire = member.serialization.get("name", name)
            _check(member, item, f"{prefix}{wire}", errors)


def _check_string(shape: Shape, value: Any, path: str, errors: _Errors) -> None:
    if not isinstance(value, str):
        errors.add(path, value, "Member must be a string")
        return
    enum = shape.metadata.get("enum")  # only StringShape has ``.enum``; blobs come here too
    if enum and value not in enum:
        errors.add(path, value, f"Member must satisfy enum value set: [{', '.join(enum)}]")
    _check_length(shape, value, len(value), path, errors, "length")
    pattern = shape.metadata.get("pattern")
    compiled = _pattern(pattern) if pattern else None
    if compiled is not None and not compiled.search(value):
        errors.add(path, value, f"Member must satisfy regular expression pattern: {pattern}")


_NAMED_LENGTH = re.compile(r"\w*WithLengthBetween(\d+)And(\d+)(K?)")


@cache
def _named_limits(name: str) -> tuple[int | None, int | None]:
    match = _NAMED_LENGTH.fullmatch(name)
    if match is None:
        return None, None
    return int(match[1]), int(match[2]) * (1024 if match[3] else 1)


def _limits(shape: Shape) -> tuple[int | None, int | None]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is None and high is None and shape.type_name == "string":
        return _named_limits(shape.name)
    return low, high


def _check_length(
    shape: Shape, value: Any, size: int, path: str, errors: _Errors, what: str
) -> None:
    low, high = _limits(shape)
    if low is not None and size < low:
        errors.add(path, value, f"Member must have {what} greater than or equal to {low}")
    if high is not None and size > high:
        errors.add(path, value, f"Member must have {what} less than or equal to {high}")


def _check_integer(shape: Shape, value: Any, path: str, errors: _Errors) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(path, value, "Member must be an integer")
        return
    _check_range(shape, value, path, errors)


def _check_double(shape: Shape, value: Any, path: str, errors: _Errors) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.add(path, value, "Member must be a number")
        return
    if value != value or value in (float("inf"), float("-inf")):
        errors.add(path, value, "Member must be a finite number")
        return
    _check_range(shape, value, path, errors)


def _check_range(shape: Shape, value: float, path: str, errors: _Errors) -> None:
    low = shape.metadata.get("min")
    high = shape.metadata.get("max")
    if low is not None and value < low:
        errors.add(path, value, f"Member must have value greater than or equal to {low}")
    if high is not None and value > high:
        errors.add(path, value, f"Member must have value less than or equal to {high}")


def _check_boolean(shape: Shape, value: Any, path: str, errors: _Errors) -> None:
    if not isinstance(value, bool):
        errors.add(path, value, "Member must be a boolean")


def _check_list(shape: Shape, value: Any, path: str, errors: _Errors) -> None:
    if not isinstance(value, list):
        errors.add(path, value, "Member must be a list")
        return
    _check_length(shape, value, len(value), path, errors, "length")
    element: Shape = shape.member
    for index, item in enumerate(value):
        if item is None:
            errors.add(f"{path}.{index + 1}", item, "Member must not be null")
        else:
            _check(element, item, f"{path}.{index + 1}", errors)


def _check_map(shape: Shape, value: Any, path: str, errors: _Errors) -> None:
    if not isinstance(value, dict):
        errors.add(path, value, "Member must be a map")
        return
    _check_length(shape, value, len(value), path, errors, "length")
    key_shape: Shape = shape.key
    value_shape: Shape = shape.value
    for key, item in value.items():
        _check(key_shape, key, f"{path}.key", errors)
        if item is None:
            errors.add(f"{path}.{key}", item, "Member must not be null")
        else:
            _check(value_shape, item, f"{path}.{key}", errors)


def _check_blob(shape: Shape, value: Any, path: str, errors: _Errors) -> None:
    if isinstance(value, bytes | bytearray):  # decoded from base64, or a raw payload
        _check_length(shape, value, len(value), path, errors, "length")
    else:
        _check_string(shape, value, path, errors)


def _check_timestamp(shape: Shape, value: Any, path: str, errors: _Errors) -> None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        errors.add(path, value, "Member must be a timestamp")


_CHECKERS = {
    "structure": _check_structure,
    "string": _check_string,
    "blob": _check_blob,
    "integer": _check_integer,
    "long": _check_integer,
    "double": _check_double,
    "float": _check_double,
    "boolean": _check_boolean,
    "list": _check_list,
    "map": _check_map,
    "timestamp": _check_timestamp,
}
