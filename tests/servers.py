"""Serve Propylon for tests: in a thread (fast, shared) or as a real process (restarts, CLI)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import uvicorn

from propylon.app import create_app
from propylon.server import uvicorn_config
from propylon.settings import Settings
from propylon.websocket.quotas import Quotas

READY = re.compile(r"ready on http://([0-9.]+):(\d+)")
START_TIMEOUT = 20.0


@contextmanager
def threaded_server(settings: Settings, websocket_quotas: Quotas | None = None) -> Iterator[str]:
    """Serve ``settings`` on an ephemeral loopback port in a thread; yield the base URL.
    ``websocket_quotas`` replaces AWS's WebSocket limits (small idle timeouts in tests)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    settings = replace(settings, host="127.0.0.1", port=sock.getsockname()[1])
    config = uvicorn_config(create_app(settings, websocket_quotas=websocket_quotas), "info")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass(frozen=True)
class Served:
    """A running ``propylon serve`` process."""

    url: str
    port: int
    process: subprocess.Popen[str]
    startup_seconds: float
    startup_log: str = ""
    """What the process wrote to stderr up to its ready line."""


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without ``PROPYLON_*`` variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROPYLON_")}
    return env | extra


def _await_ready(process: subprocess.Popen[str]) -> tuple[re.Match[str], str]:
    """Read the process's log until its ready line; fail after START_TIMEOUT or on exit."""
    assert process.stderr is not None
    stream = process.stderr
    seen: list[str] = []
    found: list[re.Match[str]] = []

    def scan() -> None:
        for line in stream:
            seen.append(line)
            match = READY.search(line)
            if match:
                found.append(match)
                return

    reader = threading.Thread(target=scan, daemon=True)
    reader.start()
    reader.join(START_TIMEOUT)
    if not found:
        process.kill()
        reader.join(5)
        raise RuntimeError("propylon did not start:\n" + "".join(seen))
    return found[0], "".join(seen)


@contextmanager
def process_server(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    ephemeral_port: bool = True,
) -> Iterator[Served]:
    """Run ``propylon serve ARGS`` as a process (with ``--port 0`` first when
    ``ephemeral_port``), in ``cwd`` with ``env`` (default: this environment without
    ``PROPYLON_*``); yield it once its log says it is ready."""
    port_args = ("--port", "0") if ephemeral_port else ()
    command = [sys.executable, "-m", "propylon", "serve", *port_args, *args]
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=clean_environment() if env is None else env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    drain: threading.Thread | None = None
    try:
        match, startup_log = _await_ready(process)
        drain = threading.Thread(target=process.stderr.read, daemon=True)
        drain.start()
        url = f"http://{match[1]}:{match[2]}"
        yield Served(url, int(match[2]), process, time.monotonic() - started, startup_log)
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=10)
        if drain is not None:
            drain.join(timeout=10)
        process.stderr.close()


def run_propylon(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m propylon ARGS`` to completion (within START_TIMEOUT)."""
    return subprocess.run(
        [sys.executable, "-m", "propylon", *args],
        cwd=cwd,
        env=env or clean_environment(),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )
