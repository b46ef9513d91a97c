"""Data-plane benchmark: a Lambda proxy and an HTTP_PROXY route, each against a reference.

Run it from the repository root, after ``python3 -m pip install -e '.[test]'``, with wrk on the
PATH (``apt-get update && apt-get install -y wrk``) and, for the HTTP_PROXY part, nginx
(``apt-get update && apt-get install -y nginx``; without it that part is skipped)::

    python bench/data_plane.py

It takes about 3.5 minutes (10 seconds more with ``--profile``), talks only to 127.0.0.1, and
stops every process it started. nginx runs in the foreground from a configuration written to a
temporary directory (pid file and logs there too), never as a system service.

``--json PATH`` also writes the results as JSON; ``--profile PATH`` adds a last wrk pass on the
Lambda proxy (on HTTP_PROXY with ``--only http``) with py-spy attached to the server
(``pip install py-spy``), writes its samples to PATH (``.svg``: flame graph, ``.json``:
speedscope, anything else: collapsed stacks) and, for collapsed stacks, prints the top hotspots.
``--async-handler`` makes the handler ``async def``, which Propylon awaits on its event loop
instead of running it on a thread.

How it works (every server is measured with wrk twice, after a short warm-up each time:
``-t2 -c32 -d10s --latency`` for throughput, then ``-t1 -c1 -d5s --latency`` for latency;
Propylon and the reference its ratio is taken against run the throughput pass in turns,
``--rounds`` times each (3), and the median round of each counts, so that the machine's drift
falls on both):

On Linux the tables also give the server's CPU time per request during the kept ``-c32`` round
(user + system, from ``/proc/PID/stat``, all its threads; not for nginx, whose work is in its
worker process).

Propylon runs with the account throttle lifted (``--throttle-rate``/``--throttle-burst``): at
AWS's default quota of 10,000 requests/s it would answer 429 once it is faster than that.

1. Lambda proxy: ``propylon serve --in-memory --port 0 --function hello=FILE:handler`` with a
   handler written to a temporary directory (``{"statusCode": 200, "body": "hello"}``), an API
   quick-created with boto3 (``Target`` = the function's ARN, payload 2.0, ``$default`` stage)
   and ``GET /_aws/execute-api/{apiId}/hello``. The reference is the smallest raw ASGI app
   answering the same body and content type on the same stack (uvicorn + uvloop + httptools
   with ``propylon.server``'s protocol, one process, access log off), served by
   ``bench/_common.py``.
2. HTTP_PROXY: nginx serves ``hello`` on 127.0.0.1 (the upstream). Two fronts forward to it:
   Propylon with a quick-created HTTP_PROXY API (``Target`` = the upstream's URL), and a
   second nginx as a reverse proxy (``proxy_pass`` with upstream keepalive). Each nginx runs
   ``worker_processes 1``, ``access_log off``. The upstream is also measured directly, so the
   latency each front adds is its p50 at ``-c1`` minus the upstream's. Last, the smallest
   keep-alive proxy in Python on Propylon's stack (``bench/python_proxy.py``), for what this
   stack can reach at all.

wrk and the servers share this machine's cores, so the core count is part of the result.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    HOST,
    START_TIMEOUT,
    UNTHROTTLED,
    WrkResult,
    baseline_command,
    boto3_client,
    compile_package,
    fmt,
    http_get,
    http_get_full,
    machine,
    measure_wrk,
    met,
    missing_tools,
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
HANDLER = f"""def handler(event, context):
    return {{"statusCode": 200, "body": {BODY.decode()!r}}}
"""
ASYNC_HANDLER = "async " + HANDLER
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:hello"
TARGETS = {
    "lambda_ratio": 0.40,  # of the raw ASGI hello's requests/s, at -c32
    "lambda_p50_ms": 1.0,  # at -c32
    "proxy_ratio": 0.25,  # of nginx as a reverse proxy's requests/s, at -c32
    "proxy_added_p50_ms": 1.0,  # p50 at -c1 minus the upstream's own
}
SINGLE_WARMUP_SECONDS = 1
NGINX_MISSING = """nginx is not installed, so the HTTP_PROXY part is skipped. Install it with:

    apt-get update && apt-get install -y nginx     (Debian, Ubuntu)
    brew install nginx                             (macOS)

