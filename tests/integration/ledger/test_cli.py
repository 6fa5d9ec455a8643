"""`omniroute ledger check|rebuild` on a real database file."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from core.app import ledger_cli
from core.app.cli import build_parser, main
from core.clock import SteppedClock
from core.db import Database
from core.ids import RandomIds
from core.money import Money
from core.phone import Phone
from engines.ledger import AccountType, Books, LedgerService, TransferRequest
from engines.ledger.tables import ledger_accounts
from engines.settlement.tables import settlement_claims


@contextlib.asynccontextmanager
async def _ledger(url: str, clock: SteppedClock | None = None) -> AsyncIterator[LedgerService]:
    """The ledger on the database the command line uses, closed afterwards (2026-01-05 12:00
    in Nairobi unless `clock` says otherwise)."""
    db = Database(url)
    ledger = LedgerService(db, clock or SteppedClock(), RandomIds())
    try:
        yield ledger
    finally:
        await ledger.close()
        await db.dispose()


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


JAN_10 = dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC)  # days after the payments
FEB_9 = dt.datetime(2026, 2, 9, 9, 0, tzinfo=dt.UTC)


def settle(*flags: str, now: dt.datetime = JAN_10) -> int:
    """`omniroute settle …` run at `now`: a first settlement goes back at most 31 days."""
    args = build_parser().parse_args(["settle", *flags])
    return ledger_cli.run(args, clock=SteppedClock(now))


async def _payments(url: str) -> None:
    async with _ledger(url) as ledger:
        books = Books(ledger)
        juma = Phone("+254711000001")
        await books.post_payment_received(juma, Money(Decimal(1000), "KES"), "mpesa", "QKA1")
        await books.post_payment_received(juma, Money(Decimal(250), "KES"), "mpesa", "QKA2")
        await books.post_refund(juma, Money(Decimal(50), "KES"), "mpesa", "R1", payment_ref="QKA2")


def test_settle_credit_and_reconcile_from_the_command_line(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    asyncio.run(_payments(database_url))
    assert settle("--day", "2026-01-05") == 0
    out = capsys.readouterr().out
    assert (
        "nairobi 2026-01-05: 2 payments, gross KES 1,250.00, cash KES 0.00 in at the depot (0 "
        "hand-overs; taken at doors KES 0.00 from 0 orders, held by drivers KES 0.00, handed in "
        "KES 0.00), refunds KES 50.00, fees KES 0.00, "
        "commission KES 36.00, carried KES 0.00, net KES 1,164.00, payout KES 1,164.00"
    ) in out
    assert main(["credit", "daily"]) == 0
    assert "0 reminders, 0 late fees" in capsys.readouterr().out

    statement = tmp_path / "mpesa.csv"
    statement.write_text(
        "Receipt,Amount\nQKA1,1000.00\nQKA2,205.00\nQKA2,-50.00\n", encoding="utf-8"
    )
    args = ["reconcile", "mpesa", str(statement), "--day", "2026-01-05", "--currency", "KES"]
    assert main(args) == 1
    assert capsys.readouterr().out.splitlines() == [
        "status,external_ref,ours,theirs,currency",
        "matched,QKA1,1000.00,1000.00,KES",
        "amount_mismatch,QKA2,250.00,205.00,KES",
        "matched,QKA2,-50.00,-50.00,KES",
    ]
    statement.write_text("Receipt,Amount\nQKA1,lots\n", encoding="utf-8")
    assert main(args) == 2
    assert "line 2" in capsys.readouterr().err


async def _early_payment(url: str) -> None:
    # 01:30 on 5 January in Nairobi, still the 4th in UTC
    early = SteppedClock(dt.datetime(2026, 1, 4, 22, 30, tzinfo=dt.UTC))
    async with _ledger(url, early) as ledger:
        juma = Phone("+254711000001")
        await Books(ledger).post_payment_received(juma, Money(Decimal(700), "KES"), "mpesa", "QKE1")


def test_a_statement_is_reconciled_for_the_local_day_of_its_currency(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The M-Pesa statement of 5 January (Nairobi time, as the day's settlement) lists a payment
    made at 01:30: without --timezone, the KES day is Nairobi's, so it matches."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    asyncio.run(_early_payment(database_url))
    statement = tmp_path / "mpesa.csv"
    statement.write_text("Receipt,Amount\nQKE1,700.00\n", encoding="utf-8")
    args = ["reconcile", "mpesa", str(statement), "--day", "2026-01-05", "--currency", "KES"]
    assert main(args) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["matched,QKE1,700.00,700.00,KES"]
    assert main([*args, "--timezone", "UTC"]) == 1  # the 5th in UTC began after it


def test_a_statement_saved_by_excel_is_read(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Excel's "CSV UTF-8" starts the file with a byte order mark: the header is still read."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    asyncio.run(_payments(database_url))
    statement = tmp_path / "mpesa.csv"
    statement.write_text("Receipt,Amount\nQKA1,1000.00\n", encoding="utf-8-sig")
    args = ["reconcile", "mpesa", str(statement), "--day", "2026-01-05", "--currency", "KES"]
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines()[1] == "matched,QKA1,1000.00,1000.00,KES"
    # saved as "CSV (Comma delimited)", Windows-1252: not UTF-8, said in one line, not a traceback
    statement.write_bytes(b"Receipt,Amount,Details\nQKA1,1000.00,Caf\xe9 Mama Njeri\n")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"omniroute reconcile: {statement}: not UTF-8 text (save as CSV UTF-8)"
    ]


def test_settling_a_day_not_over_yet_is_refused_in_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Today's batch would be recorded with this morning's payments only, and the rest of the
    day's never paid out: refused, nothing recorded, and yesterday is still settled."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    assert main(["settle", "--day", tomorrow]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[0] == (
        f"omniroute settle: lagos {tomorrow}: the day is not over yet in Africa/Lagos"
    )
    assert main(["settle"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


@pytest.mark.parametrize(
    ("option", "given", "reason"),
    [
        ("--currency", "kes", "not an ISO 4217 currency (e.g. KES): 'kes'"),
        ("--timezone", "Africa/Nairob", "not a time zone (e.g. Africa/Nairobi): 'Africa/Nairob'"),
    ],
)
def test_a_mistyped_currency_or_time_zone_is_one_line_and_exit_2(
    option: str,
    given: str,
    reason: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Exit 1 means the statement differs: a typo must not look like a difference (or like an
    unreadable amount), nor end in a traceback."""
    statement = tmp_path / "mpesa.csv"
    statement.write_text("Receipt,Amount\nQKA1,1000.00\n", encoding="utf-8")
    args = ["reconcile", "mpesa", str(statement), "--day", "2026-01-05", "--currency", "KES"]
    with pytest.raises(SystemExit) as exited:
        main([*args, option, given])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith(f"argument {option}: {reason}")


