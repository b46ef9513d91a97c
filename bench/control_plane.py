"""Control-plane benchmark: GetApi throughput and latency, a boto3 mix, and start-up time.

Run it from the repository root, after ``python3 -m pip install -e '.[test]'`` and with wrk on
the PATH (``apt-get update && apt-get install -y wrk``)::

    python bench/control_plane.py

It takes about 35 seconds (45 with ``--profile``), talks only to 127.0.0.1, and stops every
process it started.

``--json PATH`` also writes the results as JSON; ``--profile PATH`` adds a last wrk pass with
py-spy attached to the server (``pip install py-spy``) and writes its samples to PATH
(``.svg``: flame graph, ``.json``: speedscope, anything else: collapsed stacks).

How it works:

1. Start-up: ``propylon serve --in-memory --port 0`` is spawned several times; each time we
   read its "ready on http://127.0.0.1:PORT" log line, then poll ``GET /_propylon/health``. The
   time from spawn to the first 200 is one sample; the median is reported.
2. One more server is started; boto3 creates an HTTP API with a few routes.
3. wrk (same command for both) measures ``GET /v2/apis/{id}`` on Propylon, then the same
   bytes answered by the smallest raw ASGI app on the same stack (uvicorn + uvloop + httptools,
   one process, access log off), run by this file with ``--serve-baseline``. A short wrk pass
   warms each server first.
4. One boto3 client makes a fixed, sequential mix of calls: GetApi 50%, GetRoutes 20%,
   CreateRoute + DeleteRoute 20%, UpdateApi 10%.

wrk and both servers share this machine's cores, so the core count is part of the result.
"""

from __future__ import annotations

import argparse
import compileall
import http.client
import json
import os
import platform
import queue
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any

HOST = "127.0.0.1"
READY = re.compile(r"ready on http://([0-9.]+):(\d+)")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
WARMUP_SECONDS = 2
ROUTE_KEYS = ("GET /pets", "GET /pets/{id}", "POST /pets", "DELETE /pets/{id}", "GET /owners")
# One block of ten sequential calls: GetApi 50%, GetRoutes 20%, Create+DeleteRoute 20%,
# UpdateApi 10%.
MIX = (
    "get_api",
    "get_routes",
    "get_api",
    "create_route",
    "get_api",
    "delete_route",
    "get_api",
    "get_routes",
    "update_api",
    "get_api",
)
TARGETS = {"rps": 10_000.0, "p50_ms": 2.0, "startup_s": 0.5}
WRK_MISSING = """wrk is not installed. Install it with:

    apt-get update && apt-get install -y wrk     (Debian, Ubuntu)
    brew install wrk                             (macOS)
"""


@dataclass(frozen=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    command: str


@dataclass(frozen=True)
class MixResult:
    calls: int
    seconds: float
    calls_per_s: float
    mean_ms: dict[str, float]


@dataclass
class Results:
    machine: dict[str, Any]
    startup_s: list[float] = field(default_factory=list)
    propylon: WrkResult | None = None
    baseline: WrkResult | None = None
    mix: MixResult | None = None
    body_bytes: int = 0
    load_average: list[float] = field(default_factory=list)  # 1-minute, at start and at end


# --- processes -------------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PROPYLON_")}


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)
    lines.put("")  # end of stream


def _wait_ready(process: subprocess.Popen[str], deadline: float) -> str:
    """Read stderr until the "ready on" line; return the base URL. Never blocks past deadline."""
    assert process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stderr, lines), daemon=True).start()
    seen: list[str] = []
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            break
        if not line:
            break
        seen.append(line)
        match = READY.search(line)
        if match:
            return f"http://{match[1]}:{match[2]}"
    raise RuntimeError("the server did not start:\n" + "".join(seen))


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


