"""Invokers: how a resolved function is run. One protocol; the kinds are listed in the registry.

``InProcessInvoker`` runs a Python handler inside the gateway process:

- **Loading** happens once, on the first invocation, on the invoker's own threads (imports are
  blocking I/O and run user code). A failed load is not cached: the next invocation retries,
  as Lambda re-initialises after a failed init. Loading has its own limit, ``INIT_TIMEOUT``
  (Lambda's 10 seconds), and does not count against the function's timeout.
- **Environment.** ``os.environ`` belongs to the whole process, so a function's environment is
  written into it when the function loads and stays there until ``aclose``, which restores the
  previous values. Setting it per call instead would race between concurrent invocations. The
  consequence, stated plainly: every in-process function (and Propylon itself) sees every
  loaded function's variables, and two in-process functions cannot give one variable different
  values; ``check_specs`` rejects that up front. Functions that need isolation need the worker
  process invoker. Lambda's reserved variables (``AWS_LAMBDA_FUNCTION_NAME`` ...) are not set,
  as they would differ between functions.
- **Threads.** Sync handlers run on threads owned by the invoker (``HandlerThreads``: started on
  demand, answering the event loop in batches), so the event loop never blocks and a stuck
  function can exhaust only its own threads. Async handlers run on the event loop itself: they
  must not block.
- **Timeouts.** One deadline per call: the function's timeout, or the caller's ``limit`` when
  that comes first (an integration's ``TimeoutInMillis``). The function's own raises
  ``FunctionTimeout``; the caller's raises ``CallerTimeout``. An async handler is cancelled at the
  deadline. A sync handler cannot be stopped from outside its thread: the caller gets the error
  at once, the handler keeps running to completion in its thread, and its result is discarded.
- **Errors.** An exception from the handler becomes ``FunctionError`` carrying its class name
  and message (Lambda's ``errorType``/``errorMessage``) and its traceback for logs.
"""

from __future__ import annotations

import asyncio
import os
import time
import traceback
from collections.abc import MutableMapping, Sequence
from datetime import UTC, datetime
from threading import Lock
from typing import Any, Protocol

from propylon.deadlines import Deadlines, Timeout
from propylon.functions.context import Clock, LambdaContext, log_stream_name
from propylon.functions.errors import (
    CallerTimeout,
    FunctionError,
    FunctionTimeout,
    InvocationError,
)
from propylon.functions.loader import LoadedHandler, load_handler, unload
from propylon.functions.spec import FunctionSpec
from propylon.functions.threads import HandlerThreads

INIT_TIMEOUT = 10.0


class Invoker(Protocol):
    """Runs one function: ``event`` in, the handler's result out, failures as InvocationError."""

    async def invoke(
        self, event: dict[str, Any], request_id: str, limit: float | None = None
    ) -> Any:
        """The handler's result. ``limit``: the caller's limit in seconds, when it has one
        (``CallerTimeout`` when it passes before the function's own)."""

    async def aclose(self) -> None: ...


class InvokerFactory(Protocol):
    """An invoker kind: builds an invoker for one spec, and vets a set of specs up front."""

    def __call__(self, spec: FunctionSpec, invoked_function_arn: str) -> Invoker: ...

    def check_specs(self, specs: Sequence[FunctionSpec]) -> None: ...


