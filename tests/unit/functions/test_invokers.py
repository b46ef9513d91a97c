"""The in-process invoker, against small handler files written for each test."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from propylon.functions.errors import CallerTimeout, FunctionError, FunctionTimeout
from propylon.functions.invokers import InProcessInvoker
from propylon.functions.spec import FunctionSpec

ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"
EVENT = {"rawPath": "/orders"}


def write(directory: Path, filename: str, source: str) -> Path:
    path = directory / filename
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def invoke(
    spec: FunctionSpec,
    event: dict[str, Any] = EVENT,
    request_id: str = "r-1",
    limit: float | None = None,
    **options: Any,
) -> Any:
    """Run one invocation on a fresh invoker and close it again."""

    async def scenario() -> Any:
        invoker = InProcessInvoker(spec, ARN, **options)
        try:
            return await invoker.invoke(event, request_id, limit)
        finally:
            await invoker.aclose()

    return asyncio.run(scenario())


def file_spec(path: Path, func: str = "handler", **fields: Any) -> FunctionSpec:
    return FunctionSpec(name="fn", handler=f"{path}:{func}", **fields)


def test_sync_handler_runs_off_the_event_loop_thread(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "app.py",
        """
        import threading

        def handler(event, context):
            return {"path": event["rawPath"], "thread": threading.get_ident(),
                    "request": context.aws_request_id, "arn": context.invoked_function_arn}
        """,
    )
    result = invoke(file_spec(path), request_id="req-7")
    assert result["path"] == "/orders"
    assert result["thread"] != threading.get_ident()
    assert (result["request"], result["arn"]) == ("req-7", ARN)


def test_async_handler_is_awaited(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "app.py",
        """
        import asyncio

        async def handler(event, context):
            await asyncio.sleep(0)
            return {"statusCode": 201, "body": context.function_name}
        """,
    )
    assert invoke(file_spec(path)) == {"statusCode": 201, "body": "fn"}


def test_handler_exception_becomes_function_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "app.py",
        """
        class OrderMissing(Exception):
            pass

        def handler(event, context):
            raise OrderMissing("no order 42")
        """,
    )
    with pytest.raises(FunctionError) as caught:
        invoke(file_spec(path))
    error = caught.value
    assert (error.error_type, error.error_message) == ("OrderMissing", "no order 42")
    assert error.payload() == {"errorType": "OrderMissing", "errorMessage": "no order 42"}
    assert "raise OrderMissing" in error.traceback  # for the logs
    assert "Traceback" not in str(error)  # what may be shown is type and message only


def test_timeout_raises_function_timeout(tmp_path: Path) -> None:
    # Waits for the timeout itself (0.2 s); the handler finishes in its thread afterwards.
    path = write(
        tmp_path,
        "app.py",
        """
        import time

        def handler(event, context):
            time.sleep(0.3)
            return "too late"
        """,
    )
    with pytest.raises(FunctionTimeout, match=r"r-1 Task timed out after 0\.20 seconds"):
        invoke(file_spec(path, timeout=0.2))


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_a_caller_limit_shorter_than_the_timeout_raises_caller_timeout(
    tmp_path: Path, kind: str
) -> None:
    wait = "time.sleep(0.3)" if kind == "def" else "await asyncio.sleep(0.3)"
    path = write(
        tmp_path,
        "app.py",
        f"""
        import asyncio, time

        {kind} handler(event, context):
            {wait}
            return "too late"
        """,
    )
    with pytest.raises(CallerTimeout, match=r"r-1 no answer within 0\.050 seconds"):
        invoke(file_spec(path, timeout=5), limit=0.05)


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_a_caller_limit_longer_than_the_timeout_leaves_the_function_timeout(
    tmp_path: Path, kind: str
) -> None:
    wait = "time.sleep(0.3)" if kind == "def" else "await asyncio.sleep(0.3)"
    path = write(
        tmp_path,
        "app.py",
        f"""
        import asyncio, time

        {kind} handler(event, context):
            {wait}
        """,
    )
    with pytest.raises(FunctionTimeout, match=r"Task timed out after 0\.05 seconds"):
        invoke(file_spec(path, timeout=0.05), limit=10)


def test_many_concurrent_sync_calls_each_get_their_own_answer(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "app.py",
        """
        def handler(event, context):
            return [event["n"], context.aws_request_id]
        """,
    )

    async def scenario() -> list[Any]:
        invoker = InProcessInvoker(file_spec(path), ARN, max_threads=3)
        try:
            calls = [invoker.invoke({"n": n}, f"r-{n}") for n in range(500)]
            return await asyncio.gather(*calls)
        finally:
            await invoker.aclose()

    assert asyncio.run(scenario()) == [[n, f"r-{n}"] for n in range(500)]


def test_handler_raising_timeout_error_is_a_function_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "app.py",
        """
        def handler(event, context):
            raise TimeoutError("upstream did not answer")
        """,
    )
    with pytest.raises(FunctionError, match="TimeoutError: upstream did not answer"):
        invoke(file_spec(path))


def test_environment_is_visible_and_restored_on_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROPYLON_TEST_TABLE", "before")
    path = write(
        tmp_path,
        "app.py",
        """
        import os

        TABLE_AT_IMPORT = os.environ["PROPYLON_TEST_TABLE"]

        def handler(event, context):
            return [TABLE_AT_IMPORT, os.environ["PROPYLON_TEST_TABLE"]]
        """,
    )
    spec = file_spec(path, environment={"PROPYLON_TEST_TABLE": "orders"})
    assert invoke(spec) == ["orders", "orders"]
    assert os.environ["PROPYLON_TEST_TABLE"] == "before"


def test_variable_absent_before_is_removed_on_close(tmp_path: Path) -> None:
    path = write(tmp_path, "app.py", "def handler(event, context):\n    return None\n")
    environ = {"KEEP": "1"}
    invoke(file_spec(path, environment={"ADDED": "x"}), environ=environ)
    assert environ == {"KEEP": "1"}


def test_remaining_time_comes_from_timeout_and_clock(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "app.py",
        """
        def handler(event, context):
            return [context.get_remaining_time_in_millis(), context.memory_limit_in_mb,
                    context.log_group_name, context.log_stream_name]
        """,
    )
    remaining, memory, group, stream = invoke(
        file_spec(path, timeout=5, memory=512), clock=lambda: 100.0
    )
    assert (remaining, memory, group) == (5000, "512", "/aws/lambda/fn")
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", stream)


def test_module_handler_loads_from_code_directory_without_leaving_it_on_sys_path(
    tmp_path: Path,
) -> None:
    code = tmp_path / "orders_code"
    code.mkdir()
    write(code, "orders_helpers.py", "GREETING = 'hello'\n")
    write(
        code,
        "orders_app.py",
        """
        from orders_helpers import GREETING

        def handler(event, context):
            return GREETING
        """,
    )
    spec = FunctionSpec(name="fn", handler="orders_app.handler", code=code)
    try:
        assert invoke(spec) == "hello"
        assert str(code.resolve()) not in sys.path
    finally:
        sys.modules.pop("orders_app", None)
        sys.modules.pop("orders_helpers", None)


def test_module_already_imported_from_elsewhere_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "json.py", "def handler(event, context):\n    return 'shadow'\n")
    spec = FunctionSpec(name="fn", handler="json.handler", code=tmp_path)
    with pytest.raises(FunctionError, match="already loaded from") as caught:
        invoke(spec)
    assert caught.value.error_type == "Runtime.ImportModuleError"


def test_handler_loads_once_and_file_modules_do_not_collide(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    source = "LOADS = []\nLOADS.append(1)\n\ndef handler(event, context):\n    return {}\n"
    write(first, "app.py", source.replace("{}", "['a', len(LOADS)]"))
    write(second, "app.py", source.replace("{}", "['b', len(LOADS)]"))

    async def scenario() -> list[Any]:
        a = InProcessInvoker(file_spec(first / "app.py"), ARN)
        b = InProcessInvoker(file_spec(second / "app.py"), ARN)
        results = await asyncio.gather(*(a.invoke(EVENT, f"r{i}") for i in range(3)))
        results.append(await b.invoke(EVENT, "r3"))
        await a.aclose()
        await b.aclose()
        return results

    assert asyncio.run(scenario()) == [["a", 1], ["a", 1], ["a", 1], ["b", 1]]


@pytest.mark.parametrize(
    ("source", "handler", "error_type", "message"),
    [
        ("x = 1\n", "handler", "Runtime.HandlerNotFound", "Handler 'handler' missing"),
        ("def handler(:\n", "handler", "Runtime.UserCodeSyntaxError", "Syntax error"),
        ("import no_such_module_xyz\n", "handler", "Runtime.ImportModuleError", "no_such_module"),
        ("raise KeyError('CONFIG')\n", "handler", "KeyError", "'CONFIG'"),
    ],
)
def test_load_failures_are_typed_like_lambda(
    tmp_path: Path, source: str, handler: str, error_type: str, message: str
) -> None:
    path = write(tmp_path, "app.py", source)
    with pytest.raises(FunctionError, match=message) as caught:
        invoke(file_spec(path, handler))
    assert caught.value.error_type == error_type


def test_missing_file_is_an_import_error(tmp_path: Path) -> None:
    with pytest.raises(FunctionError) as caught:
        invoke(file_spec(tmp_path / "absent.py"))
    assert caught.value.error_type == "Runtime.ImportModuleError"


def test_failed_load_is_retried_on_next_invocation(tmp_path: Path) -> None:
    path = write(tmp_path, "app.py", "x = 1\n")

    async def scenario() -> Any:
        invoker = InProcessInvoker(file_spec(path), ARN)
        with pytest.raises(FunctionError):
            await invoker.invoke(EVENT, "r1")
        write(tmp_path, "app.py", "def handler(event, context):\n    return 'fixed'\n")
        result = await invoker.invoke(EVENT, "r2")
        await invoker.aclose()
        return result

    assert asyncio.run(scenario()) == "fixed"


def test_closed_invoker_refuses_work(tmp_path: Path) -> None:
    path = write(tmp_path, "app.py", "def handler(event, context):\n    return 1\n")

    async def scenario() -> None:
        invoker = InProcessInvoker(file_spec(path), ARN)
        await invoker.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await invoker.invoke(EVENT, "r1")

    asyncio.run(scenario())


def test_conflicting_environments_are_rejected() -> None:
    specs = [
        FunctionSpec(name="a", handler="a.handler", environment={"TABLE": "a", "STAGE": "dev"}),
        FunctionSpec(name="b", handler="b.handler", environment={"TABLE": "b", "STAGE": "dev"}),
    ]
    with pytest.raises(ValueError, match="'a' and 'b' set environment variable TABLE"):
        InProcessInvoker.check_specs(specs)
    InProcessInvoker.check_specs([specs[0], FunctionSpec(name="c", handler="c.handler")])