def test_a_currency_the_rail_never_took_is_one_line_and_exit_2(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """M-Pesa's statement reconciled in NGN (Lagos's currency, not M-Pesa's) listed every row
    as missing on our side, exit 1, as if its KES 1,000 had never reached the books."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    asyncio.run(_payments(database_url))
    statement = tmp_path / "mpesa.csv"
    statement.write_text("Receipt,Amount\nQKA1,1000.00\n", encoding="utf-8")
    args = ["reconcile", "mpesa", str(statement), "--day", "2026-01-05", "--currency", "NGN"]
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "omniroute reconcile: mpesa has taken no NGN: its payments are in KES"
    ]


async def _owed_to(url: str, distributor: str, currency: str) -> tuple[Money, Money]:
    """(posted balance, held for payout) of what the platform owes the distributor."""
    async with _ledger(url) as ledger:
        account = await ledger.account(f"distributor:{distributor}:{currency}")
        return account.balance, Money(account.balances.debits_pending, currency)


def test_the_banks_answer_on_a_distributors_payout_is_recorded_from_the_command_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Settle holds Nairobi's KES 1,164.00; the operator records what the bank answered: paid
    posts it (once, however often it is typed), and a refusal afterwards is told, not applied."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    asyncio.run(_payments(database_url))
    assert settle("--day", "2026-01-05") == 0
    capsys.readouterr()
    held = asyncio.run(_owed_to(database_url, "nairobi", "KES"))
    owed = Money(Decimal("1164.00"), "KES")
    assert held == (owed, owed)

    for _ in range(2):
        assert main(["settle", "--day", "2026-01-05", "--paid", "nairobi"]) == 0
        assert capsys.readouterr().out == "nairobi 2026-01-05: payout KES 1,164.00 posted\n"
    assert asyncio.run(_owed_to(database_url, "nairobi", "KES")) == (
        Money(Decimal(0), "KES"),
        Money(Decimal(0), "KES"),
    )

    assert main(["settle", "--day", "2026-01-05", "--unpaid", "nairobi"]) == 2
    assert capsys.readouterr().err == (
        "omniroute settle: nairobi 2026-01-05: that payout was already confirmed paid\n"
    )


def test_a_refused_payout_is_released_and_still_owed(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    asyncio.run(_payments(database_url))
    assert settle("--day", "2026-01-05") == 0
    capsys.readouterr()

    assert main(["settle", "--day", "2026-01-05", "--unpaid", "nairobi"]) == 0

    assert capsys.readouterr().out == (
        "nairobi 2026-01-05: payout KES 1,164.00 released, still owed to nairobi: the next "
        "settlement pays it\n"
    )
    owed = Money(Decimal("1164.00"), "KES")
    assert asyncio.run(_owed_to(database_url, "nairobi", "KES")) == (owed, Money(Decimal(0), "KES"))


async def _run_holds(url: str, distributor: str, *, held: bool) -> None:
    """A settlement run of the distributor in another process takes (or lets go of) its claim,
    as `SettlementService.settle_through` does while it settles and holds payouts."""
    db = Database(url)
    try:
        async with db.transaction() as s:
            if held:
                now = dt.datetime.now(dt.UTC)
                await s.execute(
                    settlement_claims.insert().values(
                        distributor=distributor,
                        holder=uuid.uuid4(),
                        claimed_at=now,
                        expires_at=now + dt.timedelta(minutes=30),
                    )
                )
            else:
                await s.execute(
                    delete(settlement_claims).where(settlement_claims.c.distributor == distributor)
                )
    finally:
        await db.dispose()


@pytest.mark.parametrize("answer", ["--paid", "--unpaid"])
def test_a_payout_answer_while_its_distributor_is_being_settled_is_refused_in_one_line(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
) -> None:
    """An answer landing in the middle of a run of the same distributor (which is reading what
    is held and paid to hold its own payout) is refused, nothing recorded, and told in one
    line; given again once the run is done, it is recorded."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    asyncio.run(_payments(database_url))
    assert settle("--day", "2026-01-05") == 0
    capsys.readouterr()
    owed = Money(Decimal("1164.00"), "KES")

    asyncio.run(_run_holds(database_url, "nairobi", held=True))
    assert main(["settle", "--day", "2026-01-05", answer, "nairobi"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "omniroute settle: nairobi 2026-01-05: a settlement of nairobi is running (or another "
        "payout answer); nothing recorded, answer again once it is done\n"
    )
    assert asyncio.run(_owed_to(database_url, "nairobi", "KES")) == (owed, owed)

    asyncio.run(_run_holds(database_url, "nairobi", held=False))
    assert main(["settle", "--day", "2026-01-05", answer, "nairobi"]) == 0
    assert asyncio.run(_owed_to(database_url, "nairobi", "KES")) != (owed, owed)


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (
            ["--paid", "nairobi"],
            "omniroute settle: --paid needs --day, the day whose payout it was",
        ),
        (
            ["--day", "2026-01-04", "--paid", "nairobi"],
            "omniroute settle: nairobi 2026-01-04: no payout is held for that day "
            "(not settled yet, or nothing to pay)",
        ),
    ],
)
def test_a_payout_answer_without_a_held_payout_is_one_line_and_exit_2(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    reason: str,
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    assert main(["migrate"]) == 0
    capsys.readouterr()

    assert main(["settle", *args]) == 2

    assert capsys.readouterr().err.splitlines() == [reason]


def test_paid_and_unpaid_together_or_for_an_unknown_distributor_are_refused_at_parsing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for args in (["--paid", "nairobi", "--unpaid", "nairobi"], ["--paid", "mombasa"]):
        with pytest.raises(SystemExit) as exited:
            main(["settle", "--day", "2026-01-05", *args])
        assert exited.value.code == 2
        assert capsys.readouterr().err.strip().splitlines()[-1].startswith("omniroute settle: ")


def test_settle_after_missed_days_settles_them_first_and_names_the_day_beyond_a_month(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    asyncio.run(_payments(database_url))
    assert settle("--day", "2026-01-05") == 0
    capsys.readouterr()

    assert settle("--day", "2026-02-08", now=FEB_9) == 2  # 33 days unsettled before it
    out, err = capsys.readouterr()
    assert out == ""
    assert (
        "omniroute settle: nairobi 2026-02-08: 33 days before it are unsettled (since "
        "2026-01-06); settle --day 2026-02-05 first (31 days at a time)"
    ) in err.splitlines()

    assert settle("--day", "2026-01-07", now=FEB_9) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("nairobi")]
    assert [line.split(":")[0] for line in lines] == ["nairobi 2026-01-06", "nairobi 2026-01-07"]


def test_a_first_settlement_typed_years_back_is_refused_and_records_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Recorded, 2023-01-05 would be the day every later settle catches up from, 31 days at a
    time: each of them refused by the catch-up limit for years."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    asyncio.run(_payments(database_url))
    assert settle("--day", "2023-01-05") == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert (
        "omniroute settle: nairobi 2023-01-05: nothing is settled yet, and a first settlement "
        "goes back at most 31 days (--day 2025-12-10 or later)"
    ) in err.splitlines()
    assert settle("--day", "2026-01-05") == 0  # nothing was recorded that day
    assert "nairobi 2026-01-05: 2 payments" in capsys.readouterr().out
