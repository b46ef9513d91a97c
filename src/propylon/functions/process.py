"""A worker's operating-system process: started, read, watched and ended.

The process runs in a session of its own (so a kill ends whatever it started too), with its
stdout and stderr on one pipe that the event loop reads without blocking, line by line, and
its exit watched through a pidfd where Linux has one (else a thread waits for it). Optionally
it inherits one end of a socket pair, its own connection to the Runtime API. What the process
means (an execution environment and its Runtime API) is ``workers.py``'s business.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

_READ_SIZE = 65536


class WorkerProcess:
    """One started process, its output pipe and its exit."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        on_line: Callable[[str], None],
        on_exit: Callable[[int], None],
    ) -> None:
        self._loop = loop
        self._on_line = on_line
        self._on_exit = on_exit
        self._popen: subprocess.Popen[bytes] | None = None
        self._output = -1
        self._pidfd = -1
        self._partial = b""

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    def start(
        self,
        command: Callable[[int | None], Sequence[str]],
        cwd: Path,
        environ: Mapping[str, str],
        connection: socket.socket | None = None,
    ) -> None:
        """Start ``command(fd)``, ``fd`` being the inherited end of ``connection`` (if any);
        OSError when it cannot start (not found, not executable)."""
        read_end, write_end = os.pipe()
        passed = (connection.fileno(),) if connection is not None else ()
        try:
            self._popen = subprocess.Popen(
                command(passed[0] if passed else None),
                cwd=cwd,
                env=environ,
                stdin=subprocess.DEVNULL,
                stdout=write_end,
                stderr=write_end,
                start_new_session=True,
                pass_fds=passed,
            )
        except OSError:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        self._output = read_end
        os.set_blocking(read_end, False)
        self._loop.add_reader(read_end, self.read_output)
        self._watch_exit()

    def kill(self) -> None:
        """End the process and everything it started (``SIGKILL`` to its session's group)."""
        popen = self._popen
        if popen is not None and popen.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGKILL)

    def read_output(self) -> None:
        """Read what the process wrote, as far as there is something, and hand over whole
        lines (a trailing ``\\r`` dropped)."""
        while self._output >= 0:
            try:
                data = os.read(self._output, _READ_SIZE)
            except OSError:  # EAGAIN: nothing more for now
                return
            if not data:
                return
            *whole, self._partial = (self._partial + data).split(b"\n")
            for line in whole:
                self._on_line(line.decode("utf-8", "replace").removesuffix("\r"))
            if len(data) < _READ_SIZE:
                return

    def _watch_exit(self) -> None:
        assert self._popen is not None
        try:
            self._pidfd = os.pidfd_open(self._popen.pid)
        except (AttributeError, OSError):  # not Linux 5.3+: a thread waits instead
            threading.Thread(
                target=_wait_then_call,
                args=(self._popen, self._loop, self._exited),
                name=f"propylon-wait-{self._popen.pid}",
                daemon=True,
            ).start()
            return
        self._loop.add_reader(self._pidfd, self._exited)

    def _exited(self) -> None:
        popen = self._popen
        assert popen is not None
        if popen.poll() is None:  # woken without an exit (the thread path is exact)
            return
        if self._pidfd >= 0:
            self._loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = -1
        self.read_output()
        if self._partial:
            self._on_line(self._partial.decode("utf-8", "replace"))
            self._partial = b""
        self._loop.remove_reader(self._output)
        os.close(self._output)
        self._output = -1
        self._on_exit(popen.returncode)


def _wait_then_call(
    popen: subprocess.Popen[bytes], loop: asyncio.AbstractEventLoop, callback: Callable[[], None]
) -> None:
    popen.wait()
    with contextlib.suppress(RuntimeError):  # the loop has closed
        loop.call_soon_threadsafe(callback)
