"""`omniroute drivers cash` and `omniroute drivers cash-in`: at the end of the day an operator
sees the cash each driver took at pay-on-delivery doors (one CSV row per driver, a decimal with
its currency) and records what a driver hands in at the depot: it leaves his cash for the
distributor's, once per hand-over slip (`--key`). More than he holds, a bad amount (or one in
kobo: door cash is whole naira) or an unknown driver is refused in one line, exit 2, and moves
nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from core.app.bootstrap import Services
from core.app.cash import CashHandOverError, DriverCash, HandedIn
from core.app.cash_cli import said
from core.app.cli import main
from core.config import Settings
from core.money import Money
from engines.gig import CodeCheck
from engines.ledger import TransferRequest, chart
from tests.integration.gig.test_days import packed
from tests.support.gig import BAYO, CHIDI, EMEKA, NGOZI, code_for, driver, order, route


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        object_store_url=f"file://{tmp_path / 'objects'}",
        _env_file=None,
    )


@pytest.fixture
def operator_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands run in their own process, on the gateway's database."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", settings.database_url)


async def drivers(*argv: str) -> int:
    """`omniroute drivers …` as an operator runs it."""
    return await asyncio.to_thread(main, ["drivers", *argv])


def held(out: str) -> dict[str, tuple[str, str, Money]]:
    """The CSV's rows by driver: name, region and the cash he holds."""
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len({r["driver"] for r in rows}) == len(rows)  # one row per driver
    return {
        r["driver"]: (r["name"], r["region"], Money(Decimal(r["cash"]), r["currency"]))
        for r in rows
    }


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


