"""Threads for sync handlers, answering the event loop in batches.

A sync handler must not block the event loop, so it runs on a thread. ``ThreadPoolExecutor`` plus
``run_in_executor`` costs, per call, a ``concurrent.futures.Future`` with its condition variable,
a second asyncio future chained to it, and one wake-up of the event loop (a write to its
self-pipe). Under load those wake-ups dominate what a small handler costs.

``HandlerThreads`` keeps the parts that matter and drops the rest:

- a job is put on one ``SimpleQueue`` (a C queue, no condition variable) with the asyncio future
  to answer;
- a thread takes jobs one after another; when a job finishes, its outcome goes on a list for
  its loop, and only the first outcome on an empty list schedules the loop's ``_deliver``: when
  calls finish faster than the loop gets round to them, one wake-up delivers them all;
- threads start on demand, up to ``max_threads``, when a job arrives and no thread is idle;
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
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        """Run ``fn(*args)`` on a handler thread; the future answers on the running loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if self._closed:
            raise RuntimeError(f"{self._name} is closed")
        self._jobs.put((loop, future, fn, args))
        if self._idle == 0 and len(self._threads) < self._max_threads:
            self._start_thread()
        return future

    def _start_thread(self) -> None:
        with self._lock:
            if self._idle > 0 or len(self._threads) >= self._max_threads or self._closed:
                return
            thread = threading.Thread(
                target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
        thread.start()

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
        while True:
            with self._lock:
                self._idle += 1
            job = jobs.get()
            with self._lock:
                self._idle -= 1
            if job is None:
                return
            loop, future, fn, args = job
            if future.cancelled():
                continue
            try:
                outcome: _Outcome = (future, None, fn(*args))
            except BaseException as exc:  # the caller's to judge, SystemExit included
                outcome = (future, exc, None)
            self._answer(loop, outcome)

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
