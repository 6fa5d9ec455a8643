"""A background loop that stops between passes, so shutting down never cuts a pass in half.

Cancelling a task in the middle of a database call leaves its connection neither back in the
pool nor closed (the garbage collector finds it later, after the pool is gone), and a pass cut
short is work half done. `stop` asks the loop to finish the pass in flight, waits for it up to a
grace period, and cancels only a pass that will not end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

STOP_GRACE_SECONDS = 5.0


class BackgroundLoop:
    """The task, the wake-up and the stop request of one loop; its owner writes the passes."""

    def __init__(self, name: str, *, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        self._name = name
        self._grace = grace_seconds
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._stopping = False

    @property
    def running(self) -> bool:
        """False once `stop` is called: the loop should return instead of starting a pass."""
        return not self._stopping

    def start(self, run: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if self._task is None:
            self._stopping = False
            self._wake.clear()
            self._stop.clear()
            self._task = asyncio.create_task(run(), name=self._name)

    def wake(self) -> None:
        """Cut the current pause short: there is work now."""
        self._wake.set()

    async def pause(self, seconds: float) -> None:
        """Wait `seconds`, less if woken or stopped; a wake during the last pass counts."""
        if not self._wake.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        if not self._stopping:
            self._wake.clear()

    async def back_off(self, seconds: float) -> None:
        """Wait `seconds` after a failure, less only if stopped: new work does not cut it short."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._stop.set()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=self._grace)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        except asyncio.CancelledError:
            task.cancel()  # whoever stops us is cancelled: the loop must not outlive them
            raise
