"""Functions benchmark: Lambda functions in worker processes, against the targets of the issue
"Functions like Lambda" (throughput, added latency, cold starts, memory).

Run it from the repository root, after ``python3 -m pip install -e '.[test]'``, with wrk on the
PATH (``apt-get update && apt-get install -y wrk``) and Node.js 18 or later (``node``)::

    python bench/functions.py [--serverless-offline ../sls-bench]

It takes about 4.5 minutes, talks only to 127.0.0.1, and stops every process it started (the
servers it starts stop their workers). ``--json PATH`` also writes the results as JSON;
``--only throughput|cold|memory`` runs one part; ``--profile PATH`` adds a wrk pass on the
Python worker with py-spy attached to the gateway process (``pip install py-spy``).

The serverless-offline comparison needs a folder set up once, outside the repository (from
the repository's root)::

    mkdir ../sls-bench && cd ../sls-bench
    npm init -y && npm install serverless@3 serverless-offline@13
    printf 'export const handler = async () => ({ statusCode: 200, body: "hello" });\\n' \\
        > handler.mjs
    cat > serverless.yml <<'EOF'
    service: bench
    frameworkVersion: "3"
    provider: {name: aws, runtime: nodejs20.x, region: us-east-1}
    plugins: [serverless-offline]
    functions:
      hello:
        handler: handler.handler
        events: [{httpApi: {method: GET, path: /hello}}]
    EOF

(serverless-offline 14 wants serverless 4, which needs an account; 13 is the last for 3.) The
script runs ``node DIR/node_modules/serverless/bin/serverless.js offline --host 127.0.0.1
--httpPort P --lambdaPort P --websocketPort P --albPort P --noPrependStageInUrl`` in DIR, with
no AWS credentials and telemetry off, and calls ``GET /hello``. Without the option that part
is skipped.

Every server gets a clean environment (no ``PROPYLON_*``, no ``NODE_EXTRA_CA_CERTS``, which
makes Node.js read a CA bundle at start-up). Propylon runs ``propylon serve --in-memory
--port PORT --no-reload --log-level warning`` (a port picked free, since at ``warning`` it
does not log the one it listens on; the file watcher is not what is measured; at ``info``
every function log line is echoed to the console) with the account throttle lifted, and the
functions' logs in a temporary directory. Each API is quick-created with boto3 (``Target`` =
the function's ARN, payload 2.0) and called at ``GET /_aws/execute-api/{apiId}/hello``. The
handlers answer ``{"statusCode": 200, "body": "hello"}``: Python ``def handler(event,
context)``, Node.js ``export const handler = async () => ...``.

1. Throughput and added latency. Five servers, each run in turn under ``wrk -t2 -c32 -d10s``
   after a 2-second warm-up, ``--rounds`` times (3), the median round of each kept, so that
   the machine's drift falls on all: the bare ASGI hello (``bench/_common.py``, the same body
   and headers on Propylon's stack), Propylon with the Python function in workers, the same
   function in-process (a ``propylon.toml`` table with ``invoker = "in-process"``, the old
   mode, for reference), the Node.js function in workers, and serverless-offline. Then each
   once under ``wrk -t1 -c1 -d5s``: the latency a server adds is its p50 there minus the
   hello's. The servers not being measured are paused (SIGSTOP, then SIGCONT for their
   turn): an idle Propylon server with 32 warm workers otherwise takes about 3% of a core
   (its memory watch reads each worker's ``/proc/PID/statm`` ten times a second). CPU time
   per request is read from ``/proc`` around each pass: the server process (all its threads)
   and its descendants (the workers) apart, with their context switches.
2. Cold starts, per runtime, ``--cold-starts`` times (5), medians kept: a new server with the
   function; once it answers its health check and the API exists, the first request (a worker
   starts for it), then a second on the same connection, then 20 more (their median: warm);
   the cold start is the first minus the second. The ``Init Duration`` of the worker's first
   ``REPORT`` line (its spawn to its first ``next``) is given too. After a reload: a server
   with the file watcher on, one warm request, then the handler file is replaced (a new file
   renamed over it) with a body of a new length (Python's bytecode cache goes by the source's
   size and mtime in seconds), and the path is called every millisecond until the new body
   comes back; the latency of that first request, and the time from the write to it, are kept
   (one unmeasured reload first, so the watches are in place).
3. Memory, from ``/proc/PID/status`` (``VmRSS``) and ``/proc/PID/smaps_rollup`` (``Pss``,
   shared pages divided among the processes sharing them): a warm worker of each runtime
   (Python, Node.js, and a ``provided.al2023`` bash ``bootstrap`` using curl, as in AWS's
   tutorial; a worker counted with its children) after five invocations, its ``REPORT`` line's
   ``Max Memory Used`` beside; then ``--functions`` (50) Python functions, and as many Node.js
   ones, each behind an API of its own and invoked once: the RSS of the server and all its
   descendants added up (what the target is about; shared pages counted once per process), and
   their PSS.

wrk, the servers and the workers share this machine's cores, so the core count is part of the
result.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from _common import (
    HOST,
    START_TIMEOUT,
    UNTHROTTLED,
    WrkResult,
    baseline_command,
    boto3_client,
    clean_env,
    compile_package,
    fmt,
    free_port,
    http_get_full,
    machine,
    met,
    missing_tools,
    process_cpu,
    propylon_command,
    record_profile,
    run_wrk,
    say,
    server,
    stop,
    stop_on_sigterm,
    wait_for_200,
)

BODY = b"hello"
PYTHON_HANDLER = """def handler(event, context):
    return {{"statusCode": 200, "body": {body!r}}}
