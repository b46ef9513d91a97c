"""Functions as Lambda runs them, behind real HTTP and WebSocket routes: Python and Node.js
handlers and a custom runtime's ``bootstrap``, each in worker processes of its own.

One server serves every function written below; each test calls them through API Gateway
routes with an HTTP or WebSocket client, and reads their log files.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from websockets.asyncio.client import connect

from propylon.functions import FunctionSpec
from propylon.settings import Settings
from tests.conftest import make_client
from tests.helpers import write_file as write
from tests.servers import threaded_server

ACCOUNT = "000000000000"

PYTHON_APP = """
import os
import state

def handler(event, context):
    query = event.get("queryStringParameters") or {}
    if "set" in query:
        state.VALUE = query["set"]
    return {"table": os.environ["TABLE"], "value": state.VALUE, "pid": os.getpid()}
"""

PYTHON_CRASH = """
import os, signal

def exit_status(event, context):
    os._exit(1)

def killed(event, context):
    os.kill(os.getpid(), signal.SIGKILL)

def sleep(event, context):
    import time
    time.sleep(int(event["queryStringParameters"]["ms"]) / 1000)
    return {"slept": os.getpid()}
"""

NODE_APP = """
let calls = 0;
export const handler = async (event, context) => {
  calls += 1;
  console.log("node handled", event.rawPath);
  return {
    table: process.env.TABLE,
    calls,
    pid: process.pid,
    context: {
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      memoryLimitInMB: context.memoryLimitInMB,
      awsRequestId: context.awsRequestId,
      invokedFunctionArn: context.invokedFunctionArn,
      logGroupName: context.logGroupName,
      logStreamName: context.logStreamName,
      remaining: context.getRemainingTimeInMillis(),
      waits: context.callbackWaitsForEmptyEventLoop,
    },
  };
};
export const crash = async () => { process.exit(2); };
export const forever = () => new Promise(() => setTimeout(() => {}, 60000));
"""

NODE_WEBSOCKET = """
exports.handler = async (event) => {
  if (event.requestContext.eventType !== "MESSAGE") return { statusCode: 200 };
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME;
  return { statusCode: 200, body: `echo ${event.body} from ${name}` };
};
"""

BASH_BOOTSTRAP = (Path(__file__).parents[1] / "data" / "functions" / "bootstrap.sh").read_text()


def functions(root: Path) -> tuple[FunctionSpec, ...]:
    for name in ("py-a", "py-b"):
        write(root / name, "app.py", PYTHON_APP)
        write(root / name, "state.py", "VALUE = None\n")
    write(root / "py-crash", "crash.py", PYTHON_CRASH)
    write(root / "node", "index.mjs", NODE_APP)
    write(root / "node-ws", "ws.js", NODE_WEBSOCKET)
    write(root / "native", "bootstrap", BASH_BOOTSTRAP, 0o755)
    crash = root / "py-crash"
    return (
        FunctionSpec("py-a", "app.handler", code=root / "py-a", environment={"TABLE": "a"}),
        FunctionSpec("py-b", "app.handler", code=root / "py-b", environment={"TABLE": "b"}),
        FunctionSpec("py-exit", "crash.exit_status", code=crash),
        FunctionSpec("py-killed", "crash.killed", code=crash),
        FunctionSpec("py-one", "crash.sleep", code=crash, reserved_concurrency=1),
        FunctionSpec("py-sleep", "crash.sleep", code=crash, timeout=5),
        FunctionSpec(
            "node",
            "index.handler",
            code=root / "node",
            environment={"TABLE": "a"},
            memory=256,
            runtime="nodejs20.x",
        ),
        FunctionSpec("node-crash", "index.crash", code=root / "node", runtime="nodejs18.x"),
        FunctionSpec(
            "node-forever", "index.forever", code=root / "node", timeout=0.5, runtime="nodejs22.x"
        ),
        FunctionSpec("node-ws", "ws.handler", code=root / "node-ws", runtime="nodejs20.x"),
        FunctionSpec("native", "my.handler", code=root / "native", runtime="provided.al2023"),
    )


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("functions")


@pytest.fixture(scope="module")
def served(root: Path) -> Iterator[str]:
    settings = Settings(
        in_memory=True, functions=functions(root / "code"), log_dir=root / "logs", reload=False
    )
    with threaded_server(settings) as url:
        yield url


@pytest.fixture(scope="module")
def api(served: str) -> str:
    """One HTTP API with a route ``GET /{name}`` per function (``$default`` stage)."""
    control = make_client(served)
    api_id = str(control.create_api(Name="functions", ProtocolType="HTTP")["ApiId"])
    for spec in functions(Path("/unused")):
        integration = control.create_integration(
            ApiId=api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{spec.name}",
            PayloadFormatVersion="2.0",
        )
        control.create_route(
            ApiId=api_id,
            RouteKey=f"GET /{spec.name}",
            Target=f"integrations/{integration['IntegrationId']}",
        )
    slow = control.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:py-sleep",
        PayloadFormatVersion="2.0",
        TimeoutInMillis=300,
    )
    control.create_route(
        ApiId=api_id, RouteKey="GET /impatient", Target=f"integrations/{slow['IntegrationId']}"
    )
    control.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    return api_id


def get(served: str, api: str, path: str) -> httpx.Response:
    return httpx.get(f"{served}/_aws/execute-api/{api}{path}", timeout=30)


def log_of(root: Path, name: str) -> str:
    path = root / "logs" / "aws" / "lambda" / f"{name}.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def eventually(check: Any, within: float = 10.0) -> Any:
    """Poll ``check()`` until it returns something true; AssertionError after ``within``."""
    deadline = time.monotonic() + within
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        time.sleep(0.02)


def test_each_function_has_its_own_variables_and_its_own_globals(served: str, api: str) -> None:
    a = get(served, api, "/py-a?set=from-a").json()
    b = get(served, api, "/py-b").json()
    node = get(served, api, "/node").json()
    assert (a["table"], a["value"]) == ("a", "from-a")
    assert (b["table"], b["value"]) == ("b", None)  # the same module name, not the same module
    assert node["table"] == "a"
    assert len({a["pid"], b["pid"], node["pid"], os.getpid()}) == 4
    assert get(served, api, "/py-a").json()["value"] == "from-a"  # warm: state kept


@pytest.mark.parametrize("crashing", ["py-exit", "py-killed", "node-crash"])
def test_a_crash_answers_500_and_every_other_route_keeps_answering(
    served: str, api: str, root: Path, crashing: str
) -> None:
    before = get(served, api, "/node").json()["pid"]
    answer = get(served, api, f"/{crashing}")
    assert answer.status_code == 500
    assert answer.json() == {"message": "Internal Server Error"}
    assert get(served, api, "/py-b").status_code == 200
    assert get(served, api, "/node").json()["pid"] == before
    assert get(served, api, f"/{crashing}").status_code == 500  # a fresh worker, the same end
    reason = {
        "py-exit": "exit status 1",
        "py-killed": "signal: killed",
        "node-crash": "exit status 2",
    }[crashing]
    log = eventually(
        lambda: "Runtime.ExitError\n" in log_of(root, crashing) and log_of(root, crashing)
    )
    assert re.search(
        rf"RequestId: [0-9a-f-]{{36}} Error: Runtime exited with error: {reason}\n"
        r"Runtime.ExitError\n",
        log,
    )


def test_beyond_reserved_concurrency_the_gateway_answers_500(
    served: str, api: str, root: Path
) -> None:
    started = log_of(root, "py-one").count("START RequestId")
    answers: list[httpx.Response] = []
    first = threading.Thread(target=lambda: answers.append(get(served, api, "/py-one?ms=1500")))
    first.start()
    eventually(lambda: log_of(root, "py-one").count("START RequestId") > started)
    throttled = get(served, api, "/py-one?ms=0")
    first.join()
    assert throttled.status_code == 500
    assert throttled.json() == {"message": "Internal Server Error"}
    assert answers[0].status_code == 200


def test_the_functions_timeout_answers_500_and_the_integrations_503(
    served: str, api: str, root: Path
) -> None:
    assert get(served, api, "/node-forever").status_code == 500
    log = eventually(
        lambda: "Task timed out" in log_of(root, "node-forever") and log_of(root, "node-forever")
    )
    assert re.search(r"Z [0-9a-f-]{36} Task timed out after 0\.50 seconds\n", log)
    impatient = get(served, api, "/impatient?ms=2000")
    assert impatient.status_code == 503
    assert impatient.json() == {"message": "Service Unavailable"}


def test_a_custom_runtimes_bootstrap_answers_a_route(served: str, api: str) -> None:
    answer = get(served, api, "/native")
    assert (answer.status_code, answer.text) == (201, "bash ran my.handler")


def test_nodejs_gets_lambdas_context_object_and_logs_as_lambda_does(
    served: str, api: str, root: Path
) -> None:
    answer = get(served, api, "/node").json()
    context = answer["context"]
    assert context["functionName"] == "node"
    assert context["functionVersion"] == "$LATEST"
    assert context["memoryLimitInMB"] == "256"
    assert UUID(context["awsRequestId"]).version == 4
    assert context["invokedFunctionArn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:node"
    assert context["logGroupName"] == "/aws/lambda/node"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", context["logStreamName"])
    assert 0 < context["remaining"] <= 3000
    assert context["waits"] is True
    request_id = context["awsRequestId"]
    log = eventually(
        lambda: f"REPORT RequestId: {request_id}" in log_of(root, "node") and log_of(root, "node")
    )
    assert re.search(
        rf"START RequestId: {request_id} Version: \$LATEST\n"
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{request_id}\tINFO\tnode handled /node\n"
        rf"END RequestId: {request_id}\n"
        rf"REPORT RequestId: {request_id}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\t"
        rf"Memory Size: 256 MB\tMax Memory Used: \d+ MB\t",
        log,
    )


def test_a_websocket_route_runs_a_nodejs_function(served: str) -> None:
    control = make_client(served)
    api_id = control.create_api(
        Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )["ApiId"]
    integration = control.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:node-ws",
    )
    target = f"integrations/{integration['IntegrationId']}"
    control.create_route(ApiId=api_id, RouteKey="$connect", Target=target)
    route = control.create_route(
        ApiId=api_id,
        RouteKey="$default",
        Target=target,
        RouteResponseSelectionExpression="$default",
    )
    control.create_route_response(
        ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default"
    )
    control.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
    port = served.rsplit(":", 1)[1]

    async def chat() -> str:
        url = f"ws://127.0.0.1:{port}/_aws/execute-api/{api_id}/prod"
        async with connect(url) as socket:
            await socket.send(json.dumps({"hello": 1}))
            return str(await asyncio.wait_for(socket.recv(), 10))

    assert asyncio.run(chat()) == 'echo {"hello": 1} from node-ws'
