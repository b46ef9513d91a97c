"""Function specs: what a local Lambda function is, read from a CLI flag or a TOML table.

A spec is inert data. The CLI form is ``NAME=PATH/TO/FILE.py:FUNC``; the file form is a
``[functions.NAME]`` table::

    [functions.orders]
    handler = "app.handler"          # "module.func" (Lambda's form) or "path/to/file.py:func"
    code = "services/orders"         # directory put on sys.path while loading; optional
    environment = { TABLE = "orders" }
    timeout = 10                     # seconds; Lambda's default is 3
    memory = 256                     # MB; Lambda's default is 128

Limits follow Lambda: names are 1-64 of ``[A-Za-z0-9_-]``, timeout is at most 900 seconds,
memory is 128-10240 MB. Fractional timeouts are accepted (tests use them); Lambda's are whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT = 3.0
DEFAULT_MEMORY = 128
MAX_TIMEOUT = 900.0
MEMORY_RANGE = (128, 10240)

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_MODULE_HANDLER = re.compile(rf"{_IDENTIFIER}(\.{_IDENTIFIER})+")
_FILE_HANDLER = re.compile(rf"(?P<path>.+\.py):(?P<func>{_IDENTIFIER})")
_ENV_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # Lambda's rule for variable names
_TABLE_KEYS = frozenset({"handler", "code", "environment", "timeout", "memory"})


@dataclass(frozen=True)
class FunctionSpec:
    """One local Lambda function: its name, where its handler is, and its configuration."""

    name: str
    handler: str
    code: Path | None = None
    environment: Mapping[str, str] = field(default_factory=dict, hash=False)
    timeout: float = DEFAULT_TIMEOUT
    memory: int = DEFAULT_MEMORY

    def __post_init__(self) -> None:
        check_name(self.name)
        check_handler(self.handler)
        if not 0 < self.timeout <= MAX_TIMEOUT:
            raise ValueError(f"function {self.name!r}: timeout must be in (0, 900] seconds")
        low, high = MEMORY_RANGE
        if not low <= self.memory <= high:
            raise ValueError(f"function {self.name!r}: memory must be {low}-{high} MB")

    @property
    def is_file_handler(self) -> bool:
        """True for ``path/to/file.py:func``, False for ``module.func``."""
        return _FILE_HANDLER.fullmatch(self.handler) is not None


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a valid function name (1-64 of A-Z a-z 0-9 _ -): {name!r}")
    return name


def check_handler(handler: str) -> str:
    if not (_MODULE_HANDLER.fullmatch(handler) or _FILE_HANDLER.fullmatch(handler)):
        raise ValueError(
            f"not a valid handler (expected module.func or path/to/file.py:func): {handler!r}"
        )
    return handler


def split_file_handler(handler: str) -> tuple[str, str]:
    """``("path/to/file.py", "func")`` for a file handler; ValueError for any other."""
    match = _FILE_HANDLER.fullmatch(handler)
    if match is None:
        raise ValueError(f"not a file handler (path/to/file.py:func): {handler!r}")
    return match["path"], match["func"]


def parse_function_flag(text: str) -> FunctionSpec:
    """The spec named by ``NAME=PATH/TO/FILE.py:FUNC``, the form of the CLI's ``--function``."""
    name, equals, handler = text.partition("=")
    if not equals or not name or not handler:
        raise ValueError(f"expected NAME=PATH/TO/FILE.py:FUNC, got {text!r}")
    if not _FILE_HANDLER.fullmatch(handler):
        raise ValueError(f"expected NAME=PATH/TO/FILE.py:FUNC, got {text!r}: {handler!r}")
    return FunctionSpec(name=check_name(name), handler=handler)


def function_specs_from_toml(table: Mapping[str, Any]) -> list[FunctionSpec]:
    """The specs of a ``[functions]`` table: one sub-table per function, keyed by its name."""
    specs = []
    for name, entry in table.items():
        where = f"functions.{name}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: expected a table, got {type(entry).__name__}")
        try:
            specs.append(_spec_from_entry(name, entry))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    return specs


def _spec_from_entry(name: str, entry: Mapping[str, Any]) -> FunctionSpec:
    unknown = sorted(set(entry) - _TABLE_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_TABLE_KEYS))})")
    if "handler" not in entry:
        raise ValueError("missing key 'handler'")
    code = entry.get("code")
    return FunctionSpec(
        name=name,
        handler=_string(entry["handler"], "handler"),
        code=None if code is None else Path(_string(code, "code")),
        environment=_environment(entry.get("environment", {})),
        timeout=_number(entry.get("timeout", DEFAULT_TIMEOUT), "timeout"),
        memory=_integer(entry.get("memory", DEFAULT_MEMORY), "memory"),
    )


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string, got {value!r}")
    return value


def _number(value: Any, key: str) -> float:
    # bool is an int, and `timeout = true` is a mistake rather than one second
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number, got {value!r}")
    return float(value)


def _integer(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer, got {value!r}")
    return value


def _environment(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValueError(f"environment must be a table, got {value!r}")
    for key, item in value.items():
        if not _ENV_KEY.fullmatch(key):
            raise ValueError(f"not a valid environment variable name: {key!r}")
        if not isinstance(item, str):
            raise ValueError(f"environment.{key} must be a string, got {item!r}")
    return dict(value)
