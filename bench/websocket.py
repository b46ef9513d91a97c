"""WebSocket benchmark: echo round trips through a WebSocket API, against a raw ASGI echo.

Run it from the repository root, after ``python3 -m pip install -e '.[test]'`` (no other tool;
``--profile`` needs py-spy, ``pip install py-spy``)::

    python bench/websocket.py

It takes about 25 seconds (30 with ``--profile``), talks only to 127.0.0.1, and stops every
process it started. It prints a Markdown table, then the results as one JSON line (``--json
PATH`` also writes them to a file). Run as ``python bench/websocket.py --serve-baseline``, it
serves the baseline alone.

How it works. Three servers, each started as a subprocess, measured one after the other with
the same client:

1. **Lambda proxy**: ``propylon serve --in-memory --port 0 --function echo=FILE:handler
   --throttle-rate 1000000 --throttle-burst 1000000`` (the stage's default throttle, 10,000
   messages/s, would otherwise be what is measured), with a WEBSOCKET API made with boto3:
   ``RouteSelectionExpression`` ``$request.body.action``, one ``$default`` route made two-way
   (``RouteResponseSelectionExpression`` ``$default`` and a ``$default`` route response), an
   ``AWS_PROXY`` integration to a ``def`` handler returning ``{"statusCode": 200, "body":
   event["body"]}`` (run on a worker thread, as Propylon runs every ``def`` handler), and a stage
   ``bench`` with a deployment. The client connects to
   ``ws://127.0.0.1:PORT/_aws/execute-api/{apiId}/bench``.
2. **MOCK**: a second API on the same server, its ``$default`` route on a ``MOCK`` integration
   (request template ``{"statusCode": 200}``) whose ``$default`` integration response renders
   ``{"route": "$context.routeKey"}``: no function and no thread hop. A MOCK backend has no
   body, so ``$input.body`` would render nothing and a two-way route sends nothing back; this
   route answers ``{"route": "$default"}`` (21 bytes) instead of echoing.
3. **Baseline**: the smallest raw ASGI app echoing every text message, on the stack ``propylon
   serve`` uses for WebSockets (``propylon.server``: uvicorn + uvloop + httptools,
   ``ws="websockets-sansio"``, one process, access log off).

The client runs on uvloop in this script's process (the servers are other processes), with
compression off (a client would otherwise offer permessage-deflate, which uvicorn accepts, and
the benchmark would measure zlib) and no pings. It is aiohttp's WebSocket client by default:
under load it spends about 50 µs of CPU per round trip here against 60 to 95 µs for the
``websockets`` asyncio client (``--client websockets``); with the baseline the client, not the
server, is what saturates a core either way. Each message is a 49-byte JSON document,
``{"action": "bench", "seq": N, "data": "xxxxxxxx"}``.

- **Latency**: one connection, one message at a time (send, wait for the answer), WARMUP
  messages, then MESSAGES timed with ``perf_counter_ns``; p50, p99 and the mean.
- **Throughput**: CONNECTIONS connections, each sending its next message as soon as the answer
  to the last one came back, for WARMUP_SECONDS, then DURATION seconds counted: messages/s (and
  the p50/p99 of those round trips). Every answer is checked.

During each phase the CPU time (user + system) of the server, from ``/proc/PID/stat``, and of
the client, from ``time.process_time()``, is read: the server's CPU per message is the cost
the server adds, whoever is the bottleneck, and a client near one full core says the client
limits the throughput. Client and servers share this machine's cores, so the core count and
the load average (printed at start and end) are part of the result.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    HOST,
    START_TIMEOUT,
    UNTHROTTLED,
    boto3_client,
    compile_package,
    fmt,
    machine,
    met,
    propylon_command,
    record_profile,
    say,
    server,
    stop_on_sigterm,
    wait_for_200,
)

HANDLER = """def handler(event, context):
    return {"statusCode": 200, "body": event["body"]}
"""
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:echo"
STAGE = "bench"
MOCK_TEMPLATE = '{"route": "$context.routeKey"}'
MOCK_REPLY = '{"route": "$default"}'
ANSWER_TIMEOUT = 5.0  # seconds; a missing answer fails the run instead of hanging it
TARGETS = {"p50_ms": 0.5}
PACKAGES = ("uvicorn", "uvloop", "httptools", "websockets", "aiohttp", "boto3")


@dataclass(frozen=True)
class Latency:
    """Round trips of one message at a time on one connection, in ms."""

    messages: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    server_cpu_us: float  # per message
    client_cpu_us: float


@dataclass(frozen=True)
class Throughput:
    connections: int
    seconds: float
    messages: int
    messages_per_s: float
    p50_ms: float
    p99_ms: float
    server_cpu_share: float  # of one core, over the counted seconds
    client_cpu_share: float
    server_cpu_us: float  # per message


@dataclass(frozen=True)
class Pass:
    latency: Latency
    throughput: Throughput


@dataclass
class Results:
    machine: dict[str, Any]
    targets: dict[str, float] = field(default_factory=lambda: dict(TARGETS))
    settings: dict[str, Any] = field(default_factory=dict)
    passes: dict[str, Pass] = field(default_factory=dict)
    mock_reply: str = ""
    hotspots: dict[str, Any] | None = None
    load_average: list[float] = field(default_factory=list)  # 1-minute, at start and end
    seconds: float = 0.0


# --- the baseline server ---------------------------------------------------------------------


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The smallest ASGI app echoing every text message of a WebSocket; a 200 to HTTP."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message.get("text")})


def serve_baseline() -> None:
    """Serve ``echo_app`` the way ``propylon serve`` serves Propylon (``propylon.server``)."""
    import uvicorn

    from propylon.server import uvicorn_config

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    config = uvicorn_config(echo_app, lifespan="off")
    print(f"baseline ready on http://{HOST}:{sock.getsockname()[1]}", file=sys.stderr, flush=True)
    uvicorn.Server(config).run(sockets=[sock])


def baseline_command() -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--serve-baseline"]


# --- the APIs --------------------------------------------------------------------------------


def two_way_default(control: Any, api_id: str, integration_id: str) -> None:
    route = control.create_route(
        ApiId=api_id,
        RouteKey="$default",
        Target=f"integrations/{integration_id}",
        RouteResponseSelectionExpression="$default",
    )
    control.create_route_response(
        ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default"
    )
    control.create_stage(ApiId=api_id, StageName=STAGE)
    control.create_deployment(ApiId=api_id, StageName=STAGE)


def create_api(control: Any, name: str) -> str:
    api_id: str = control.create_api(
        Name=name, ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )["ApiId"]
    return api_id


def lambda_api(control: Any) -> str:
    api_id = create_api(control, "bench-lambda")
    integration = control.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=FUNCTION_ARN
    )
    two_way_default(control, api_id, integration["IntegrationId"])
    return api_id


def mock_api(control: Any) -> str:
    api_id = create_api(control, "bench-mock")
    integration = control.create_integration(
        ApiId=api_id,
        IntegrationType="MOCK",
        RequestTemplates={"$default": '{"statusCode": 200}'},
        TemplateSelectionExpression="\\$default",
    )
    control.create_integration_response(
        ApiId=api_id,
        IntegrationId=integration["IntegrationId"],
        IntegrationResponseKey="$default",
        ResponseTemplates={"$default": MOCK_TEMPLATE},
        TemplateSelectionExpression="\\$default",
    )
    two_way_default(control, api_id, integration["IntegrationId"])
    return api_id


# --- the client ------------------------------------------------------------------------------


def message(seq: int) -> str:
    return json.dumps({"action": "bench", "seq": seq % 100_000, "data": "x" * 8})


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` so far (``/proc/PID/stat``, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(samples: list[int], share: float) -> float:
    """The ``share`` quantile of ``samples`` (ns), in ms."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] / 1e6


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    import uvloop

    return uvloop.run(coroutine)


class WebsocketsClient:
    """The ``websockets`` asyncio client: compression off, no pings, no proxy."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, uri: str) -> WebsocketsClient:
        from websockets.asyncio.client import connect

        return cls(
            await connect(uri, compression=None, proxy=None, max_queue=None, ping_interval=None)
        )

    async def send(self, text: str) -> None:
        await self.ws.send(text)

    async def recv(self) -> str:
        answer: str = await self.ws.recv()
        return answer

    async def close(self) -> None:
        await self.ws.close()


class AiohttpClient:
    """aiohttp's WebSocket client (its frame reader is compiled): compression off, no pings."""

    def __init__(self, session: Any, ws: Any) -> None:
        self.session = session
        self.ws = ws

    @classmethod
    async def open(cls, uri: str) -> AiohttpClient:
        import aiohttp

        session = aiohttp.ClientSession()
        try:
            ws = await session.ws_connect(uri, compress=0, autoping=False, heartbeat=None)
        except BaseException:
            await session.close()
            raise
        return cls(session, ws)

    async def send(self, text: str) -> None:
        await self.ws.send_str(text)

    async def recv(self) -> str:
        message = await self.ws.receive()
        if not isinstance(message.data, str):
            raise RuntimeError(f"unexpected frame {message!r}")
        return message.data

    async def close(self) -> None:
        await self.ws.close()
        await self.session.close()


