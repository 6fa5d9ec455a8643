"""`omniroute worker`: the Temporal worker for the cluster at OMNIROUTE_TEMPORAL_ADDRESS.

It runs the workflows and their activities against the same database as the gateway; what the
activities queue (messages, events) is sent by the gateway's delivery worker and outbox relay.
SIGTERM/SIGINT finish the activities in hand and stop.

Given a port (`--port`), it answers GET /healthz there from the loop that runs the Temporal
worker: 200 while that worker runs, 503 once it has stopped, and no answer when the loop hangs,
so a liveness probe restarts a worker that no longer takes tasks.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from temporalio.worker import Worker

from core.app.bootstrap import build_services
from core.app.workflows import connect, make_worker
from core.config import Settings
from engines.fulfilment.gateway import TemporalFulfilment


async def run_worker(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    services = build_services(settings)
    try:
        runtime = services.workflows
        assert runtime is not None, "workflows need OMNIROUTE_TEMPORAL_ADDRESS and TEMPORAL=on"
        client = await connect(settings)
        await TemporalFulfilment(client, settings.temporal_task_queue).ensure_settlement_schedule()
        async with (
            make_worker(client, settings.temporal_task_queue, runtime.activities) as worker,
            _health(worker, host, port),
        ):
            print(
                f"OmniRoute worker on {settings.temporal_address}, task queue "
                f"{settings.temporal_task_queue}  (Ctrl+C to stop)",
                flush=True,
            )
            await stop.wait()
    finally:
        await services.close()


@asynccontextmanager
async def _health(worker: Worker, host: str, port: int | None) -> AsyncIterator[None]:
    """GET /healthz: whether the Temporal worker still runs, answered from its own loop."""
    if port is None:
        yield
        return

    async def healthz(_request: web.Request) -> web.Response:
        running = worker.is_running
        return web.json_response(
            {"status": "ok" if running else "stopped"}, status=200 if running else 503
        )

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        yield
    finally:
        await runner.cleanup()