@contextmanager
def server(command: list[str]) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Run ``command`` until the block ends; yield its base URL (from its "ready on" line)."""
    process = subprocess.Popen(
        command, env=_clean_env(), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    try:
        url = _wait_ready(process, time.monotonic() + START_TIMEOUT)
        yield url, process
    finally:
        _stop(process)


def propylon_command() -> list[str]:
    return [sys.executable, "-m", "propylon", "serve", "--in-memory", "--port", "0"]


def baseline_command(body_file: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--serve-baseline", str(body_file)]


def http_get(url: str, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_for_200(url: str, path: str, deadline: float) -> None:
    """Poll ``GET path`` until it answers 200; the socket may not be listening yet."""
    while True:
        with suppress(OSError):
            if http_get(url, path)[0] == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url}{path} never answered 200")
        time.sleep(0.001)


# --- the baseline server ---------------------------------------------------------------------


def baseline_app(body: bytes) -> Callable[..., Any]:
    """The smallest ASGI app answering ``body`` as JSON to every HTTP request."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def serve_baseline(body_file: Path) -> None:
    """Serve ``baseline_app`` the way ``propylon serve`` serves Propylon (see cli.py)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    config = uvicorn.Config(
        baseline_app(body_file.read_bytes()),
        loop="uvloop",
        http="httptools",
        ws="none",
        lifespan="off",
        access_log=False,
        log_level="warning",
        log_config=None,
    )
    print(f"baseline ready on http://{HOST}:{sock.getsockname()[1]}", file=sys.stderr, flush=True)
    uvicorn.Server(config).run(sockets=[sock])


# --- measurements ----------------------------------------------------------------------------


def measure_startup() -> float:
    """Seconds from spawning ``propylon serve`` to its first 200 on the health endpoint."""
    started = time.perf_counter()
    with server(propylon_command()) as (url, _):
        wait_for_200(url, "/_propylon/health", time.monotonic() + START_TIMEOUT)
        return time.perf_counter() - started


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return round(float(match[1]) * _UNITS_MS[match[2]], 3)


def parse_wrk(output: str, command: str) -> WrkResult:
    def find(pattern: str) -> str:
        match = re.search(pattern, output)
        if match is None:
            raise RuntimeError(f"wrk output lacks {pattern!r}:\n{output}")
        return match[1]

    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx[1]) if non_2xx else 0
    return WrkResult(
        requests_per_s=float(find(r"Requests/sec:\s+([0-9.]+)")),
        p50_ms=_ms(find(r"\s50%\s+([0-9.]+\w+)")),
        p99_ms=_ms(find(r"\s99%\s+([0-9.]+\w+)")),
        requests=int(find(r"(\d+) requests in")),
        errors=errors,
        command=command,
    )


def run_wrk(url: str, args: argparse.Namespace, seconds: int) -> WrkResult:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--latency",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True)
    result = parse_wrk(done.stdout, " ".join(command))
    if result.errors:
        raise RuntimeError(f"wrk saw {result.errors} errors:\n{done.stdout}")
    return result


def measure_wrk(url: str, args: argparse.Namespace) -> WrkResult:
    run_wrk(url, args, WARMUP_SECONDS)
    return run_wrk(url, args, args.duration)


def boto3_client(url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "apigatewayv2",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def create_api(client: Any) -> str:
    api_id: str = client.create_api(Name="bench", ProtocolType="HTTP")["ApiId"]
    for route_key in ROUTE_KEYS:
        client.create_route(ApiId=api_id, RouteKey=route_key)
    return api_id


def run_mix(client: Any, api_id: str, calls: int) -> MixResult:
    created: list[str] = []
    operations: dict[str, Callable[[], object]] = {
        "get_api": lambda: client.get_api(ApiId=api_id),
        "get_routes": lambda: client.get_routes(ApiId=api_id),
        "create_route": lambda: created.append(
            client.create_route(ApiId=api_id, RouteKey="GET /bench")["RouteId"]
        ),
        "delete_route": lambda: client.delete_route(ApiId=api_id, RouteId=created.pop()),
        "update_api": lambda: client.update_api(ApiId=api_id, Description="bench"),
    }
    for name in MIX:  # warm botocore's per-operation caches outside the clock
        operations[name]()
    spent: dict[str, list[float]] = {name: [] for name in operations}
    started = time.perf_counter()
    for index in range(calls):
        name = MIX[index % len(MIX)]
        before = time.perf_counter()
        operations[name]()
        spent[name].append(time.perf_counter() - before)
    seconds = time.perf_counter() - started
    mean_ms = {name: 1000 * statistics.fmean(times) for name, times in spent.items() if times}
    return MixResult(calls, seconds, calls / seconds, mean_ms)


def profile(pid: int, url: str, args: argparse.Namespace) -> None:
    """Sample the server with py-spy while wrk loads it; the numbers of this pass are not kept."""
    formats = {".svg": "flamegraph", ".json": "speedscope"}
    output_format = formats.get(Path(args.profile).suffix, "raw")
    seconds = str(args.duration)
    command = ["py-spy", "record", "--pid", str(pid), "--duration", seconds, "--rate", "250"]
    command += ["--format", output_format, "--output", args.profile]
    with subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as spy:
        try:
            time.sleep(0.5)  # let py-spy attach before the load starts
            run_wrk(url, args, args.duration)
            _, errors = spy.communicate(timeout=args.duration + 30)
        finally:
            _stop_plain(spy)
    if spy.returncode != 0:
        raise RuntimeError(f"py-spy failed:\n{errors}")


def _stop_plain(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=STOP_TIMEOUT)


# --- the run ---------------------------------------------------------------------------------


def revision() -> str:
    """The checked-out commit, with ``+dirty`` when ``src/`` has uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    git = ["git", "-C", str(root)]
    try:
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changes = subprocess.run(
            [*git, "status", "--porcelain", "--", "src"], capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if changes else "")


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cores": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "revision": revision(),
        **{name: metadata.version(name) for name in ("uvicorn", "uvloop", "httptools", "boto3")},
    }


def get_api_body(url: str, path: str) -> bytes:
    status, body = http_get(url, path)
    if status != 200:
        raise RuntimeError(f"GetApi answered {status}: {body!r}")
    return body


