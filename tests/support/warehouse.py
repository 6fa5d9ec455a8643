"""The WMS tests' gateway: Lagos with the demo catalogue and a rack layout of the test's size."""

from __future__ import annotations

from core.app.bootstrap import Services, build_services
from core.clock import SteppedClock
from core.config import Settings
from core.ids import RandomIds
from engines.wms import Layout, Zone, grid
from tests.support.demo_template import seed_demo

WH = "WH-LAGOS"


async def lagos_with_racks(database_url: str, *, aisles: int, bays: int, capacity: int) -> Services:
    """The demo catalogue (its stock on hand, loaded outside the WMS) and empty racks of two
    levels in one dry-goods zone; the caller closes the services."""
    built = build_services(
        Settings(env="test", database_url=database_url, _env_file=None),
        clock=SteppedClock(),
        ids=RandomIds(),
    )
    await seed_demo(built.db, built.clock.now())
    await built.warehouse.define(
        Layout(WH, depth=20.0),
        [Zone(f"{WH}:dry", WH, "Dry goods")],
        grid(WH, f"{WH}:dry", aisles=aisles, bays=bays, levels=2, capacity=capacity),
    )
    return built
