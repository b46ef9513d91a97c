"""The Node.js runtime client (bootstrap.mjs): real node processes against a fake Runtime API,
with handler files written for each test."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

import propylon.functions
from tests.unit.functions.runtime_api_fake import ARN, PREFIX, FakeRuntimeApi, Received

BOOTSTRAP = Path(propylon.functions.__file__).parent / "runtimes" / "node" / "bootstrap.mjs"
NODE = shutil.which("node") or "/usr/bin/node"
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
LOG_LINE = re.compile(rf"{TIME}\t([^\t]+)\t([A-Z]+)\t(.*)")
STREAM = "2026/12/07/[$LATEST]0123456789abcdef0123456789abcdef"

ESM = (
    "export const handler = async () => ({ kind: 'esm', file: import.meta.url.split('/').pop() });"
)
CJS = "exports.handler = async () => ({ kind: 'cjs', file: require('path').basename(__filename) });"
MODULE_PACKAGE = '{"type": "module"}'


def write(root: Path, files: dict[str, str]) -> Path:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


@dataclass(frozen=True)
class Exited:
    status: int
    stdout: str
    stderr: str

    def log(self) -> list[tuple[str, str, str]]:
        """(request id, level, message) of each log line; a message's own newlines are \\r."""
        matches = (LOG_LINE.fullmatch(line) for line in self.stdout.split("\n"))
        return [(m[1], m[2], m[3]) for m in matches if m]


class Runtime:
    """One ``node bootstrap.mjs`` process, started the way a Propylon worker starts it."""

    def __init__(self, api: FakeRuntimeApi, root: Path, handler: str, env: dict[str, str]):
        self.api = api
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/"),
            "AWS_LAMBDA_RUNTIME_API": api.address,
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": str(root),
            "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
            "AWS_LAMBDA_FUNCTION_NAME": "fn",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
            "AWS_LAMBDA_LOG_STREAM_NAME": STREAM,
            "AWS_REGION": "us-east-1",
            "AWS_EXECUTION_ENV": "AWS_Lambda_nodejs20.x",
        }
        self.process = subprocess.Popen(
            [NODE, str(BOOTSTRAP)],
            cwd=root,
            env=environment | env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def exited(self, timeout: float = 5.0) -> Exited:
        """Wait for the process to end by itself."""
        stdout, stderr = self.process.communicate(timeout=timeout)
        return Exited(self.process.returncode, stdout.decode(), stderr.decode())

    def stop(self) -> Exited:
        """Once the runtime waits for an event that will not come, take the API away."""
        self.api.idle()
        self.api.close()
        return self.exited()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


class Start(Protocol):
    def __call__(self, root: Path, handler: str = "index.handler", **env: str) -> Runtime: ...


@pytest.fixture
def api() -> Iterator[FakeRuntimeApi]:
    with FakeRuntimeApi() as fake:
        yield fake


@pytest.fixture
def start(api: FakeRuntimeApi) -> Iterator[Start]:
    started: list[Runtime] = []

    def start(root: Path, handler: str = "index.handler", **env: str) -> Runtime:
        started.append(Runtime(api, root, handler, env))
        return started[-1]

    yield start
    for runtime in started:
        runtime.kill()


def run(
    api: FakeRuntimeApi, start: Start, root: Path, *events: Any, handler: str = "index.handler"
) -> tuple[list[Received], Exited]:
    """Queue ``events``, run the bootstrap until it has posted one answer per event, stop it."""
    for event in events:
        api.queue(event)
    runtime = start(root, handler)
    posts = api.posts(len(events))
    return posts, runtime.stop()


def results(posts: list[Received]) -> list[Any]:
    assert all(post.path.endswith("/response") for post in posts), posts
    return [post.json() for post in posts]


def error_of(post: Received, request_id: str) -> dict[str, Any]:
    """The error document of an invocation error, checked against its path and header."""
    assert post.path == f"{PREFIX}/runtime/invocation/{request_id}/error"
    document: dict[str, Any] = post.json()
    assert post.headers["lambda-runtime-function-error-type"] == document["errorType"]
    return document


# ---- finding and loading the handler ----------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "handler", "expected"),
    [
        pytest.param({"index.mjs": ESM}, "index.handler", ("esm", "index.mjs"), id="mjs"),
        pytest.param({"index.js": CJS}, "index.handler", ("cjs", "index.js"), id="js-commonjs"),
        pytest.param(
            {"package.json": MODULE_PACKAGE, "index.js": ESM},
            "index.handler",
            ("esm", "index.js"),
            id="js-es-module-by-package-type",
        ),
        pytest.param(
            {"package.json": MODULE_PACKAGE, "src/app.js": ESM},
            "src/app.handler",
            ("esm", "app.js"),
            id="package-type-found-walking-up",
        ),
        pytest.param(
            {"package.json": MODULE_PACKAGE, "node_modules/lib/app.js": CJS},
            "node_modules/lib/app.handler",
            ("cjs", "app.js"),
            id="walk-up-stops-at-node-modules",
        ),
        pytest.param(
            {"package.json": '{"type": "commonjs"}', "index.js": CJS},
            "index.handler",
            ("cjs", "index.js"),
            id="js-commonjs-by-package-type",
        ),
        pytest.param(
            {"package.json": MODULE_PACKAGE, "index.cjs": CJS},
            "index.handler",
            ("cjs", "index.cjs"),
            id="cjs",
        ),
        pytest.param({"index": CJS}, "index.handler", ("cjs", "index"), id="extensionless"),
        pytest.param(
            {"src/handlers/app.js": CJS.replace("handler", "lambdaHandler")},
            "src/handlers/app.lambdaHandler",
            ("cjs", "app.js"),
            id="subdirectory",
        ),
        pytest.param(
            {"node_modules/pkg/index.js": CJS},
            "pkg.handler",
            ("cjs", "index.js"),
            id="package-in-node-modules",
        ),
    ],
)
def test_handler_module_is_found_and_loaded_as_its_kind(
    api: FakeRuntimeApi,
    start: Start,
    tmp_path: Path,
    files: dict[str, str],
    handler: str,
    expected: tuple[str, str],
) -> None:
    posts, _ = run(api, start, write(tmp_path, files), {}, handler=handler)
    assert results(posts) == [{"kind": expected[0], "file": expected[1]}]


