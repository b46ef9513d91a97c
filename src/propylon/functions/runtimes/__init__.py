"""Lambda's runtimes, and the program on this machine that runs each.

``RUNTIMES`` lists the runtime names Lambda has had for the languages Propylon runs: Python
(``python3.8`` .. ``python3.14``), Node.js (``nodejs16.x`` .. ``nodejs24.x``) and the OS-only
runtimes (``provided``, ``provided.al2``, ``provided.al2023``), whose ``bootstrap`` the user
brings. Our own runtime clients live beside this module: ``python/bootstrap.py`` (standard
library only, Python 3.8 and later) and ``node/bootstrap.mjs`` (no npm dependencies).

``find_interpreter`` picks the program for a runtime: the running Python for its own version,
else ``python3.X`` from the PATH when it answers as that version, else one installed by pyenv;
for Node.js the ``node`` on the PATH. When the version differs from the runtime's, the nearest
one serves and the :class:`Interpreter` carries a warning naming both, for start-up to print
once (as serverless-offline does). No Node.js at all for a ``nodejs*`` function is an
:class:`InterpreterMissing` error. Each program is asked its version once per process.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

RUNTIME_DIR = Path(__file__).parent
PYTHON_BOOTSTRAP = RUNTIME_DIR / "python" / "bootstrap.py"
NODE_BOOTSTRAP = RUNTIME_DIR / "node" / "bootstrap.mjs"

_PROBE_TIMEOUT = 10.0
_NODE_FILE = re.compile(r".+\.(?:js|mjs|cjs):[^:]+")


@dataclass(frozen=True)
class Runtime:
    name: str
    family: str
    """``python``, ``nodejs`` or ``provided``."""
    version: tuple[int, ...] = ()
    """``(3, 12)`` for ``python3.12``, ``(20,)`` for ``nodejs20.x``; empty for ``provided``."""

    @property
    def execution_env(self) -> str | None:
        """``AWS_EXECUTION_ENV``: ``AWS_Lambda_{name}``, not set for OS-only runtimes."""
        return None if self.family == "provided" else f"AWS_Lambda_{self.name}"


def _table() -> dict[str, Runtime]:
    table = {
        f"python3.{minor}": Runtime(f"python3.{minor}", "python", (3, minor))
        for minor in range(8, 15)
    }
    for major in range(16, 26, 2):
        table[f"nodejs{major}.x"] = Runtime(f"nodejs{major}.x", "nodejs", (major,))
    for name in ("provided", "provided.al2", "provided.al2023"):
        table[name] = Runtime(name, "provided")
    return table


RUNTIMES: dict[str, Runtime] = _table()


def family_of_handler(handler: str) -> str:
    """The language a handler without a runtime is in: a ``.js``/``.mjs``/``.cjs`` file means
    Node.js, anything else Python."""
    return "nodejs" if _NODE_FILE.fullmatch(handler) else "python"


class InterpreterMissing(Exception):
    """No program on this machine can run a runtime."""


@dataclass(frozen=True)
class Interpreter:
    """The program that runs a runtime's bootstrap, and what start-up should say about it."""

    path: str
    version: tuple[int, ...]
    runtime: str
    """The runtime it stands for: the configured one, or the one inferred from the program."""
    warning: str | None = None


def find_interpreter(runtime: str | None, family: str) -> Interpreter | None:
    """The program for a runtime (``runtime`` None: the family's, at the version at hand);
    None for OS-only runtimes, which bring their own."""
    if family == "provided":
        return None
    wanted = RUNTIMES[runtime].version if runtime is not None else ()
    found = _python(wanted) if family == "python" else _node()
    name = runtime or _runtime_name(family, found[1])
    path, version = found
    if wanted and version[: len(wanted)] != wanted:
        have = ".".join(map(str, version))
        warning = (
            f"runtime {runtime} wants {'Python' if family == 'python' else 'Node.js'} "
            f"{'.'.join(map(str, wanted))}, which this machine does not have: running it with "
            f"{have} ({path})"
        )
        return Interpreter(path, version, name, warning)
    return Interpreter(path, version, name)


def _runtime_name(family: str, version: tuple[int, ...]) -> str:
    if family == "python":
        return f"python{version[0]}.{version[1]}"
    majors = sorted(r.version[0] for r in RUNTIMES.values() if r.family == "nodejs")
    nearest = min(majors, key=lambda major: abs(major - version[0]))
    return f"nodejs{nearest}.x"


def _python(wanted: tuple[int, ...]) -> tuple[str, tuple[int, ...]]:
    running = (sys.version_info[0], sys.version_info[1])
    if not wanted or wanted == running:
        return sys.executable, running
    name = f"python{wanted[0]}.{wanted[1]}"
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    installed = sorted(pyenv.glob(f"{wanted[0]}.{wanted[1]}.*/bin/{name}"), reverse=True)
    for candidate in [shutil.which(name), *map(str, installed)]:
        version = _version(candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])")
        if candidate is not None and version == wanted:
            return candidate, version
    return sys.executable, running


def _node() -> tuple[str, tuple[int, ...]]:
    path = shutil.which("node")
    version = _version(path, "--version")
    if path is None or not version:
        raise InterpreterMissing("Node.js is not installed here (no working `node` on the PATH)")
    return path, version


@functools.cache
def _version(program: str | None, *arguments: str) -> tuple[int, ...]:
    """What ``program ARGUMENTS`` prints as its version (``v20.1.0``, ``3.12``), as numbers;
    empty when it does not run (a pyenv shim for a version not selected exits with 127)."""
    if program is None:
        return ()
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "")}
    try:
        done = subprocess.run(
            [program, *arguments],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT,
            env=clean,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    match = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.(\d+))?", done.stdout.strip())
    if done.returncode != 0 or match is None:
        return ()
    return tuple(int(part) for part in match.groups() if part is not None)
