"""The worker invoker: a function's execution environments, as Lambda scales them.

How it works. A :class:`WorkerPool` runs one function in worker processes (``workers.py``), one
invocation at a time each:

- an invocation goes to an idle worker when there is one (the one that finished last: warm
  workers stay warm, the others age towards the reaper); otherwise it waits in a queue, and a
  worker is started for every waiting invocation that no starting worker will take: at once
  when the busy workers are fewer than the waiting invocations, else after ``START_GRACE``
  (5 ms), as a busy worker is likely to be free before then (a new one takes 80 ms or more to
  start, and under load 32 workers on 2 cores answer slower than 4: each wakes with cold
  caches). A worker that becomes ready takes the oldest waiting invocation. An invocation
  never waits for a particular worker: whichever is ready first serves it.
- concurrency is the number of invocations queued or running; at the function's reserved
  concurrency (else the account's 1,000) another one is refused at once with
  :class:`FunctionThrottled`, as Lambda throttles a synchronous invoke.
- a worker that fails to start (its runtime reports an init error, exits, or passes Lambda's
  10-second init limit) fails the oldest waiting invocation with that error, as Lambda gives
  the init error to the invocation that found no environment; the others wait on for workers
  of their own. A worker that dies while running an invocation fails that one only.
- a worker idle for ``idle_lifetime`` seconds is stopped; :meth:`retire` (a code change) stops
  idle workers at once and the others when they finish, so the next invocation runs new code
  while one in flight finishes on the old.

The caller's limit (an integration's ``TimeoutInMillis``) is separate from the function's
timeout: when it passes first the caller gets ``CallerTimeout`` and the invocation runs on,
still counted, until it finishes or its own timeout ends its worker.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import Any

from propylon.deadlines import Deadlines, Entry
from propylon.execute.logs import LogWriter
from propylon.functions.errors import CallerTimeout, FunctionError, FunctionThrottled
from propylon.functions.failures import InitFailure
from propylon.functions.launch import Launch
from propylon.functions.memory import MemoryWatch
from propylon.functions.spec import FunctionSpec
from propylon.functions.workers import Job, State, Worker

log = logging.getLogger("propylon.functions")

START_GRACE = 0.005
"""Seconds an invocation waits for a busy worker before one is started for it."""
IDLE_LIFETIME = 300.0
"""Seconds an idle worker is kept warm (Lambda does not say; its environments last minutes)."""
_CLOSE_GRACE = 5.0


class WorkerPool:
    """Runs one function in worker processes, fed through the Runtime API."""

    def __init__(
        self,
        spec: FunctionSpec,
        invoked_function_arn: str,
        launch: Launch,
        logs: LogWriter,
        *,
        idle_lifetime: float = IDLE_LIFETIME,
        start_grace: float = START_GRACE,
        memory: MemoryWatch | None = None,
        debugging: bool = False,
    ) -> None:
        self.spec = spec
        self._memory = memory
        self.invoked_function_arn = invoked_function_arn
        self._launch = launch
        self._logs = logs
        self._idle_lifetime = idle_lifetime
        self._start_grace = start_grace
        self._debugging = debugging
        self._deadlines = Deadlines()
        self._workers: set[Worker] = set()
        self._idle: list[Worker] = []  # the most recently finished last
        self._queue: deque[Job] = deque()
        self._starting = 0
        self._running = 0  # invocations queued or running: Lambda's concurrency
        self._concurrency = 1 if debugging else spec.concurrency
        self._timeout = float("inf") if debugging else spec.timeout
        self._reaper: asyncio.TimerHandle | None = None
        self._grace: Entry | None = None
        self._closed = False
        self._arn_bytes = invoked_function_arn

    @staticmethod
    def check_specs(specs: Any) -> None:
        """Workers share nothing: any set of specs can run side by side."""

    @property
    def workers(self) -> list[Worker]:
        return list(self._workers)

    # --- invoking ------------------------------------------------------------------------------

    async def invoke(self, event: Any, request_id: str, limit: float | None = None) -> Any:
        """The function's result for ``event`` (JSON in, JSON out)."""
        body = await self.invoke_payload(
            json.dumps(event, separators=(",", ":")).encode(), request_id, limit
        )
        try:
            return json.loads(body)
        except ValueError:
            raise FunctionError(
                self.spec.name,
                "Runtime.MalformedResponse",
                "the function's response is not JSON",
                payload=body,
            ) from None

    async def invoke_payload(
        self,
        payload: bytes,
        request_id: str,
        limit: float | None = None,
        invoked_arn: str | None = None,
        capture: list[str] | None = None,
    ) -> bytes:
        """The response bytes the runtime posts for ``payload``; ``capture``, when given,
        receives the invocation's log lines."""
        if self._closed:
            raise RuntimeError(f"invoker for {self.spec.name!r} is closed")
        if self._running >= self._concurrency:
            raise FunctionThrottled(self.spec.name, self._concurrency)
        loop = self._deadlines.loop()
        job = Job(request_id, payload, loop.create_future(), invoked_arn or self._arn_bytes)
        job.capture = capture
        self._running += 1
        idle = self._idle
        if idle:
            idle.pop().run(job)
            if limit is None or limit >= self._timeout:  # the function's timeout comes first
                return await job.future
        else:
            self._queue.append(job)
            self._grow()
            if limit is None:
                return await job.future
        timer = self._deadlines.call_at(loop.time() + limit, _caller_gave_up, (self, job, limit))
        try:
            return await job.future
        finally:
            self._deadlines.cancel(timer)

    def caller_gave_up(self, job: Job, limit: float) -> None:
        if job.future.done():
            return
        job.future.set_exception(CallerTimeout(self.spec.name, limit, job.request_id))
        if job in self._queue:  # not started: it no longer counts
            self._queue.remove(job)
            self._running -= 1

    # --- workers -------------------------------------------------------------------------------

    def _grow(self, now: bool = False) -> None:
        """Start a worker for every waiting invocation no starting worker will take: at once
        for those the busy workers cannot all take; for the others once they have waited
        ``START_GRACE`` (``now``), since a busy worker is likely to finish first."""
        waiting = len(self._queue) - self._starting
        if waiting <= 0:
            return
        busy = len(self._workers) - len(self._idle) - self._starting
        if not now and busy > 0:
            if self._grace is None:
                self._grace = self._deadlines.call_at(
                    self._deadlines.loop().time() + self._start_grace, _grace_over, self
                )
            waiting -= busy
        while waiting > 0 and len(self._workers) < self._concurrency and not self._closed:
            waiting -= 1
            worker = Worker(
                self.spec,
                self._launch,
                self._logs,
                self._deadlines,
                on_ready=self._ready,
                on_job_end=self._job_ended,
                on_exit=self._exited,
                memory=self._memory,
                debugging=self._debugging,
            )
            self._workers.add(worker)
            self._starting += 1
            task = asyncio.ensure_future(worker.start())
            task.add_done_callback(_report_start_failure)

    def _ready(self, worker: Worker, first: bool) -> None:
        """``worker`` asks for its next event: the oldest waiting invocation, else a rest."""
        if first:  # init is over
            self._starting -= 1
        if worker.retired or self._closed:
            worker.kill()
            return
        queue = self._queue
        while queue:
            job = queue.popleft()
            if not job.future.done():
                worker.run(job)
                return
            self._running -= 1  # given up while it waited (cancelled)
        worker.idle_since = self._deadlines.loop().time()
        self._idle.append(worker)
        if self._reaper is None and not self._debugging:  # a debugger stays attached
            self._reaper = self._deadlines.loop().call_later(self._idle_lifetime, self._reap)

    def _job_ended(self, job: Job) -> None:
        self._running -= 1

    def grace_over(self) -> None:
        """Invocations still waiting after ``START_GRACE``: start workers for them."""
        self._grace = None
        self._grow(now=True)

    def _exited(self, worker: Worker, failure: InitFailure | None) -> None:
        self._workers.discard(worker)
        if worker in self._idle:
            self._idle.remove(worker)
        if failure is not None:  # it never became ready
            self._starting -= 1
            self._fail_oldest(failure)
        self._grow()

    def _fail_oldest(self, failure: InitFailure) -> None:
        while self._queue:
            job = self._queue.popleft()
            self._running -= 1
            if not job.future.done():
                job.future.set_exception(failure.error(self.spec.name, job.request_id))
                return

    def _reap(self) -> None:
        self._reaper = None
        now = self._deadlines.loop().time()
        keep = []
        for worker in self._idle:
            if now - worker.idle_since >= self._idle_lifetime:
                worker.kill()
            else:
                keep.append(worker)
        self._idle = keep
        if keep:
            wait = keep[0].idle_since + self._idle_lifetime - now
            self._reaper = self._deadlines.loop().call_later(max(wait, 0.01), self._reap)

    def retire(self) -> None:
        """The code changed: idle workers stop now, the others once they finish."""
        for worker in self._workers:
            worker.retired = True
        idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()

    async def aclose(self) -> None:
        """Stop every worker and wait (a few seconds at most) for them to exit."""
        self._closed = True
        if self._grace is not None:
            self._deadlines.cancel(self._grace)
            self._grace = None
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        while self._queue:
            job = self._queue.popleft()
            if not job.future.done():
                job.future.set_exception(RuntimeError(f"invoker for {self.spec.name!r} closed"))
        waits = [worker.exited for worker in self._workers if worker.exited is not None]
        for worker in list(self._workers):
            worker.kill()
        if waits:
            await asyncio.wait(waits, timeout=_CLOSE_GRACE)

    def states(self) -> dict[str, int]:
        """How many workers are in each state (for tests and the console)."""
        counts = {state.value: 0 for state in State}
        for worker in self._workers:
            counts[worker.state.value] += 1
        return counts


def _grace_over(pool: WorkerPool) -> None:
    pool.grace_over()


def _caller_gave_up(entry: tuple[WorkerPool, Job, float]) -> None:
    entry[0].caller_gave_up(entry[1], entry[2])


def _report_start_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a worker could not start", exc_info=task.exception())
