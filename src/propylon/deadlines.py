"""Time limits for the request path, many on one event-loop timer.

Every request to an integration runs under a time limit (``TimeoutInMillis``, a function's
timeout), and nearly every one finishes long before it. ``asyncio.timeout`` or ``call_at`` arm
and disarm a loop timer for each of them: about 3 to 5 µs of a request's CPU on uvloop, the
same as routing it. A :class:`Deadlines` keeps its limits in a heap instead and arms one loop
timer, for the earliest; adding a limit later than the armed one (the usual case: limits of the
same length, added in time order) arms nothing.

How it works: :meth:`Deadlines.call_at` pushes ``[when, sequence, callback, argument]`` and
returns it; :meth:`Deadlines.cancel` blanks the callback, leaving the entry for the heap to
drop when it reaches the top. When the timer fires, every entry that is due runs (blank ones
are skipped) and the timer is armed again for the next live entry. Cancelled entries still in
the heap are counted, and the heap is rebuilt without them once they are over half of it and
more than a few hundred, so a long limit that many short requests outlive costs no memory.

:class:`Timeout` is ``asyncio.timeout_at`` on a :class:`Deadlines`, as a plain (not async)
context manager: the task is cancelled when the limit passes and the cancellation comes out of
the block as ``TimeoutError``.

A ``Deadlines`` belongs to one event loop, the one running when it is first used; on another
(tests run many) it starts afresh. It remembers that loop and the thread running it, and asks
asyncio for the running loop only when they change: ``asyncio.get_running_loop`` makes a
``getpid`` system call on Python 3.11 (it checks for a fork), which a request path calling it
three times pays three times (:meth:`Deadlines.loop`).
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Callable
from threading import get_ident
from types import TracebackType
from typing import Any

Entry = list[Any]
"""``[when, sequence, callback or None, argument]``: what :meth:`Deadlines.call_at` returns."""

_COMPACT_AT = 256  # cancelled entries before the heap is worth rebuilding


class Deadlines:
    """Callbacks at given loop times, on one loop timer."""

    __slots__ = ("_armed", "_armed_at", "_cancelled", "_heap", "_loop", "_sequence", "_thread")

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0
        self._heap: list[Entry] = []
        self._sequence = 0
        self._cancelled = 0
        self._armed: asyncio.TimerHandle | None = None
        self._armed_at = float("inf")

    def loop(self) -> asyncio.AbstractEventLoop:
        """The running event loop (call from a coroutine or callback running on it)."""
        loop = self._loop
        if loop is None or self._thread != get_ident() or not loop.is_running():
            loop = asyncio.get_running_loop()
            if loop is not self._loop:
                self._start(loop)
            self._thread = get_ident()
        return loop

    def after(self, seconds: float) -> float:
        """The loop time ``seconds`` from now."""
        return self.loop().time() + seconds

    def call_at(self, when: float, callback: Callable[[Any], object], argument: Any) -> Entry:
        """Call ``callback(argument)`` at loop time ``when`` unless cancelled before."""
        self.loop()
        self._sequence += 1
        entry = [when, self._sequence, callback, argument]
        heapq.heappush(self._heap, entry)
        if when < self._armed_at:
            self._arm(when)
        return entry

    def cancel(self, entry: Entry) -> None:
        """Forget ``entry`` (nothing happens if it ran or was cancelled already)."""
        if entry[2] is not None:
            entry[2] = entry[3] = None
            self._cancelled += 1
            if self._cancelled > _COMPACT_AT and self._cancelled * 2 > len(self._heap):
                self._heap = [live for live in self._heap if live[2] is not None]
                heapq.heapify(self._heap)
                self._cancelled = 0

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._armed is not None:
            self._armed.cancel()
        self._loop, self._heap, self._cancelled = loop, [], 0
        self._armed, self._armed_at = None, float("inf")

    def _arm(self, when: float) -> None:
        assert self._loop is not None
        if self._armed is not None:
            self._armed.cancel()
        self._armed = self._loop.call_at(when, self._fire)
        self._armed_at = when

    def _fire(self) -> None:
        assert self._loop is not None
        self._armed, self._armed_at = None, float("inf")
        heap, now = self._heap, self._loop.time()
        while heap and (heap[0][2] is None or heap[0][0] <= now):
            entry = heapq.heappop(heap)
            callback, argument = entry[2], entry[3]
            if callback is None:
                self._cancelled -= 1
                continue
            entry[2] = entry[3] = None
            try:
                callback(argument)
            except Exception as error:  # one bad callback must not stop the others
                self._loop.call_exception_handler(
                    {"message": "Exception in a deadline callback", "exception": error}
                )
        if heap:
            self._arm(heap[0][0])


class Timeout:
    """``with Timeout(deadlines, when):``, in a task, raises ``TimeoutError`` out of the block
    when loop time ``when`` passes before it ends, as ``async with asyncio.timeout_at(when)``
    does. A plain ``with``: entering and leaving need no await, so they cost no coroutine."""

    __slots__ = ("_cancelling", "_deadlines", "_entry", "_expired", "_task", "_when")

    def __init__(self, deadlines: Deadlines, when: float) -> None:
        self._deadlines = deadlines
        self._when = when
        self._expired = False
        self._task: asyncio.Task[Any] | None = None
        self._entry: Entry | None = None
        self._cancelling = 0

    def __enter__(self) -> Timeout:
        self._task = asyncio.current_task(self._deadlines.loop())
        if self._task is None:
            raise RuntimeError("Timeout should be used inside a task")
        self._cancelling = self._task.cancelling()
        self._entry = self._deadlines.call_at(self._when, _expire, self)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._entry is not None
        self._deadlines.cancel(self._entry)
        if not self._expired:
            return
        assert self._task is not None
        if self._task.uncancel() <= self._cancelling and kind is asyncio.CancelledError:
            raise TimeoutError from error

    @property
    def expired(self) -> bool:
        return self._expired


def _expire(timeout: Timeout) -> None:
    timeout._expired = True
    assert timeout._task is not None
    timeout._task.cancel()