"""
NODE_HANDLER = """export const handler = async () => ({{ statusCode: 200, body: {body} }});
"""
BASH_BOOTSTRAP = """#!/bin/bash
# A custom runtime in bash, as in AWS's tutorial: one invocation per loop, curl for HTTP.
set -euo pipefail
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation"
HEADERS="$(mktemp)"
while true; do
  curl -sS -o /dev/null -D "$HEADERS" "$API/next"
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  curl -sS -o /dev/null "$API/$ID/response" -d '{"statusCode": 200, "body": "hello"}'
done
"""
IN_PROCESS_CONFIG = """[functions.hello]
handler = "app.handler"
code = "{code}"
invoker = "in-process"
"""
BASH_CONFIG = """[functions.hello-bash]
runtime = "provided.al2023"
handler = "function.handler"
code = "{code}"
"""
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:{name}"
TARGETS = {
    "python_ratio": 0.30,  # of the bare hello's requests/s, at -c32
    "node_ratio": 0.25,
    "added_p50_ms": 0.5,  # p50 at -c1 minus the bare hello's
    "serverless_offline_times": 3.0,  # Node.js in workers against serverless-offline, -c32
    "cold_start_ms": 150.0,  # the first request after start or reload
    "fifty_functions_mib": 1.5 * 1024,  # server + workers, RSS added up
}
SINGLE_WARMUP_SECONDS = 1
SERVERLESS_START_TIMEOUT = 90.0
RELOAD_TIMEOUT = 10.0
POLL_SECONDS = 0.001
WARM_REQUESTS = 20
INVOCATIONS_BEFORE_MEMORY = 5
SERVERLESS_MISSING = (
    "serverless-offline is not set up, so that comparison is skipped: the docstring at the top "
    'of bench/functions.py (and docs/performance.md, "Functions") says how to make its '
    "folder; then pass --serverless-offline DIR."
)
SERVERS = ("hello", "python", "in-process", "node", "serverless-offline")
LABELS = {
    "hello": "bare ASGI hello",
    "python": "Python worker",
    "in-process": "Python in-process",
    "node": "Node.js worker",
    "serverless-offline": "serverless-offline",
}
LANGUAGES = {"python": "Python", "node": "Node.js"}


# --- records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """CPU time and context switches of some processes: so far (seconds, a count) in a
    snapshot, per request (µs, a mean) in a :class:`Load`."""

    user: float
    system: float
    switches: float  # voluntary and involuntary, all threads


@dataclass(frozen=True)
class Load:
    """One wrk pass, with what the server and its workers spent per request during it."""

    wrk: WrkResult
    server: Usage  # the server process, all its threads
    workers: Usage  # its descendants


@dataclass(frozen=True)
class Pass:
    loaded: Load  # -c32, the median round
    single: Load  # -c1


@dataclass(frozen=True)
class ColdStart:
    first_ms: float
    second_ms: float
    warm_ms: float  # the median of WARM_REQUESTS more
    init_ms: float | None = None  # the new worker's Init Duration (its first REPORT line)
    since_write_ms: float | None = None  # reloads: from the file's rewrite to the new answer


@dataclass(frozen=True)
class WorkerMemory:
    runtime: str
    workers: int
    rss_mib: float  # one worker with its children, the mean when there are several
    pss_mib: float
    max_used_mb: int | None  # the last REPORT's Max Memory Used


@dataclass(frozen=True)
class ManyFunctions:
    runtime: str
    functions: int
    workers: int
    server_rss_mib: float
    total_rss_mib: float
    total_pss_mib: float


@dataclass
class Results:
    machine: dict[str, Any]
    targets: dict[str, float] = field(default_factory=lambda: dict(TARGETS))
    passes: dict[str, Pass] = field(default_factory=dict)
    rounds: int = 1
    serverless_skipped: str | None = None
    cold: dict[str, list[ColdStart]] = field(default_factory=dict)
    worker_memory: list[WorkerMemory] = field(default_factory=list)
    many: list[ManyFunctions] = field(default_factory=list)
    load_average: list[float] = field(default_factory=list)
    seconds: float = 0.0


# --- processes -------------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    """What every server starts with: no PROPYLON_* variables and no NODE_EXTRA_CA_CERTS."""
    environ = clean_env()
    environ.pop("NODE_EXTRA_CA_CERTS", None)
    return environ


@contextmanager
def propylon(
    scratch: Path, *extra: str, reload: bool = False
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``propylon serve`` on a free port at log level warning, until the block ends; yields its
    URL once it answers its health check. Its logs (stderr, the functions' log groups) go to a
    directory of their own under ``scratch``."""
    port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="logs-", dir=scratch))
    command = propylon_command(*UNTHROTTLED, "--log-level", "warning", "--log-dir", str(logs))
    command[command.index("--port") + 1] = str(port)
    command += [*extra, *(() if reload else ("--no-reload",))]
    with (logs / "stderr.log").open("w") as stderr:
        process = subprocess.Popen(
            command, env=child_env(), stdout=subprocess.DEVNULL, stderr=stderr, text=True
        )
    url = f"http://{HOST}:{port}"
    try:
        try:
            wait_for_200(url, "/_propylon/health", time.monotonic() + START_TIMEOUT)
        except RuntimeError:
            raise RuntimeError(
                "Propylon did not start:\n" + (logs / "stderr.log").read_text()
            ) from None
        yield url, process
    finally:
        stop(process)


