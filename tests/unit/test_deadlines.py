"""Deadlines: many time limits on one loop timer, and the Timeout built on them."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from propylon.deadlines import Deadlines, Timeout

Scenario = Callable[[], Coroutine[Any, Any, None]]


def on_a_loop(scenario: Scenario) -> Callable[[], None]:
    """The test runs ``scenario`` on a fresh event loop."""

    @functools.wraps(scenario)
    def test() -> None:
        asyncio.run(scenario())

    return test


@on_a_loop
async def test_callbacks_run_in_deadline_order_and_cancelled_ones_do_not() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines()
    ran: list[str] = []
    done = loop.create_future()
    start = loop.time()
    deadlines.call_at(start + 0.03, ran.append, "third")
    deadlines.call_at(start + 0.01, ran.append, "first")
    doomed = deadlines.call_at(start + 0.02, ran.append, "cancelled")
    deadlines.call_at(start + 0.02, ran.append, "second")
    deadlines.call_at(start + 0.04, done.set_result, None)
    deadlines.cancel(doomed)
    await done
    assert ran == ["first", "second", "third"]
    assert loop.time() - start >= 0.04


@on_a_loop
async def test_an_earlier_deadline_added_later_still_runs_first() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines()
    ran: list[str] = []
    done = loop.create_future()
    deadlines.call_at(loop.time() + 10, ran.append, "late")
    deadlines.call_at(loop.time() + 0.01, ran.append, "early")
    deadlines.call_at(loop.time() + 0.02, done.set_result, None)
    await done
    assert ran == ["early"]


@on_a_loop
async def test_cancelling_twice_or_after_running_is_harmless() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines()
    done = loop.create_future()
    entry = deadlines.call_at(loop.time(), done.set_result, "ran")
    assert await done == "ran"
    deadlines.cancel(entry)
    other = deadlines.call_at(loop.time() + 5, done.set_result, "never")
    deadlines.cancel(other)
    deadlines.cancel(other)


@on_a_loop
async def test_cancelled_entries_do_not_pile_up_behind_a_long_limit() -> None:
    """Many short requests finishing while one long limit holds the top of the heap."""
    loop = asyncio.get_running_loop()
    deadlines = Deadlines()
    deadlines.call_at(loop.time() + 3600, print, "the long one")
    for _ in range(10_000):
        deadlines.cancel(deadlines.call_at(loop.time() + 30, print, "short"))
    assert len(deadlines._heap) < 600


@on_a_loop
async def test_a_deadlines_moves_to_a_new_loop() -> None:
    deadlines = Deadlines()
    deadlines.call_at(asyncio.get_running_loop().time() + 3600, print, "left behind")

    def on_another_loop() -> str:
        async def main() -> str:
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            deadlines.call_at(loop.time() + 0.01, done.set_result, "moved")
            result: str = await done
            return result

        return asyncio.run(main())

    assert await asyncio.to_thread(on_another_loop) == "moved"


def test_a_deadlines_follows_the_loops_one_thread_runs_in_turn() -> None:
    deadlines = Deadlines()

    async def main() -> bool:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        deadlines.call_at(deadlines.after(0.01), done.set_result, "ran")
        assert await done == "ran"
        return deadlines.loop() is loop

    assert asyncio.run(main())
    assert asyncio.run(main())  # the first loop has stopped: the second is found, and used


@on_a_loop
async def test_timeout_turns_the_cancellation_into_timeout_error() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines()
    start = loop.time()
    with pytest.raises(TimeoutError), Timeout(deadlines, start + 0.02) as timeout:
        await asyncio.sleep(10)
    assert timeout.expired
    assert 0.02 <= loop.time() - start < 5
    current = asyncio.current_task()
    assert current is not None
    assert current.cancelling() == 0
    await asyncio.sleep(0)  # no cancellation left pending for the task


@on_a_loop
async def test_timeout_that_does_not_expire_leaves_the_block_alone() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines()
    with Timeout(deadlines, loop.time() + 5) as timeout:
        await asyncio.sleep(0)
    assert not timeout.expired
    assert deadlines._heap == [] or all(entry[2] is None for entry in deadlines._heap)


@on_a_loop
async def test_an_outside_cancellation_is_not_a_timeout() -> None:
    loop = asyncio.get_running_loop()
    deadlines = Deadlines()

    async def guarded() -> None:
        with Timeout(deadlines, loop.time() + 5):
            await asyncio.sleep(10)

    task = asyncio.create_task(guarded())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@on_a_loop
async def test_a_failing_callback_does_not_stop_the_others() -> None:
    loop = asyncio.get_running_loop()
    reported: list[str] = []
    loop.set_exception_handler(lambda _, context: reported.append(context["message"]))
    deadlines = Deadlines()
    done = loop.create_future()

    def fail(_: object) -> None:
        raise RuntimeError("broken")

    deadlines.call_at(loop.time(), fail, None)
    deadlines.call_at(loop.time(), done.set_result, "still ran")
    assert await done == "still ran"
    assert reported == ["Exception in a deadline callback"]
    later = loop.create_future()
    deadlines.call_at(loop.time() + 0.01, later.set_result, "and the timer is armed again")
    assert await later == "and the timer is armed again"