The script runs it from a temporary directory, never as a system service.
"""
NGINX_MAIN = """daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
{http}
}}
"""
NGINX_UPSTREAM = """    server {{
        listen {host}:{port};
        default_type text/plain;
        location / {{ return 200 "{body}"; }}
        # The same body without Content-Length (chunked): see ``proxy_path``.
        location /chunked/ {{
            sub_filter_types *;
            sub_filter "~" "~";
            return 200 "{body}";
        }}
    }}"""
NGINX_PROXY = """    upstream backend {{
        server {host}:{upstream_port};
        keepalive 32;
        keepalive_requests 1000000;
    }}
    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}"""


@dataclass(frozen=True)
class Pass:
    """One server under load (``-c32``) and on a single connection (``-c1``)."""

    loaded: WrkResult
    single: WrkResult


@dataclass(frozen=True)
class Hotspots:
    own: list[tuple[str, float]]  # (function, share of the busy samples)
    propylon: list[tuple[str, float]]
    busy_samples: int
    idle_samples: int


@dataclass
class Results:
    machine: dict[str, Any]
    targets: dict[str, float] = field(default_factory=lambda: dict(TARGETS))
    lambda_propylon: Pass | None = None
    lambda_baseline: Pass | None = None
    lambda_content_type: str | None = None
    handler: str = "def"
    proxy_upstream: Pass | None = None
    proxy_propylon: Pass | None = None
    proxy_nginx: Pass | None = None
    proxy_python: Pass | None = None
    """The smallest keep-alive proxy in Python on the same stack (``python_proxy.py``)."""
    proxy_skipped: str | None = None
    proxy_path: str = ""
    proxy_note: str | None = None
    hotspots: Hotspots | None = None
    profiled: str = "Lambda proxy"
    load_average: list[float] = field(default_factory=list)  # 1-minute, at start and at end
    seconds: float = 0.0
    rounds: int = 1  # alternating -c32 rounds of Propylon and its reference (medians kept)


# --- measurements ----------------------------------------------------------------------------


def measure(url: str, args: argparse.Namespace, pid: int | None = None) -> Pass:
    loaded = measure_wrk(url, args.threads, args.connections, args.duration, pid=pid)
    single = measure_wrk(url, 1, 1, args.single_duration, SINGLE_WARMUP_SECONDS)
    return Pass(loaded, single)


def measure_pair(
    url: str,
    reference: str,
    args: argparse.Namespace,
    names: tuple[str, str],
    pids: tuple[int | None, int | None] = (None, None),
) -> tuple[Pass, Pass]:
    """A server and its reference under load in alternating rounds (``--rounds``), each
    keeping its median round, so that drift on the machine falls on both; then each on one
    connection. ``pids``: the processes whose CPU time per request is measured (None: not)."""
    rounds: tuple[list[WrkResult], list[WrkResult]] = ([], [])
    for number in range(args.rounds):
        for target, name, kept, pid in zip((url, reference), names, rounds, pids, strict=True):
            say(f"{name}, round {number + 1} of {args.rounds}")
            kept.append(measure_wrk(target, args.threads, args.connections, args.duration, pid=pid))
    loaded = [sorted(kept, key=lambda r: r.requests_per_s)[len(kept) // 2] for kept in rounds]
    single = [
        measure_wrk(target, 1, 1, args.single_duration, SINGLE_WARMUP_SECONDS)
        for target in (url, reference)
    ]
    return Pass(loaded[0], single[0]), Pass(loaded[1], single[1])


def quick_create(url: str, target: str) -> str:
    """An HTTP API quick-created for ``target``; returns the execute-api path prefix."""
    wait_for_200(url, "/_propylon/health", time.monotonic() + START_TIMEOUT)
    api_id: str = boto3_client(url).create_api(Name="bench", ProtocolType="HTTP", Target=target)[
        "ApiId"
    ]
    return f"/_aws/execute-api/{api_id}"


def measure_lambda(results: Results, args: argparse.Namespace, scratch: Path) -> None:
    handler = scratch / "hello_handler.py"
    handler.write_text(ASYNC_HANDLER if args.async_handler else HANDLER)
    results.handler = "async def" if args.async_handler else "def"
    command = propylon_command("--function", f"hello={handler}:handler", *UNTHROTTLED)
    with server(command) as (url, process):
        path = quick_create(url, FUNCTION_ARN) + "/hello"
        wait_for_200(url, path, time.monotonic() + START_TIMEOUT)
        status, headers, body = http_get_full(url, path)
        if (status, body) != (200, BODY):
            raise RuntimeError(f"the Lambda proxy answered {status} {body!r}")
        results.lambda_content_type = dict(headers).get("content-type")
        body_file = scratch / "hello.body"
        body_file.write_bytes(body)
        hello = baseline_command(body_file, results.lambda_content_type)
        with server(hello) as (baseline, baseline_process):
            wait_for_200(baseline, path, time.monotonic() + START_TIMEOUT)
            results.lambda_propylon, results.lambda_baseline = measure_pair(
                url + path,
                baseline + path,
                args,
                ("Lambda proxy on Propylon", "raw ASGI hello"),
                (process.pid, baseline_process.pid),
            )
        if args.profile and args.only != "http":
            say(f"profiling the Lambda proxy with py-spy into {args.profile}")
            profile(process.pid, url + path, args, results)


def profile(pid: int, url: str, args: argparse.Namespace, results: Results) -> None:
    """Sample the server with py-spy while wrk loads it; the numbers of this pass are not kept."""

    def load() -> WrkResult:
        return run_wrk(url, args.threads, args.connections, args.duration)

    record_profile(pid, args.profile, args.duration, load)
    if Path(args.profile).suffix not in (".svg", ".json"):
        stacks = Path(args.profile).read_text().splitlines()
        results.hotspots = hotspots(stacks, args.top)


def hotspots(stacks: list[str], top: int) -> Hotspots:
    """Where the busy samples are: the functions with the most samples of their own, and the
    Propylon functions on the most stacks, as shares of the busy samples.

    ``stacks`` are py-spy's collapsed lines, ``frame;frame;... count``, a frame being
    ``function (file:line)``; lines are merged per function. A thread waiting for work (a
    handler thread in ``HandlerThreads._take_jobs``, or a ``concurrent.futures`` worker, as the
    leaf) is idle, though py-spy, which sees it woken for every job, samples it as busy: those
    samples are counted apart."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    busy = idle = 0
    for line in stacks:
        frames, _, count_text = line.rpartition(" ")
        if not frames:
            continue
        count = int(count_text)
        where = [_where(frame) for frame in frames.split(";")]
        if where[-1] in _WAITING_FOR_WORK:
            idle += count
            continue
        busy += count
        own[_label(*where[-1])] += count
        for name, path in set(where):
            if path.startswith("propylon/") and path not in _ENTRY_POINTS:
                total[_label(name, path)] += count
    if busy == 0:
        return Hotspots([], [], busy, idle)

    def shares(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, count / busy) for name, count in counter.most_common(top)]

    return Hotspots(shares(own), shares(total), busy, idle)


