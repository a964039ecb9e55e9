"""Stopping background tasks for certain: cancellation delivered until the task has ended.

asyncio's cancellation is delivered once, and on Python 3.11 it can be lost: `asyncio.wait_for`
returns the inner result when that completes in the same loop iteration as the cancellation
(python/cpython#86296, fixed by 3.12's rewrite). psycopg_pool waits for a free connection with
`wait_for`, so a loop cancelled just as the pool hands it a connection carries on as if nothing
happened, and `await task` waits forever. Cancelling again until the task ends makes the
cancellation level-triggered, as it is in trio and anyio.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)

# How long each cancellation gets to end the task before it is delivered again.
RETRY_SECONDS = 0.5


async def cancel_and_wait(task: asyncio.Task[Any], retry_seconds: float = RETRY_SECONDS) -> None:
    """Cancel `task` and wait until it has ended, cancelling it again while it goes on.

    The task's own exception, if it failed before being cancelled, is raised; its cancellation
    is not. The caller's own cancellation propagates as usual.
    """
    deliveries = 0
    while not task.done():
        task.cancel()
        deliveries += 1
        await asyncio.wait([task], timeout=retry_seconds)
    if deliveries > 1:
        log.warning(
            "background task ignored a cancellation",
            extra={"task": task.get_name(), "deliveries": deliveries},
        )
    if not task.cancelled():
        task.result()
