"""Functions configured for ``propylon serve``: hot reload, bad configuration, runtimes this
machine runs with another version, all through a real ``propylon`` process."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.conftest import make_client
from tests.helpers import write_file
from tests.servers import clean_environment, process_server, run_propylon

ACCOUNT = "000000000000"


def write(path: Path, source: str) -> None:
    write_file(path.parent, path.name, source)


def quick_api(url: str, function: str) -> str:
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}"
    return str(make_client(url).create_api(Name=function, ProtocolType="HTTP", Target=arn)["ApiId"])


def serve_once(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``propylon serve ARGS`` expecting it to refuse to start."""
    return run_propylon("serve", "--in-memory", "--port", "0", *args, cwd=cwd, env=env)


def answers_until(url: str, wanted: str, within: float = 20.0) -> httpx.Response:
    """GET ``url`` until it answers ``wanted`` (the file watcher works on its own time)."""
    deadline = time.monotonic() + within
    while True:
        answer = httpx.get(url, timeout=10)
        if answer.text == wanted or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def test_an_edit_reloads_python_and_nodejs_functions_and_a_syntax_error_answers_500(
    tmp_path: Path,
) -> None:
    write(tmp_path / "py" / "app.py", "def handler(event, context):\n    return 'python v1'\n")
    write(tmp_path / "node" / "app.mjs", "export const handler = async () => 'node v1';\n")
    write(
        tmp_path / "propylon.toml",
        """
        [functions.py]
        handler = "app.handler"
        code = "py"

        [functions.node]
        runtime = "nodejs20.x"
        handler = "app.handler"
        code = "node"
        """,
    )
    with process_server("--in-memory", cwd=tmp_path) as served:
        py = f"{served.url}/_aws/execute-api/{quick_api(served.url, 'py')}/"
        node = f"{served.url}/_aws/execute-api/{quick_api(served.url, 'node')}/"
        assert httpx.get(py).text == "python v1"
        assert httpx.get(node).text == "node v1"
        # The watcher may start after the first edit: each poll round edits again.
        write(tmp_path / "py" / "app.py", "def handler(event, context):\n    return 'python v2'\n")
        write(tmp_path / "node" / "app.mjs", "export const handler = async () => 'node v2';\n")
        assert answers_until(py, "python v2").text == "python v2"
        assert answers_until(node, "node v2").text == "node v2"
        write(tmp_path / "py" / "app.py", "def handler(event, context:\n")
        broken = answers_until(py, '{"message":"Internal Server Error"}')
        assert broken.status_code == 500
        assert httpx.get(py).status_code == 500  # until it is fixed
        write(tmp_path / "py" / "app.py", "def handler(event, context):\n    return 'python v3'\n")
        assert answers_until(py, "python v3").status_code == 200
        log = (tmp_path / ".propylon" / "logs" / "aws" / "lambda" / "py.log").read_text()
    assert "Runtime.UserCodeSyntaxError: Syntax error in module 'app'" in log


