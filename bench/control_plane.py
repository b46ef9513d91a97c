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
   bytes answered by the smallest raw ASGI app on the same stack (``propylon.server``: uvicorn +
   uvloop + httptools, one process, access log off), served by ``bench/_common.py``. A short
   wrk pass warms each server first.
4. One boto3 client makes a fixed, sequential mix of calls: GetApi 50%, GetRoutes 20%,
   CreateRoute + DeleteRoute 20%, UpdateApi 10%.

wrk and both servers share this machine's cores, so the core count is part of the result.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    START_TIMEOUT,
    WrkResult,
    baseline_command,
    boto3_client,
    compile_package,
    fmt,
    http_get,
    machine,
    measure_wrk,
    met,
    missing_tools,
    propylon_command,
    record_profile,
    run_wrk,
    say,
    server,
    stop_on_sigterm,
    wait_for_200,
)

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


# --- measurements ----------------------------------------------------------------------------


def measure_startup() -> float:
    """Seconds from spawning ``propylon serve`` to its first 200 on the health endpoint."""
    started = time.perf_counter()
    with server(propylon_command()) as (url, _):
        wait_for_200(url, "/_propylon/health", time.monotonic() + START_TIMEOUT)
        return time.perf_counter() - started


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

    def load() -> WrkResult:
        return run_wrk(url, args.threads, args.connections, args.duration)

    record_profile(pid, args.profile, args.duration, load)


# --- the run ---------------------------------------------------------------------------------


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
            say(f"GetApi on Propylon ({len(body)} bytes)")
            results.propylon = measure_wrk(
                url + path, args.threads, args.connections, args.duration
            )
            say("the same bytes on the raw ASGI baseline")
            results.baseline = measure_wrk(
                baseline_url + path, args.threads, args.connections, args.duration
            )
        say(f"boto3 mix ({args.calls} calls)")
        results.mix = run_mix(client, api_id, args.calls)
        if args.profile:
            say(f"profiling GetApi with py-spy into {args.profile}")
            profile(process.pid, url + path, args)


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
        f"| GetApi requests/s | {fmt(p.requests_per_s)} | {fmt(b.requests_per_s)} "
        f"| {p.requests_per_s / b.requests_per_s:.2f} | >= 10,000 "
        f"| {met(p.requests_per_s >= TARGETS['rps'])} |",
        f"| GetApi latency p50 | {p.p50_ms:.2f} ms | {b.p50_ms:.2f} ms "
        f"| {p.p50_ms / b.p50_ms:.2f} | < 2 ms | {met(p.p50_ms < TARGETS['p50_ms'])} |",
        f"| GetApi latency p99 | {p.p99_ms:.2f} ms | {b.p99_ms:.2f} ms "
        f"| {p.p99_ms / b.p99_ms:.2f} | | |",
        f"| boto3 mix, 1 client, sequential | {fmt(mix.calls_per_s)} calls/s | | | | |",
        f"| start-up to healthy (median of {len(results.startup_s)}) | {startup:.3f} s | | "
        f"| < 0.5 s | {met(startup < TARGETS['startup_s'])} |",
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    missing = missing_tools(bool(args.profile))
    if missing is not None:
        print(missing, file=sys.stderr)
        return 2
    stop_on_sigterm()
    compile_package()
    results = Results(machine(), load_average=[os.getloadavg()[0]])
    say(f"start-up, {args.startups} runs")
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
