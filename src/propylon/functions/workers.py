"""One execution environment: a worker process, fed through a Runtime API of its own.

How it works. :meth:`Worker.start` opens a Runtime API listener on loopback and starts the
process with ``AWS_LAMBDA_RUNTIME_API`` pointing at it (Propylon's own runtime clients are
also handed one end of a Unix socket pair, ``--runtime-api-fd``, and speak the same API over
it: a round trip on it costs the worker and the gateway about a third less than on TCP); its
stdout and stderr go into one pipe that the event loop reads, and its exit is watched (a pidfd
where Linux has one). The worker's state follows Lambda's environment lifecycle (reference 1, 2.4)::

    INIT --next--> IDLE --run(job)--> BUSY --response/error--> DONE --next--> IDLE ...
      |                                 |
      +-- init error / exit --> DEAD    +-- timeout (killed) / exit --> DEAD

A ``next`` from the runtime is held while the worker is IDLE; :meth:`run` answers it with the
job's event. The job's future gets the response bytes or an :class:`InvocationError`:
``FunctionError`` for what the runtime reports and for a crash (``Runtime.ExitError``),
``FunctionTimeout`` when the function's timeout passes (the process is killed, as Lambda resets
an environment). The pool (``pool.py``) decides which worker runs which job.

Logs: the platform's ``START`` when a job is handed over; the function's output, line by line,
as it arrives; ``END`` and ``REPORT`` when it answers, one step of the event loop later, after
the output it wrote before answering (``_write_ending``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING

from propylon.deadlines import Deadlines, Entry
from propylon.execute.logs import Line, LogWriter
from propylon.functions import logs as lines
from propylon.functions.context import log_stream_name, trace_id
from propylon.functions.errors import FunctionError, FunctionTimeout, InvocationError
from propylon.functions.failures import (
    InitFailure,
    cannot_start,
    exit_reason,
    invalid_transition,
    runtime_error,
)
from propylon.functions.launch import Launch
from propylon.functions.memory import MemoryWatch
from propylon.functions.process import WorkerProcess
from propylon.functions.runtime_api import (
    ACCEPTED,
    INVALID_REQUEST_ID,
    MAX_RESPONSE,
    TOO_LARGE,
    RuntimeApiConnection,
    error_body,
)

if TYPE_CHECKING:
    from propylon.functions.spec import FunctionSpec

log = logging.getLogger("propylon.functions")

INIT_TIMEOUT = 10.0
"""Lambda's limit on an environment's init phase, in seconds."""


class State(Enum):
    INIT = "init"
    IDLE = "idle"
    BUSY = "busy"
    DONE = "done"
    DEAD = "dead"


@dataclass(slots=True, eq=False)
class Job:
    """One invocation: what the runtime gets, and where its outcome goes."""

    request_id: str
    payload: bytes
    future: asyncio.Future[bytes]
    invoked_arn: str
    started: float = 0.0  # monotonic, when handed to a runtime
    timer: Entry | None = None
    extra_headers: bytes = b""
    capture: list[str] | None = None
    """The job's own log lines, START to REPORT, when its invoker wants them (Invoke's
    ``LogType: Tail``)."""


@dataclass(slots=True)
class Outcome:
    """How a finished job is logged."""

    status: str | None = None
    error_type: str | None = None
    after: list[str] = field(default_factory=list)


class Worker:
    """One worker process and the Runtime API it is fed through."""

    def __init__(
        self,
        spec: FunctionSpec,
        launch: Launch,
        logs: LogWriter,
        deadlines: Deadlines,
        *,
        on_ready: Callable[[Worker, bool], None],
        on_job_end: Callable[[Job], None],
        on_exit: Callable[[Worker, InitFailure | None], None],
        memory: MemoryWatch | None = None,
        debugging: bool = False,
    ) -> None:
        self.spec = spec
        self.state = State.INIT
        self.retired = False
        self.idle_since = 0.0
        self.job: Job | None = None
        self.exited: asyncio.Future[None] | None = None
        self._launch = launch
        self._logs = logs
        self._group = lines.log_group(spec.name)
        self._deadlines = deadlines
        self._on_ready = on_ready
        self._on_job_end = on_job_end
        self._on_exit = on_exit
        self._debugging = debugging
        self._memory = None if debugging else memory
        self._connection: RuntimeApiConnection | None = None
        self._server: asyncio.Server | None = None
        self._process: WorkerProcess | None = None
        self._ending: list[Line] | None = None  # the last job's END and what follows, unwritten
        self._capturing: Job | None = None  # the running job whose lines are kept
        self._spawned = 0.0
        self._init_ms: float | None = None  # reported by the first REPORT, then None
        self._init_failure: InitFailure | None = None
        self._init_timer: Entry | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timeout = spec.timeout

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _read_output(self) -> None:
        if self._process is not None:
            self._process.read_output()

    # --- life ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the Runtime API and start the process. A process that cannot start at all (no
        ``bootstrap``, not executable) leaves the worker DEAD with its init error kept."""
        loop = self._loop = asyncio.get_running_loop()
        self.exited = loop.create_future()
        try:
            self._server = await loop.create_server(
                lambda: RuntimeApiConnection(self), "127.0.0.1", 0
            )
        except OSError as exc:
            self._cannot_start(exc)
            return
        port = self._server.sockets[0].getsockname()[1]
        environ = self._launch.environ(
            f"127.0.0.1:{port}", log_stream_name(datetime.now(UTC).date())
        )
        self._spawned = time.monotonic()
        ours, theirs = socket.socketpair() if self._launch.ours else (None, None)
        process = self._process = WorkerProcess(loop, self._write, self._process_exited)
        try:
            process.start(self._launch.command, self._launch.cwd, environ, theirs)
        except OSError as exc:
            if ours is not None:
                ours.close()
            self._cannot_start(exc)
            return
        finally:
            if theirs is not None:
                theirs.close()
        if ours is not None:
            await loop.connect_accepted_socket(lambda: RuntimeApiConnection(self), ours)
        if self._memory is not None and process.pid is not None:
            self._memory.watch(process.pid, self.spec.memory)
        if not self._debugging:
            self._init_timer = self._deadlines.call_at(
                loop.time() + INIT_TIMEOUT, Worker._init_timed_out, self
            )

    def kill(self) -> None:
        """End the process now (a timeout, a reload, the pool closing); its exit does the rest."""
        if self._process is not None:
            self._process.kill()

    def _cannot_start(self, exc: OSError) -> None:
        self._init_failure = failure = cannot_start(exc)
        self._write(f"{failure.error_type}: {failure.reason}")
        self._finish_exit(None)

    def _process_exited(self, returncode: int) -> None:
        pid = self.pid
        killed = self._memory is not None and pid is not None and self._memory.forget(pid)
        self._finish_exit(returncode, out_of_memory=killed)

    def _finish_exit(self, returncode: int | None, out_of_memory: bool = False) -> None:
        previous, self.state = self.state, State.DEAD
        if self._init_timer is not None:
            self._deadlines.cancel(self._init_timer)
            self._init_timer = None
        job, self.job = self.job, None
        kind = "Runtime.OutOfMemory" if out_of_memory else "Runtime.ExitError"
        if previous is State.BUSY and job is not None:
            reason = exit_reason(returncode)
            message = f"RequestId: {job.request_id} Error: {reason}"
            self._end(job, Outcome("error", kind, [message, kind]))
            _fail(job, FunctionError(self.spec.name, kind, message))
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._server is not None:
            self._server.close()
            self._server = None
        failure = None
        if previous is State.INIT:
            failure = self._init_failure or InitFailure(kind, exit_reason(returncode))
        if self.exited is not None and not self.exited.done():
            self.exited.set_result(None)
        self._on_exit(self, failure)

    def _init_timed_out(self) -> None:
        self._init_timer = None
        if self.state is State.INIT:
            self._init_failure = InitFailure(
                "Sandbox.Timedout", f"Task timed out after {INIT_TIMEOUT:.2f} seconds"
            )
            self._write(lines.init_report_line(INIT_TIMEOUT * 1000, "timeout"))
            self.kill()

    # --- jobs ----------------------------------------------------------------------------------

    def run(self, job: Job) -> None:
        """Hand ``job`` to the runtime, whose ``next`` is held (the worker is IDLE)."""
        connection = self._connection
        assert connection is not None
        assert self._loop is not None
        self._connection = None
        self.state = State.BUSY
        self.job = job
        job.started = time.monotonic()
        timeout = self._timeout
        deadline_ms = int((time.time() + timeout) * 1000)
        if self._ending is not None:  # the last job ended in this very step: its END first
            self._read_output()
            self._write_ending()
        self._logs.write(self._group, lines.start_line(job.request_id))
        if job.capture is not None:
            job.capture.append(lines.start_line(job.request_id))
            self._capturing = job
        connection.send_event(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Lambda-Runtime-Aws-Request-Id: %s\r\nLambda-Runtime-Deadline-Ms: %d\r\n"
            b"Lambda-Runtime-Invoked-Function-Arn: %s\r\nLambda-Runtime-Trace-Id: %s\r\n%s"
            % (
                job.request_id.encode(),
                deadline_ms,
                job.invoked_arn.encode(),
                trace_id(),
                job.extra_headers,
            ),
            job.payload,
        )
        if not self._debugging:
            job.timer = self._deadlines.call_at(
                self._loop.time() + timeout, _job_timed_out, (self, job)
            )

    def timed_out(self, job: Job) -> None:
        """The function's timeout passed with ``job`` running: fail it, end the process."""
        if self.job is not job or self.state is not State.BUSY:
            return
        job.timer = None
        self.job = None
        self.state = State.DEAD
        timed_out = lines.timeout_line(datetime.now(UTC), job.request_id, self._timeout)
        self._end(job, Outcome("timeout", None, [timed_out]))
        _fail(job, FunctionTimeout(self.spec.name, self._timeout, job.request_id))
        self.kill()

    def _end(self, job: Job, outcome: Outcome | None = None) -> None:
        """Log the end of ``job``: the output so far, END, REPORT and what follows them."""
        if job.timer is not None:
            self._deadlines.cancel(job.timer)
            job.timer = None
        duration = (time.monotonic() - job.started) * 1000
        init_ms, self._init_ms = self._init_ms, None
        status = outcome.status if outcome else None
        error_type = outcome.error_type if outcome else None
        report = partial(
            lines.report_with_peak,
            job.request_id,
            duration,
            self.spec.memory,
            self.pid or 0,
            init_ms,
            status,
            error_type,
            self._memory,
        )
        ending = [lines.end_line(job.request_id), report, *(outcome.after if outcome else ())]
        if job.capture is not None:  # its lines are wanted now: its output is read now
            self._read_output()
            self._capturing = None
            self._write_ending()
            job.capture.extend(line if isinstance(line, str) else line() for line in ending)
            for line in ending:
                self._logs.write(self._group, line)
            self._on_job_end(job)
            return
        if self._ending is None and self._loop is not None:
            self._loop.call_soon(self._write_ending)
        self._ending = ending
        self._on_job_end(job)

    def _write_ending(self) -> None:
        """Log the END of the last job, once the output it wrote before answering is read.

        A runtime writes its output before it posts its answer, so when the event loop learns
        of the answer, the output pipe is already readable, in the same poll of the loop (a
        level-triggered epoll reports every ready descriptor at once). Written one step later,
        END follows that output without a ``read`` per invocation to make sure.
        """
        ending, self._ending = self._ending, None
        for line in ending or ():
            self._logs.write(self._group, line)

    # --- the Runtime API (called by RuntimeApiConnection) --------------------------------------

    def next_invocation(self, connection: RuntimeApiConnection) -> None:
        state = self.state
        if state is State.DONE or state is State.INIT:
            if state is State.INIT:
                self._init_ms = (time.monotonic() - self._spawned) * 1000
                if self._init_timer is not None:
                    self._deadlines.cancel(self._init_timer)
                    self._init_timer = None
            self.state = State.IDLE
            self._connection = connection
            connection.hold()
            self._on_ready(self, state is State.INIT)
            return
        connection.reply(403, invalid_transition(state.value, "next"))

    def invocation_response(
        self, connection: RuntimeApiConnection, request_id: str, body: bytes
    ) -> None:
        job = self._answered(connection, request_id, 202, ACCEPTED)
        if job is not None:
            self._end(job)
            if not job.future.done():
                job.future.set_result(body)

    def invocation_error(
        self, connection: RuntimeApiConnection, request_id: str, body: bytes, error_type: str
    ) -> None:
        job = self._answered(connection, request_id, 202, ACCEPTED)
        if job is not None:
            self._fail_job(job, runtime_error(self.spec.name, body, error_type))

    def response_too_large(self, connection: RuntimeApiConnection, request_id: str) -> None:
        job = self._answered(connection, request_id, 413, TOO_LARGE)
        if job is not None:
            message = (
                "Response payload size exceeded maximum allowed payload size "
                f"({MAX_RESPONSE} bytes)."
            )
            kind = "Function.ResponseSizeTooLarge"
            self._fail_job(job, FunctionError(self.spec.name, kind, message))

    def _answered(
        self, connection: RuntimeApiConnection, request_id: str, status: int, body: bytes
    ) -> Job | None:
        """The job a runtime answers, now finished (the runtime gets ``status``); None, and the
        runtime told off, when no job is running under ``request_id``."""
        job = self.job
        if self.state is not State.BUSY or job is None:
            if request_id and self.state is State.DONE:
                connection.reply(400, INVALID_REQUEST_ID)
            else:
                connection.reply(403, invalid_transition(self.state.value, "response"))
            return None
        if request_id != job.request_id:
            connection.reply(400, INVALID_REQUEST_ID)
            return None
        connection.reply(status, body)
        self.state = State.DONE
        self.job = None
        return job

    def _fail_job(self, job: Job, error: FunctionError) -> None:
        self._end(job, Outcome("error", error.error_type))
        _fail(job, error)

    def init_error(self, connection: RuntimeApiConnection, body: bytes, error_type: str) -> None:
        if self.state is not State.INIT or self._init_failure is not None:
            connection.reply(403, invalid_transition(self.state.value, "init error"))
            return
        kind = error_type or "Runtime.Unknown"
        document = body or error_body(kind, "init failed")
        self._init_failure = InitFailure(kind, document=document)
        connection.reply(202, ACCEPTED)
        elapsed = (time.monotonic() - self._spawned) * 1000
        self._write(lines.init_report_line(elapsed, "error", kind))

    def _write(self, line: str) -> None:
        self._logs.write(self._group, line)
        if self._capturing is not None and self._capturing.capture is not None:
            self._capturing.capture.append(line)


def _job_timed_out(pair: tuple[Worker, Job]) -> None:
    pair[0].timed_out(pair[1])


def _fail(job: Job, error: InvocationError) -> None:
    if not job.future.done():
        job.future.set_exception(error)
