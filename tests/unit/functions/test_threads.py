"""Handler threads: jobs run off the event loop and answer it in batches."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from propylon.functions.threads import HandlerThreads


def test_jobs_run_on_threads_that_have_their_own_event_loop() -> None:
    def job() -> tuple[int, bool]:
        loop = asyncio.get_event_loop()
        return threading.get_ident(), not loop.is_running()

    async def scenario() -> tuple[int, bool]:
        threads = HandlerThreads("t", 2)
        try:
            result: tuple[int, bool] = await threads.submit(job)
            return result
        finally:
            await threads.aclose()

    ident, has_idle_loop = asyncio.run(scenario())
    assert ident != threading.get_ident()
    assert has_idle_loop


def three_at_once() -> Callable[[], int]:
    """A job that returns its thread's id once three of it run at the same time (a broken
    barrier, after 5 s, otherwise)."""
    together = threading.Barrier(3, timeout=5)

    def job() -> int:
        together.wait()
        return threading.get_ident()

    return job


def test_threads_start_on_demand_up_to_the_maximum() -> None:
    job = three_at_once()

    async def scenario() -> set[int]:
        threads = HandlerThreads("t", 3)
        try:
            futures = [threads.submit(job) for _ in range(6)]
            return set(await asyncio.gather(*futures))
        finally:
            await threads.aclose()

    assert len(asyncio.run(scenario())) == 3


def test_exceptions_reach_the_caller_and_the_thread_goes_on() -> None:
    def fail() -> None:
        raise SystemExit(3)

    async def scenario() -> str:
        threads = HandlerThreads("t", 1)
        try:
            with pytest.raises(SystemExit):
                await threads.submit(fail)
            result: str = await threads.submit(str.upper, "next")
            return result
        finally:
            await threads.aclose()

    assert asyncio.run(scenario()) == "NEXT"


def test_an_answer_to_a_future_already_done_is_dropped() -> None:
    release = threading.Event()

    async def scenario() -> str:
        threads = HandlerThreads("t", 1)
        try:
            first = threads.submit(release.wait, 5)
            first.cancel()
            release.set()
            result: str = await threads.submit(str, "after")
            return result
        finally:
            await threads.aclose()

    assert asyncio.run(scenario()) == "after"


def test_a_closed_pool_refuses_jobs() -> None:
    async def scenario() -> None:
        threads = HandlerThreads("t", 1)
        await threads.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            threads.submit(str)

    asyncio.run(scenario())


def test_a_burst_gets_threads_beside_the_idle_ones() -> None:
    """One thread idle and three jobs that must run at once: two more threads start."""
    job = three_at_once()

    async def scenario() -> set[int]:
        threads = HandlerThreads("t", 4)
        try:
            await threads.submit(str)  # one thread, idle once this is answered
            return set(await asyncio.gather(*(threads.submit(job) for _ in range(3))))
        finally:
            await threads.aclose()

    assert len(asyncio.run(scenario())) == 3


def test_a_job_held_when_the_pool_closes_fails() -> None:
    async def scenario() -> None:
        threads = HandlerThreads("t", 1)
        future = threads.submit(str, "never run")
        await threads.aclose()  # closes before the step that submitted the job hands it over
        with pytest.raises(RuntimeError, match="closed"):
            await future

    asyncio.run(scenario())