async def a_day_of_cash(services: Services) -> Money:
    """Emeka delivers Ngozi's 3 cartons and 1 of Chidi's 3, both paid in cash at the door;
    Bayo drives nothing. What Emeka took: what he was told to collect at each door, whole
    naira (nobody hands over kobo)."""
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    await driver(services, BAYO, "Bayo", capacity=1)
    first = await order(services, NGOZI, "cash-in-a", quantity=3)
    second = await order(services, CHIDI, "cash-in-b", quantity=3)
    for reference in (first, second):
        await packed(services, reference)
    task = await gig.create_task(
        route(
            "R-cash-in",
            [(first, NGOZI, "12 Broad St"), (second, CHIDI, "4 Marina")],
            services=services,
        )
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    hit = await gig.confirm_delivery(task.id, emeka.id, await code_for(services, NGOZI, first))
    assert hit.outcome is CodeCheck.DELIVERED
    short = await services.orders.deliver(second, {"NDL-INDO-CHK": 1})
    await services.relay.drain()
    return (await services.orders.get(first)).total.in_cash() + short.total.in_cash()


@pytest.mark.usefixtures("operator_env")
async def test_an_operator_sees_the_drivers_cash_and_records_a_hand_over_once(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    assert services.money is not None
    took = await a_day_of_cash(services)
    capsys.readouterr()

    assert await drivers("cash", "--region", "lagos") == 0
    rows = held(capsys.readouterr().out)
    assert rows[EMEKA.e164] == ("Emeka", "lagos", took)
    assert rows[BAYO.e164] == ("Bayo", "lagos", Money.zero("NGN"))

    part = Money(Decimal(20_000), "NGN")
    for _ in range(2):  # the slip keyed twice: recorded once
        assert await drivers("cash-in", EMEKA.e164, "20000", "--key", "SLIP-1") == 0
    said = capsys.readouterr().out.strip().splitlines()
    assert said[-2] == (
        f"Emeka ({EMEKA.e164}) handed in NGN 20,000.00 at the lagos depot:"
        f" still held {(took - part).format()}"
    )
    assert said[-1] == (
        f"hand-over SLIP-1 was already recorded (NGN 20,000.00 from {EMEKA.e164}): nothing done"
    )

    assert await drivers("cash", "--driver", EMEKA.e164) == 0
    assert held(capsys.readouterr().out) == {EMEKA.e164: ("Emeka", "lagos", took - part)}
    depot = await services.money.ledger.account(chart.depot_cash("lagos", "NGN").code)
    assert depot.balance == part

    # He hands in the rest of the notes he took: he holds nothing, no kobo left to go overdue.
    rest = f"{(took - part).amount:f}"
    assert await drivers("cash-in", EMEKA.e164, rest, "--key", "SLIP-2") == 0
    capsys.readouterr()
    assert await drivers("cash", "--driver", EMEKA.e164) == 0
    assert held(capsys.readouterr().out) == {EMEKA.e164: ("Emeka", "lagos", Money.zero("NGN"))}
    assert (await services.money.ledger.check()).balanced


@pytest.mark.usefixtures("operator_env")
async def test_a_hand_over_he_cannot_make_is_refused_in_one_line(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    assert services.money is not None
    took = await a_day_of_cash(services)
    capsys.readouterr()
    more = (took + Money(Decimal(1), "NGN")).amount

    refusals = [
        (
            (EMEKA.e164, str(more)),
            f"{EMEKA.e164} holds {took.format()}: cannot hand in NGN {more:,.2f}",
        ),
        ((EMEKA.e164, "12.345"), "12.345 is not an amount of NGN cash"),
        # door cash is whole naira: kobo he never took cannot be handed in
        ((EMEKA.e164, "100.50"), "100.50 is not an amount of NGN cash: the smallest is NGN 1"),
        (("+2348039999998", "100"), "no driver with phone +2348039999998"),
        (("08031000001x", "100"), "PHONE: "),
    ]
    for argv, reason in refusals:
        assert await drivers("cash-in", *argv) == 2
        assert last_line(capsys.readouterr().err).startswith(f"omniroute drivers cash-in: {reason}")
    with pytest.raises(SystemExit) as bad:  # argparse's exit, as for every bad argument
        await drivers("cash-in", EMEKA.e164, "ten")
    assert bad.value.code == 2
    assert last_line(capsys.readouterr().err).endswith("not an amount of cash: 'ten'")
    assert await drivers("cash", "--driver", "+2348039999998") == 2
    assert last_line(capsys.readouterr().err) == (
        "omniroute drivers cash: no driver with phone +2348039999998"
    )

    emeka = await services.money.ledger.account(chart.driver_cash(EMEKA, "NGN").code)
    assert emeka.balance == took  # nothing moved


@pytest.mark.parametrize("any_database_url", ["sqlite"], indirect=True)
async def test_all_he_still_holds_is_handed_in_kobo_and_all(services: Services) -> None:
    """Emeka took a door's cash before the cash rounding, booked kobo and all (NGN ....26): since
    cash-in takes whole naira only, he could never clear it, and the kobo went overdue and were
    withheld from his pay. All he holds is taken whatever its kobo; any other amount with kobo
    is still refused."""
    assert services.money is not None
    books = services.money.books
    took = await a_day_of_cash(services)
    kobo = Money(Decimal("0.26"), "NGN")
    debtor = await books.customer_account(NGOZI, "NGN", on_credit=False)
    his = await books.account(chart.driver_cash(EMEKA, "NGN"))
    await books.ledger.transfer(  # as the door's cash was booked before the rounding
        TransferRequest.posted(
            chart.transfer_id("cash", "before-rounding"), his.id, debtor.id, kobo, code="cash"
        )
    )
    holds = took + kobo
    cash = DriverCash(books, services.gig, services.clock)

    with pytest.raises(CashHandOverError, match=r"is not an amount of NGN cash"):
        await cash.hand_in(EMEKA, (holds - Money(Decimal(1), "NGN")).amount)
    handed = await cash.hand_in(EMEKA, holds.amount, "SLIP-ALL")

    assert (handed.amount, handed.left) == (holds, Money.zero("NGN"))
    [row] = await cash.held(driver=EMEKA)
    assert (row.cash, row.overdue) == (Money.zero("NGN"), False)
    depot = await services.money.ledger.account(chart.depot_cash("lagos", "NGN").code)
    assert depot.balance == holds


async def test_one_slip_keyed_at_once_with_one_amount_is_handed_in_once_and_said_once(
    services: Services,
) -> None:
    """Two operators key the same slip with the same amount at the same moment: both were told
    'handed in' though the depot took it once. The second is told it was already recorded."""
    assert services.money is not None
    await a_day_of_cash(services)
    cash = DriverCash(services.money.books, services.gig, services.clock)

    results = await asyncio.gather(
        cash.hand_in(EMEKA, Decimal(20_000), "SLIP-7"),
        cash.hand_in(EMEKA, Decimal(20_000), "SLIP-7"),
    )

    told = sorted(said(r).split(" ", 1)[0] for r in results)
    assert told == ["Emeka", "hand-over"], [said(r) for r in results]
    depot = await services.money.ledger.account(chart.depot_cash("lagos", "NGN").code)
    assert depot.balance == Money(Decimal(20_000), "NGN")


async def test_one_slip_keyed_at_once_with_two_amounts_is_refused_in_one_line(
    services: Services,
) -> None:
    """Two operators key the same slip number with different amounts at the same moment: one
    hand-over is recorded, the other gets the one-line refusal the second of two in turn gets
    (it ended in a traceback: the ledger's clash with the first was not its refusal)."""
    assert services.money is not None
    await a_day_of_cash(services)
    cash = DriverCash(services.money.books, services.gig, services.clock)

    results = await asyncio.gather(
        cash.hand_in(EMEKA, Decimal(20_000), "SLIP-7"),
        cash.hand_in(EMEKA, Decimal(15_000), "SLIP-7"),
        return_exceptions=True,
    )

    [done] = [r for r in results if isinstance(r, HandedIn)]
    [refused] = [r for r in results if not isinstance(r, HandedIn)]
    assert isinstance(refused, CashHandOverError), refused
    assert str(refused) == f"--key SLIP-7 was used for another hand-over ({done.amount.format()})"
    depot = await services.money.ledger.account(chart.depot_cash("lagos", "NGN").code)
    assert depot.balance == done.amount
