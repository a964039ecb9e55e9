"""Stopping background tasks: a cancellation lost in a library must not keep shutdown waiting."""

from __future__ import annotations

import asyncio
import sys

import pytest

from shared.background import cancel_and_wait


async def _loop_that_waits_with_wait_for(inner: list[asyncio.Future[None]]) -> None:
    """A periodic loop shaped like the budget evaluator: each round waits for a resource with
    `asyncio.wait_for` (as psycopg_pool does for a free connection), then sleeps."""
    loop = asyncio.get_running_loop()
    while True:
        future: asyncio.Future[None] = loop.create_future()
        inner.append(future)
        await asyncio.wait_for(future, timeout=60)
        await asyncio.sleep(3600)


async def _started(inner: list[asyncio.Future[None]]) -> asyncio.Task[None]:
    task = asyncio.create_task(_loop_that_waits_with_wait_for(inner))
    await asyncio.sleep(0)  # one step: the task is now inside wait_for
    assert len(inner) == 1
    return task


async def test_a_cancellation_arriving_as_the_resource_arrives_still_stops_the_task() -> None:
    inner: list[asyncio.Future[None]] = []
    task = await _started(inner)
    # The resource and the cancellation arrive in the same loop iteration.
    inner[0].set_result(None)
    await asyncio.wait_for(cancel_and_wait(task, retry_seconds=0.05), timeout=10)
    assert task.cancelled()


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12's wait_for no longer loses it")
async def test_one_cancellation_is_lost_there_on_this_python() -> None:
    """Why `cancel_and_wait` exists: cancelled once, the same task goes on to its sleep."""
    inner: list[asyncio.Future[None]] = []
    task = await _started(inner)
    inner[0].set_result(None)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=0.5)
    assert not done and task.cancelling() == 1
    await cancel_and_wait(task, retry_seconds=0.05)
    assert task.cancelled()


async def test_a_task_that_failed_raises_its_error() -> None:
    async def fails() -> None:
        raise ValueError("broken")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    with pytest.raises(ValueError, match="broken"):
        await cancel_and_wait(task)


async def test_the_callers_own_cancellation_propagates() -> None:
    may_end = asyncio.Event()

    async def refuses() -> None:
        while not may_end.is_set():
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                continue

    stubborn = asyncio.create_task(refuses())
    stopper = asyncio.create_task(cancel_and_wait(stubborn, retry_seconds=0.05))
    await asyncio.sleep(0.2)
    stopper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    assert not stubborn.done()
    may_end.set()
    await stubborn
