"""The Runtime API as runtimes we did not write see it: custom runtimes' ``bootstrap`` files.

A ``bootstrap`` here is a bash script speaking HTTP through ``/dev/tcp`` (what a user of
``provided.al2023`` may well write), or a Python script that probes the API's answers to calls
made in the wrong order.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from propylon.functions.errors import FunctionError
from propylon.functions.runtimes import PYTHON_BOOTSTRAP
from propylon.functions.spec import FunctionSpec
from tests.helpers import write_file as write
from tests.unit.functions.workerpool import Harness, run_pool

BASH_BOOTSTRAP = (Path(__file__).parents[2] / "data" / "functions" / "bootstrap.sh").read_text()

PROBE_BOOTSTRAP = f"""
#!{sys.executable}
import http.client, json, os

api = http.client.HTTPConnection(os.environ["AWS_LAMBDA_RUNTIME_API"])

def call(method, path, body=None, headers=None):
    api.request(method, "/2018-06-01/runtime/" + path, body=body, headers=headers or {{}})
    answer = api.getresponse()
    return answer.status, answer.read().decode(), dict(answer.getheaders())

while True:
    status, event, headers = call("GET", "invocation/next")
    request_id = headers["Lambda-Runtime-Aws-Request-Id"]
    seen = {{
        "next": status,
        "deadline": headers["Lambda-Runtime-Deadline-Ms"],
        "arn": headers["Lambda-Runtime-Invoked-Function-Arn"],
        "twice": call("GET", "invocation/next")[:2],
        "wrong_id": call("POST", "invocation/not-the-one/response", b"1")[:2],
        "init_error_late": call("POST", "init/error", b"{{}}")[:2],
        "unknown": call("GET", "nothing")[0],
    }}
    if json.loads(event).get("fail"):
        seen["error"] = call(
            "POST", "invocation/" + request_id + "/error", event.encode(),
            {{"Lambda-Runtime-Function-Error-Type": "Custom.Failure"}},
        )[:2]
        continue
    seen["response"] = call("POST", "invocation/" + request_id + "/response", json.dumps(seen))[:2]
    seen["again"] = call("POST", "invocation/" + request_id + "/response", b"2")[:2]
"""


def provided(
    tmp_path: Path, bootstrap: str | None, mode: int = 0o755, **fields: Any
) -> FunctionSpec:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    if bootstrap is not None:
        write(code, "bootstrap", bootstrap, mode)
    return FunctionSpec("fn", "my.handler", code=code, runtime="provided.al2023", **fields)


def test_a_bash_bootstrap_serves_invocations(tmp_path: Path) -> None:
    spec = provided(tmp_path, BASH_BOOTSTRAP)

    async def scenario(harness: Harness) -> tuple[list[Any], str]:
        results = [await harness.pool.invoke({"n": n}, f"id-{n}") for n in range(2)]
        return results, harness.log()

    results, log = run_pool(tmp_path, spec, scenario)
    assert results == [
        {"statusCode": 201, "body": "bash ran my.handler", "event": {"n": n}} for n in range(2)
    ]
    assert f"init in {(tmp_path / 'code').resolve()} for my.handler\n" in log
    assert "START RequestId: id-0 Version: $LATEST\nhandling id-0\nEND RequestId: id-0\n" in log


def test_a_bootstrap_in_a_layer_serves_when_the_code_has_none(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    write(layer, "bootstrap", BASH_BOOTSTRAP, 0o755)
    spec = provided(tmp_path, None, layers=(layer,))

    async def scenario(harness: Harness) -> Any:
        return await harness.pool.invoke({"n": 1}, "id-1")

    assert run_pool(tmp_path, spec, scenario)["event"] == {"n": 1}


def test_no_bootstrap_is_an_invalid_entrypoint(tmp_path: Path) -> None:
    spec = provided(tmp_path, None)

    async def scenario(harness: Harness) -> FunctionError:
        with pytest.raises(FunctionError) as caught:
            await harness.pool.invoke({}, "id-1")
        return caught.value

    error = run_pool(tmp_path, spec, scenario)
    assert error.error_type == "Runtime.InvalidEntrypoint"
    code = (tmp_path / "code").resolve()
    assert error.error_message == (
        f"RequestId: id-1 Error: Couldn't find valid bootstrap(s): [{code}/bootstrap]"
    )


def test_a_bootstrap_that_is_not_executable_is_refused_as_lambda_refuses_it(
    tmp_path: Path,
) -> None:
    spec = provided(tmp_path, BASH_BOOTSTRAP, mode=0o644)

    async def scenario(harness: Harness) -> FunctionError:
        with pytest.raises(FunctionError) as caught:
            await harness.pool.invoke({}, "id-1")
        return caught.value

    error = run_pool(tmp_path, spec, scenario)
    assert error.error_type == "Runtime.InvalidEntrypoint"
    bootstrap = (tmp_path / "code" / "bootstrap").resolve()
    assert error.error_message == f"RequestId: id-1 Error: fork/exec {bootstrap}: permission denied"


def test_calls_out_of_turn_get_the_runtime_apis_errors(tmp_path: Path) -> None:
    spec = provided(tmp_path, PROBE_BOOTSTRAP, timeout=5)

    async def scenario(harness: Harness) -> Any:
        return await harness.pool.invoke({"n": 1}, "id-1")

    seen = run_pool(tmp_path, spec, scenario)
    assert seen["next"] == 200
    assert seen["arn"] == "arn:aws:lambda:us-east-1:000000000000:function:fn"
    assert int(seen["deadline"]) > 1_700_000_000_000  # epoch milliseconds
    status, body = seen["twice"]
    assert status == 403
    assert json.loads(body)["errorType"] == "InvalidStateTransition"
    assert seen["wrong_id"] == [
        400,
        '{"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}',
    ]
    assert seen["init_error_late"][0] == 403
    assert seen["unknown"] == 404


def test_an_error_a_runtime_posts_reaches_the_invoker_whole(tmp_path: Path) -> None:
    spec = provided(tmp_path, PROBE_BOOTSTRAP, timeout=5)

    async def scenario(harness: Harness) -> FunctionError:
        with pytest.raises(FunctionError) as caught:
            await harness.pool.invoke({"fail": 1, "errorType": "Oops", "errorMessage": "m"}, "i")
        return caught.value

    error = run_pool(tmp_path, spec, scenario)
    assert (error.error_type, error.error_message) == ("Oops", "m")
    assert error.document == b'{"fail":1,"errorType":"Oops","errorMessage":"m"}'


PIPELINING_BOOTSTRAP = f"""
#!{sys.executable}
import json, os, socket

