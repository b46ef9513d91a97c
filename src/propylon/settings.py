"""Settings: CLI flags > ``PROPYLON_*`` environment > ``propylon.toml`` > defaults, frozen once.

Nothing else in Propylon reads the environment or the configuration file: ``load_settings``
builds one ``Settings`` and everything else receives it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from propylon.functions.spec import FunctionSpec, function_specs_from_toml, parse_function_flag

CONFIG_FILE = "propylon.toml"
ENV_PREFIX = "PROPYLON_"


class SettingsError(ValueError):
    """A setting has a value Propylon cannot use."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4580
    state_dir: Path = Path(".propylon")
    in_memory: bool = False
    region: str = "us-east-1"
    account_id: str = "000000000000"
    log_level: str = "info"
    functions: tuple[FunctionSpec, ...] = ()
    """Local Lambda functions: ``--function NAME=FILE.py:FUNC`` and ``[functions.NAME]``."""
    ca_bundle: Path | None = None
    """Extra certificate authorities trusted for HTTPS integrations (``--ca-bundle``)."""
    log_dir: Path | None = None
    """Where access and execution logs go (``--log-dir``); None means ``<state dir>/logs``."""
    credentials: Path | None = None
    """A file of access keys (``--credentials``): for AWS_IAM routes and ``--verify-signatures``."""
    verify_signatures: bool = False
    """Whether the control plane refuses requests without a valid SigV4 signature."""
    throttle_rate: float = 10000.0
    """The account-level steady-state limit, requests per second (AWS's default 10,000)."""
    throttle_burst: int = 5000
    """The account-level burst limit (AWS's default 5,000)."""
    reload: bool = True
    """Whether a change to a worker function's code retires its workers (``--no-reload``)."""
    debug_function: str | None = None
    """The function whose worker starts under a debugger (``--debug-function``)."""
    debug_port: int | None = None
    """Where that debugger listens on loopback (``--debug-port``)."""

    @property
    def logs(self) -> Path:
        """The directory access and execution logs are written under."""
        return self.log_dir if self.log_dir is not None else self.state_dir / "logs"

    @property
    def store_backend(self) -> str:
        return "memory" if self.in_memory else "sqlite"


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"not a boolean: {value!r}")


def _port(value: Any) -> int:
    # bool is an int and a float truncates: neither is a port a user meant to write
    if isinstance(value, bool | float):
        raise SettingsError(f"not a port number: {value!r}")
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise SettingsError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"port out of range 0-65535: {port}")
    return port


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise SettingsError(f"not a string: {value!r}")
    return str(value)


def _number(value: Any, kind: Callable[[Any], float | int]) -> Any:
    if isinstance(value, bool):
        raise SettingsError(f"not a number: {value!r}")
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise SettingsError(f"not a number: {value!r}") from None
    if number < 0:
        raise SettingsError(f"must not be negative: {value!r}")
    return number


def _matching(pattern: str, what: str, fold: bool = False) -> Callable[[Any], str]:
    compiled = re.compile(pattern)

    def convert(value: Any) -> str:
        text = _text(value).lower() if fold else _text(value)
        if not compiled.fullmatch(text):
            raise SettingsError(f"not a valid {what}: {text!r}")
        return text

    return convert


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "host": _text,
    "port": _port,
    "state_dir": lambda value: Path(_text(value)),
    "in_memory": _boolean,
    "region": _matching(r"[a-z]{2}(-[a-z]+)+-\d+", "region"),
    "account_id": _matching(r"\d{12}", "account id (12 digits)"),
    "log_level": _matching(r"critical|error|warning|info|debug|trace", "log level", fold=True),
    "ca_bundle": lambda value: Path(_text(value)),
    "log_dir": lambda value: Path(_text(value)),
    "credentials": lambda value: Path(_text(value)),
    "verify_signatures": _boolean,
    "throttle_rate": lambda value: _number(value, float),
    "throttle_burst": lambda value: _number(value, int),
    "reload": _boolean,
    "debug_function": _text,
    "debug_port": _port,
}
FUNCTIONS = "functions"

