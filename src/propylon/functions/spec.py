"""Function specs: what a local Lambda function is, read from a CLI flag or a TOML table.

A spec is inert data. The CLI form is ``NAME=PATH/TO/FILE:FUNC`` (a ``.py`` file is Python, a
``.js``, ``.mjs`` or ``.cjs`` file Node.js); the file form is a ``[functions.NAME]`` table::

    [functions.orders]
    runtime = "python3.12"           # Lambda's runtime names; inferred from the handler if absent
    handler = "app.handler"          # Lambda's form ("module.func", "file.export"), or
                                     # "path/to/file.py:func"; ignored by provided runtimes
    code = "services/orders"         # the code directory (Lambda's /var/task), relative to
                                     # the configuration file
    layers = ["layers/common"]       # directories laid out as Lambda's /opt, in order
    environment = { TABLE = "orders" }
    timeout = 10                     # seconds; Lambda's default is 3
    memory = 256                     # MB; Lambda's default is 128
    reserved_concurrency = 5         # at most this many invocations at once
    invoker = "worker"               # "worker" (a process per environment) or "in-process"

Limits follow Lambda: names are 1-64 of ``[A-Za-z0-9_-]``, timeout is at most 900 seconds,
memory is 128-10240 MB, and the variables Lambda sets itself cannot be set. Fractional timeouts
are accepted (tests use them); Lambda's are whole. What a configuration file names must exist
(the code and layer directories); a spec built in code is not checked against the disk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from propylon.functions.runtimes import RUNTIMES, family_of_handler

DEFAULT_TIMEOUT = 3.0
DEFAULT_MEMORY = 128
MAX_TIMEOUT = 900.0
MEMORY_RANGE = (128, 10240)
MAX_CONCURRENCY = 1000
"""An account's default concurrency limit, which a function without reserved concurrency shares."""
INVOKERS = ("worker", "in-process")

RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)
"""The variables Lambda sets itself and refuses in a function's configuration (reference 2.1)."""

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_MODULE_HANDLER = re.compile(rf"{_IDENTIFIER}(\.{_IDENTIFIER})+")
_FILE_HANDLER = re.compile(r"(?P<path>.+\.(?:py|js|mjs|cjs)):(?P<func>[A-Za-z_$][\w$.]*)")
_LAMBDA_HANDLER = re.compile(r"[^\s]{1,128}")  # Lambda's own pattern for Handler
_ENV_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]+")  # Lambda's rule: at least two characters
_TABLE_KEYS = frozenset(
    {
        "handler",
        "runtime",
        "code",
        "layers",
        "environment",
        "timeout",
        "memory",
        "reserved_concurrency",
        "invoker",
    }
)


@dataclass(frozen=True)
class FunctionSpec:
    """One local Lambda function: its name, where its handler is, and its configuration."""

    name: str
    handler: str
    code: Path | None = None
    environment: Mapping[str, str] = field(default_factory=dict, hash=False)
    timeout: float = DEFAULT_TIMEOUT
    memory: int = DEFAULT_MEMORY
    runtime: str | None = None
    """Lambda's runtime name (``python3.12``, ``nodejs20.x``, ``provided.al2023``); None: the
    handler's language, on the interpreter at hand."""
    layers: tuple[Path, ...] = ()
    reserved_concurrency: int | None = None
    invoker: str = "worker"
    region: str | None = None
    """The region of a function created through the Lambda API (its ``AWS_REGION``); None for
    one of the configuration, which runs in the gateway's."""

    def __post_init__(self) -> None:
        check_name(self.name)
        if self.runtime is not None and self.runtime not in RUNTIMES:
            known = ", ".join(RUNTIMES)
            raise ValueError(f"function {self.name!r}: unknown runtime {self.runtime!r} ({known})")
        check_handler(self.handler, self.family)
        if not 0 < self.timeout <= MAX_TIMEOUT:
            raise ValueError(f"function {self.name!r}: timeout must be in (0, 900] seconds")
        low, high = MEMORY_RANGE
        if not low <= self.memory <= high:
            raise ValueError(f"function {self.name!r}: memory must be {low}-{high} MB")
        if self.reserved_concurrency is not None and not (
            0 <= self.reserved_concurrency <= MAX_CONCURRENCY
        ):
            raise ValueError(
                f"function {self.name!r}: reserved_concurrency must be 0-{MAX_CONCURRENCY}"
            )
        if self.invoker not in INVOKERS:
            raise ValueError(f"function {self.name!r}: invoker must be one of {INVOKERS}")
        if self.invoker == "in-process" and self.family != "python":
            raise ValueError(f"function {self.name!r}: only Python functions run in-process")
        reserved = sorted(RESERVED_VARIABLES.intersection(self.environment))
        if reserved:
            raise ValueError(
                f"function {self.name!r}: environment: {reserved[0]} is reserved (Lambda sets it)"
            )

    @property
    def family(self) -> str:
        """``python``, ``nodejs`` or ``provided``."""
        if self.runtime is not None:
            return RUNTIMES[self.runtime].family
        return family_of_handler(self.handler)

    @property
    def is_file_handler(self) -> bool:
        """True for ``path/to/file.py:func``, False for ``module.func``."""
        return _FILE_HANDLER.fullmatch(self.handler) is not None

    @property
    def concurrency(self) -> int:
        """How many invocations may run at once: the reserved concurrency, else the account's."""
        return MAX_CONCURRENCY if self.reserved_concurrency is None else self.reserved_concurrency


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a valid function name (1-64 of A-Z a-z 0-9 _ -): {name!r}")
    return name


