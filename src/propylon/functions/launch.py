"""How a function's worker process is started: its command, directory and environment.

A :class:`Launch` is worked out once per function from its spec and the interpreter found for
its runtime, and used for every worker. The process sees what a Lambda execution environment
sees (reference 2.1, 2.3):

- its working directory is the code directory (``LAMBDA_TASK_ROOT``); the layers, in order, are
  what Lambda merges into ``/opt`` (a later layer wins): ``python`` and
  ``python/lib/python3.X/site-packages`` on Python's import path, ``nodejs/node_modules`` and
  ``nodejs/nodeNN/node_modules`` on ``NODE_PATH``, ``bin`` on ``PATH``, ``lib`` on
  ``LD_LIBRARY_PATH``; a ``provided`` runtime's ``bootstrap`` comes from the code directory,
  else from a layer;
- its environment is the function's own variables and Lambda's (``AWS_LAMBDA_FUNCTION_NAME``,
  ``_HANDLER``, ``AWS_REGION``, ``LAMBDA_TASK_ROOT``, ``AWS_LAMBDA_RUNTIME_API`` ...), plus a few
  of the host's that a program needs to run here or that Lambda gives it in another way
  (``PATH``, ``HOME``, ``TMPDIR``, the AWS credentials Lambda takes from the execution role).
  Nothing else of Propylon's own environment leaks in.

A handler given as ``path/to/file.py:func`` becomes Lambda's form relative to the code
directory (``path/to/file.func``; the code directory defaults to the file's own).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from propylon.functions.logs import log_group
from propylon.functions.runtimes import NODE_BOOTSTRAP, PYTHON_BOOTSTRAP, RUNTIME_DIR, Interpreter
from propylon.functions.spec import FunctionSpec, split_file_handler

PASSED_THROUGH = (
    "PATH",
    "HOME",
    "TMPDIR",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)
"""The host's variables a worker gets: what finding programs and files needs, and the
credentials Lambda would give from the execution role."""
_EXTENSIONS = (".py", ".js", ".mjs", ".cjs")


@dataclass(frozen=True)
class Launch:
    """What every worker of one function is started with."""

    argv: tuple[str, ...]
    """The command; for a ``provided`` runtime, empty: its ``bootstrap`` is looked for at each
    start, as Lambda does (it may appear, or become executable, later)."""
    cwd: Path
    environment: Mapping[str, str] = field(hash=False)
    runtime: str
    bootstraps: tuple[Path, ...] = ()
    """Where a ``provided`` runtime's ``bootstrap`` may be, in the order Lambda looks."""

    def environ(self, runtime_api: str, log_stream: str) -> dict[str, str]:
        """The environment of one worker, whose Runtime API is at ``runtime_api``."""
        environ = dict(self.environment)
        environ["AWS_LAMBDA_RUNTIME_API"] = runtime_api
        environ["AWS_LAMBDA_LOG_STREAM_NAME"] = log_stream
        return environ

    @property
    def ours(self) -> bool:
        """Whether the runtime is one of Propylon's own clients, which can take a connection
        to the Runtime API from their parent (``--runtime-api-fd``)."""
        return bool(self.argv)

    def command(self, runtime_api_fd: int | None = None) -> list[str]:
        """The command a worker runs now; OSError when a ``provided`` runtime has no
        ``bootstrap`` (``Runtime.InvalidEntrypoint``)."""
        if self.argv:
            fd = () if runtime_api_fd is None else ("--runtime-api-fd", str(runtime_api_fd))
            return [*self.argv, *fd]
        for candidate in self.bootstraps:
            if candidate.is_file():
                return [str(candidate)]
        raise FileNotFoundError(
            "Couldn't find valid bootstrap(s): [" + " ".join(map(str, self.bootstraps)) + "]"
        )


def plan_launch(
    spec: FunctionSpec,
    interpreter: Interpreter | None,
    *,
    region: str,
    host_environ: Mapping[str, str],
    debug_port: int | None = None,
) -> Launch:
    """The launch of ``spec``'s workers; ValueError when its handler file lies outside its code
    directory."""
    task_root, handler = task_root_and_handler(spec)
    family = spec.family
    layers = [layer.resolve() for layer in spec.layers]
    runtime = interpreter.runtime if interpreter is not None else (spec.runtime or "provided")
    environ = {key: host_environ[key] for key in PASSED_THROUGH if key in host_environ}
    environ.update(
        {
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PATH": _joined(
                [*(str(layer / "bin") for layer in reversed(layers))], environ.get("PATH")
            ),
            "LD_LIBRARY_PATH": _joined(
                [str(task_root / "lib"), *(str(layer / "lib") for layer in reversed(layers))],
                host_environ.get("LD_LIBRARY_PATH"),
            ),
        }
    )
    environ.update(spec.environment)
    environ.update(
        {
            "_HANDLER": handler,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": log_group(spec.name),
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(RUNTIME_DIR / family),
        }
    )
    argv: tuple[str, ...] = ()
    bootstraps: tuple[Path, ...] = ()
    if interpreter is not None:
        environ["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{runtime}"
    if family == "python" and interpreter is not None:
        version = f"python{interpreter.version[0]}.{interpreter.version[1]}"
        paths = []
        for layer in reversed(layers):
            paths += [layer / "python" / "lib" / version / "site-packages", layer / "python"]
        debug = ("-m", "debugpy", "--listen", f"127.0.0.1:{debug_port}", "--wait-for-client")
        argv = (
            interpreter.path,
            "-u",
            *(debug if debug_port is not None else ()),
            str(PYTHON_BOOTSTRAP),
            *(arg for path in paths for arg in ("--path", str(path))),
        )
    elif family == "nodejs" and interpreter is not None:
        major = interpreter.version[0]
        node_path = []
        for layer in reversed(layers):
            node_path += [layer / "nodejs" / f"node{major}" / "node_modules"]
            node_path += [layer / "nodejs" / "node_modules"]
        environ["NODE_PATH"] = os.pathsep.join(map(str, node_path))
        debug_flag = f"--inspect-brk=127.0.0.1:{debug_port}"
        argv = (interpreter.path, *((debug_flag,) if debug_port else ()), str(NODE_BOOTSTRAP))
    else:
        bootstraps = (task_root / "bootstrap", *(layer / "bootstrap" for layer in reversed(layers)))
    return Launch(argv, task_root, environ, runtime, bootstraps)


def task_root_and_handler(spec: FunctionSpec) -> tuple[Path, str]:
    """The code directory and the handler in Lambda's form."""
    code = spec.code.resolve() if spec.code is not None else None
    if not spec.is_file_handler:
        return code or Path.cwd(), spec.handler
    path_text, func = split_file_handler(spec.handler)
    path = Path(path_text)
    if not path.is_absolute() and code is not None:
        path = code / path
    path = path.resolve()
    root = code or path.parent
    if not path.is_relative_to(root):
        raise ValueError(f"function {spec.name!r}: handler file {path} is not under {root}")
    relative = path.relative_to(root).as_posix()
    for extension in _EXTENSIONS:
        relative = relative.removesuffix(extension)
    return root, f"{relative}.{func}"


def _joined(first: list[str], rest: str | None) -> str:
    return os.pathsep.join([*first, *([rest] if rest else [])])