_ENTRY_POINTS = frozenset({"propylon/__main__.py", "propylon/cli.py"})
_WAITING_FOR_WORK = frozenset(
    {
        ("HandlerThreads._take_jobs", "propylon/functions/threads.py"),
        ("_worker", "concurrent/futures/thread.py"),
    }
)


def _where(frame: str) -> tuple[str, str]:
    """``send (uvicorn/protocols/http/httptools_impl.py:563)`` -> the name and the path."""
    name, _, where = frame.partition(" (")
    return name, where.removesuffix(")").rsplit(":", 1)[0]


def _label(name: str, path: str) -> str:
    return f"{name} ({'/'.join(Path(path).parts[-2:])})" if path else name


# --- nginx -----------------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports, free at the time of the call (nginx cannot pick its own)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]


@contextmanager
def nginx(executable: str, directory: Path, http_block: str, port: int) -> Iterator[str]:
    """Run nginx in the foreground with ``http_block`` until the block ends; yield its URL."""
    directory.mkdir()
    config = directory / "nginx.conf"
    config.write_text(NGINX_MAIN.format(dir=directory, http=http_block))
    error_log = directory / "error.log"
    command = [executable, "-p", str(directory), "-c", str(config), "-e", str(error_log)]
    with (directory / "stderr.log").open("w") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    url = f"http://{HOST}:{port}"
    try:
        _wait_nginx(process, url, error_log, time.monotonic() + START_TIMEOUT)
        yield url
    finally:
        stop(process)