@contextmanager
def serverless_offline(directory: Path, scratch: Path) -> Iterator[tuple[str, int]]:
    """serverless-offline from ``directory``, on free ports; yields its URL and pid once
    ``GET /hello`` answers 200 (its first invocation included)."""
    http_port, lambda_port, websocket_port, alb_port = (free_port() for _ in range(4))
    command = ["node", str(directory / "node_modules/serverless/bin/serverless.js"), "offline"]
    command += ["--host", HOST, "--httpPort", str(http_port), "--lambdaPort", str(lambda_port)]
    command += ["--websocketPort", str(websocket_port), "--albPort", str(alb_port)]
    command += ["--noPrependStageInUrl"]
    environ = {k: v for k, v in child_env().items() if not k.startswith("AWS_")}
    environ |= {"SLS_TELEMETRY_DISABLED": "1", "SLS_NOTIFICATIONS_MODE": "off"}
    output = scratch / "serverless-offline.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            command, cwd=directory, env=environ, stdout=log, stderr=subprocess.STDOUT, text=True
        )
    url = f"http://{HOST}:{http_port}"
    try:
        try:
            wait_for_200(url, "/hello", time.monotonic() + SERVERLESS_START_TIMEOUT)
        except RuntimeError:
            raise RuntimeError("serverless-offline did not start:\n" + output.read_text()) from None
        yield url, process.pid
    finally:
        stop(process)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (a server's workers, and what they started), from
    ``/proc/*/stat``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError, ValueError):
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def usage(pid: int) -> Usage | None:
    """A process's CPU time so far (all threads) and its threads' context switches."""
    cpu = process_cpu(pid)
    if cpu is None:
        return None
    switches = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        with suppress(OSError):
            for line in status.read_text().splitlines():
                if "ctxt_switches:" in line:  # voluntary_ and nonvoluntary_
                    switches += int(line.split()[1])
    return Usage(cpu[0], cpu[1], switches)


def snapshot(pid: int) -> dict[int, Usage]:
    pids = [pid, *descendants(pid)]
    return {p: u for p in pids if (u := usage(p)) is not None}


def per_request(before: dict[int, Usage], after: dict[int, Usage], requests: int) -> Usage:
    """What the processes of ``after`` used between the two snapshots, per request (µs);
    a process started in between counts from zero, one that ended in between is lost."""
    zero = Usage(0.0, 0.0, 0.0)
    user = sum(u.user - before.get(p, zero).user for p, u in after.items())
    system = sum(u.system - before.get(p, zero).system for p, u in after.items())
    switches = sum(u.switches - before.get(p, zero).switches for p, u in after.items())
    n = max(requests, 1)
    return Usage(round(user / n * 1e6, 1), round(system / n * 1e6, 1), round(switches / n, 2))


def load(url: str, threads: int, connections: int, seconds: int, warmup: int, pid: int) -> Load:
    """A warm-up pass, then the measured one, with the CPU the server (``pid``) and its
    descendants spent per request during it."""
    run_wrk(url, threads, connections, warmup)
    before = snapshot(pid)
    result = run_wrk(url, threads, connections, seconds)
    after = snapshot(pid)
    server = per_request({pid: before.pop(pid)}, {pid: after.pop(pid)}, result.requests)
    return Load(result, server, per_request(before, after, result.requests))


# --- the functions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Code:
    """The functions' files, in a scratch directory."""

    python: Path  # app.py, in a directory of its own
    node: Path  # index.mjs
    bash: Path  # the directory holding ``bootstrap``
    in_process_config: Path
    bash_config: Path


def write_code(scratch: Path) -> Code:
    python, node, bash = scratch / "python", scratch / "node", scratch / "bash"
    for directory in (python, node, bash):
        directory.mkdir()
    (python / "app.py").write_text(PYTHON_HANDLER.format(body=BODY.decode()))
    (node / "index.mjs").write_text(NODE_HANDLER.format(body=json.dumps(BODY.decode())))
    (bash / "bootstrap").write_text(BASH_BOOTSTRAP)
    (bash / "bootstrap").chmod(0o755)
    in_process = scratch / "in-process.toml"
    in_process.write_text(IN_PROCESS_CONFIG.format(code=python))
    bash_config = scratch / "bash.toml"
    bash_config.write_text(BASH_CONFIG.format(code=bash))
    return Code(python / "app.py", node / "index.mjs", bash, in_process, bash_config)


def function_flag(name: str, handler: Path) -> list[str]:
    return ["--function", f"{name}={handler}:handler"]


def create_api(url: str, name: str = "hello") -> str:
    """An HTTP API quick-created for the function ``name``; returns the path to call."""
    target = FUNCTION_ARN.format(name=name)
    api_id = boto3_client(url).create_api(Name=name, ProtocolType="HTTP", Target=target)["ApiId"]
    return f"/_aws/execute-api/{api_id}/hello"


def check_answer(url: str, path: str, body: bytes = BODY) -> dict[str, str]:
    status, headers, answer = http_get_full(url, path, timeout=START_TIMEOUT)
    if (status, answer) != (200, body):
        raise RuntimeError(f"{url}{path} answered {status} {answer!r}")
    return dict(headers)


# --- 1. throughput and added latency ---------------------------------------------------------


def measure_throughput(
    results: Results, args: argparse.Namespace, code: Code, scratch: Path
) -> None:
    with ExitStack() as stack:
        targets: dict[str, tuple[str, int]] = {}
        content_type: str | None = None
        for name, extra in (
            ("python", function_flag("hello", code.python)),
            ("in-process", ["--config", str(code.in_process_config)]),
            ("node", function_flag("hello", code.node)),
        ):
            url, process = stack.enter_context(propylon(scratch, *extra))
            path = create_api(url)
            headers = check_answer(url, path)
            if name == "python":  # the hello answers the same body and headers
                content_type = headers.get("content-type")
            targets[name] = (url + path, process.pid)
        body_file = scratch / "hello.body"
        body_file.write_bytes(BODY)
        hello = baseline_command(body_file, content_type)
        url, process = stack.enter_context(server(hello))
        wait_for_200(url, "/hello", time.monotonic() + START_TIMEOUT)
        check_answer(url, "/hello")
        targets = {"hello": (url + "/hello", process.pid), **targets}
        if args.serverless_offline is None:
            say(SERVERLESS_MISSING)
            results.serverless_skipped = "no --serverless-offline DIR given"
        else:
            say("starting serverless-offline")
            url, pid = stack.enter_context(serverless_offline(args.serverless_offline, scratch))
            targets["serverless-offline"] = (url + "/hello", pid)
        results.passes = measure_rounds(targets, args)
        if args.profile:
            say(f"profiling the gateway (Python worker) with py-spy into {args.profile}")
            python_url, python_pid = targets["python"]
            record_profile(
                python_pid,
                args.profile,
                args.duration,
                lambda: run_wrk(python_url, args.threads, args.connections, args.duration),
            )


def measure_rounds(
    targets: dict[str, tuple[str, int]], args: argparse.Namespace
) -> dict[str, Pass]:
    """Every target under load in turn, ``--rounds`` times, each keeping its median round;
    then each on one connection. The servers not being measured are paused (SIGSTOP), so
    that their threads and timers (a Propylon server's memory watch reads every worker's
    ``/proc/PID/statm`` ten times a second) take no CPU from the one that is."""
    pids = [pid for _, pid in targets.values()]
    rounds: dict[str, list[Load]] = {name: [] for name in targets}
    try:
        for number in range(args.rounds):
            for name, (url, pid) in targets.items():
                say(f"{LABELS[name]}, -c{args.connections}, round {number + 1} of {args.rounds}")
                resume_only(pid, pids)
                rounds[name].append(
                    load(url, args.threads, args.connections, args.duration, args.warmup, pid)
                )
        passes = {}
        for name, (url, pid) in targets.items():
            say(f"{LABELS[name]}, -c1")
            resume_only(pid, pids)
            single = load(url, 1, 1, args.single_duration, SINGLE_WARMUP_SECONDS, pid)
            kept = sorted(rounds[name], key=lambda r: r.wrk.requests_per_s)[len(rounds[name]) // 2]
            passes[name] = Pass(kept, single)
    finally:
        resume_only(None, pids)
    return passes


def resume_only(active: int | None, pids: list[int]) -> None:
    """Let ``active`` run and pause the others (None: let all run)."""
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT if active in (None, pid) else signal.SIGSTOP)
    time.sleep(0.1)  # what a paused server was doing stops; the one resumed settles


# --- 2. cold starts --------------------------------------------------------------------------


def timed_get(connection: http.client.HTTPConnection, path: str) -> tuple[float, int, bytes]:
    """Milliseconds, status and body of one ``GET path`` on an open connection."""
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    return (time.perf_counter() - started) * 1000, response.status, body


def connect(url: str) -> http.client.HTTPConnection:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=START_TIMEOUT)
    connection.connect()
    return connection


def init_durations(log_dir: Path, name: str, count: int) -> list[float]:
    """The Init Durations of the function's REPORT lines, once the log writer has written
    ``count`` of them (or after two seconds, what there is)."""
    log = log_dir / "aws" / "lambda" / f"{name}.log"
    deadline = time.monotonic() + 2.0
    found: list[float] = []
    while len(found) < count and time.monotonic() < deadline:
        with suppress(OSError):
            found = [float(v) for v in re.findall(r"Init Duration: ([0-9.]+) ms", log.read_text())]
        time.sleep(0.01)
    return found


def then_warm(
    connection: http.client.HTTPConnection, path: str, body: bytes
) -> tuple[float, float]:
    """After a cold request: the next one's latency, and the median of WARM_REQUESTS more."""
    latencies = []
    for _ in range(WARM_REQUESTS + 1):
        latency, status, answer = timed_get(connection, path)
        if (status, answer) != (200, body):
            raise RuntimeError(f"{path} answered {status} {answer!r}")
        latencies.append(latency)
    return round(latencies[0], 2), round(statistics.median(latencies[1:]), 3)


def log_dir_of(process: subprocess.Popen[str]) -> Path:
    arguments = process.args
    assert isinstance(arguments, list)
    return Path(arguments[arguments.index("--log-dir") + 1])


def cold_start(scratch: Path, handler: Path) -> ColdStart:
    """A new server; the first and second requests once it is ready and the API exists."""
    with propylon(scratch, *function_flag("hello", handler)) as (url, process):
        path = create_api(url)
        connection = connect(url)
        try:
            first, status, body = timed_get(connection, path)
            if (status, body) != (200, BODY):
                raise RuntimeError(f"the cold start answered {status} {body!r}")
            second, warm = then_warm(connection, path, BODY)
        finally:
            connection.close()
        init = init_durations(log_dir_of(process), "hello", 1)
    return ColdStart(round(first, 2), second, warm, init[0] if init else None)


def reload_starts(
    scratch: Path, handler: Path, count: int, render: Callable[[str], str]
) -> list[ColdStart]:
    """``count`` reloads after one unmeasured: each rewrites ``handler`` with a new body and
    polls until it is served. Each new worker's Init Duration is added when the log holds
    exactly one per worker started (the first, the unmeasured reload, then ``count``)."""
    handler.write_text(render(BODY.decode()))
    starts: list[ColdStart] = []
    with propylon(scratch, *function_flag("hello", handler), reload=True) as (url, process):
        path = create_api(url)
        connection = connect(url)
        try:
            timed_get(connection, path)  # a warm worker
            for number in range(count + 1):
                body = "hello " + "!" * (number + 1)  # a new size: no stale bytecode cache
                start = reload_once(connection, path, handler, render(body), body.encode())
                if number:
                    starts.append(start)
        finally:
            connection.close()
        init = init_durations(log_dir_of(process), "hello", count + 2)
    handler.write_text(render(BODY.decode()))
    if len(init) == count + 2:
        starts = [replace(s, init_ms=i) for s, i in zip(starts, init[2:], strict=True)]
    return starts


def reload_once(
    connection: http.client.HTTPConnection, path: str, handler: Path, text: str, body: bytes
) -> ColdStart:
    """Replace ``handler`` with ``text`` (at once, so no worker reads half a file) and call
    ``path`` until it answers ``body``: that request's latency, and the time since the write."""
    temporary = handler.with_name(handler.name + ".new")
    temporary.write_text(text)
    written = time.perf_counter()
    os.replace(temporary, handler)
    while time.perf_counter() - written < RELOAD_TIMEOUT:
        latency, status, answer = timed_get(connection, path)
        if status == 200 and answer == body:
            since = (time.perf_counter() - written) * 1000
            second, warm = then_warm(connection, path, body)
            return ColdStart(round(latency, 2), second, warm, None, round(since, 1))
        time.sleep(POLL_SECONDS)
    raise RuntimeError(
        f"the new code was not served within {RELOAD_TIMEOUT} s ({status} {answer!r})"
    )


def measure_cold(results: Results, args: argparse.Namespace, code: Code, scratch: Path) -> None:
    renders = {
        "python": lambda body: PYTHON_HANDLER.format(body=body),
        "node": lambda body: NODE_HANDLER.format(body=json.dumps(body)),
    }
    for runtime, handler in (("python", code.python), ("node", code.node)):
        say(f"cold starts, {LABELS[runtime]}, {args.cold_starts} new servers")
        results.cold[runtime] = [cold_start(scratch, handler) for _ in range(args.cold_starts)]
        say(f"cold starts after a reload, {LABELS[runtime]}, {args.cold_starts} reloads")
        results.cold[f"{runtime} reload"] = reload_starts(
            scratch, handler, args.cold_starts, renders[runtime]
        )


# --- 3. memory -------------------------------------------------------------------------------


def status_kib(pid: int, field_name: str, file: str = "status") -> int:
    """A ``kB`` field of ``/proc/PID/status`` (or ``smaps_rollup``); 0 when it is gone."""
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/{file}").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def rss_pss_kib(pids: list[int]) -> tuple[int, int]:
    rss = sum(status_kib(p, "VmRSS") for p in pids)
    pss = sum(status_kib(p, "Pss", "smaps_rollup") for p in pids)
    return rss, pss


def workers_of(pid: int) -> list[int]:
    """The server's direct children: its workers."""
    return [p for p in descendants(pid) if parent_of(p) == pid]


def parent_of(pid: int) -> int:
    with suppress(OSError, IndexError, ValueError):
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return -1


def command_of(pid: int) -> str:
    with suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return ""


def max_memory_used(log_dir: Path, name: str) -> int | None:
    log = log_dir / "aws" / "lambda" / f"{name}.log"
    with suppress(OSError):
        found = re.findall(r"Max Memory Used: (\d+) MB", log.read_text())
        return int(found[-1]) if found else None
    return None


def measure_worker_memory(results: Results, code: Code, scratch: Path) -> None:
    """One warm worker per runtime, its memory after a few invocations."""
    functions = {
        "Python": ("hello-python", "bootstrap.py"),
        "Node.js": ("hello-node", "bootstrap.mjs"),
        "provided.al2023 (bash and curl)": ("hello-bash", str(code.bash / "bootstrap")),
    }
    flags = [*function_flag("hello-python", code.python), *function_flag("hello-node", code.node)]
    with propylon(scratch, *flags, "--config", str(code.bash_config)) as (url, process):
        for name, _ in functions.values():
            path = create_api(url, name)
            for _ in range(INVOCATIONS_BEFORE_MEMORY):
                check_answer(url, path)
                time.sleep(0.05)  # the runtime asks for its next event: one worker serves all
        time.sleep(0.2)  # the last REPORT lines are written
        workers = workers_of(process.pid)
        for runtime, (name, marker) in functions.items():
            mine = [w for w in workers if marker in command_of(w)]
            sizes = [rss_pss_kib([w, *descendants(w)]) for w in mine]
            results.worker_memory.append(
                WorkerMemory(
                    runtime,
                    len(mine),
                    round(statistics.mean(s[0] for s in sizes) / 1024, 1) if sizes else 0.0,
                    round(statistics.mean(s[1] for s in sizes) / 1024, 1) if sizes else 0.0,
                    max_memory_used(log_dir_of(process), name),
                )
            )


def measure_many(results: Results, args: argparse.Namespace, code: Code, scratch: Path) -> None:
    """``--functions`` functions of one runtime, each invoked once: the memory of it all."""
    for runtime, handler in (("python", code.python), ("node", code.node)):
        say(f"{args.functions} {LANGUAGES[runtime]} functions, each invoked once")
        names = [f"f{number:03d}" for number in range(args.functions)]
        flags = [arg for name in names for arg in function_flag(name, handler)]
        with propylon(scratch, *flags) as (url, process):
            paths = [create_api(url, name) for name in names]
            for path in paths:
                check_answer(url, path)
            workers = workers_of(process.pid)
            everything = [process.pid, *descendants(process.pid)]
            rss, pss = rss_pss_kib(everything)
            results.many.append(
                ManyFunctions(
                    runtime,
                    args.functions,
                    len(workers),
                    round(status_kib(process.pid, "VmRSS") / 1024, 1),
                    round(rss / 1024, 1),
                    round(pss / 1024, 1),
                )
            )


# --- the report ------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.2f} ms"


def _cpu(u: Usage) -> str:
    return f"{u.user + u.system:.0f} µs ({u.user:.0f} + {u.system:.0f})"


def report_throughput(results: Results, args: argparse.Namespace) -> list[str]:
    passes = results.passes
    names = [n for n in SERVERS if n in passes]
    hello = passes["hello"]

    def row(label: str, value: Callable[[Pass], str]) -> str:
        return f"| {label} | " + " | ".join(value(passes[n]) for n in names) + " |"

    c = args.connections
    return [
        f"### Throughput and added latency (`wrk -t{args.threads} -c{c} -d{args.duration}s`, "
        f"median of {results.rounds} alternating rounds; `wrk -t1 -c1 -d{args.single_duration}s`)",
        "",
        "| measurement | " + " | ".join(LABELS[n] for n in names) + " |",
        "| --- |" + " ---: |" * len(names),
        row(f"requests/s, -c{c}", lambda p: fmt(p.loaded.wrk.requests_per_s)),
        row(
            "of the bare hello",
            lambda p: f"{p.loaded.wrk.requests_per_s / hello.loaded.wrk.requests_per_s:.3f}",
        ),
        row(f"latency p50, -c{c}", lambda p: _ms(p.loaded.wrk.p50_ms)),
        row(f"latency p99, -c{c}", lambda p: _ms(p.loaded.wrk.p99_ms)),
        row("requests/s, -c1", lambda p: fmt(p.single.wrk.requests_per_s)),
        row("latency p50, -c1", lambda p: _ms(p.single.wrk.p50_ms)),
        row("latency p99, -c1", lambda p: _ms(p.single.wrk.p99_ms)),
        row("added p50, -c1", lambda p: f"+{p.single.wrk.p50_ms - hello.single.wrk.p50_ms:.2f} ms"),
        row(f"server CPU per request, -c{c} (user + system)", lambda p: _cpu(p.loaded.server)),
        row(f"workers' CPU per request, -c{c}", lambda p: _cpu(p.loaded.workers)),
        row(
            f"context switches per request, -c{c} (server, workers)",
            lambda p: f"{p.loaded.server.switches:.1f}, {p.loaded.workers.switches:.1f}",
        ),
        row("server CPU per request, -c1", lambda p: _cpu(p.single.server)),
        row("workers' CPU per request, -c1", lambda p: _cpu(p.single.workers)),
        row(
            "context switches per request, -c1 (server, workers)",
            lambda p: f"{p.single.server.switches:.1f}, {p.single.workers.switches:.1f}",
        ),
    ]


def _median(starts: list[ColdStart], pick: Callable[[ColdStart], float | None]) -> float | None:
    values = [v for s in starts if (v := pick(s)) is not None]
    return statistics.median(values) if values else None


def report_cold(results: Results) -> list[str]:
    lines = [
        "### Cold starts (medians; every run in brackets)",
        "",
        "| cold start | first request | second request | difference | then warm "
        f"(median of {WARM_REQUESTS}) | Init Duration (REPORT) | write to new answer |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, starts in results.cold.items():
        first = statistics.median(s.first_ms for s in starts)
        second = statistics.median(s.second_ms for s in starts)
        warm = statistics.median(s.warm_ms for s in starts)
        init = _median(starts, lambda s: s.init_ms)
        since = _median(starts, lambda s: s.since_write_ms)
        every = ", ".join(f"{s.first_ms:.0f}" for s in starts)
        label = LABELS[name.split()[0]] + (", after a reload" if "reload" in name else ", new")
        lines.append(
            f"| {label} | {first:.1f} ms ({every}) | {second:.2f} ms | {first - second:.1f} ms "
            f"| {warm:.2f} ms | {_or_blank(init, '.1f', ' ms')} "
            f"| {_or_blank(since, '.0f', ' ms')} |"
        )
    return lines


def _or_blank(value: float | None, spec: str, unit: str) -> str:
    return "" if value is None else format(value, spec) + unit


def report_memory(results: Results) -> list[str]:
    lines = [
        "### Memory",
        "",
        "| a warm worker | workers | VmRSS (with its children) | PSS | REPORT Max Memory Used |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for w in results.worker_memory:
        used = f"{w.max_used_mb} MB" if w.max_used_mb is not None else ""
        lines.append(
            f"| {w.runtime} | {w.workers} | {w.rss_mib:.1f} MiB | {w.pss_mib:.1f} MiB | {used} |"
        )
    if results.many:
        lines += [
            "",
            "| functions, each invoked once | workers | server VmRSS | server + workers, "
            "VmRSS added up | PSS added up | target | met |",
            "| --- | ---: | ---: | ---: | ---: | --- | --- |",
        ]
        limit = TARGETS["fifty_functions_mib"]
        for m in results.many:
            lines.append(
                f"| {m.functions} {LANGUAGES[m.runtime]} functions | {m.workers} "
                f"| {m.server_rss_mib:.1f} MiB | {m.total_rss_mib:,.1f} MiB "
                f"| {m.total_pss_mib:,.1f} MiB | < 1.5 GiB | {met(m.total_rss_mib < limit)} |"
            )
    return lines


def report_targets(results: Results) -> list[str]:
    lines = [
        "### Against the targets",
        "",
        "| target | measured | reference | ratio | met |",
        "| --- | --- | --- | ---: | --- |",
    ]
    passes = results.passes
    if passes:
        hello = passes["hello"].loaded.wrk.requests_per_s
        single = passes["hello"].single.wrk.p50_ms
        for name, key, floor in (
            ("python", "python_ratio", "0.30"),
            ("node", "node_ratio", "0.25"),
        ):
            rate = passes[name].loaded.wrk.requests_per_s
            ratio = rate / hello
            lines.append(
                f"| {LABELS[name]} >= {floor} of the bare hello | {fmt(rate)} req/s "
                f"| {fmt(hello)} req/s | {ratio:.3f} | {met(ratio >= TARGETS[key])} |"
            )
        for name in ("python", "node"):
            added = passes[name].single.wrk.p50_ms - single
            lines.append(
                f"| {LABELS[name]} adds < 0.5 ms at p50, -c1 | +{added:.2f} ms "
                f"({_ms(passes[name].single.wrk.p50_ms)}) | hello {_ms(single)} | "
                f"| {met(added < TARGETS['added_p50_ms'])} |"
            )
        if "serverless-offline" in passes:
            node = passes["node"].loaded.wrk.requests_per_s
            sls = passes["serverless-offline"].loaded.wrk.requests_per_s
            times = node / sls
            lines.append(
                f"| Node.js worker >= 3x serverless-offline | {fmt(node)} req/s | {fmt(sls)} "
                f"req/s | {times:.2f} | {met(times >= TARGETS['serverless_offline_times'])} |"
            )
        else:
            lines.append(
                f"| Node.js worker >= 3x serverless-offline | skipped: "
                f"{results.serverless_skipped} | | | |"
            )
    for name, starts in results.cold.items():
        first = statistics.median(s.first_ms for s in starts)
        second = statistics.median(s.second_ms for s in starts)
        label = LABELS[name.split()[0]] + (
            " after a reload" if "reload" in name else " after start"
        )
        lines.append(
            f"| cold start < 150 ms, {label} | first request {first:.1f} ms | second "
            f"{second:.2f} ms | | {met(first < TARGETS['cold_start_ms'])} |"
        )
    for m in results.many:
        lines.append(
            f"| {m.functions} {LANGUAGES[m.runtime]} functions warm < 1.5 GiB | "
            f"{m.total_rss_mib:,.1f} MiB RSS ({m.total_pss_mib:,.1f} MiB PSS) | | "
            f"| {met(m.total_rss_mib < TARGETS['fifty_functions_mib'])} |"
        )
    return lines


def report(results: Results, args: argparse.Namespace) -> str:
    m = results.machine
    lines = [
        f"Machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, Node.js {m['node']}, "
        f"uvicorn {m['uvicorn']}, uvloop {m['uvloop']}, httptools {m['httptools']}"
        + (f", serverless {m['serverless']}" if m.get("serverless") else "")
        + f"; {m['date']}, revision {m['revision']}.",
        "",
        *report_targets(results),
    ]
    if results.passes:
        lines += ["", *report_throughput(results, args)]
    if results.cold:
        lines += ["", *report_cold(results)]
    if results.worker_memory or results.many:
        lines += ["", *report_memory(results)]
    lines += [
        "",
        "1-minute load average at start and end: "
        + ", ".join(f"{load:.2f}" for load in results.load_average)
        + f" (anything else running on these cores lowers the numbers); {results.seconds:.0f} s.",
    ]
    return "\n".join(lines)


# --- the run ---------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--serverless-offline", type=Path, metavar="DIR", help="see above")
    parser.add_argument("--only", choices=("throughput", "cold", "memory"), help="one part")
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="wrk warm-up seconds (2)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--single-duration", type=int, default=5, help="wrk seconds at -c1 (5)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating -c32 rounds (3)")
    parser.add_argument("--cold-starts", type=int, default=5, help="cold starts of each kind (5)")
    parser.add_argument("--functions", type=int, default=50, help="functions at once (50)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--profile", help="py-spy the gateway under the Python worker into this")
    return parser


def node_version() -> str:
    done = subprocess.run(["node", "--version"], capture_output=True, text=True, env=child_env())
    return done.stdout.strip().removeprefix("v") or "unknown"


def serverless_version(directory: Path | None) -> str | None:
    if directory is None:
        return None
    with suppress(OSError, ValueError):
        package = directory / "node_modules" / "serverless-offline" / "package.json"
        framework = directory / "node_modules" / "serverless" / "package.json"
        return (
            f"{json.loads(framework.read_text())['version']}, serverless-offline "
            f"{json.loads(package.read_text())['version']}"
        )
    return "unknown"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    missing = missing_tools(bool(args.profile))
    if missing is not None:
        print(missing, file=sys.stderr)
        return 2
    if args.serverless_offline is not None:
        args.serverless_offline = args.serverless_offline.resolve()
    stop_on_sigterm()
    compile_package()
    started = time.monotonic()
    results = Results(
        {
            **machine(),
            "node": node_version(),
            "serverless": serverless_version(args.serverless_offline),
        },
        rounds=args.rounds,
        load_average=[os.getloadavg()[0]],
    )
    with tempfile.TemporaryDirectory(prefix="propylon-bench-") as directory:
        scratch = Path(directory)
        code = write_code(scratch)
        if args.only in (None, "throughput"):
            measure_throughput(results, args, code, scratch)
        if args.only in (None, "cold"):
            measure_cold(results, args, code, scratch)
        if args.only in (None, "memory"):
            say("memory of a warm worker per runtime")
            measure_worker_memory(results, code, scratch)
            measure_many(results, args, code, scratch)
    results.load_average.append(os.getloadavg()[0])
    results.seconds = time.monotonic() - started
    print(report(results, args))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(asdict(results), indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
