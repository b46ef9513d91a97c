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
from dataclasses import replace
from pathlib import Path

import uvicorn

from propylon.app import create_app
from propylon.settings import Settings

READY = re.compile(r"ready on http://([0-9.]+):(\d+)")
START_TIMEOUT = 20.0


@contextmanager
def threaded_server(settings: Settings) -> Iterator[str]:
    """Serve ``settings`` on an ephemeral loopback port in a thread; yield the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    settings = replace(settings, host="127.0.0.1", port=sock.getsockname()[1])
    config = uvicorn.Config(
        create_app(settings),
        loop="uvloop",
        http="httptools",
        ws="none",
        lifespan="on",
        access_log=False,
        log_config=None,
    )
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


@contextmanager
def process_server(
    *args: str, cwd: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Run ``propylon serve --port 0 ARGS`` as a process; yield its base URL and the process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROPYLON_")}
    command = [sys.executable, "-m", "propylon", "serve", "--port", "0", *args]
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stderr is not None
        url = None
        seen: list[str] = []
        for line in process.stderr:
            seen.append(line)
            match = READY.search(line)
            if match:
                url = f"http://{match[1]}:{match[2]}"
                break
        if url is None:
            raise RuntimeError("propylon did not start:\n" + "".join(seen))
        threading.Thread(target=process.stderr.read, daemon=True).start()
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)