Client = WebsocketsClient | AiohttpClient
Connect = Callable[[str], Coroutine[Any, Any, Client]]
CLIENTS: dict[str, Connect] = {"aiohttp": AiohttpClient.open, "websockets": WebsocketsClient.open}


Check = Callable[[str, str], bool]


async def sequential(
    connect: Connect, uri: str, pid: int, warmup: int, count: int, check: Check
) -> Latency:
    ws = await connect(uri)
    try:
        for seq in range(warmup):
            await _round_trip(ws, message(seq), check)
        samples: list[int] = []
        server_cpu, client_cpu = cpu_seconds(pid), time.process_time()
        for seq in range(count):
            text = message(seq)
            started = time.perf_counter_ns()
            await ws.send(text)
            async with asyncio.timeout(ANSWER_TIMEOUT):
                answer = await ws.recv()
            samples.append(time.perf_counter_ns() - started)
            if not check(text, answer):
                raise RuntimeError(f"unexpected answer {answer!r} to {text!r}")
        server_cpu, client_cpu = cpu_seconds(pid) - server_cpu, time.process_time() - client_cpu
    finally:
        await ws.close()
    return Latency(
        count,
        round(percentile(samples, 0.50), 3),
        round(percentile(samples, 0.99), 3),
        round(statistics.fmean(samples) / 1e6, 3),
        round(server_cpu / count * 1e6, 1),
        round(client_cpu / count * 1e6, 1),
    )


async def _round_trip(ws: Client, text: str, check: Check) -> None:
    await ws.send(text)
    async with asyncio.timeout(ANSWER_TIMEOUT):
        answer = await ws.recv()
    if not check(text, answer):
        raise RuntimeError(f"unexpected answer {answer!r} to {text!r}")


async def loaded(
    connect: Connect,
    uri: str,
    pid: int,
    connections: int,
    warmup: float,
    duration: float,
    check: Check,
) -> Throughput:
    """``connections`` clients in a closed loop; only round trips that end in the counted
    window are kept."""
    sockets = [await connect(uri) for _ in range(connections)]
    loop = asyncio.get_running_loop()
    begin = loop.time() + warmup
    end = begin + duration
    samples: list[int] = []

    async def client(ws: Client, offset: int) -> None:
        seq = offset
        while (now := loop.time()) < end:
            text = message(seq)
            started = time.perf_counter_ns()
            await _round_trip(ws, text, check)
            if now >= begin:
                samples.append(time.perf_counter_ns() - started)
            seq += connections

    async def meter() -> tuple[float, float]:
        await asyncio.sleep(max(0.0, begin - loop.time()))
        server, client_cpu = cpu_seconds(pid), time.process_time()
        await asyncio.sleep(max(0.0, end - loop.time()))
        return cpu_seconds(pid) - server, time.process_time() - client_cpu

    try:
        metered = asyncio.ensure_future(meter())
        await asyncio.gather(*(client(ws, n) for n, ws in enumerate(sockets)))
        server_cpu, client_cpu = await metered
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets))
    count = len(samples)
    return Throughput(
        connections,
        duration,
        count,
        round(count / duration, 1),
        round(percentile(samples, 0.50), 3),
        round(percentile(samples, 0.99), 3),
        round(server_cpu / duration, 2),
        round(client_cpu / duration, 2),
        round(server_cpu / count * 1e6, 1),
    )


def echoes(text: str, answer: str) -> bool:
    return answer == text


def answers_mock(text: str, answer: str) -> bool:
    return answer == MOCK_REPLY