class InProcessInvoker:
    """A Python handler run in this process (see the module docstring for the trade-offs)."""

    def __init__(
        self,
        spec: FunctionSpec,
        invoked_function_arn: str,
        *,
        clock: Clock = time.monotonic,
        environ: MutableMapping[str, str] = os.environ,
        max_threads: int | None = None,
    ) -> None:
        self.spec = spec
        self.invoked_function_arn = invoked_function_arn
        self._clock = clock
        self._environ = environ
        self._threads = HandlerThreads(
            f"propylon-function-{spec.name}", max_threads or min(32, (os.cpu_count() or 1) + 4)
        )
        self._deadlines = Deadlines()
        self._load_lock = Lock()
        self._loaded: LoadedHandler | None = None
        self._log_stream = ""
        self._context: LambdaContext | None = None  # the first call's: later ones are copies
        self._saved_environ: dict[str, str | None] = {}
        self._closed = False

    @staticmethod
    def check_specs(specs: Sequence[FunctionSpec]) -> None:
        """ValueError if two functions give one environment variable different values."""
        seen: dict[str, tuple[str, str]] = {}
        for spec in specs:
            for key, value in spec.environment.items():
                other = seen.setdefault(key, (spec.name, value))
                if other[1] != value:
                    raise ValueError(
                        f"functions {other[0]!r} and {spec.name!r} set environment variable "
                        f"{key} to different values; in-process functions share one "
                        "environment"
                    )

    async def invoke(
        self, event: dict[str, Any], request_id: str, limit: float | None = None
    ) -> Any:
        if self._closed:
            raise RuntimeError(f"invoker for {self.spec.name!r} is closed")
        loaded = self._loaded or await self._load(request_id)
        expired: type[FunctionTimeout | CallerTimeout] = FunctionTimeout
        if limit is None or limit >= self.spec.timeout:
            limit = self.spec.timeout
        else:
            expired = CallerTimeout
        first = self._context
        if first is None:
            first = self._context = LambdaContext(
                aws_request_id=request_id,
                function_name=self.spec.name,
                invoked_function_arn=self.invoked_function_arn,
                memory_limit_in_mb=self.spec.memory,
                log_stream_name=self._log_stream,
                deadline=self._clock() + self.spec.timeout,
                clock=self._clock,
            )
        context = first.renewed(request_id, self._clock() + self.spec.timeout)
        if loaded.is_async:  # awaited here, not in another coroutine: this runs for every call
            scope = Timeout(self._deadlines, self._deadlines.after(limit))
            try:
                with scope:
                    return await loaded.handler(event, context)
            except (Exception, SystemExit) as exc:
                # A TimeoutError the handler raised itself is the handler's error, not ours.
                if isinstance(exc, TimeoutError) and scope.expired:
                    raise expired(self.spec.name, limit, context.aws_request_id) from None
                raise _handler_error(self.spec.name, exc) from exc
        loop = self._deadlines.loop()
        future = self._threads.submit_on(loop, loaded.handler, event, context)
        error = (future, expired, self.spec.name, limit, request_id)
        timer = self._deadlines.call_at(loop.time() + limit, _expire, error)
        try:
            return await future
        except (Exception, SystemExit) as exc:
            if isinstance(exc, InvocationError):  # set by _expire
                raise
            raise _handler_error(self.spec.name, exc) from exc
        finally:
            self._deadlines.cancel(timer)

    async def aclose(self) -> None:
        """Stop taking work, restore the environment, forget the module. Does not wait for
        handlers still running in threads."""
        self._closed = True
        # Idle threads exit at once; a handler still running keeps its thread and its loop.
        await self._threads.aclose()
        # The lock may be held by a load in progress: wait for it off the event loop.
        await asyncio.to_thread(self._release)

    def _release(self) -> None:
        with self._load_lock:
            for key, previous in self._saved_environ.items():
                if previous is None:
                    self._environ.pop(key, None)
                else:
                    self._environ[key] = previous
            self._saved_environ.clear()
            if self._loaded is not None:
                unload(self._loaded)
                self._loaded = None
                self._context = None

    async def _load(self, request_id: str) -> LoadedHandler:
        scope = asyncio.timeout(INIT_TIMEOUT)
        try:
            async with scope:
                loaded: LoadedHandler = await self._threads.submit(self._load_once)
                return loaded
        except TimeoutError:
            if scope.expired():
                raise FunctionTimeout(self.spec.name, INIT_TIMEOUT, request_id) from None
            raise

    def _load_once(self) -> LoadedHandler:
        with self._load_lock:
            if self._loaded is None:
                self._apply_environment()
                self._loaded = load_handler(self.spec)
                self._log_stream = log_stream_name(datetime.now(UTC).date())
            return self._loaded

    def _apply_environment(self) -> None:
        for key, value in self.spec.environment.items():
            if key not in self._saved_environ:
                self._saved_environ[key] = self._environ.get(key)
            self._environ[key] = value


def _expire(
    error: tuple[asyncio.Future[Any], type[FunctionTimeout | CallerTimeout], str, float, str],
) -> None:
    """The deadline passed: fail the call (the error is built only now, rarely)."""
    future, kind, name, limit, request_id = error
    if not future.done():
        future.set_exception(kind(name, limit, request_id))


def _handler_error(function_name: str, exc: BaseException) -> FunctionError:
    trace = "".join(traceback.format_exception(exc))
    return FunctionError(function_name, type(exc).__name__, str(exc), trace)
