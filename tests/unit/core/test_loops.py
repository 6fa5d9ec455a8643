"""Stopping a background loop finishes the pass in flight instead of cutting it in half."""

from __future__ import annotations

import asyncio

from core.loops import BackgroundLoop


class Sweeper:
    """A loop whose pass takes `pass_seconds` and records whether it ran to its end."""

    def __init__(self, pass_seconds: float, *, grace_seconds: float = 5.0) -> None:
        self.loop = BackgroundLoop("test-sweeper", grace_seconds=grace_seconds)
        self.pass_seconds = pass_seconds
        self.started = 0
        self.finished = 0
        self.in_pass = asyncio.Event()
        self.between_passes = asyncio.Event()

    async def run(self) -> None:
        while self.loop.running:
            self.started += 1
            self.in_pass.set()
            await asyncio.sleep(self.pass_seconds)
            self.finished += 1
            self.between_passes.set()
            await self.loop.pause(60)


async def test_stop_lets_the_pass_in_flight_finish() -> None:
    sweeper = Sweeper(0.2)
    sweeper.loop.start(sweeper.run)
    await sweeper.in_pass.wait()
    await sweeper.loop.stop()
    assert (sweeper.started, sweeper.finished) == (1, 1)


async def test_a_pass_that_outlasts_the_grace_period_is_cancelled() -> None:
    sweeper = Sweeper(30, grace_seconds=0.1)
    sweeper.loop.start(sweeper.run)
    await sweeper.in_pass.wait()
    await asyncio.wait_for(sweeper.loop.stop(), timeout=5)
    assert (sweeper.started, sweeper.finished) == (1, 0)


async def test_a_paused_loop_stops_at_once_without_another_pass() -> None:
    sweeper = Sweeper(0)
    sweeper.loop.start(sweeper.run)
    await sweeper.between_passes.wait()
    await asyncio.wait_for(sweeper.loop.stop(), timeout=1)
    assert sweeper.started == 1


async def test_a_wake_starts_the_next_pass_even_when_it_came_during_the_last_one() -> None:
    sweeper = Sweeper(0.1)
    sweeper.loop.start(sweeper.run)
    await sweeper.in_pass.wait()
    sweeper.loop.wake()  # new work arrives while the first pass runs
    for _ in range(100):
        if sweeper.started == 2:
            break
        await asyncio.sleep(0.01)
    await sweeper.loop.stop()
    assert sweeper.started == 2


async def test_back_off_is_not_cut_short_by_new_work_but_is_by_stop() -> None:
    loop = BackgroundLoop("test-relay")
    backed_off = asyncio.Event()

    async def run() -> None:
        await loop.back_off(60)
        backed_off.set()

    loop.start(run)
    await asyncio.sleep(0.01)
    loop.wake()
    await asyncio.sleep(0.05)
    assert not backed_off.is_set()
    await asyncio.wait_for(loop.stop(), timeout=1)
    assert backed_off.is_set()