def measure(uri: str, pid: int, args: argparse.Namespace, check: Check) -> Pass:
    connect = CLIENTS[args.client]
    latency = run(sequential(connect, uri, pid, args.warmup, args.messages, check))
    throughput = run(
        loaded(connect, uri, pid, args.connections, args.warmup_seconds, args.duration, check)
    )
    return Pass(latency, throughput)


async def _first_answer(connect: Connect, uri: str) -> str:
    ws = await connect(uri)
    try:
        await ws.send(message(0))
        async with asyncio.timeout(ANSWER_TIMEOUT):
            answer = await ws.recv()
        return answer
    finally:
        await ws.close()


# --- the run ---------------------------------------------------------------------------------


def ws_uri(url: str, api_id: str) -> str:
    return f"ws://{url.removeprefix('http://')}/_aws/execute-api/{api_id}/{STAGE}"


def measure_all(results: Results, args: argparse.Namespace, scratch: Path) -> None:
    handler = scratch / "echo_handler.py"
    handler.write_text(HANDLER)
    command = propylon_command("--function", f"echo={handler}:handler", *UNTHROTTLED)
    with server(command) as (url, process):
        wait_for_200(url, "/_propylon/health", time.monotonic() + START_TIMEOUT)
        control = boto3_client(url)
        lambda_uri = ws_uri(url, lambda_api(control))
        mock_uri = ws_uri(url, mock_api(control))
        results.mock_reply = run(_first_answer(CLIENTS[args.client], mock_uri))
        say("Lambda proxy echo on Propylon")
        results.passes["lambda"] = measure(lambda_uri, process.pid, args, echoes)
        say("MOCK on Propylon")
        results.passes["mock"] = measure(mock_uri, process.pid, args, answers_mock)
        with server(baseline_command()) as (baseline, baseline_process):
            wait_for_200(baseline, "/", time.monotonic() + START_TIMEOUT)
            say("the raw ASGI echo baseline")
            uri = f"ws://{baseline.removeprefix('http://')}/"
            results.passes["baseline"] = measure(uri, baseline_process.pid, args, echoes)
        if args.profile:
            say(f"profiling the Lambda proxy echo with py-spy into {args.profile}")
            profile(process.pid, lambda_uri, args, results)


def profile(pid: int, uri: str, args: argparse.Namespace, results: Results) -> None:
    """Sample the server while the throughput load runs; that pass's numbers are not kept."""
    from data_plane import hotspots

    def load() -> None:
        run(loaded(CLIENTS[args.client], uri, pid, args.connections, 0.0, args.duration, echoes))

    record_profile(pid, args.profile, int(args.duration), load)
    if Path(args.profile).suffix not in (".svg", ".json"):
        stacks = Path(args.profile).read_text().splitlines()
        results.hotspots = asdict(hotspots(stacks, args.top))  # handler threads' waits apart


# --- the report ------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.3f} ms"