def check_handler(handler: str, family: str = "python") -> str:
    """A handler in Lambda's form for ``family``, or a ``path/to/file:func`` one."""
    if _FILE_HANDLER.fullmatch(handler):
        return handler
    if family == "python" and not _MODULE_HANDLER.fullmatch(handler.replace("/", ".")):
        raise ValueError(
            f"not a valid handler (expected module.func or path/to/file.py:func): {handler!r}"
        )
    if not _LAMBDA_HANDLER.fullmatch(handler):
        raise ValueError(f"not a valid handler (1-128 characters, no spaces): {handler!r}")
    return handler


def split_file_handler(handler: str) -> tuple[str, str]:
    """``("path/to/file.py", "func")`` for a file handler; ValueError for any other."""
    match = _FILE_HANDLER.fullmatch(handler)
    if match is None:
        raise ValueError(f"not a file handler (path/to/file.py:func): {handler!r}")
    return match["path"], match["func"]


def parse_function_flag(text: str) -> FunctionSpec:
    """The spec named by ``NAME=PATH/TO/FILE:FUNC``, the form of the CLI's ``--function``."""
    name, equals, handler = text.partition("=")
    if not equals or not name or not handler or not _FILE_HANDLER.fullmatch(handler):
        raise ValueError(
            f"expected NAME=PATH/TO/FILE.py:FUNC (or FILE.js, .mjs, .cjs), got {text!r}"
        )
    return FunctionSpec(name=check_name(name), handler=handler)


def function_specs_from_toml(
    table: Mapping[str, Any], base: Path | None = None
) -> list[FunctionSpec]:
    """The specs of a ``[functions]`` table: one sub-table per function, keyed by its name.
    Relative paths (``code``, ``layers``, a handler file without ``code``) are relative to
    ``base``, the configuration file's directory, when it is given."""
    specs = []
    for name, entry in table.items():
        where = f"functions.{name}"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: expected a table, got {type(entry).__name__}")
        try:
            specs.append(_spec_from_entry(name, entry, base))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    return specs


def _spec_from_entry(name: str, entry: Mapping[str, Any], base: Path | None) -> FunctionSpec:
    unknown = sorted(set(entry) - _TABLE_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_TABLE_KEYS))})")
    runtime = None if entry.get("runtime") is None else _string(entry["runtime"], "runtime")
    if runtime is not None and runtime not in RUNTIMES:
        raise ValueError(f"runtime: unknown runtime {runtime!r} (known: {', '.join(RUNTIMES)})")
    provided = runtime is not None and RUNTIMES[runtime].family == "provided"
    if "handler" not in entry and not provided:
        raise ValueError("missing key 'handler'")
    code = None if entry.get("code") is None else _directory(entry["code"], "code", base)
    layers = entry.get("layers", [])
    if not isinstance(layers, list):
        raise ValueError(f"layers must be a list of directories, got {layers!r}")
    environment = _environment(entry.get("environment", {}))
    concurrency = entry.get("reserved_concurrency")
    handler = _string(entry.get("handler", "bootstrap"), "handler")
    file = _FILE_HANDLER.fullmatch(handler)
    if file and code is None and base is not None and not Path(file["path"]).is_absolute():
        handler = f"{base / file['path']}:{file['func']}"
    return FunctionSpec(
        name=name,
        handler=handler,
        code=code,
        environment=environment,
        timeout=_number(entry.get("timeout", DEFAULT_TIMEOUT), "timeout"),
        memory=_integer(entry.get("memory", DEFAULT_MEMORY), "memory"),
        runtime=runtime,
        layers=tuple(_directory(layer, f"layers[{n}]", base) for n, layer in enumerate(layers)),
        reserved_concurrency=None
        if concurrency is None
        else _integer(concurrency, "reserved_concurrency"),
        invoker=_string(entry.get("invoker", "worker"), "invoker"),
    )


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string, got {value!r}")
    return value


def _directory(value: Any, key: str, base: Path | None) -> Path:
    path = Path(_string(value, key))
    if base is not None:
        path = base / path
    if not path.is_dir():
        raise ValueError(f"{key}: no such directory: {path}")
    return path


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
    reserved = sorted(RESERVED_VARIABLES.intersection(value))
    if reserved:
        raise ValueError(f"environment.{reserved[0]}: reserved (Lambda sets it itself)")
    for key, item in value.items():
        if not _ENV_KEY.fullmatch(key):
            raise ValueError(f"environment: not a valid variable name: {key!r}")
        if not isinstance(item, str):
            raise ValueError(f"environment.{key} must be a string, got {item!r}")
    return dict(value)
