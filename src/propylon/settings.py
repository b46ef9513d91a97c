"""Settings: CLI flags > ``PROPYLON_*`` environment > ``propylon.toml`` > defaults, frozen once.

Nothing else in Propylon reads the environment or the configuration file: ``load_settings``
builds one ``Settings`` and everything else receives it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

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
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise SettingsError(f"not a port number: {value!r}") from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"port out of range 0-65535: {port}")
    return port


def _matching(pattern: str, what: str) -> Callable[[Any], str]:
    compiled = re.compile(pattern)

    def convert(value: Any) -> str:
        text = str(value)
        if not compiled.fullmatch(text):
            raise SettingsError(f"not a valid {what}: {text!r}")
        return text

    return convert


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "host": str,
    "port": _port,
    "state_dir": lambda value: Path(str(value)),
    "in_memory": _boolean,
    "region": _matching(r"[a-z]{2}(-[a-z]+)+-\d+", "region"),
    "account_id": _matching(r"\d{12}", "account id (12 digits)"),
    "log_level": _matching(r"critical|error|warning|info|debug|trace", "log level"),
}


def _from_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: {exc}") from None
    return {key.replace("-", "_"): value for key, value in document.items()}


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in _CONVERTERS:
        value = environ.get(ENV_PREFIX + name.upper())
        if value is not None:
            found[name] = value
    return found


def load_settings(
    flags: Mapping[str, Any],
    environ: Mapping[str, str],
    config_path: Path | None = None,
) -> Settings:
    """Merge the sources in order of precedence; ``flags`` holds None for flags not given."""
    path = config_path or Path(environ.get(ENV_PREFIX + "CONFIG", CONFIG_FILE))
    layered: dict[str, Any] = {}
    if path.is_file():
        layered.update(_from_file(path))
    elif config_path is not None:
        raise SettingsError(f"configuration file not found: {config_path}")
    layered.update(_from_environment(environ))
    layered.update({key: value for key, value in flags.items() if value is not None})
    known = {f.name for f in fields(Settings)}
    values: dict[str, Any] = {}
    for name, value in layered.items():
        if name in known:
            try:
                values[name] = _CONVERTERS[name](value)
            except SettingsError as exc:
                raise SettingsError(f"{name}: {exc}") from None
    return replace(Settings(), **values)