def measure_servers(results: Results, args: argparse.Namespace) -> None:
    """Both servers run together; the two wrk passes run back to back, then the boto3 mix."""
    with server(propylon_command()) as (url, process), tempfile.TemporaryDirectory() as scratch:
        wait_for_200(url, "/_propylon/health", time.monotonic() + START_TIMEOUT)
        client = boto3_client(url)
        api_id = create_api(client)
        path = f"/v2/apis/{api_id}"
        body = get_api_body(url, path)
        results.body_bytes = len(body)
        body_file = Path(scratch) / "body.json"
        body_file.write_bytes(body)
        with server(baseline_command(body_file)) as (baseline_url, _):
            wait_for_200(baseline_url, path, time.monotonic() + START_TIMEOUT)
            _say(f"GetApi on Propylon ({len(body)} bytes)")
            results.propylon = measure_wrk(url + path, args)
            _say("the same bytes on the raw ASGI baseline")
            results.baseline = measure_wrk(baseline_url + path, args)
        _say(f"boto3 mix ({args.calls} calls)")
        results.mix = run_mix(client, api_id, args.calls)
        if args.profile:
            _say(f"profiling GetApi with py-spy into {args.profile}")
            profile(process.pid, url + path, args)


def _say(text: str) -> None:
    print(f"... {text}", file=sys.stderr, flush=True)


def _fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def report(results: Results) -> str:
    m = results.machine
    p, b, mix = results.propylon, results.baseline, results.mix
    assert p is not None
    assert b is not None
    assert mix is not None
    startup = statistics.median(results.startup_s)
    samples = ", ".join(f"{s:.3f}" for s in results.startup_s)
    lines = [
        f"Machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, uvicorn "
        f"{m['uvicorn']}, uvloop {m['uvloop']}, httptools {m['httptools']}; {m['date']}, "
        f"revision {m['revision']}.",
        f"wrk: `{p.command.rsplit(' ', 1)[0]} URL`, wrk and the server on the same cores; "
        f"GetApi body {results.body_bytes} bytes.",
        "",
        "| measurement | Propylon | raw ASGI baseline | Propylon/baseline | target | met |",
        "| --- | ---: | ---: | ---: | --- | --- |",
        f"| GetApi requests/s | {_fmt(p.requests_per_s)} | {_fmt(b.requests_per_s)} "
        f"| {p.requests_per_s / b.requests_per_s:.2f} | >= 10,000 "
        f"| {_met(p.requests_per_s >= TARGETS['rps'])} |",
        f"| GetApi latency p50 | {p.p50_ms:.2f} ms | {b.p50_ms:.2f} ms "
        f"| {p.p50_ms / b.p50_ms:.2f} | < 2 ms | {_met(p.p50_ms < TARGETS['p50_ms'])} |",
        f"| GetApi latency p99 | {p.p99_ms:.2f} ms | {b.p99_ms:.2f} ms "
        f"| {p.p99_ms / b.p99_ms:.2f} | | |",
        f"| boto3 mix, 1 client, sequential | {_fmt(mix.calls_per_s)} calls/s | | | | |",
        f"| start-up to healthy (median of {len(results.startup_s)}) | {startup:.3f} s | | "
        f"| < 0.5 s | {_met(startup < TARGETS['startup_s'])} |",
        "",
        f"Start-up samples (s): {samples}.",
        "1-minute load average at start and end: "
        + ", ".join(f"{load:.2f}" for load in results.load_average)
        + " (anything else running on these cores lowers the numbers).",
        f"boto3 mix: {mix.calls} calls in {mix.seconds:.2f} s; mean client-side latency: "
        + ", ".join(f"{name} {ms:.2f} ms" for name, ms in mix.mean_ms.items())
        + ".",
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds (default 10)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--calls", type=int, default=2000, help="boto3 mix calls (2000)")
    parser.add_argument("--startups", type=int, default=5, help="start-up samples (5)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--profile", help="also profile GetApi with py-spy into this file")
    parser.add_argument("--serve-baseline", type=Path, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.serve_baseline:
        serve_baseline(args.serve_baseline)
        return 0
    if shutil.which("wrk") is None:
        print(WRK_MISSING, file=sys.stderr)
        return 2
    if args.profile and shutil.which("py-spy") is None:
        print("py-spy is not installed: pip install py-spy", file=sys.stderr)
        return 2
    # SIGTERM unwinds like Ctrl-C, so the ``finally`` blocks stop the servers we started.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    # An installed Propylon starts from bytecode (pip compiles it); an editable checkout, with
    # PYTHONDONTWRITEBYTECODE set as on these machines, would recompile every module per start.
    package = Path(__file__).resolve().parent.parent / "src" / "propylon"
    compileall.compile_dir(str(package), quiet=1)
    results = Results(machine(), load_average=[os.getloadavg()[0]])
    _say(f"start-up, {args.startups} runs")
    results.startup_s = [measure_startup() for _ in range(args.startups)]
    measure_servers(results, args)
    results.load_average.append(os.getloadavg()[0])
    print(report(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(asdict(results), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
