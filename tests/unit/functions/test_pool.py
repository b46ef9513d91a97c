"""Python functions in worker processes: isolation, lifecycle, failures, limits and logs.

Each test writes a small handler into ``tmp_path`` and runs it in a real worker process fed
through the Runtime API, with Propylon's own Python runtime client.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from propylon.functions.errors import (
    CallerTimeout,
    FunctionError,
    FunctionThrottled,
    FunctionTimeout,
)
from propylon.functions.runtimes import find_interpreter
from propylon.functions.spec import FunctionSpec
from tests.helpers import write_file as write
from tests.unit.functions.workerpool import ARN, Harness, eventually, run_pool

PROBE = """
import os

CALLS = []

def handler(event, context):
    CALLS.append(event.get("n"))
    print("called with", event.get("n"))
    return {
        "pid": os.getpid(),
        "calls": CALLS,
        "greeting": os.environ.get("GREETING"),
        "environ": dict(os.environ),
        "context": {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
        },
        "cwd": os.getcwd(),
    }
"""


def spec_for(tmp_path: Path, source: str = PROBE, **fields: Any) -> FunctionSpec:
    code = tmp_path / "code"
    write(code, "app.py", source)
    fields.setdefault("handler", "app.handler")
    return FunctionSpec(name="fn", code=code, **fields)


def test_a_function_runs_in_a_process_of_its_own_with_lambdas_environment(tmp_path: Path) -> None:
    spec = spec_for(tmp_path, environment={"GREETING": "hola"}, memory=256, timeout=7)

    async def scenario(harness: Harness) -> Any:
        return await harness.pool.invoke({"n": 1}, "9f0e6a0c-6a4b-4f4e-9d0e-0a1b2c3d4e5f")

    result = run_pool(tmp_path, spec, scenario)
    environ = result["environ"]
    assert result["pid"] != os.getpid()
    assert result["greeting"] == "hola"
    assert result["cwd"] == str((tmp_path / "code").resolve())
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == "fn"
    assert environ["_HANDLER"] == "app.handler"
    assert environ["AWS_REGION"] == environ["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert environ["LAMBDA_TASK_ROOT"] == result["cwd"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", environ["AWS_LAMBDA_RUNTIME_API"])
    assert re.fullmatch(r"AWS_Lambda_python3\.\d+", environ["AWS_EXECUTION_ENV"])
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert environ["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert environ["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert environ["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/fn"
    trace = environ["_X_AMZN_TRACE_ID"]  # set per invocation from the Runtime API's header
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0", trace)
    assert "PROPYLON_SECRET" not in environ  # the host's own variables stay out
    assert environ["HOME"] == "/nonexistent"  # but what programs need to run comes in
    context = result["context"]
    assert context["aws_request_id"] == "9f0e6a0c-6a4b-4f4e-9d0e-0a1b2c3d4e5f"
    assert context["function_name"] == "fn"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == ARN
    assert context["memory_limit_in_mb"] == "256"
    assert context["log_group_name"] == "/aws/lambda/fn"
    assert context["log_stream_name"] == environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", context["log_stream_name"])
    assert 6000 < context["remaining"] <= 7000


def test_module_state_survives_between_warm_invocations_of_one_worker(tmp_path: Path) -> None:
    async def scenario(harness: Harness) -> list[Any]:
        return [await harness.pool.invoke({"n": n}, f"req-{n}") for n in range(3)]

    first, second, third = run_pool(tmp_path, spec_for(tmp_path), scenario)
    assert first["pid"] == second["pid"] == third["pid"]
    assert third["calls"] == [0, 1, 2]


def test_two_functions_keep_their_own_variables_and_globals(tmp_path: Path) -> None:
    source = """
    import os
    import shared_state

    def handler(event, context):
        if event.get("set"):
            shared_state.VALUE = event["set"]
        return [os.environ["TABLE"], shared_state.VALUE]
    """
    specs = []
    for name in ("a", "b"):
        code = tmp_path / name
        write(code, "app.py", source)
        write(code, "shared_state.py", "VALUE = None\n")
        specs.append(FunctionSpec(name, "app.handler", code=code, environment={"TABLE": name}))

    async def scenario(harness: Harness) -> Any:
        from propylon.functions.registry import WorkerKind

        kind = WorkerKind(harness.writer, region="us-east-1", host_environ={})
        other = kind(specs[1], ARN)
        try:
            set_a = await harness.pool.invoke({"set": "from a"}, "r1")
            b = await other.invoke({}, "r2")
            a = await harness.pool.invoke({}, "r3")
            return set_a, b, a
        finally:
            await other.aclose()

    set_a, b, a = run_pool(tmp_path, specs[0], scenario)
    assert set_a == ["a", "from a"]
    assert b == ["b", None]  # a's global is not b's
    assert a == ["a", "from a"]


@pytest.mark.parametrize(
    ("crash", "reason"),
    [
        ("os._exit(3)", "Runtime exited with error: exit status 3"),
        ("os.kill(os.getpid(), signal.SIGKILL)", "Runtime exited with error: signal: killed"),
        ("os.abort()", "Runtime exited with error: signal: aborted"),
        ("raise SystemExit(0)", "Runtime exited without providing a reason"),
    ],
)
def test_a_crash_fails_its_own_invocation_and_a_new_worker_takes_the_next(
    tmp_path: Path, crash: str, reason: str
) -> None:
    source = f"""
    import os, signal

    def handler(event, context):
        if event.get("crash"):
            {crash}
        return os.getpid()
    """

    async def scenario(harness: Harness) -> tuple[int, FunctionError, int]:
        before = await harness.pool.invoke({}, "r1")
        with pytest.raises(FunctionError) as caught:
            await harness.pool.invoke({"crash": True}, "0000-crash")
        after = await harness.pool.invoke({}, "r3")
        return before, caught.value, after

    before, error, after = run_pool(tmp_path, spec_for(tmp_path, source), scenario)
    assert error.error_type == "Runtime.ExitError"
    assert error.error_message == f"RequestId: 0000-crash Error: {reason}"
    assert before != after


def test_a_timeout_ends_the_worker_and_is_logged_as_lambda_logs_it(tmp_path: Path) -> None:
    source = """
    import os, time

    def handler(event, context):
        if event.get("sleep"):
            time.sleep(event["sleep"])
        return os.getpid()
    """

    async def scenario(harness: Harness) -> tuple[int, FunctionTimeout, int, str]:
        before = await harness.pool.invoke({}, "r1")
        with pytest.raises(FunctionTimeout) as caught:
            await harness.pool.invoke({"sleep": 30}, "slow-1")
        after = await harness.pool.invoke({}, "r3")
        return before, caught.value, after, harness.log()

    before, error, after, log = run_pool(
        tmp_path, spec_for(tmp_path, source, timeout=0.5), scenario
    )
    assert before != after  # the worker that timed out was ended
    assert str(error).endswith("slow-1 Task timed out after 0.50 seconds")
    assert re.search(
        r"END RequestId: slow-1\nREPORT RequestId: slow-1\tDuration: [\d.]+ ms\tBilled Duration: "
        r"\d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tStatus: timeout\t\n"
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z slow-1 Task timed out after 0\.50 seconds\n",
        log,
    ), log


def test_the_callers_limit_gives_up_while_the_invocation_runs_on(tmp_path: Path) -> None:
    source = """
    import time

    def handler(event, context):
        time.sleep(event["sleep"])
        return "done"
    """

    async def scenario(harness: Harness) -> Any:
        await harness.pool.invoke({"sleep": 0}, "warm-up")
        with pytest.raises(CallerTimeout):
            await harness.pool.invoke({"sleep": 0.5}, "r1", limit=0.05)
        assert harness.pool.states()["busy"] == 1  # still running, still counted
        return await harness.pool.invoke({"sleep": 0}, "r2")

    assert run_pool(tmp_path, spec_for(tmp_path, source), scenario) == "done"


def test_concurrency_up_to_the_reserved_limit_and_throttled_beyond(tmp_path: Path) -> None:
    source = """
    import os, time

    def handler(event, context):
        time.sleep(event["sleep"])
        return os.getpid()
    """
    spec = spec_for(tmp_path, source, reserved_concurrency=2, timeout=10)

    async def scenario(harness: Harness) -> tuple[list[int], FunctionThrottled]:
        pool = harness.pool
        running = [asyncio.ensure_future(pool.invoke({"sleep": 1.0}, f"r{n}")) for n in range(2)]
        await eventually(lambda: pool.states()["busy"] == 2)
        with pytest.raises(FunctionThrottled) as caught:
            await pool.invoke({"sleep": 0}, "r3")
        return list(await asyncio.gather(*running)), caught.value

    pids, throttled = run_pool(tmp_path, spec, scenario)
    assert len(set(pids)) == 2  # two environments, one invocation each
    assert throttled.limit == 2


def test_reserved_concurrency_zero_throttles_everything(tmp_path: Path) -> None:
    async def scenario(harness: Harness) -> None:
        with pytest.raises(FunctionThrottled):
            await harness.pool.invoke({}, "r1")

    run_pool(tmp_path, spec_for(tmp_path, reserved_concurrency=0), scenario)


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message"),
    [
        (
            {},
            "missing.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'missing': No module named 'missing'",
        ),
        (
            {"app.py": "def handler(:\n"},
            "app.handler",
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module 'app': ",
        ),
        (
            {"app.py": "X = 1\n"},
            "app.nothing",
            "Runtime.HandlerNotFound",
            "Handler 'nothing' missing on module 'app'",
        ),
        ({"app.py": "raise KeyError('boom')\n"}, "app.handler", "KeyError", "'boom'"),
        (
            {},
            "sys.handler",
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module sys as a handler module",
        ),
        (
            {"pkg/__init__.py": "", "pkg/app.py": "def handler(e, c):\n    return 1\n"},
            "pkg/app.nothing",
            "Runtime.HandlerNotFound",
            "Handler 'nothing' missing on module 'pkg.app'",
        ),
    ],
)
def test_an_init_failure_answers_with_lambdas_error_document(
    tmp_path: Path, files: dict[str, str], handler: str, error_type: str, message: str
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    for name, source in files.items():
        write(code, name, source)
    spec = FunctionSpec("fn", handler, code=code)

    async def scenario(harness: Harness) -> tuple[FunctionError, str]:
        with pytest.raises(FunctionError) as caught:
            await harness.pool.invoke({}, "r1")
        await eventually(lambda: "INIT_REPORT" in harness.log())
        return caught.value, harness.log()

    error, log = run_pool(tmp_path, spec, scenario)
    assert error.error_type == error_type
    assert error.error_message.startswith(message)
    assert error.document is not None
    document = json.loads(error.document)
    assert (document["errorType"], document["requestId"]) == (error_type, "")
    assert list(document) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert "LAMBDA_WARNING: Unhandled exception." in log
    assert f"[ERROR] {error_type}: {message}" in log
    assert re.search(
        r"INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\t"
        rf"Error Type: {re.escape(error_type)}",
        log,
    )


def test_init_is_tried_again_by_the_next_invocation(tmp_path: Path) -> None:
    spec = spec_for(tmp_path, "def handler(:\n")

    async def scenario(harness: Harness) -> Any:
        with pytest.raises(FunctionError, match="UserCodeSyntaxError"):
            await harness.pool.invoke({}, "r1")
        write(tmp_path / "code", "app.py", "def handler(event, context):\n    return 'fixed'\n")
        return await harness.pool.invoke({}, "r2")

    assert run_pool(tmp_path, spec, scenario) == "fixed"


def test_a_handlers_exception_is_lambdas_error_document_and_logged(tmp_path: Path) -> None:
    source = """
    def handler(event, context):
        return ACTIONS[event["action"]]

    ACTIONS = {}
    """

    async def scenario(harness: Harness) -> tuple[FunctionError, str]:
        with pytest.raises(FunctionError) as caught:
            await harness.pool.invoke({"action": "fly"}, "req-err")
        return caught.value, harness.log()

    error, log = run_pool(tmp_path, spec_for(tmp_path, source), scenario)
    assert (error.error_type, error.error_message) == ("KeyError", "'fly'")
    assert error.document is not None
    document = json.loads(error.document)
    assert list(document) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert document["requestId"] == "req-err"
    (frame,) = document["stackTrace"]
    assert frame.startswith('  File "')
    assert 'app.py", line 2, in handler' in frame
    assert "bootstrap.py" not in json.dumps(document)  # the runtime's own frames are dropped
    assert "[ERROR] KeyError: 'fly'\rTraceback (most recent call last):\r" in log
    assert re.search(r"REPORT RequestId: req-err\t.*\tStatus: error\tError Type: KeyError\t", log)


def test_what_cannot_be_marshalled_is_a_marshal_error(tmp_path: Path) -> None:
    source = """
    import datetime

    def handler(event, context):
        return {"when": datetime.date(2024, 5, 1)}
    """

    async def scenario(harness: Harness) -> FunctionError:
        with pytest.raises(FunctionError) as caught:
            await harness.pool.invoke({}, "r1")
        return caught.value

    error = run_pool(tmp_path, spec_for(tmp_path, source), scenario)
    assert error.error_type == "Runtime.MarshalError"
    assert (
        error.error_message
        == "Unable to marshal response: Object of type date is not JSON serializable"
    )


def test_a_response_over_6_mb_is_lambdas_error(tmp_path: Path) -> None:
    source = """
    def handler(event, context):
        return "x" * event["size"]
    """

    async def scenario(harness: Harness) -> tuple[FunctionError, int]:
        with pytest.raises(FunctionError) as caught:
            await harness.pool.invoke({"size": 6 * 1024 * 1024 + 200}, "r1")
        small = await harness.pool.invoke({"size": 5}, "r2")  # the same worker goes on
        return caught.value, len(small)

    error, small = run_pool(tmp_path, spec_for(tmp_path, source), scenario)
    assert error.error_type == "Function.ResponseSizeTooLarge"
    assert "exceeded maximum allowed payload size (6291556 bytes)" in error.error_message
    assert small == 5


def test_logs_frame_each_invocation_as_lambda_does(tmp_path: Path) -> None:
    source = """
    import logging

    logging.getLogger().setLevel(logging.INFO)

    def handler(event, context):
        print("line one\\nline two")
        logging.info("informed %s", event["n"])
        return event["n"]
    """

    async def scenario(harness: Harness) -> str:
        for n, request_id in enumerate(("11111111-1111", "22222222-2222")):
            await harness.pool.invoke({"n": n}, request_id)
        return harness.log()

    log = run_pool(tmp_path, spec_for(tmp_path, source), scenario)
    first, second = log.split("START RequestId: ")[1:]
    assert first.startswith("11111111-1111 Version: $LATEST\nline one\nline two\n")
    assert re.search(
        r"\n\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t11111111-1111\tinformed 0\n", first
    )
    assert re.search(
        r"END RequestId: 11111111-1111\nREPORT RequestId: 11111111-1111\tDuration: \d+\.\d\d ms\t"
        r"Billed Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\t"
        r"Init Duration: \d+\.\d\d ms\t\n$",
        first,
    ), first
    assert "Init Duration" not in second  # only an environment's first invocation has one
    assert re.search(r"\tMax Memory Used: [1-9]\d* MB\t\n$", second)


def test_retired_workers_finish_what_they_run_and_new_code_serves_the_next(tmp_path: Path) -> None:
    source = """
    import time

    def handler(event, context):
        time.sleep(event.get("sleep", 0))
        return "old"
    """
    spec = spec_for(tmp_path, source)

    async def scenario(harness: Harness) -> tuple[str, str]:
        pool = harness.pool
        in_flight = asyncio.ensure_future(pool.invoke({"sleep": 0.5}, "r1"))
        await eventually(lambda: pool.states()["busy"] == 1)
        write(tmp_path / "code", "app.py", "def handler(event, context):\n    return 'new'\n")
        pool.retire()
        return await in_flight, await pool.invoke({}, "r2")

    assert run_pool(tmp_path, spec, scenario) == ("old", "new")


def test_idle_workers_are_reaped(tmp_path: Path) -> None:
    async def scenario(harness: Harness) -> None:
        await harness.pool.invoke({}, "r1")
        assert harness.pool.states()["idle"] == 1
        await eventually(lambda: not harness.pool.workers)

    run_pool(tmp_path, spec_for(tmp_path), scenario, idle_lifetime=0.2)


def test_layers_are_on_the_import_path_after_the_code(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    write(layer, "python/helper.py", "WHERE = 'layer'\n")
    write(layer, "python/shadowed.py", "WHERE = 'layer'\n")
    write(tmp_path / "code", "shadowed.py", "WHERE = 'code'\n")
    source = """
    import helper, shadowed

    def handler(event, context):
        return [helper.WHERE, shadowed.WHERE]
    """
    spec = spec_for(tmp_path, source, layers=(layer,))

    async def scenario(harness: Harness) -> Any:
        return await harness.pool.invoke({}, "r1")

    assert run_pool(tmp_path, spec, scenario) == ["layer", "code"]


@pytest.mark.parametrize("minor", range(8, 15))
def test_each_python_runtime_runs_on_its_own_version_or_the_nearest(
    tmp_path: Path, minor: int
) -> None:
    """The runtime client is standard library only and Python 3.8 syntax: it runs on every
    version a ``python3.X`` runtime may pick (the machine's own, pyenv's, the running one)."""
    source = """
    import sys

    def handler(event, context):
        return list(sys.version_info[:2])
    """
    runtime = f"python3.{minor}"
    interpreter = find_interpreter(runtime, "python")
    assert interpreter is not None
    expected = list(interpreter.version[:2])
    assert (interpreter.warning is None) == (expected == [3, minor])

    async def scenario(harness: Harness) -> Any:
        return await harness.pool.invoke({}, "r1")

    assert run_pool(tmp_path, spec_for(tmp_path, source, runtime=runtime), scenario) == expected


def test_a_worker_over_its_memory_is_killed_as_out_of_memory(tmp_path: Path) -> None:
    source = """
    import time

    def handler(event, context):
        hoard = bytearray(event["mb"] * 1024 * 1024)
        hoard[::4096] = b"x" * len(hoard[::4096])  # touched: resident, not just reserved
        time.sleep(event["hold"])
        return len(hoard) // (1024 * 1024)
    """

    async def scenario(harness: Harness) -> tuple[FunctionError, int, str]:
        with pytest.raises(FunctionError) as caught:
            await harness.pool.invoke({"mb": 300, "hold": 5}, "oom-1")
        fits = await harness.pool.invoke({"mb": 20, "hold": 0}, "r2")
        return caught.value, fits, harness.log()

    error, fits, log = run_pool(
        tmp_path, spec_for(tmp_path, source, memory=128, timeout=10), scenario
    )
    assert error.error_type == "Runtime.OutOfMemory"
    assert (
        error.error_message == "RequestId: oom-1 Error: Runtime exited with error: signal: killed"
    )
    assert fits == 20
    assert re.search(
        r"REPORT RequestId: oom-1\t.*\tMax Memory Used: 128 MB\t.*Status: error\t"
        r"Error Type: Runtime.OutOfMemory\t",
        log,
    )


def test_an_invocation_waits_a_little_for_a_busy_worker_before_one_is_started(
    tmp_path: Path,
) -> None:
    """With a busy worker about to finish, a second invocation is served warm by it rather
    than by a new worker's cold start; past the grace, a new worker is started."""
    source = """
    import os, time

    def handler(event, context):
        time.sleep(event["sleep"])
        return os.getpid()
    """

    async def scenario(harness: Harness) -> tuple[list[int], list[int]]:
        pool = harness.pool
        await pool.invoke({"sleep": 0}, "warm-up")
        short = [pool.invoke({"sleep": 0.2}, "a"), pool.invoke({"sleep": 0}, "b")]
        served_warm = list(await asyncio.gather(*short))
        long = [pool.invoke({"sleep": 3}, "c"), pool.invoke({"sleep": 0}, "d")]
        served_new = list(await asyncio.gather(*long))
        return served_warm, served_new

    spec = spec_for(tmp_path, source, timeout=10)
    served_warm, served_new = run_pool(tmp_path, spec, scenario, start_grace=1.0)
    assert served_warm[0] == served_warm[1]  # b waited 0.2 s for a's worker
    assert served_new[0] != served_new[1]  # d did not wait 3 s: a worker started for it
