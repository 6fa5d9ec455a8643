"""`omniroute worker`: the Temporal worker for the cluster at OMNIROUTE_TEMPORAL_ADDRESS.

It runs the workflows and their activities against the same database as the gateway; what the
activities queue (messages, events) is sent by the gateway's delivery worker and outbox relay.
SIGTERM/SIGINT finish the activities in hand and stop.
"""

from __future__ import annotations

import asyncio
import signal

from core.app.bootstrap import build_services
from core.app.workflows import connect, make_worker
from core.config import Settings
from engines.fulfilment.gateway import TemporalFulfilment


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
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
        async with make_worker(client, settings.temporal_task_queue, runtime.activities):
            print(
                f"OmniRoute worker on {settings.temporal_address}, task queue "
                f"{settings.temporal_task_queue}  (Ctrl+C to stop)",
                flush=True,
            )
            await stop.wait()
    finally:
        await services.close()