# setting name -> (value, where it came from: "--port", "PROPYLON_PORT", "propylon.toml: port")
_Layer = dict[str, tuple[Any, str]]


def _from_file(path: Path) -> _Layer:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    found: _Layer = {}
    for key, value in document.items():
        name = key.replace("-", "_")
        if name == FUNCTIONS:
            found[name] = (value, f"{path}: {key}")
            continue
        if name not in _CONVERTERS:
            known = ", ".join(sorted(_CONVERTERS))
            raise SettingsError(f"{path}: unknown setting {key!r} (known: {known})")
        found[name] = (value, f"{path}: {key}")
    return found


def _from_environment(environ: Mapping[str, str]) -> _Layer:
    found: _Layer = {}
    for name in _CONVERTERS:
        variable = ENV_PREFIX + name.upper()
        if variable in environ:
            found[name] = (environ[variable], variable)
    return found


def _from_flags(flags: Mapping[str, Any]) -> _Layer:
    return {
        name: (value, "--" + name.replace("_", "-"))
        for name, value in flags.items()
        if value is not None and name in _CONVERTERS
    }


def _config_file(config_path: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The file to read: one named by a flag or the environment must exist, the default need not."""
    if config_path is None and environ.get(ENV_PREFIX + "CONFIG"):
        config_path = Path(environ[ENV_PREFIX + "CONFIG"])
    if config_path is None:
        default = Path(CONFIG_FILE)
        return default if default.is_file() else None
    if not config_path.is_file():
        raise SettingsError(f"configuration file not found: {config_path}")
    return config_path


def load_settings(
    flags: Mapping[str, Any],
    environ: Mapping[str, str],
    config_path: Path | None = None,
) -> Settings:
    """Merge the sources in order of precedence; ``flags`` holds None for flags not given.

    Only the value that wins is checked, and an error names where it came from.
    """
    path = _config_file(config_path, environ)
    layered: _Layer = _from_file(path) if path is not None else {}
    layered.update(_from_environment(environ))
    layered.update(_from_flags(flags))
    table, table_source = layered.pop(FUNCTIONS, ({}, ""))
    values: dict[str, Any] = {}
    for name, (value, source) in layered.items():
        try:
            values[name] = _CONVERTERS[name](value)
        except SettingsError as exc:
            raise SettingsError(f"{source}: {exc}") from None
    base = path.parent if path is not None else None
    values[FUNCTIONS] = _functions(table, table_source, flags.get(FUNCTIONS) or (), base)
    settings = replace(Settings(), **values)
    _check_debugging(settings)
    return settings


def _check_debugging(settings: Settings) -> None:
    name = settings.debug_function
    if name is None:
        if settings.debug_port is not None:
            raise SettingsError("--debug-port: needs --debug-function NAME")
        return
    spec = next((spec for spec in settings.functions if spec.name == name), None)
    if spec is None:
        raise SettingsError(f"--debug-function: no function named {name!r}")
    if spec.invoker != "worker" or spec.family == "provided":
        raise SettingsError(
            f"--debug-function: function {name!r} must run in a worker on a Python or Node.js "
            "runtime"
        )
    if not settings.debug_port:
        raise SettingsError("--debug-function: needs --debug-port PORT")


def _functions(
    table: Any, source: str, flags: Iterable[str], base: Path | None
) -> tuple[FunctionSpec, ...]:
    """``[functions.NAME]`` tables, then ``--function`` flags (a flag replaces a same-named
    table)."""
    by_name: dict[str, FunctionSpec] = {}
    try:
        if not isinstance(table, Mapping):
            raise ValueError("must be a table of [functions.NAME] tables")
        for spec in function_specs_from_toml(table, base):
            by_name[spec.name] = spec
    except ValueError as exc:
        raise SettingsError(f"{source}: {exc}") from None
    for text in flags:
        try:
            spec = parse_function_flag(text)
        except ValueError as exc:
            raise SettingsError(f"--function: {exc}") from None
        by_name[spec.name] = spec
    return tuple(by_name.values())
