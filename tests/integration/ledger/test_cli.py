"""`omniroute ledger check|rebuild` on a real database file."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import update

from core.app.cli import main
from core.clock import SteppedClock
from core.db import Database
from core.ids import RandomIds
from core.money import Money
from engines.ledger import AccountType, LedgerService, TransferRequest
from engines.ledger.tables import ledger_accounts


async def _books(url: str, *, tamper: bool) -> None:
    db = Database(url)
    ledger = LedgerService(db, SteppedClock(), RandomIds())
    try:
        cash = await ledger.open_account("rail:mpesa:KES", AccountType.ASSET, "KES")
        sales = await ledger.open_account("sales:KES", AccountType.REVENUE, "KES")
        await ledger.transfer(
            TransferRequest.posted(uuid.uuid4(), cash.id, sales.id, Money(Decimal(450), "KES"))
        )
        if tamper:
            async with db.transaction() as s:
                await s.execute(
                    update(ledger_accounts)
                    .where(ledger_accounts.c.id == sales.id)
                    .values(credits_posted=Decimal(500))
                )
    finally:
        await ledger.close()
        await db.dispose()


def test_check_passes_on_sound_books_and_rebuild_repairs_a_tampered_one(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    asyncio.run(_books(database_url, tamper=False))
    assert main(["ledger", "check"]) == 0
    out = capsys.readouterr().out
    assert "KES: debits 450.00 credits 450.00 balanced" in out
    assert out.rstrip().endswith("ledger OK")

    asyncio.run(_books(database_url, tamper=True))  # a second transfer, then a hand edit
    assert main(["ledger", "check"]) == 1
    assert "mismatch sales:KES (sums)" in capsys.readouterr().out
    assert main(["ledger", "rebuild"]) == 0
    assert "1 accounts repaired" in capsys.readouterr().out
    assert main(["ledger", "check"]) == 0


def test_a_bad_action_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["ledger", "balance"])
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