def _wait_nginx(process: subprocess.Popen[str], url: str, log: Path, deadline: float) -> None:
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if http_get(url, "/hello")[0] == 200:
                return
        except OSError:
            time.sleep(0.01)
    text = log.read_text() if log.exists() else ""
    raise RuntimeError(f"nginx did not start ({url}):\n{text}")


def measure_http_proxy(results: Results, args: argparse.Namespace, scratch: Path) -> None:
    executable = shutil.which("nginx")
    if executable is None:
        print(NGINX_MISSING, file=sys.stderr)
        results.proxy_skipped = "nginx is not installed"
        return
    upstream_port, proxy_port = free_ports(2)
    upstream_block = NGINX_UPSTREAM.format(host=HOST, port=upstream_port, body=BODY.decode())
    proxy_block = NGINX_PROXY.format(host=HOST, port=proxy_port, upstream_port=upstream_port)
    with (
        nginx(executable, scratch / "upstream", upstream_block, upstream_port) as upstream,
        nginx(executable, scratch / "proxy", proxy_block, proxy_port) as nginx_proxy,
        server(propylon_command(*UNTHROTTLED)) as (url, process),
    ):
        prefix = quick_create(url, upstream)
        wait_for_200(url, prefix + "/hello", time.monotonic() + START_TIMEOUT)
        path = results.proxy_path = proxy_path(url, prefix, results)
        say(f"the upstream (nginx) directly, {path}")
        results.proxy_upstream = measure(upstream + path, args)
        results.proxy_propylon, results.proxy_nginx = measure_pair(
            url + prefix + path,
            nginx_proxy + path,
            args,
            ("HTTP_PROXY on Propylon", "nginx proxy"),
            (process.pid, None),  # nginx's work is in its worker, not the master process
        )
        python_proxy = [sys.executable, str(Path(__file__).with_name("python_proxy.py")), upstream]
        with server(python_proxy) as (smallest, smallest_process):
            wait_for_200(smallest, path, time.monotonic() + START_TIMEOUT)
            say("the smallest Python proxy on the same stack")
            results.proxy_python = measure(smallest + path, args, smallest_process.pid)
        if args.profile and args.only == "http":
            say(f"profiling HTTP_PROXY with py-spy into {args.profile}")
            results.profiled = "HTTP_PROXY"
            profile(process.pid, url + prefix + path, args, results)


def proxy_path(url: str, prefix: str, results: Results) -> str:
    """The upstream path measured through every front: ``/hello``, or ``/chunked/hello`` (the
    same body without Content-Length) when Propylon's answer repeats the backend's
    Content-Length beside its own, which wrk, like most HTTP/1.1 clients, refuses."""
    _, headers, _ = http_get_full(url, prefix + "/hello")
    if sum(name == "content-length" for name, _ in headers) < 2:
        return "/hello"
    results.proxy_note = (
        "Propylon's HTTP_PROXY answer carries two Content-Length headers (the backend's and "
        "its own), which wrk refuses; all three were measured on `/chunked/hello`, the same "
        "body sent by the upstream without Content-Length."
    )
    say(results.proxy_note)
    return "/chunked/hello"


def nginx_version() -> str:
    executable = shutil.which("nginx")
    if executable is None:
        return "not installed"
    done = subprocess.run([executable, "-v"], capture_output=True, text=True)
    return done.stderr.strip().rpartition("/")[2] or "unknown"


# --- the report ------------------------------------------------------------------------------


def _row(label: str, values: list[str], ratio: str = "", target: str = "", ok: str = "") -> str:
    return f"| {label} | " + " | ".join([*values, ratio, target, ok]) + " |"


def _columns(passes: list[Pass], pick: str, concurrency: str) -> list[str]:
    def value(p: Pass) -> str:
        result = p.loaded if concurrency == "loaded" else p.single
        number = getattr(result, pick)
        return fmt(number) if pick == "requests_per_s" else f"{number:.2f} ms"

    return [value(p) for p in passes]


