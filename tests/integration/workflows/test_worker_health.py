"""`omniroute worker` on a real Temporal dev server answers its liveness probe's /healthz from
the loop that runs the Temporal worker, and stops answering when it stops."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from core.app.worker import run_worker
from core.config import Settings
from tests.support.ports import free_port
from tests.support.servers import TemporalServer

pytestmark = [pytest.mark.real]


async def _healthz(url: str) -> tuple[int, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def test_the_worker_answers_its_liveness_probe_while_it_runs(
    settings: Settings, temporal_server: TemporalServer, task_queue: str
) -> None:
    worker_settings = settings.model_copy(
        update={"temporal_address": temporal_server.address, "temporal_task_queue": task_queue}
    )
    port, stop = free_port(), asyncio.Event()
    url = f"http://127.0.0.1:{port}/healthz"
    running = asyncio.create_task(run_worker(worker_settings, stop, port=port))
    try:
        for _ in range(200):
            try:
                answer = await _healthz(url)
                break
            except aiohttp.ClientConnectionError:
                assert not running.done(), running.exception()
                await asyncio.sleep(0.05)
        else:
            pytest.fail("the worker never answered /healthz")
        assert answer == (200, {"status": "ok"})
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    with pytest.raises(aiohttp.ClientConnectionError):
        await _healthz(url)


async def test_several_workers_run_on_one_host_without_a_health_port(
    settings: Settings, temporal_server: TemporalServer, task_queue: str
) -> None:
    """README: run as many `omniroute worker`s as needed; /healthz is only where --port asks."""
    worker_settings = settings.model_copy(
        update={"temporal_address": temporal_server.address, "temporal_task_queue": task_queue}
    )
    stop = asyncio.Event()
    workers = [asyncio.create_task(run_worker(worker_settings, stop)) for _ in range(2)]
    try:
        await asyncio.sleep(2)
        failed = [worker.exception() for worker in workers if worker.done()]
    finally:
        stop.set()
        await asyncio.wait(workers, timeout=30)
    assert failed == []