def test_nested_export_path_is_followed(api: FakeRuntimeApi, start: Start, tmp_path: Path) -> None:
    write(tmp_path, {"index.js": "exports.handlers = { api: { main: async () => 'nested' } };"})
    posts, _ = run(api, start, tmp_path, {}, handler="index.handlers.api.main")
    assert results(posts) == ["nested"]


def test_node_path_lets_a_handler_require_layer_packages(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    layer = tmp_path / "opt" / "nodejs" / "node_modules"
    write(layer, {"greet/index.js": "module.exports = (name) => `hello ${name}`;"})
    code = write(
        tmp_path / "task", {"index.js": "exports.handler = async (e) => require('greet')(e.n);"}
    )
    api.queue({"n": "layer"})
    runtime = start(code, NODE_PATH=str(layer))
    assert results(api.posts(1)) == ["hello layer"]
    runtime.stop()


@pytest.mark.parametrize(
    ("files", "handler", "error_type", "message"),
    [
        pytest.param(
            {"index.js": "exports.handler = async () => {;"},
            "index.handler",
            "Runtime.UserCodeSyntaxError",
            "SyntaxError: Unexpected end of input",
            id="syntax-error",
        ),
        pytest.param(
            {},
            "index.handler",
            "Runtime.ImportModuleError",
            f"Error: Cannot find module 'index'\nRequire stack:\n- {BOOTSTRAP}",
            id="missing-module",
        ),
        pytest.param(
            {"index.js": "require('left-pad'); exports.handler = async () => 1;"},
            "index.handler",
            "Runtime.ImportModuleError",
            "Error: Cannot find module 'left-pad'\nRequire stack:\n- ",
            id="missing-dependency",
        ),
        pytest.param(
            {"index.js": "exports.other = async () => 1;"},
            "index.handler",
            "Runtime.HandlerNotFound",
            "index.handler is undefined or not exported",
            id="missing-export",
        ),
        pytest.param(
            {"index.mjs": "export const handler = 42;"},
            "index.handler",
            "Runtime.HandlerNotFound",
            "index.handler is not a function",
            id="export-not-a-function",
        ),
        pytest.param(
            {"index.js": CJS}, "index", "Runtime.MalformedHandlerName", "Bad handler", id="no-dot"
        ),
        pytest.param(
            {"index.js": CJS},
            "../index.handler",
            "Runtime.MalformedHandlerName",
            "'../index.handler' is not a valid handler name. Use absolute paths when specifying"
            " root directories in handler names.",
            id="parent-directory",
        ),
        pytest.param(
            {"index.js": "throw new Error('no config');"},
            "index.handler",
            "Error",
            "no config",
            id="module-throws",
        ),
    ],
)
def test_load_failure_is_posted_as_init_error_and_exits_129(
    api: FakeRuntimeApi,
    start: Start,
    tmp_path: Path,
    files: dict[str, str],
    handler: str,
    error_type: str,
    message: str,
) -> None:
    exited = start(write(tmp_path, files), handler).exited()
    assert exited.status == 129
    [post] = api.received  # no GET next: init never finished
    assert post.path == f"{PREFIX}/runtime/init/error"
    assert post.headers["lambda-runtime-function-error-type"] == error_type
    document = post.json()
    assert document["errorType"] == error_type
    assert document["errorMessage"].startswith(message)
    assert document["trace"][0] == f"{error_type}: {document['errorMessage'].split(chr(10))[0]}"
    [(request_id, level, line)] = exited.log()
    assert (request_id, level) == ("undefined", "ERROR")
    assert line.startswith(f'Uncaught Exception \t{{"errorType":"{error_type}"')


# ---- handler styles -----------------------------------------------------------------------------


def test_async_handler_result_is_posted_as_json_to_its_request(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    write(tmp_path, {"index.mjs": "export const handler = async (e) => ({ got: e.n + 1 });"})
    request_id = api.queue({"n": 41})
    runtime = start(tmp_path)
    [post] = api.posts(1)
    assert post.path == f"{PREFIX}/runtime/invocation/{request_id}/response"
    assert post.headers["content-type"] == "application/json"
    assert post.json() == {"got": 42}
    assert runtime.stop().status == 0


def test_undefined_result_is_null_and_text_is_utf8(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    write(tmp_path, {"index.js": "exports.handler = async (e) => e.say && `${e.say} ✓`;"})
    posts, _ = run(api, start, tmp_path, {}, {"say": "Zoë"})
    assert [post.body for post in posts] == [b"null", '"Zoë ✓"'.encode()]


def test_large_event_arriving_in_many_reads(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    write(tmp_path, {"index.js": "exports.handler = async (e) => e.data.length;"})
    posts, _ = run(api, start, tmp_path, {"data": "x" * 3_000_000}, {"data": "y"})
    assert results(posts) == [3_000_000, 1]


def test_callback_handler_answers_with_the_callback_result(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    source = "exports.handler = (e, ctx, cb) => { setTimeout(() => cb(null, { ok: e.n }), 5); };"
    posts, exited = run(api, start, write(tmp_path, {"index.js": source}), {"n": 1})
    assert results(posts) == [{"ok": 1}]
    [(_, level, warning)] = exited.log()
    assert level == "WARN"
    assert warning.startswith("AWS Lambda plans to remove support for callback-based function")


@pytest.mark.parametrize(("waits", "fired"), [(True, True), (False, False)])
def test_callback_result_waits_for_the_event_loop_unless_told_not_to(
    api: FakeRuntimeApi, start: Start, tmp_path: Path, waits: bool, fired: bool
) -> None:
    source = """
        let fired = false;
        exports.handler = (event, context, callback) => {
          context.callbackWaitsForEmptyEventLoop = event.waits;
          if (event.first) setTimeout(() => { fired = true; }, event.waits ? 50 : 60000);
          callback(null, fired);
        };
    """
    write(tmp_path, {"index.js": source})
    posts, _ = run(api, start, tmp_path, {"waits": waits, "first": True}, {"waits": waits})
    # The second invocation sees whether the first one's timer ran before its result was sent.
    assert results(posts) == [False, fired]


def test_context_succeed_done_and_fail(api: FakeRuntimeApi, start: Start, tmp_path: Path) -> None:
    source = """
        exports.handler = (e, context) => {
          if (e.how === 'succeed') context.succeed('s');
          if (e.how === 'done') context.done(null, 'd');
          if (e.how === 'fail') context.fail();
          setTimeout(() => {}, 60000);  // legacy completions do not wait for the event loop
        };
    """
    write(tmp_path, {"index.js": source})
    ids = [api.queue({"how": how}) for how in ("succeed", "done", "fail")]
    runtime = start(tmp_path)
    succeeded, done, failed = api.posts(3)
    assert results([succeeded, done]) == ["s", "d"]
    assert error_of(failed, ids[2]) == {
        "errorType": "string",
        "errorMessage": "handled",
        "trace": [],
    }
    runtime.stop()


def test_only_the_first_completion_counts(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    source = """
        exports.handler = async (e, context, callback) => {
          context.callbackWaitsForEmptyEventLoop = false;
          callback(null, 'first');
          context.succeed('second');
          callback(new Error('third'));
          return 'fourth';
        };
    """
    posts, _ = run(api, start, write(tmp_path, {"index.js": source}), {}, {})
    assert results(posts) == ["first", "first"]


def test_sync_handler_that_never_calls_back_answers_null_when_the_loop_drains(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    source = "exports.handler = (e) => { setTimeout(() => console.log('later'), 5); };"
    posts, exited = run(api, start, write(tmp_path, {"index.js": source}), {})
    assert results(posts) == [None]
    assert exited.log()[-1][1:] == ("INFO", "later")


def test_async_handler_whose_promise_never_settles_fails_with_node_js_exit(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    source = "exports.handler = async (e) => e.hang ? new Promise(() => {}) : 'next one fine';"
    write(tmp_path, {"index.js": source})
    request_id = api.queue({"hang": True})
    api.queue({})
    runtime = start(tmp_path)
    failed, answered = api.posts(2)
    document = error_of(failed, request_id)
    assert document["errorType"] == "Runtime.NodeJsExit"
    assert document["errorMessage"].startswith(
        "The Lambda runtime client detected an unexpected Node.js exit code."
    )
    assert results([answered]) == ["next one fine"]
    assert runtime.stop().status == 0


# ---- errors -------------------------------------------------------------------------------------


def test_thrown_error_is_posted_with_its_trace_and_logged(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    write(tmp_path, {"index.js": "exports.handler = async () => { throw new TypeError('bad'); };"})
    request_id = api.queue({})
    runtime = start(tmp_path)
    document = error_of(api.posts(1)[0], request_id)
    assert document["errorType"] == "TypeError"
    assert document["errorMessage"] == "bad"
    assert document["trace"][0] == "TypeError: bad"
    assert document["trace"][1].startswith("    at ")
    assert str(tmp_path / "index.js") in document["trace"][1]
    [(logged_id, level, line)] = runtime.stop().log()
    assert (logged_id, level) == (request_id, "ERROR")
    assert line.startswith('Invoke Error \t{"errorType":"TypeError","errorMessage":"bad","stack":[')


@pytest.mark.parametrize(
    ("source", "document"),
    [
        pytest.param(
            "exports.handler = async () => { throw 'boom'; };",
            {"errorType": "string", "errorMessage": "boom", "trace": []},
            id="thrown-string",
        ),
        pytest.param(
            "exports.handler = (e, c, cb) => cb(42);",
            {"errorType": "number", "errorMessage": "42", "trace": []},
            id="callback-number",
        ),
    ],
)
def test_non_error_values_become_their_type_and_text(
    api: FakeRuntimeApi, start: Start, tmp_path: Path, source: str, document: dict[str, Any]
) -> None:
    write(tmp_path, {"index.js": source})
    request_id = api.queue({})
    runtime = start(tmp_path)
    assert error_of(api.posts(1)[0], request_id) == document
    runtime.stop()


@pytest.mark.parametrize(
    ("source", "event", "error_type", "message"),
    [
        pytest.param(
            "exports.handler = async (e) => { const o = { e }; return e.ok ? 1 : (o.o = o); };",
            b"{}",
            "Error",
            "Unable to stringify response body",
            id="circular-result",
        ),
        pytest.param(CJS, b"{not json", "SyntaxError", "JSON", id="event-not-json"),
    ],
)
def test_invocation_level_failures_are_errors_and_the_runtime_goes_on(
    api: FakeRuntimeApi,
    start: Start,
    tmp_path: Path,
    source: str,
    event: bytes,
    error_type: str,
    message: str,
) -> None:
    write(tmp_path, {"index.js": source})
    request_id = api.queue(raw=event)
    api.queue({"ok": True})
    runtime = start(tmp_path)
    failed, answered = api.posts(2)
    document = error_of(failed, request_id)
    assert document["errorType"] == error_type
    assert message in document["errorMessage"]
    assert answered.path.endswith("/response")
    assert runtime.stop().status == 0


def test_uncaught_exception_during_an_invocation_is_its_error_then_exit_129(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    source = """
        exports.handler = async () => {
          setTimeout(() => { throw new Error('late failure'); }, 5);
          return new Promise(() => {});
        };
    """
    write(tmp_path, {"index.js": source})
    request_id = api.queue({})
    exited = start(tmp_path).exited()
    assert exited.status == 129
    document = error_of(api.posts(1)[0], request_id)
    assert (document["errorType"], document["errorMessage"]) == ("Error", "late failure")
    assert exited.log()[-1][2].startswith('Uncaught Exception \t{"errorType":"Error"')


def test_unhandled_rejection_during_an_invocation_is_its_error_then_exit_128(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    source = """
        exports.handler = async () => {
          Promise.reject(new Error('nope'));
          return new Promise((resolve) => setTimeout(resolve, 60000));
        };
    """
    write(tmp_path, {"index.js": source})
    request_id = api.queue({})
    exited = start(tmp_path).exited()
    assert exited.status == 128
    document = error_of(api.posts(1)[0], request_id)
    assert document["errorType"] == "Runtime.UnhandledPromiseRejection"
    assert document["errorMessage"] == "Error: nope"
    assert exited.log()[-1][2].startswith("Unhandled Promise Rejection \t{")


# ---- context and environment ---------------------------------------------------------------------


def test_context_carries_the_function_and_the_invocation(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    source = """
        exports.handler = async (event, context) => {
          const { succeed, fail, done, getRemainingTimeInMillis, ...fields } = context;
          return { ...fields, remaining: getRemainingTimeInMillis() };
        };
    """
    write(tmp_path, {"index.js": source})
    client_context = {"client": {"installation_id": "i"}, "env": {"locale": "en"}, "Custom": {}}
    identity = {"cognitoIdentityId": "id", "cognitoIdentityPoolId": "pool"}
    request_id = api.queue(
        {},
        deadline_ms=int(time.time() * 1000) + 30_000,
        client_context=json.dumps(client_context),
        cognito_identity=json.dumps(identity),
    )
    runtime = start(tmp_path)
    [context] = results(api.posts(1))
    assert 20_000 < context.pop("remaining") <= 30_000
    assert context == {
        "callbackWaitsForEmptyEventLoop": True,
        "functionVersion": "$LATEST",
        "functionName": "fn",
        "memoryLimitInMB": "128",
        "logGroupName": "/aws/lambda/fn",
        "logStreamName": STREAM,
        "clientContext": client_context,
        "identity": identity,
        "invokedFunctionArn": ARN,
        "awsRequestId": request_id,
    }
    runtime.stop()


def test_remaining_time_goes_negative_past_the_deadline(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    source = "exports.handler = async (e, context) => context.getRemainingTimeInMillis();"
    write(tmp_path, {"index.js": source})
    api.queue({}, deadline_ms=int(time.time() * 1000) - 5_000)
    runtime = start(tmp_path)
    assert results(api.posts(1))[0] <= -5_000
    runtime.stop()


def test_trace_header_is_exported_per_invocation(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    write(tmp_path, {"index.js": "exports.handler = async () => process.env._X_AMZN_TRACE_ID;"})
    trace = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"
    api.queue({}, trace_id=trace)
    api.queue({})
    runtime = start(tmp_path)
    assert results(api.posts(2)) == [trace, None]
    runtime.stop()


def test_module_state_lives_as_long_as_the_process(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    source = "let calls = 0; export const handler = async () => ++calls;"
    posts, _ = run(api, start, write(tmp_path, {"index.mjs": source}), {}, {}, {})
    assert results(posts) == [1, 2, 3]


# ---- logging ------------------------------------------------------------------------------------


def test_console_lines_carry_time_request_id_and_level(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    source = """
        console.log('loading');
        exports.handler = async () => {
          console.log('%s=%d', 'answer', 42);
          console.info('two\\nlines');
          console.warn('careful');
          console.error('broken', { code: 1 });
          console.debug('detail');
          console.trace('fine detail');
          return 1;
        };
    """
    write(tmp_path, {"index.js": source})
    request_id = api.queue({})
    runtime = start(tmp_path)
    api.posts(1)
    assert runtime.stop().log() == [
        ("undefined", "INFO", "loading"),
        (request_id, "INFO", "answer=42"),
        (request_id, "INFO", "two\rlines"),
        (request_id, "WARN", "careful"),
        (request_id, "ERROR", "broken { code: 1 }"),
        (request_id, "DEBUG", "detail"),
        (request_id, "TRACE", "fine detail"),
    ]


def test_a_logged_line_is_in_the_pipe_before_the_result_is_posted(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    source = "exports.handler = async () => { console.log('x'.repeat(2000)); return 1; };"
    write(tmp_path, {"index.js": source})
    api.queue({})
    runtime = start(tmp_path)
    api.posts(1)
    assert runtime.process.stdout is not None
    pipe = runtime.process.stdout.fileno()
    os.set_blocking(pipe, False)  # what is there now, without waiting for more
    try:
        already = os.read(pipe, 65536)
    finally:
        os.set_blocking(pipe, True)
    assert already.endswith(b"\tINFO\t" + b"x" * 2000 + b"\n")
    runtime.stop()


def test_log_level_filters_and_json_format(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    source = """
        exports.handler = async () => {
          console.info('hidden');
          console.warn('shown', 7);
          return 1;
        };
    """
    write(tmp_path, {"index.js": source})
    request_id = api.queue({})
    runtime = start(tmp_path, AWS_LAMBDA_LOG_LEVEL="warn", AWS_LAMBDA_LOG_FORMAT="JSON")
    api.posts(1)
    [line] = runtime.stop().stdout.splitlines()
    record = json.loads(line)
    assert re.fullmatch(TIME, record.pop("timestamp"))
    assert record == {"level": "WARN", "requestId": request_id, "message": "shown 7"}


# ---- the Runtime API connection -----------------------------------------------------------------


def test_result_and_next_request_leave_together_on_one_connection(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    run(api, start, write(tmp_path, {"index.js": CJS}), {}, {})
    received = api.received
    assert [(r.method, r.path.rsplit("/", 1)[-1]) for r in received] == [
        ("GET", "next"),
        ("POST", "response"),
        ("GET", "next"),
        ("POST", "response"),
        ("GET", "next"),
    ]
    assert {r.connection for r in received} == {1}
    assert received[1].packet == received[2].packet != received[3].packet == received[4].packet


def test_refused_response_is_logged_and_the_runtime_goes_on(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    write(tmp_path, {"index.js": CJS})
    request_id = api.queue({})
    refusal = b'{"errorType":"InvalidStateTransition","errorMessage":"no"}'
    api.answers[f"{PREFIX}/runtime/invocation/{request_id}/response"] = (403, refusal)
    api.queue({})
    runtime = start(tmp_path)
    assert len(results(api.posts(2))) == 2
    exited = runtime.stop()
    assert exited.status == 0
    assert (
        f"answered 403 to POST {PREFIX}/runtime/invocation/{request_id}/response" in exited.stderr
    )
    assert refusal.decode() in exited.stderr


def test_server_error_from_the_runtime_api_ends_the_process(
    api: FakeRuntimeApi, start: Start, tmp_path: Path
) -> None:
    write(tmp_path, {"index.js": CJS})
    request_id = api.queue({})
    failure = b'{"errorMessage":"Internal Server Error","errorType":"InternalServerError"}'
    api.answers[f"{PREFIX}/runtime/invocation/{request_id}/response"] = (500, failure)
    api.queue({})
    exited = start(tmp_path).exited()
    assert exited.status == 1
    assert (
        f"answered 500 to POST {PREFIX}/runtime/invocation/{request_id}/response" in exited.stderr
    )
    assert failure.decode() in exited.stderr
    assert len(api.posts()) == 1
