"""What the benchmarks in this directory share: servers they start and stop, wrk, py-spy, the
raw ASGI baseline and the machine's description.

Every process is started by a context manager and stopped when its block ends (also on Ctrl-C,
and on SIGTERM once ``stop_on_sigterm`` has run). Servers listen on 127.0.0.1 only.

Run as a script, this file serves the baseline: the smallest raw ASGI app answering a fixed body
on the stack ``propylon serve`` uses (``propylon.server``: uvicorn + uvloop + httptools, one
process, access log off)::

    python bench/_common.py --serve-baseline BODY_FILE [--content-type TYPE]
"""

from __future__ import annotations

import argparse
import compileall
import http.client
import os
import platform
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any

HOST = "127.0.0.1"
READY = re.compile(r"ready on http://([0-9.]+):(\d+)")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
WARMUP_SECONDS = 2
ROOT = Path(__file__).resolve().parent.parent
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
    cpu_user_us: float | None = None
    """The server process's user CPU time per request during the pass (all its threads), in
    microseconds; None when it was not measured (no pid given, or not Linux)."""
    cpu_system_us: float | None = None
    """The same for system (kernel) time: the server's system calls."""


# --- processes -------------------------------------------------------------------------------


def clean_env() -> dict[str, str]:
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


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within STOP_TIMEOUT."""
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
        command, env=clean_env(), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    try:
        url = _wait_ready(process, time.monotonic() + START_TIMEOUT)
        yield url, process
    finally:
        stop(process)


UNTHROTTLED = ("--throttle-rate", "1000000", "--throttle-burst", "1000000")
"""Lifts the account's throttle (AWS's default quota, 10,000 requests/s with a burst of 5,000,
which Propylon enforces): a benchmark measures the gateway, not the quota."""


def propylon_command(*extra: str) -> list[str]:
    return [sys.executable, "-m", "propylon", "serve", "--in-memory", "--port", "0", *extra]


def baseline_command(body_file: Path, content_type: str | None = "application/json") -> list[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "--serve-baseline", str(body_file)]
    return command + (["--content-type", content_type] if content_type else [])


def free_port() -> int:
    """A port free at the time of the call, for servers that cannot be told to pick one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def http_get(url: str, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    status, _, body = http_get_full(url, path, timeout)
    return status, body


def http_get_full(
    url: str, path: str, timeout: float = 2.0
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers (names lower-case) and body of ``GET path``."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        headers = [(name.lower(), value) for name, value in response.getheaders()]
        return response.status, headers, response.read()
    finally:
        connection.close()


def wait_for_200(url: str, path: str, deadline: float) -> None:
    """Poll ``GET path`` until it answers 200; the socket may not be listening yet."""
    last: tuple[int, bytes] | OSError | None = None
    while True:
        try:
            last = http_get(url, path)
        except OSError as exc:
            last = exc
        else:
            if last[0] == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url}{path} never answered 200 (last: {last!r})")
        time.sleep(0.001)


def missing_tools(profile: bool) -> str | None:
    """What to print when wrk (or, for ``--profile``, py-spy) is not installed; None if ready."""
    if shutil.which("wrk") is None:
        return WRK_MISSING
    if profile and shutil.which("py-spy") is None:
        return "py-spy is not installed: pip install py-spy"
    return None


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the ``finally`` blocks stop the servers we started."""
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))


def compile_package() -> None:
    """An installed Propylon starts from bytecode (pip compiles it); an editable checkout, with
    PYTHONDONTWRITEBYTECODE set as on these machines, would recompile every module per start."""
    compileall.compile_dir(str(ROOT / "src" / "propylon"), quiet=1)


# --- the baseline server ---------------------------------------------------------------------


def baseline_app(body: bytes, content_type: str | None = "application/json") -> Callable[..., Any]:
    """The smallest ASGI app answering ``body`` to every HTTP request."""
    headers = [(b"content-type", content_type.encode())] if content_type else []
    headers.append((b"content-length", b"%d" % len(body)))

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def serve_baseline(body_file: Path, content_type: str | None) -> None:
    """Serve ``baseline_app`` the way ``propylon serve`` serves Propylon (``propylon.server``)."""
    import uvicorn

    from propylon.server import uvicorn_config

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    config = uvicorn_config(
        baseline_app(body_file.read_bytes(), content_type), ws="none", lifespan="off"
    )
    print(f"baseline ready on http://{HOST}:{sock.getsockname()[1]}", file=sys.stderr, flush=True)
    uvicorn.Server(config).run(sockets=[sock])


# --- wrk -------------------------------------------------------------------------------------


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


def run_wrk(url: str, threads: int, connections: int, seconds: int) -> WrkResult:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True)
    result = parse_wrk(done.stdout, " ".join(command))
    if result.errors:
        raise RuntimeError(f"wrk saw {result.errors} errors:\n{done.stdout}")
    return result


def measure_wrk(
    url: str,
    threads: int,
    connections: int,
    seconds: int,
    warmup: int = WARMUP_SECONDS,
    pid: int | None = None,
) -> WrkResult:
    """A short wrk pass to warm the server, then the measured one; with the server's ``pid``,
    also the CPU time it spent per request during the measured pass."""
    run_wrk(url, threads, connections, warmup)
    before = None if pid is None else process_cpu(pid)
    result = run_wrk(url, threads, connections, seconds)
    after = None if pid is None else process_cpu(pid)
    if before is None or after is None or not result.requests:
        return result
    return replace(
        result,
        cpu_user_us=round((after[0] - before[0]) / result.requests * 1e6, 1),
        cpu_system_us=round((after[1] - before[1]) / result.requests * 1e6, 1),
    )


def process_cpu(pid: int) -> tuple[float, float] | None:
    """User and system CPU seconds a process (all its threads) has used so far, from
    ``/proc/PID/stat``; None where there is no such file (not Linux, or the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


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


# --- py-spy ----------------------------------------------------------------------------------


PROFILE_FORMATS = {".svg": "flamegraph", ".json": "speedscope"}


def record_profile(pid: int, output: str, seconds: int, load: Callable[[], object]) -> None:
    """Sample ``pid`` with py-spy for ``seconds`` while ``load()`` runs. The format follows the
    suffix of ``output`` (``.svg``: flame graph, ``.json``: speedscope, else collapsed stacks)."""
    output_format = PROFILE_FORMATS.get(Path(output).suffix, "raw")
    command = ["py-spy", "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "250"]
    command += ["--format", output_format, "--output", output]
    with subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as spy:
        try:
            time.sleep(0.5)  # let py-spy attach before the load starts
            load()
            _, errors = spy.communicate(timeout=seconds + 30)
        finally:
            stop_plain(spy)
    if spy.returncode != 0:
        raise RuntimeError(f"py-spy failed:\n{errors}")


def stop_plain(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=STOP_TIMEOUT)


# --- the machine -----------------------------------------------------------------------------


def revision() -> str:
    """The checked-out commit, with ``+dirty`` when ``src/`` has uncommitted changes."""
    git = ["git", "-C", str(ROOT)]
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


def machine(
    packages: Sequence[str] = ("uvicorn", "uvloop", "httptools", "boto3"),
) -> dict[str, Any]:
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
        **{name: metadata.version(name) for name in packages},
    }


# --- output ----------------------------------------------------------------------------------


def say(text: str) -> None:
    print(f"... {text}", file=sys.stderr, flush=True)


def fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _main() -> None:
    parser = argparse.ArgumentParser(description="serve the raw ASGI baseline")
    parser.add_argument("--serve-baseline", type=Path, required=True, metavar="BODY_FILE")
    parser.add_argument("--content-type", help="the answer's content-type (none by default)")
    args = parser.parse_args()
    serve_baseline(args.serve_baseline, args.content_type)


if __name__ == "__main__":
    _main()
