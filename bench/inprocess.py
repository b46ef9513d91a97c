"""The data plane's request path in-process: CPU time and instructions per request.

``bench/data_plane.py`` measures Propylon behind a socket, under wrk, on a shared VM: its
throughput moves by a quarter from one run to the next. This driver calls the ASGI app itself,
as uvicorn would, with no server and no client, so what it measures is Propylon's own work per
request. Run under callgrind (``--instructions``) it counts that work in instructions, which
repeat to within a fraction of a percent whatever else the machine is doing: the measure for
changes too small for wrk to see.

    python bench/inprocess.py [--path lambda|async|http] [--requests 20000] [--concurrency 32]
    python bench/inprocess.py --instructions [--path ...]     (needs valgrind)

- ``lambda``: a quick-created HTTP API (payload 2.0) whose function is a ``def`` handler
  returning ``hello``, run on a handler thread as ``propylon serve`` runs it; ``async``: the same
  handler as ``async def``; ``http``: an HTTP_PROXY quick-created to an upstream answering
  ``hello``, run in a child process so that its work is not counted.
- ``--concurrency`` callers loop over ``GET /_aws/execute-api/{apiId}/hello``, each request a
  new ASGI scope as uvicorn builds it; every answer is checked.
- Timed: the process's CPU time per request (all threads) and wall time, after a warm-up.
- ``--instructions``: the script runs itself twice under ``valgrind --tool=callgrind``, for
  ``--small`` and ``--requests`` requests after the same start-up and warm-up, and prints the
  difference per request, so that start-up and the warm-up cancel out. The larger
  run's profile is kept (``--keep FILE``) for ``callgrind_annotate``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import HOST, free_port

Message = MutableMapping[str, Any]
App = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Any
]

HANDLER = 'def handler(event, context):\n    return {"statusCode": 200, "body": "hello"}\n'
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:hello"
WARMUP = 2_000


class Timing(NamedTuple):
    """Per request, in microseconds: the process's user and system CPU time, and wall time."""

    user_us: float
    system_us: float
    wall_us: float


_SUMMARY = re.compile(r"^summary:\s+(\d+)", re.MULTILINE)


# --- the upstream, in a child process -------------------------------------------------------


class _Hello(asyncio.Protocol):
    """Answers every request on the connection with a fixed keep-alive ``hello``."""

    ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello"

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(self.ANSWER * data.count(b"\r\n\r\n"))


def serve_upstream(port: int) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Hello, HOST, port)
        print("ready", flush=True)
        await server.serve_forever()

    asyncio.run(main())


# --- driving the app -----------------------------------------------------------------------


async def _control(app: App, method: str, path: str, document: dict[str, Any]) -> Any:
    body = json.dumps(document).encode()
    scope = _scope(method, path, [(b"host", b"127.0.0.1"), (b"content-length", b"%d" % len(body))])
    status, answer = await _call(app, scope, body)
    if status >= 300:
        raise RuntimeError(f"{method} {path}: {status} {answer!r}")
    return json.loads(answer)


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> Message:
    """A scope as uvicorn's httptools protocol builds it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": (HOST, 4580),
        "client": (HOST, 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "state": {},
    }


async def _call(app: App, scope: Message, body: bytes = b"") -> tuple[int, bytes]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def _drive(app: App, path: str, requests: int, concurrency: int) -> None:
    headers = [(b"host", b"127.0.0.1:4580"), (b"user-agent", b"wrk"), (b"accept", b"*/*")]
    left = [requests]

    async def caller() -> None:
        while left[0] > 0:
            left[0] -= 1
            status, body = await _call(app, _scope("GET", path, list(headers)))
            if status != 200 or body != b"hello":
                raise RuntimeError(f"unexpected answer {status} {body!r}")

    await asyncio.gather(*(caller() for _ in range(concurrency)))


async def run(args: argparse.Namespace, scratch: Path) -> Timing:
    from propylon.app import create_app
    from propylon.functions.spec import FunctionSpec
    from propylon.settings import Settings

    handler = scratch / "hello.py"
    handler.write_text(("async " if args.path == "async" else "") + HANDLER)
    settings = Settings(
        in_memory=True,
        state_dir=scratch,
        functions=(FunctionSpec(name="hello", handler=f"{handler}:handler"),),
        throttle_rate=1e9,
        throttle_burst=1_000_000_000,
    )
    app: Any = create_app(settings)
    target = FUNCTION_ARN if args.path != "http" else f"http://{HOST}:{args.upstream_port}"
    api = await _control(
        app, "POST", "/v2/apis", {"name": "bench", "protocolType": "HTTP", "target": target}
    )
    path = f"/_aws/execute-api/{api['apiId']}/hello"
    await _drive(app, path, WARMUP, args.concurrency)
    before, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    await _drive(app, path, args.requests, args.concurrency)
    after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall
    await app.gateway.aclose()
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    return Timing(*(seconds / args.requests * 1e6 for seconds in (user, system, wall)))


def _loop_run(args: argparse.Namespace) -> Timing:
    import uvloop

    with tempfile.TemporaryDirectory() as scratch:
        return uvloop.run(run(args, Path(scratch)))


def _instructions(args: argparse.Namespace, requests: int, out: Path) -> int:
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--child",
        f"--path={args.path}",
        f"--requests={requests}",
        f"--concurrency={args.concurrency}",
        f"--upstream-port={args.upstream_port}",
    ]
    subprocess.run(command, check=True, capture_output=True)
    text = out.read_text(errors="replace")
    match = _SUMMARY.search(text) or re.search(r"^totals:\s+(\d+)", text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no instruction count in {out}")
    return int(match[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", choices=("lambda", "async", "http"), default="lambda")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument(
        "--small", type=int, default=2_000, help="the smaller count with --instructions"
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--instructions", action="store_true", help="count with callgrind")
    parser.add_argument("--keep", type=Path, help="keep the larger callgrind profile here")
    parser.add_argument("--serve-upstream", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upstream-port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_upstream:
        serve_upstream(args.serve_upstream)
        return 0
    if args.child:
        print(json.dumps(_loop_run(args)._asdict()))
        return 0
    if args.instructions and shutil.which("valgrind") is None:
        print("valgrind is not installed: apt-get install -y valgrind", file=sys.stderr)
        return 2
    upstream = None
    if args.path == "http":
        args.upstream_port = free_port()
        command = [sys.executable, __file__, "--serve-upstream", str(args.upstream_port)]
        upstream = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert upstream.stdout is not None
        upstream.stdout.readline()
    try:
        if args.instructions:
            with tempfile.TemporaryDirectory() as scratch:
                small = _instructions(args, args.small, Path(scratch) / "small.out")
                large_out = args.keep or Path(scratch) / "large.out"
                large = _instructions(args, args.requests, large_out)
            per_request = (large - small) / (args.requests - args.small)
            print(f"{args.path}: {per_request / 1000:.1f}k instructions per request")
        else:
            timing = _loop_run(args)
            print(
                f"{args.path}: {timing.user_us + timing.system_us:.1f} µs CPU per request "
                f"({timing.user_us:.1f} user + {timing.system_us:.1f} system), "
                f"{timing.wall_us:.1f} µs wall"
            )
    finally:
        if upstream is not None:
            upstream.terminate()
            upstream.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
