"""`omniroute payments requery`: one pass for cron or an operator."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from core.app.bootstrap import build_services
from core.app.cli import main
from core.clock import SteppedClock
from core.config import Settings
from core.db.migrate import upgrade
from core.money import Money
from core.phone import Phone
from engines.payments import CreatePayment, IntentStatus, Method


def test_requery_command_settles_a_payment_that_was_never_submitted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'omniroute.db'}"
    upgrade(url)
    env = {
        "OMNIROUTE_DATABASE_URL": url,
        "OMNIROUTE_MOMO_SUBSCRIPTION_KEY": "k",
        "OMNIROUTE_MOMO_API_USER": "u",
        "OMNIROUTE_MOMO_API_KEY": "p",
        "OMNIROUTE_MOMO_BASE_URL": "http://127.0.0.1:9",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    an_hour_ago = SteppedClock(datetime.now(UTC) - timedelta(hours=1))

    async def create() -> str:
        services = build_services(Settings(), clock=an_hour_ago)
        try:
            assert services.payments is not None
            intent = await services.payments.create(
                CreatePayment(
                    idempotency_key="stuck",
                    method=Method.MOMO,
                    amount=Money(Decimal("10.00"), "NGN"),
                    customer=Phone("+2348030000001"),
                )
            )
            return str(intent.id)
        finally:
            await services.close()

    intent_id = asyncio.run(create())
    assert main(["payments", "requery"]) == 0
    assert "checked 1 payments: 1 settled, 0 still open" in capsys.readouterr().out

    async def status() -> IntentStatus:
        services = build_services(Settings())
        try:
            assert services.payments is not None
            return (await services.payments.get(uuid.UUID(intent_id))).status
        finally:
            await services.close()

    assert asyncio.run(status()) is IntentStatus.FAILED


def test_refunds_pending_lists_none_and_exits_0_when_nothing_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'omniroute.db'}"
    upgrade(url)
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)

    assert main(["refunds", "pending"]) == 0
    assert capsys.readouterr().out == "0 refunds pending, 0 waiting on someone\n"
