"""The function registry: URIs to invokers, by name, through a table of invoker kinds."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from propylon.functions.errors import FunctionNotFound
from propylon.functions.invokers import InProcessInvoker
from propylon.functions.registry import FunctionRegistry
from propylon.functions.spec import FunctionSpec

ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders"
URI = f"arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{ARN}/invocations"


class RecordingInvoker:
    """A stand-in invoker kind: records what it was built with and what it was asked."""

    created: ClassVar[list[tuple[str, str]]] = []
    checked: ClassVar[list[list[str]]] = []

    def __init__(self, spec: FunctionSpec, invoked_function_arn: str) -> None:
        self.spec = spec
        self.closed = False
        RecordingInvoker.created.append((spec.name, invoked_function_arn))

    @staticmethod
    def check_specs(specs: Sequence[FunctionSpec]) -> None:
        RecordingInvoker.checked.append([spec.name for spec in specs])

    async def invoke(self, event: dict[str, Any], request_id: str) -> Any:
        return {"function": self.spec.name, "request": request_id}

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture(autouse=True)
def fresh_recordings() -> None:
    RecordingInvoker.created = []
    RecordingInvoker.checked = []


def make_registry(*names: str, **options: Any) -> FunctionRegistry:
    """A registry of worker functions, whose kind records instead of running anything."""
    specs = [FunctionSpec(name=name, handler=f"{name}.handler") for name in names]
    options.setdefault("kinds", {"worker": RecordingInvoker})
    return FunctionRegistry(specs, **options)


def test_every_uri_form_resolves_to_one_invoker_per_function() -> None:
    registry = make_registry("orders", "ping", region="eu-west-1", account_id="111122223333")
    invoker = registry.resolve(URI)
    assert registry.resolve("orders") is invoker
    assert registry.resolve(ARN + ":prod") is invoker
    assert registry.resolve("ping") is not invoker
    assert RecordingInvoker.created == [
        ("orders", "arn:aws:lambda:eu-west-1:111122223333:function:orders"),
        ("ping", "arn:aws:lambda:eu-west-1:111122223333:function:ping"),
    ]
    assert RecordingInvoker.checked == [["orders", "ping"]]


def test_resolved_invoker_runs_the_function() -> None:
    registry = make_registry("orders")
    result = asyncio.run(registry.resolve(URI).invoke({}, "req-1"))
    assert result == {"function": "orders", "request": "req-1"}


def test_unknown_function_names_the_uri_and_the_known_functions() -> None:
    registry = make_registry("ping", "orders")
    missing = URI.replace("orders", "payments")
    with pytest.raises(FunctionNotFound) as caught:
        registry.resolve(missing)
    assert str(caught.value) == f"no local function for {missing!r} (known functions: orders, ping)"
    assert caught.value.known == ("orders", "ping")


def test_uri_naming_no_function_is_not_found() -> None:
    with pytest.raises(FunctionNotFound, match="known functions: none"):
        make_registry().resolve("https://example.com")


def test_membership_and_specs() -> None:
    registry = make_registry("orders")
    assert URI in registry
    assert "ping" not in registry
    assert registry.names == ["orders"]
    spec = registry.spec("orders")
    assert spec is not None
    assert spec.handler == "orders.handler"
    assert registry.spec("ping") is None


def test_duplicate_function_is_rejected() -> None:
    with pytest.raises(ValueError, match="'orders' is defined more than once"):
        make_registry("orders", "orders")


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown invoker kind 'worker' \\(known: in-process\\)"):
        make_registry("orders", kinds={"in-process": RecordingInvoker})


def test_each_spec_names_its_kind_and_each_kind_vets_its_own_specs() -> None:
    specs = [
        FunctionSpec("f", "f.handler", invoker="in-process"),
        FunctionSpec("w", "w.handler"),
    ]
    registry = FunctionRegistry(
        specs, kinds={"in-process": InProcessInvoker, "worker": RecordingInvoker}
    )
    assert isinstance(registry.resolve("f"), InProcessInvoker)
    assert isinstance(registry.resolve("w"), RecordingInvoker)
    assert RecordingInvoker.checked == [["w"]]


def test_in_process_functions_cannot_share_a_variable_with_two_values() -> None:
    specs = [
        FunctionSpec("a", "a.handler", environment={"TABLE": "a"}, invoker="in-process"),
        FunctionSpec("b", "b.handler", environment={"TABLE": "b"}, invoker="in-process"),
    ]
    with pytest.raises(ValueError, match="share one environment"):
        FunctionRegistry(specs)


def test_aclose_closes_invokers_and_later_resolves_start_fresh() -> None:
    registry = make_registry("orders")
    first = registry.resolve("orders")
    asyncio.run(registry.aclose())
    assert isinstance(first, RecordingInvoker)
    assert first.closed
    assert registry.resolve("orders") is not first


def test_in_process_registry_runs_a_handler_file(tmp_path: Path) -> None:
    path = tmp_path / "orders.py"
    path.write_text("def handler(event, context):\n    return event['n'] * 2\n", encoding="utf-8")
    spec = FunctionSpec(name="orders", handler=f"{path}:handler", invoker="in-process")
    registry = FunctionRegistry([spec])

    async def scenario() -> Any:
        try:
            return await registry.resolve(URI).invoke({"n": 21}, "req-1")
        finally:
            await registry.aclose()

    assert asyncio.run(scenario()) == 42