host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
api = socket.create_connection((host, int(port)))
NEXT = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\\r\\nHost: r\\r\\n\\r\\n"
api.sendall(NEXT)
reads = []
while True:
    data = api.recv(65536)  # one read: what one write of the server's brought
    reads.append(data.decode().split("\\r\\n", 1)[0])
    request_id = data.split(b"Lambda-Runtime-Aws-Request-Id: ")[1].split(b"\\r\\n")[0]
    body = json.dumps(reads).encode()
    api.sendall(
        b"POST /2018-06-01/runtime/invocation/" + request_id + b"/response HTTP/1.1\\r\\n"
        + b"Host: r\\r\\nContent-Length: " + str(len(body)).encode() + b"\\r\\n\\r\\n" + body + NEXT
    )
"""


def test_the_202_for_a_pipelined_answer_leaves_with_the_next_event(tmp_path: Path) -> None:
    """A runtime that sends its answer and the next GET together is not woken for the 202:
    the 202 and the next event arrive in one read."""
    spec = provided(tmp_path, PIPELINING_BOOTSTRAP, timeout=5)

    async def scenario(harness: Harness) -> list[Any]:
        return [await harness.pool.invoke({}, f"id-{n}") for n in range(3)]

    first, second, third = run_pool(tmp_path, spec, scenario)
    assert first == ["HTTP/1.1 200 OK"]
    assert second[1:] == ["HTTP/1.1 202 Accepted"]  # the 202, then the event, in one read
    assert third[2:] == ["HTTP/1.1 202 Accepted"]


def test_propylons_python_client_speaks_the_api_over_tcp_too(tmp_path: Path) -> None:
    """Workers of Propylon's own runtimes get a Unix socket to the API; run as a custom
    runtime's bootstrap, the same client finds the API at ``AWS_LAMBDA_RUNTIME_API``."""
    spec = provided(tmp_path, f"#!/bin/sh\nexec {sys.executable} -u {PYTHON_BOOTSTRAP}\n")
    write(tmp_path / "code", "my.py", "def handler(event, context):\n    return event['n'] + 1\n")

    async def scenario(harness: Harness) -> list[Any]:
        return [await harness.pool.invoke({"n": n}, f"id-{n}") for n in range(3)]

    assert run_pool(tmp_path, spec, scenario) == [1, 2, 3]