def _rows(passes: list[Pass], connections: int) -> list[str]:
    """Requests/s, p50 and p99 at both concurrencies, without ratios; then the server's CPU
    time per request under load, when it was measured."""
    rows = []
    for concurrency, c in (("loaded", connections), ("single", 1)):
        rows.append(_row(f"requests/s, -c{c}", _columns(passes, "requests_per_s", concurrency)))
        rows.append(_row(f"latency p50, -c{c}", _columns(passes, "p50_ms", concurrency)))
        rows.append(_row(f"latency p99, -c{c}", _columns(passes, "p99_ms", concurrency)))
    if any(p.loaded.cpu_user_us is not None for p in passes):
        label = f"server CPU per request, -c{connections} (user + system)"
        rows.append(_row(label, [_cpu(p.loaded) for p in passes]))
    return rows


def _cpu(result: WrkResult) -> str:
    if result.cpu_user_us is None or result.cpu_system_us is None:
        return ""
    total = result.cpu_user_us + result.cpu_system_us
    return f"{total:.1f} µs ({result.cpu_user_us:.1f} + {result.cpu_system_us:.1f})"


def report_lambda(results: Results, connections: int) -> list[str]:
    p, b = results.lambda_propylon, results.lambda_baseline
    assert p is not None
    assert b is not None
    ratio = p.loaded.requests_per_s / b.loaded.requests_per_s
    rows = _rows([p, b], connections)
    rows[0] = _row(
        f"requests/s, -c{connections}",
        _columns([p, b], "requests_per_s", "loaded"),
        f"{ratio:.2f}",
        ">= 0.40",
        met(ratio >= TARGETS["lambda_ratio"]),
    )
    rows[1] = _row(
        f"latency p50, -c{connections}",
        _columns([p, b], "p50_ms", "loaded"),
        "",
        "< 1 ms",
        met(p.loaded.p50_ms < TARGETS["lambda_p50_ms"]),
    )
    added = p.single.p50_ms - b.single.p50_ms
    rows[4] = _row("latency p50, -c1", _columns([p, b], "p50_ms", "single"), f"+{added:.2f} ms")
    bound = 1000 * connections / p.loaded.requests_per_s
    return [
        f"### Lambda proxy (payload 2.0, in-process Python handler, `{results.handler}`)",
        "",
        "| measurement | Propylon | raw ASGI hello | Propylon/hello | target | met |",
        "| --- | ---: | ---: | ---: | --- | --- |",
        *rows,
        "",
        f"At -c{connections} every connection always has a request in flight, so by Little's law "
        f"the p50 is about {connections} / throughput: {bound:.2f} ms at Propylon's "
        f"{fmt(p.loaded.requests_per_s)} requests/s. A p50 under 1 ms at -c{connections} "
        f'needs {fmt(connections * 1000)} requests/s or more (docs/performance.md, "Reading '
        'the latency target"). The -c1 rows show the latency Propylon adds '
        f"(+{added:.2f} ms at p50).",
    ]


def report_proxy(results: Results, connections: int) -> list[str]:
    if results.proxy_skipped:
        return ["### HTTP_PROXY", "", f"Skipped: {results.proxy_skipped}."]
    p, n, u = results.proxy_propylon, results.proxy_nginx, results.proxy_upstream
    assert p is not None
    assert n is not None
    assert u is not None
    ratio = p.loaded.requests_per_s / n.loaded.requests_per_s
    rows = _rows([p, n, u], connections)
    rows[0] = _row(
        f"requests/s, -c{connections}",
        _columns([p, n, u], "requests_per_s", "loaded"),
        f"{ratio:.2f}",
        ">= 0.25",
        met(ratio >= TARGETS["proxy_ratio"]),
    )
    added, nginx_added = p.single.p50_ms - u.single.p50_ms, n.single.p50_ms - u.single.p50_ms
    rows.append(
        _row(
            "added p50 at -c1 (front minus upstream)",
            [f"+{added:.2f} ms", f"+{nginx_added:.2f} ms", ""],
            "",
            "< 1 ms",
            met(added < TARGETS["proxy_added_p50_ms"]),
        )
    )
    return [
        "### HTTP_PROXY (upstream: nginx answering `hello`)",
        "",
        "| measurement | Propylon HTTP_PROXY | nginx reverse proxy | upstream directly "
        "| Propylon/nginx | target | met |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
        *rows,
        "",
        f"Path `{results.proxy_path}` on the upstream. Each front shares the cores with the "
        "upstream and wrk.",
        *([results.proxy_note] if results.proxy_note else []),
        *_python_ceiling(p, results.proxy_python, connections),
    ]