def report(results: Results, args: argparse.Namespace) -> str:
    m = results.machine
    lam, mock, base = (results.passes[name] for name in ("lambda", "mock", "baseline"))
    p50_ok = lam.latency.p50_ms < TARGETS["p50_ms"]

    def row(
        label: str, values: list[str], ratios: list[str], target: str = "", ok: str = ""
    ) -> str:
        return f"| {label} | " + " | ".join([*values, *ratios, target, ok]) + " |"

    def ratios(pick: Callable[[Pass], float]) -> list[str]:
        return [f"{pick(p) / pick(base):.2f}" for p in (lam, mock)]

    def values(pick: Callable[[Pass], float], show: Callable[[float], str]) -> list[str]:
        return [show(pick(p)) for p in (lam, mock, base)]

    def cpu(value: float) -> str:
        return f"{value:.0f} µs"

    c = args.connections
    lines = [
        f"Machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, uvicorn "
        f"{m['uvicorn']}, uvloop {m['uvloop']}, websockets {m['websockets']}; {m['date']}, "
        f"revision {m['revision']}.",
        f"Client: {args.client} on uvloop, compression off, in the benchmark's "
        f"process; latency over {fmt(args.messages)} sequential messages after "
        f"{fmt(args.warmup)}; throughput over {args.duration:g} s with {c} connections after "
        f"{args.warmup_seconds:g} s.",
        "",
        "| measurement | Propylon Lambda proxy | Propylon MOCK | raw ASGI echo "
        "| Lambda/echo | MOCK/echo | target | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        row(
            "round trip p50, 1 connection",
            values(lambda p: p.latency.p50_ms, _ms),
            ratios(lambda p: p.latency.p50_ms),
            "< 0.5 ms",
            met(p50_ok),
        ),
        row(
            "round trip p99, 1 connection",
            values(lambda p: p.latency.p99_ms, _ms),
            ratios(lambda p: p.latency.p99_ms),
        ),
        row(
            "round trip mean, 1 connection",
            values(lambda p: p.latency.mean_ms, _ms),
            ratios(lambda p: p.latency.mean_ms),
        ),
        row(
            "server CPU per message, 1 connection",
            values(lambda p: p.latency.server_cpu_us, cpu),
            ratios(lambda p: p.latency.server_cpu_us),
        ),
        row(
            "client CPU per message, 1 connection",
            values(lambda p: p.latency.client_cpu_us, cpu),
            ["", ""],
        ),
        row(
            f"messages/s, {c} connections",
            values(lambda p: p.throughput.messages_per_s, fmt),
            ratios(lambda p: p.throughput.messages_per_s),
        ),
        row(
            f"round trip p50, {c} connections",
            values(lambda p: p.throughput.p50_ms, _ms),
            ratios(lambda p: p.throughput.p50_ms),
        ),
        row(
            f"round trip p99, {c} connections",
            values(lambda p: p.throughput.p99_ms, _ms),
            ratios(lambda p: p.throughput.p99_ms),
        ),
        row(
            f"server CPU per message, {c} connections",
            values(lambda p: p.throughput.server_cpu_us, cpu),
            ratios(lambda p: p.throughput.server_cpu_us),
        ),
        row(
            f"server / client CPU (cores), {c} connections",
            [
                f"{p.throughput.server_cpu_share:.2f} / {p.throughput.client_cpu_share:.2f}"
                for p in (lam, mock, base)
            ],
            ["", ""],
        ),
        "",
        f"The MOCK route answers `{results.mock_reply}` (its response template "
        f"`{MOCK_TEMPLATE}`; a MOCK backend has no body to echo), the others echo the "
        "49-byte message.",
        "1-minute load average at start and end: "
        + ", ".join(f"{load:.2f}" for load in results.load_average)
        + f" (anything else running on these cores changes the numbers); {results.seconds:.0f} s.",
    ]
    if results.hotspots and results.hotspots["own"]:
        spots = results.hotspots
        lines += [
            "",
            f"Lambda proxy echo profile (py-spy, {c} connections: {spots['busy_samples']:,} "
            f"busy samples; {spots['idle_samples']:,} of handler threads waiting left out)",
            "",
            "| own time | share | Propylon function on the stack | share |",
            "| --- | ---: | --- | ---: |",
        ]
        for (own, own_share), (total, total_share) in zip(
            spots["own"], spots["propylon"], strict=False
        ):
            lines.append(f"| `{own}` | {own_share:.1%} | `{total}` | {total_share:.1%} |")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=5000, help="timed round trips (5000)")
    parser.add_argument("--warmup", type=int, default=500, help="untimed round trips first (500)")
    parser.add_argument("--connections", type=int, default=16, help="for throughput (16)")
    parser.add_argument("--duration", type=float, default=5.0, help="counted seconds (5)")
    parser.add_argument(
        "--warmup-seconds", type=float, default=1.0, help="uncounted seconds first (1)"
    )
    parser.add_argument(
        "--client", choices=sorted(CLIENTS), default="aiohttp", help="WebSocket client (aiohttp)"
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--profile", help="also profile the Lambda proxy echo with py-spy")
    parser.add_argument("--top", type=int, default=12, help="hotspots to print (default 12)")
    parser.add_argument("--serve-baseline", action="store_true", help="serve the baseline only")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.serve_baseline:
        serve_baseline()
        return 0
    stop_on_sigterm()
    compile_package()
    started = time.monotonic()
    results = Results(machine(PACKAGES), load_average=[os.getloadavg()[0]])
    results.settings = {
        key: getattr(args, key)
        for key in ("client", "messages", "warmup", "connections", "duration", "warmup_seconds")
    }
    with tempfile.TemporaryDirectory(prefix="propylon-bench-ws-") as scratch:
        measure_all(results, args, Path(scratch))
    results.load_average.append(os.getloadavg()[0])
    results.seconds = time.monotonic() - started
    document = asdict(results)
    print(report(results, args))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps(document, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
