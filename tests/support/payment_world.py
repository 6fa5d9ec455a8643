"""A gateway with real payment fakes on its own event loop, for hypothesis property tests.

Hypothesis examples cannot take function-scoped async fixtures, so the property tests share one
gateway, database and set of provider fakes per test, driven through `world.loop`. Background
loops (the payments requery, the payout sweeper) are stopped: each example runs them itself,
when the clock it steps says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp.test_utils import TestServer

from core.app.bootstrap import Services, build_services
from core.app.server import create_app
from core.clock import SteppedClock
from core.db.migrate import upgrade
from core.ids import RandomIds
from engines.payments import PaymentService
from tests.support.providers.payments import PaymentFakes, running_fakes


@dataclass
class PaymentWorld:
    loop: asyncio.AbstractEventLoop
    fakes: PaymentFakes
    services: Services
    server: TestServer
    clock: SteppedClock

    @property
    def payments(self) -> PaymentService:
        assert self.services.payments is not None
        return self.services.payments


@contextmanager
def payment_world(tmp_path: Path) -> Iterator[PaymentWorld]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'omniroute.db'}"
    upgrade(url)
    loop = asyncio.new_event_loop()
    clock = SteppedClock()
    fakes_context = running_fakes()
    fakes = loop.run_until_complete(fakes_context.__aenter__())
    services = build_services(fakes.settings(url), clock=clock, ids=RandomIds())
    server = TestServer(create_app(services.settings, build=lambda _s: services), host="127.0.0.1")
    loop.run_until_complete(server.start_server())
    for background in (services.requery, services.payout_sweeper):
        if background is not None:
            loop.run_until_complete(background.stop())
    try:
        yield PaymentWorld(loop, fakes, services, server, clock)
    finally:
        loop.run_until_complete(server.close())
        loop.run_until_complete(fakes_context.__aexit__(None, None, None))
        loop.close()
