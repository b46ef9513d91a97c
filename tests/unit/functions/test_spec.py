"""Function specs from the CLI flag and from ``[functions.NAME]`` TOML tables."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest

from propylon.functions.spec import FunctionSpec, function_specs_from_toml, parse_function_flag


def test_flag_names_a_file_handler() -> None:
    spec = parse_function_flag("orders=services/orders/app.py:handler")
    assert spec == FunctionSpec(name="orders", handler="services/orders/app.py:handler")
    assert spec.is_file_handler
    assert (spec.code, spec.environment, spec.timeout, spec.memory) == (None, {}, 3.0, 128)


def test_flag_keeps_colons_in_the_path() -> None:
    spec = parse_function_flag(r"fn=C:\code\app.py:main")
    assert spec.handler == r"C:\code\app.py:main"


@pytest.mark.parametrize(
    "text",
    [
        "orders",
        "=app.py:handler",
        "orders=",
        "orders=app.handler",
        "orders=app.py",
        "bad name=a.py:f",
    ],
)
def test_malformed_flag_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=r"NAME=PATH/TO/FILE\.py:FUNC|not a valid function name"):
        parse_function_flag(text)


def test_toml_table_gives_every_field() -> None:
    document = tomllib.loads(
        """
        [functions.orders]
        handler = "app.handler"
        code = "services/orders"
        environment = { TABLE = "orders" }
        timeout = 10
        memory = 256

        [functions.ping]
        handler = "ping.py:main"
        """
    )
    orders, ping = function_specs_from_toml(document["functions"])
    assert orders == FunctionSpec(
        name="orders",
        handler="app.handler",
        code=Path("services/orders"),
        environment={"TABLE": "orders"},
        timeout=10.0,
        memory=256,
    )
    assert ping == FunctionSpec(name="ping", handler="ping.py:main")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({}, "missing key 'handler'"),
        ({"handler": "app.handler", "runtime": "python3.12"}, "unknown key 'runtime'"),
        ({"handler": 3}, "handler must be a non-empty string"),
        ({"handler": "app"}, "not a valid handler"),
        ({"handler": "app.handler", "code": 1}, "code must be a non-empty string"),
        ({"handler": "app.handler", "timeout": "3"}, "timeout must be a number"),
        ({"handler": "app.handler", "timeout": True}, "timeout must be a number"),
        ({"handler": "app.handler", "timeout": 0}, r"timeout must be in \(0, 900\]"),
        ({"handler": "app.handler", "timeout": 901}, r"timeout must be in \(0, 900\]"),
        ({"handler": "app.handler", "memory": 128.5}, "memory must be an integer"),
        ({"handler": "app.handler", "memory": 64}, "memory must be 128-10240 MB"),
        ({"handler": "app.handler", "environment": ["A=1"]}, "environment must be a table"),
        ({"handler": "app.handler", "environment": {"A": 1}}, "environment.A must be a string"),
        ({"handler": "app.handler", "environment": {"1A": "x"}}, "not a valid environment var"),
    ],
)
def test_bad_toml_entry_names_the_function(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=rf"^functions\.orders: .*{message}"):
        function_specs_from_toml({"orders": entry})


def test_toml_entry_that_is_not_a_table_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"functions\.orders: expected a table, got str"):
        function_specs_from_toml({"orders": "app.handler"})


def test_toml_function_name_is_validated() -> None:
    with pytest.raises(ValueError, match="not a valid function name"):
        function_specs_from_toml({"orders/v2": {"handler": "app.handler"}})


def test_spec_is_frozen() -> None:
    spec = FunctionSpec(name="orders", handler="app.handler")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]
