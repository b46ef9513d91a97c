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
    assert (spec.family, spec.invoker, spec.runtime) == ("python", "worker", None)


@pytest.mark.parametrize("extension", ["js", "mjs", "cjs"])
def test_a_javascript_file_in_the_flag_means_nodejs(extension: str) -> None:
    spec = parse_function_flag(f"orders=src/index.{extension}:handler")
    assert spec.family == "nodejs"
    assert spec.handler == f"src/index.{extension}:handler"


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
        "orders=app.rb:handler",
        "bad name=a.py:f",
    ],
)
def test_malformed_flag_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=r"NAME=PATH/TO/FILE\.py:FUNC|not a valid function name"):
        parse_function_flag(text)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory with code and layer directories, as the current directory."""
    for directory in ("services/orders", "layers/common", "layers/extra"):
        (tmp_path / directory).mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_toml_table_gives_every_field(project: Path) -> None:
    document = tomllib.loads(
        """
        [functions.orders]
        runtime = "python3.12"
        handler = "app.handler"
        code = "services/orders"
        layers = ["layers/common", "layers/extra"]
        environment = { TABLE = "orders" }
        timeout = 10
        memory = 256
        reserved_concurrency = 4

        [functions.ping]
        handler = "ping.py:main"
        invoker = "in-process"

        [functions.native]
        runtime = "provided.al2023"
        code = "services/orders"
        """
    )
    orders, ping, native = function_specs_from_toml(document["functions"])
    assert orders == FunctionSpec(
        name="orders",
        handler="app.handler",
        code=Path("services/orders"),
        environment={"TABLE": "orders"},
        timeout=10.0,
        memory=256,
        runtime="python3.12",
        layers=(Path("layers/common"), Path("layers/extra")),
        reserved_concurrency=4,
    )
    assert orders.concurrency == 4
    assert ping == FunctionSpec(name="ping", handler="ping.py:main", invoker="in-process")
    assert ping.concurrency == 1000  # the account's, shared
    assert (native.family, native.handler) == ("provided", "bootstrap")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({}, "missing key 'handler'"),
        ({"handler": "app.handler", "runtimes": "python3.12"}, "unknown key 'runtimes'"),
        ({"handler": "app.handler", "runtime": "python2.7"}, "unknown runtime 'python2.7'"),
        ({"handler": "app.handler", "runtime": "java21"}, "unknown runtime 'java21'"),
        ({"handler": 3}, "handler must be a non-empty string"),
        ({"handler": "app"}, "not a valid handler"),
        ({"handler": "app handler", "runtime": "nodejs20.x"}, "not a valid handler"),
        ({"handler": "app.handler", "code": 1}, "code must be a non-empty string"),
        ({"handler": "app.handler", "code": "missing"}, "code: no such directory: missing"),
        ({"handler": "app.handler", "layers": "a"}, "layers must be a list"),
        ({"handler": "app.handler", "layers": ["nope"]}, r"layers\[0\]: no such directory"),
        ({"handler": "app.handler", "timeout": "3"}, "timeout must be a number"),
        ({"handler": "app.handler", "timeout": True}, "timeout must be a number"),
        ({"handler": "app.handler", "timeout": 0}, r"timeout must be in \(0, 900\]"),
        ({"handler": "app.handler", "timeout": 901}, r"timeout must be in \(0, 900\]"),
        ({"handler": "app.handler", "memory": 128.5}, "memory must be an integer"),
        ({"handler": "app.handler", "memory": 64}, "memory must be 128-10240 MB"),
        ({"handler": "app.handler", "reserved_concurrency": -1}, "reserved_concurrency must"),
        ({"handler": "app.handler", "reserved_concurrency": 1.5}, "must be an integer"),
        ({"handler": "app.handler", "invoker": "thread"}, "invoker must be one of"),
        (
            {"handler": "index.handler", "runtime": "nodejs20.x", "invoker": "in-process"},
            "only Python functions run in-process",
        ),
        ({"handler": "app.handler", "environment": ["A=1"]}, "environment must be a table"),
        ({"handler": "app.handler", "environment": {"AB": 1}}, "environment.AB must be a string"),
        ({"handler": "app.handler", "environment": {"1A": "x"}}, "not a valid variable name"),
        ({"handler": "app.handler", "environment": {"A": "x"}}, "not a valid variable name"),
        (
            {"handler": "app.handler", "environment": {"AWS_REGION": "eu-west-1"}},
            r"environment\.AWS_REGION: reserved",
        ),
        (
            {"handler": "app.handler", "environment": {"_HANDLER": "x.y"}},
            r"environment\._HANDLER: reserved",
        ),
    ],
)
def test_bad_toml_entry_names_the_function_and_the_key(
    project: Path, entry: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=rf"^functions\.orders: .*{message}"):
        function_specs_from_toml({"orders": entry})


def test_a_spec_built_in_code_refuses_reserved_variables_too() -> None:
    with pytest.raises(ValueError, match="AWS_LAMBDA_FUNCTION_NAME is reserved"):
        FunctionSpec("f", "f.handler", environment={"AWS_LAMBDA_FUNCTION_NAME": "g"})


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
