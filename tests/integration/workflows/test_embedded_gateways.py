"""Two gateways on their embedded defaults on one machine: the second finds the first's
Temporal dev server answering on the port and uses it. Each gateway's orders must still be
carried by its own worker (the one that reads its database), not by whichever polls first."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.app.bootstrap import build_services
from core.app.server import create_app
from core.app.temporal_dev import embedded_temporal
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from engines.fulfilment.model import Stage
from tests.integration.workflows.conftest import until_stage
from tests.support.databases import migrated_sqlite
from tests.support.demo_template import seed_demo
from tests.support.phone import UssdPhone

pytestmark = [pytest.mark.real, pytest.mark.slow]


async def test_pay_on_delivery_orders_are_picked_while_another_gateway_shares_the_temporal(
    settings: Settings, sqlite_template: Path, tmp_path: Path, unused_tcp_port: int
) -> None:
    mine = settings.model_copy(update={"temporal_dev_port": unused_tcp_port})
    (tmp_path / "other").mkdir()
    other_db = migrated_sqlite(sqlite_template, tmp_path / "other" / "omniroute.db")
    theirs = mine.model_copy(update={"database_url": other_db})
    with (
        embedded_temporal(theirs, tmp_path / "other" / "var") as their_settings,
        embedded_temporal(mine, tmp_path / "var") as my_settings,
    ):
        # Another engineer's gateway, its worker running, on the same dev server.
        other = build_services(their_settings, clock=SteppedClock(), ids=RandomIds())
        await seed_demo(other.db, other.clock.now())
        await other.start()
        try:
            services = build_services(my_settings, clock=SteppedClock(), ids=RandomIds())
            await seed_demo(services.db, services.clock.now())
            app = create_app(my_settings, build=lambda _s: services)
            async with TestClient(TestServer(app)) as http:
                references = []
                for n in range(3):
                    phone = UssdPhone(cast(Any, http), f"+23480300000{n + 1:02d}")
                    await phone.dial()
                    screen = await phone.walk("1", "1", "1", "3", "3", "1", "1", "1")
                    found = re.search(r"Order (\w+) placed", screen.text)
                    assert found, screen.text
                    references.append(found.group(1))
                assert services.workflows is not None
                fulfilment = services.workflows.fulfilment
                for reference in references:
                    status = await until_stage(fulfilment.order(reference), Stage.IN_WAVE)
                    assert status.stage is Stage.IN_WAVE
                    # ... and released: the next routes plan takes it
                    assert (await services.orders.get(reference)).status.value == "picking"
        finally:
            await other.close()