def _python_ceiling(propylon: Pass, smallest: Pass | None, connections: int) -> list[str]:
    if smallest is None:
        return []
    rate = smallest.loaded.requests_per_s
    cpu = _cpu(smallest.loaded)
    return [
        "",
        f"The smallest keep-alive proxy in Python on the same stack (`bench/python_proxy.py`: "
        f"no headers forwarded, no limits, no errors handled) answers {rate:,.0f} requests/s "
        f"at -c{connections} (p50 {smallest.single.p50_ms:.2f} ms at -c1"
        + (f"; {cpu} of CPU per request" if cpu else "")
        + f"): Propylon's HTTP_PROXY reaches {propylon.loaded.requests_per_s / rate:.2f} of it.",
    ]


def report_profile(results: Results) -> list[str]:
    spots = results.hotspots
    if spots is None or not spots.own:
        return []
    lines = [
        f"### {results.profiled} profile (py-spy: {spots.busy_samples:,} busy samples; "
        f"{spots.idle_samples:,} of pool threads waiting for work left out)",
        "",
        "| own time | share | Propylon function on the stack | share |",
        "| --- | ---: | --- | ---: |",
    ]
    for (own, own_share), (total, total_share) in zip(spots.own, spots.propylon, strict=False):
        lines.append(f"| `{own}` | {own_share:.1%} | `{total}` | {total_share:.1%} |")
    return lines


def report(results: Results, args: argparse.Namespace) -> str:
    m = results.machine
    lines = [
        f"Machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, uvicorn "
        f"{m['uvicorn']}, uvloop {m['uvloop']}, httptools {m['httptools']}, aiohttp "
        f"{m['aiohttp']}, nginx {m['nginx']}; {m['date']}, revision {m['revision']}.",
        f"wrk: `wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency URL` "
        f"and `wrk -t1 -c1 -d{args.single_duration}s --latency URL`; wrk and the servers on the "
        f"same cores. Propylon and its reference take turns under load, {args.rounds} rounds "
        "each; the median round of each is shown.",
        "",
        *(report_lambda(results, args.connections) if args.only != "http" else []),
        "",
        *(report_proxy(results, args.connections) if args.only != "lambda" else []),
        "",
        "1-minute load average at start and end: "
        + ", ".join(f"{load:.2f}" for load in results.load_average)
        + f" (anything else running on these cores lowers the numbers); {results.seconds:.0f} s.",
    ]
    if profile_lines := report_profile(results):
        lines += ["", *profile_lines]
    return "\n".join(lines)


# --- the run ---------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds (default 10)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument(
        "--single-duration", type=int, default=5, help="wrk seconds at -c1 (default 5)"
    )
    parser.add_argument(
        "--async-handler", action="store_true", help="an `async def` handler (on the event loop)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternating -c32 rounds of Propylon and its reference, medians kept (default 3)",
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--only", choices=("lambda", "http"), help="measure one path only")
    parser.add_argument(
        "--profile",
        help="also profile the Lambda proxy (HTTP_PROXY with --only http) with py-spy into this",
    )
    parser.add_argument("--top", type=int, default=12, help="hotspots to print (default 12)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    missing = missing_tools(bool(args.profile))
    if missing is not None:
        print(missing, file=sys.stderr)
        return 2
    stop_on_sigterm()
    compile_package()
    started = time.monotonic()
    packages = ("uvicorn", "uvloop", "httptools", "boto3", "aiohttp")
    results = Results(
        {**machine(packages), "nginx": nginx_version()},
        load_average=[os.getloadavg()[0]],
        rounds=args.rounds,
    )
    with tempfile.TemporaryDirectory(prefix="propylon-bench-") as scratch:
        if args.only in (None, "lambda"):
            measure_lambda(results, args, Path(scratch))
        if args.only in (None, "http"):
            measure_http_proxy(results, args, Path(scratch))
    results.load_average.append(os.getloadavg()[0])
    results.seconds = time.monotonic() - started
    print(report(results, args))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(asdict(results), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