def test_the_function_flag_takes_a_nodejs_file(tmp_path: Path) -> None:
    write(tmp_path / "index.cjs", "exports.greet = async (event) => `hi ${event.rawPath}`;\n")
    flag = f"greeter={tmp_path / 'index.cjs'}:greet"
    with process_server("--in-memory", "--no-reload", "--function", flag, cwd=tmp_path) as served:
        api_id = quick_api(served.url, "greeter")
        answer = httpx.get(f"{served.url}/_aws/execute-api/{api_id}/there")
    assert answer.text == "hi /there"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('handler = "app.handler"\ncolour = "red"', r"functions\.fn: unknown key 'colour'"),
        ('handler = "app.handler"\ncode = "nowhere"', r"functions\.fn: code: no such directory"),
        (
            'handler = "app.handler"\nenvironment = { AWS_REGION = "eu-west-1" }',
            r"functions\.fn: environment\.AWS_REGION: reserved",
        ),
        ('handler = "app.handler"\nruntime = "cobol9"', r"functions\.fn: runtime: unknown runtime"),
    ],
)
def test_bad_function_configuration_exits_2_with_one_line(
    tmp_path: Path, table: str, message: str
) -> None:
    write(tmp_path / "propylon.toml", f"[functions.fn]\n{table}\n")
    result = serve_once(cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert re.match(rf"propylon: .*{message}", line), line


def test_a_nodejs_function_without_nodejs_is_an_error_at_start_naming_it(tmp_path: Path) -> None:
    write(tmp_path / "app.mjs", "export const handler = async () => 1;\n")
    python_only = tmp_path / "bin"
    python_only.mkdir()
    env = clean_environment(PATH=str(python_only))  # no node on this PATH
    result = serve_once("--function", f"web={tmp_path / 'app.mjs'}:handler", cwd=tmp_path, env=env)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("propylon: function 'web': Node.js is not installed here")


def test_a_runtime_this_machine_lacks_runs_on_the_nearest_with_one_warning(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node is not None
    major = int(
        subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
        .stdout[1:]
        .split(".")[0]
    )
    wanted = "nodejs18.x" if major != 18 else "nodejs22.x"
    write(tmp_path / "code" / "app.js", "exports.handler = async () => process.version;\n")
    write(
        tmp_path / "propylon.toml",
        f'[functions.old]\nruntime = "{wanted}"\nhandler = "app.handler"\ncode = "code"\n',
    )
    with process_server("--in-memory", "--no-reload", cwd=tmp_path) as served:
        api_id = quick_api(served.url, "old")
        version = httpx.get(f"{served.url}/_aws/execute-api/{api_id}/").text
    warnings = [line for line in served.startup_log.splitlines() if "WARNING" in line]
    assert len(warnings) == 1
    assert f"function old: runtime {wanted} wants Node.js {wanted[6:8]}" in warnings[0]
    assert f"running it with {major}." in warnings[0]
    assert version.startswith(f"v{major}.")


def test_workers_end_with_the_server(tmp_path: Path) -> None:
    write(tmp_path / "app.py", "import os\ndef handler(event, context):\n    return os.getpid()\n")
    flag = f"fn={tmp_path / 'app.py'}:handler"
    with process_server("--in-memory", "--no-reload", "--function", flag, cwd=tmp_path) as served:
        api_id = quick_api(served.url, "fn")
        pid = int(httpx.get(f"{served.url}/_aws/execute-api/{api_id}/").text)
        os.kill(pid, 0)  # the worker is alive while the server is
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:  # a zombie is not alive
        return stat.read().split(") ")[1][0] != "Z"


def debug_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def call_while_debugging(
    tmp_path: Path,
    handler_file: str,
    source: str,
    attach: Callable[[int], AbstractContextManager[None]],
) -> httpx.Response:
    """Serve ``source`` as function ``dbg`` (timeout 1 s) under ``--debug-function``, call it,
    and ``attach(port)`` a debugger while the call waits; the call's answer."""
    write(tmp_path / handler_file, source)
    table = f'[functions.dbg]\nhandler = "{handler_file}:handler"\ntimeout = 1\n'
    write(tmp_path / "propylon.toml", table)
    port = debug_port()
    args = ("--in-memory", "--no-reload", "--debug-function", "dbg", "--debug-port", str(port))
    with process_server(*args, cwd=tmp_path) as served:
        url = f"{served.url}/_aws/execute-api/{quick_api(served.url, 'dbg')}/"
        answers: list[httpx.Response] = []
        call = threading.Thread(target=lambda: answers.append(httpx.get(url, timeout=30)))
        call.start()
        with attach(port):
            call.join(30)
        assert not call.is_alive()
    return answers[0]


def test_a_nodejs_function_debugged_waits_for_the_inspector_and_its_timeout_is_lifted(
    tmp_path: Path,
) -> None:
    source = """
    export const handler = async () => {
      await new Promise((done) => setTimeout(done, 1500));
      return 'debugged';
    };
    """

    @contextmanager
    def attach(port: int) -> Iterator[None]:
        targets = poll_json(f"http://127.0.0.1:{port}/json/list")
        asyncio.run(release_inspector(targets[0]["webSocketDebuggerUrl"]))
        yield

    answer = call_while_debugging(tmp_path, "app.mjs", source, attach)
    assert (answer.status_code, answer.text) == (200, "debugged")


def test_a_python_function_debugged_waits_for_a_debug_adapter_client(tmp_path: Path) -> None:
    source = """
    import time

    def handler(event, context):
        time.sleep(1.5)
        return 'debugged'
    """

    answer = call_while_debugging(tmp_path, "app.py", source, attach_debug_adapter)
    assert (answer.status_code, answer.text) == (200, "debugged")


def poll_json(url: str, within: float = 20.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        try:
            return httpx.get(url).json()
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


async def release_inspector(url: str) -> None:
    """What a Node.js debugger does on attaching to ``--inspect-brk``: let the program run."""
    async with connect(url, max_size=None) as inspector:
        for number, method in enumerate(
            ("Runtime.enable", "Debugger.enable", "Runtime.runIfWaitingForDebugger"), 1
        ):
            await inspector.send(json.dumps({"id": number, "method": method}))
        while True:  # --inspect-brk stops at the first statement: resume from there
            message = json.loads(await asyncio.wait_for(inspector.recv(), 20))
            if message.get("method") == "Debugger.paused":
                await inspector.send(json.dumps({"id": 9, "method": "Debugger.resume"}))
                return


@contextmanager
def attach_debug_adapter(port: int, within: float = 20.0) -> Iterator[None]:
    """What VS Code does on attaching to debugpy: initialize, attach, configurationDone."""
    deadline = time.monotonic() + within
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    stream = sock.makefile("rb")

    def send(seq: int, command: str, arguments: dict[str, Any]) -> None:
        body = json.dumps(
            {"seq": seq, "type": "request", "command": command, "arguments": arguments}
        ).encode()
        sock.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def receive() -> dict[str, Any]:
        length = 0
        while (line := stream.readline().strip()) != b"":
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        message: dict[str, Any] = json.loads(stream.read(length))
        return message

    try:
        send(1, "initialize", {"adapterID": "propylon-test", "clientID": "test"})
        send(2, "attach", {"justMyCode": True})
        while receive().get("event") != "initialized":
            pass
        send(3, "configurationDone", {})
        yield
    finally:
        stream.close()
        sock.close()
