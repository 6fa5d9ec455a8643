"""`omniroute drivers pay`: an operator pays a region's drivers from the terminal; with no payout
rail configured the payouts stay pending and the report says so."""

from __future__ import annotations

import asyncio
import json

import pytest

from core.app.bootstrap import build_services
from core.app.cli import main
from core.clock import SystemClock
from core.config import Settings
from core.ids import RandomIds
from tests.journeys.test_driver_payouts import WANJIKU, a_day_of_deliveries
from tests.support.demo_template import seed_demo


def test_drivers_pay_without_a_payout_rail_reports_the_payout_pending(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def seed() -> None:
        services = build_services(
            Settings(env="test", database_url=database_url, _env_file=None),
            clock=SystemClock(),
            ids=RandomIds(),
        )
        try:
            await seed_demo(services.db, services.clock.now())
            await a_day_of_deliveries(services)
        finally:
            await services.close()

    asyncio.run(seed())
    capsys.readouterr()  # the seeding's logs
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    for _ in range(2):  # the second run finds the same payout, still pending, and sends nothing
        assert main(["drivers", "pay", "--region", "nairobi"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["region"] == "nairobi"
        assert report["sent"] == []
        [pending] = report["pending"]
        assert (pending["phone"], pending["amount"], pending["currency"]) == (
            WANJIKU.e164,
            "245.00",
            "KES",
        )
