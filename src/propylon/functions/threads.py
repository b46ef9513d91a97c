"""Threads for sync handlers, answering the event loop in batches.

A sync handler must not block the event loop, so it runs on a thread. ``ThreadPoolExecutor`` plus
``run_in_executor`` costs, per call, a ``concurrent.futures.Future`` with its condition variable,
a second asyncio future chained to it, and one wake-up of the event loop (a write to its
self-pipe). Under load those wake-ups dominate what a small handler costs.

``HandlerThreads`` keeps the parts that matter and drops the rest:

- the jobs a step of the event loop submits are held until the end of that step and then put,
  together, on one ``SimpleQueue`` (a C queue, no condition variable), each with the asyncio
  future to answer. Put one by one, the first job of a step woke a thread while the loop still
  held the GIL; handed over together at the end of the step, 0.3 context switches per request
  are left of 0.8 to 1.0 under load (docs/performance.md, "The Lambda path trimmed");
- a thread takes jobs one after another; when a job finishes, its outcome goes on a list for
  its loop, and only the first outcome on an empty list schedules the loop's ``_deliver``: when
  calls finish faster than the loop gets round to them, one wake-up delivers them all;
- threads start on demand, up to ``max_threads``, when more jobs are waiting than threads are
  idle;
  each gets an event loop of its own (Lambda's runtime calls handlers on a thread that has one,
  and Mangum or asgiref rely on that).

A call cannot be stopped once its thread runs it: ``future`` may be failed (timed out) by the
caller meanwhile, and the outcome that arrives later is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...]]
_Outcome = tuple["asyncio.Future[Any]", BaseException | None, Any]


class HandlerThreads:
    def __init__(self, name: str, max_threads: int) -> None:
        self._name = name
        self._max_threads = max(1, max_threads)
        self._jobs: SimpleQueue[_Job | None] = SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._outcomes: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
        self._held: dict[asyncio.AbstractEventLoop, list[_Job]] = {}  # until the step ends
        self._queued = 0  # jobs on the queue that no thread has taken yet
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Run ``fn(*args)`` on a handler thread; the future answers on the running loop."""
        return self.submit_on(asyncio.get_running_loop(), fn, *args)

    def submit_on(
        self, loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any
    ) -> asyncio.Future[Any]:
        """:meth:`submit` from a caller that knows the running loop (asking asyncio for it
        costs a system call on Python 3.11)."""
        future: asyncio.Future[Any] = loop.create_future()
        if self._closed:
            raise RuntimeError(f"{self._name} is closed")
        held = self._held.get(loop)
        if held is None:
            self._held[loop] = [(loop, future, fn, args)]
            loop.call_soon(self._hand_over, loop)
        else:
            held.append((loop, future, fn, args))
        return future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        """Put the jobs ``loop`` submitted during its last step on the queue, and start as many
        threads as are missing for them."""
        jobs = self._held.pop(loop, [])
        if self._closed:
            for job in jobs:
                if not job[1].done():
                    job[1].set_exception(RuntimeError(f"{self._name} is closed"))
            return
        for job in jobs:
            self._jobs.put(job)
        with self._lock:
            self._queued += len(jobs)
            missing = min(self._queued - self._idle, self._max_threads - len(self._threads))
        for _ in range(missing):
            self._start_thread()

    def _start_thread(self) -> None:
        with self._lock:
            if len(self._threads) >= self._max_threads or self._closed:
                return
            thread = threading.Thread(
                target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            self._idle += 1  # counted idle from now: a hand-over meanwhile counts on it
        try:
            thread.start()
        except RuntimeError:  # no more threads to be had: not counted, the caller hears
            with self._lock:
                self._threads.remove(thread)
                self._idle -= 1
            raise

    def _work(self) -> None:
        own_loop = asyncio.new_event_loop()
        asyncio.set_event_loop(own_loop)
        try:
            self._take_jobs()
        finally:  # the loop is the thread's own: it closes with it, however late that is
            asyncio.set_event_loop(None)
            own_loop.close()

    def _take_jobs(self) -> None:
        jobs = self._jobs
        while True:  # idle here (counted so when the thread started, or after its last job)
            job = jobs.get()
            with self._lock:
                self._idle -= 1
                if job is not None:
                    self._queued -= 1
            if job is None:
                return
            loop, future, fn, args = job
            if not future.cancelled():
                try:
                    outcome: _Outcome = (future, None, fn(*args))
                except BaseException as exc:  # the caller's to judge, SystemExit included
                    outcome = (future, exc, None)
                self._answer(loop, outcome)
            with self._lock:
                self._idle += 1

    def _answer(self, loop: asyncio.AbstractEventLoop, outcome: _Outcome) -> None:
        with self._lock:
            waiting = self._outcomes.get(loop)
            if waiting is None:
                self._outcomes[loop] = [outcome]
            else:
                waiting.append(outcome)
                return  # a delivery is already scheduled and will take this one too
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            loop.call_soon_threadsafe(self._deliver, loop)

    def _deliver(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            outcomes = self._outcomes.pop(loop, ())
        for future, error, result in outcomes:
            if future.done():  # timed out or cancelled meanwhile
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    async def aclose(self, grace: float = 1.0) -> None:
        """Stop taking jobs and let idle threads exit (waiting ``grace`` seconds at most);
        a thread still running a handler finishes it, then exits and closes its loop."""
        self._closed = True
        threads = list(self._threads)
        for _ in threads:
            self._jobs.put(None)
        await asyncio.to_thread(_join, threads, grace)


def _join(threads: list[threading.Thread], grace: float) -> None:
    """Wait for ``threads`` to end, ``grace`` seconds at most in all."""
    deadline = time.monotonic() + grace
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
