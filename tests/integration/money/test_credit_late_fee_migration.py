"""Late fees charged before fees were owed on the credit (booked on the receivable only, with no
SMS) are brought into what the credit owes by migration 0022, once: BAL and repayments reach
them. On SQLite and on the real PostgreSQL."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import delete, update

from core.app import ledger_cli
from core.app.bootstrap import Services
from core.app.cli_parser import build_parser
from core.clock import SteppedClock
from core.db.migrate import alembic_config
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.credit import CreditOrder, CreditStatus, late_fee_owed
from engines.credit.tables import credit_orders
from engines.ledger import TransferRequest, chart
from engines.notifications.tables import deliveries
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from tests.support.credit import DAY, DELIVERED, credit_history

JUMA = Phone("+254711000001")


async def _on_credit(services: Services, key: str) -> str:
    """An order bought on credit and delivered at once (its 7 days start now)."""
    order = await services.orders.place(
        PlaceOrder(
            JUMA, RegionCode.NAIROBI, (CartLine("NDL-INDO-CHK", 1),), PaymentMethod.CREDIT, key
        )
    )
    await services.relay.drain()  # the checkout's hold on the credit line
    for status in DELIVERED:
        await services.orders.advance(order.reference, status)
    await services.relay.drain()
    return order.reference


async def _as_the_first_fee_code_left_it(
    services: Services, credit: CreditOrder, *, repaid: bool = False
) -> None:
    """The fee on the receivable only, not on the credit, and no SMS about it; `repaid`: the
    principal paid since, all of it to the credit line (the old repayment), the fee left."""
    assert services.money is not None
    fee = late_fee_owed(credit)
    values: dict[str, object] = {
        "outstanding": (credit.outstanding - fee).amount,
        "late_fee_owed": Decimal(0),
    }
    if repaid:
        ledger = services.money.ledger
        rail = await services.money.books.account(chart.rail("mpesa", "KES"))
        line = await services.money.books.account(chart.credit_line(JUMA, "KES"))
        await ledger.transfer(
            TransferRequest.posted(
                chart.transfer_id("payment", "mpesa", "OLD-REPAY"),
                rail.id,
                line.id,
                credit.amount,
                code="repayment",
                reference="OLD-REPAY",
            )
        )
        values = {**values, "outstanding": Decimal(0), "status": "repaid"}
    async with services.db.transaction() as s:
        await s.execute(
            update(credit_orders)
            .where(credit_orders.c.order_reference == credit.order_reference)
            .values(values)
        )
        await s.execute(
            delete(deliveries).where(
                deliveries.c.dedupe_key == f"credit-late_fee:{credit.order_reference}"
            )
        )


async def test_late_fees_charged_before_they_were_owed_are_owed_once_and_repaid_first(
    services: Services, clock: SteppedClock, any_database_url: str
) -> None:
    """Juma's early late fees sat on his receivable: BAL did not show them and his repayments
    never reached them, so the books showed them owed for ever."""
    assert services.money is not None
    credit, ledger = services.money.credit, services.money.ledger
    await credit_history(services, clock, JUMA.e164)
    await credit.decide(JUMA)
    old, repaid, new = [await _on_credit(services, f"late-fee-{n}") for n in range(3)]
    receivable = chart.receivable(JUMA, "KES").code
    unpaid = (await ledger.account(receivable)).balance  # his orders paid on delivery
    clock.advance(11 * DAY)  # 7 days, then 3 days' grace: a fee on each
    fees = dict((await credit.run_daily()).late_fees)
    assert set(fees) == {old, repaid, new}
    charged = {c.order_reference: c for c in await credit.credits(JUMA)}
    await _as_the_first_fee_code_left_it(services, charged[old])
    await _as_the_first_fee_code_left_it(services, charged[repaid], repaid=True)
    fees_on_receivable = (await ledger.account(receivable)).balance - unpaid

    config = alembic_config(any_database_url)
    await asyncio.to_thread(command.downgrade, config, "0021")
    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.upgrade, config, "head")  # again: nothing more

    owed = {c.order_reference: c for c in await credit.credits(JUMA)}
    assert owed[old].outstanding == charged[old].outstanding  # principal and fee, as a new one
    assert late_fee_owed(owed[old]) == fees[old]
    assert (owed[repaid].status, owed[repaid].outstanding) == (CreditStatus.OPEN, fees[repaid])
    assert late_fee_owed(owed[repaid]) == fees[repaid]
    assert owed[new] == charged[new]  # owed already: untouched
    assert fees_on_receivable == fees[old] + fees[repaid] + fees[new]

    # One repayment of everything owed: each fee to the receivable, the rest to the line.
    everything = sum((c.outstanding for c in owed.values()), Money.zero("KES"))
    await credit.repay(JUMA, everything, "mpesa", "QK-ALL")
    assert all(c.status is CreditStatus.REPAID for c in await credit.credits(JUMA))
    assert (await ledger.account(receivable)).balance == unpaid  # every fee paid
    line = await ledger.account(chart.credit_line(JUMA, "KES").code)
    assert line.balance == Money.zero("KES")
    assert (await ledger.check()).balanced


async def test_the_next_daily_run_texts_a_fee_brought_in_by_the_migration_once(
    services: Services, clock: SteppedClock, any_database_url: str
) -> None:
    """The migration made Juma owe his early late fees (overdue at once, one credit open again
    after he had repaid it) without a word to him about them. The next credit run tells him, in
    his language, once per credit: what the fee is and what he owes; a fee texted when it was
    charged is not texted again."""
    assert services.money is not None
    credit = services.money.credit
    await credit_history(services, clock, JUMA.e164)
    await credit.decide(JUMA)
    old, repaid, new = [await _on_credit(services, f"fee-sms-{n}") for n in range(3)]
    clock.advance(11 * DAY)
    await credit.run_daily()
    charged = {c.order_reference: c for c in await credit.credits(JUMA)}
    await _as_the_first_fee_code_left_it(services, charged[old])
    await _as_the_first_fee_code_left_it(services, charged[repaid], repaid=True)
    config = alembic_config(any_database_url)
    await asyncio.to_thread(command.downgrade, config, "0021")
    await asyncio.to_thread(command.upgrade, config, "head")
    owed = {c.order_reference: c for c in await credit.credits(JUMA)}

    first, second = await credit.run_daily(), await credit.run_daily()
    texts = {
        d.dedupe_key: d.payload["reply"]
        for d in await services.notifications.for_recipient(JUMA)
        if d.dedupe_key.startswith("credit-late_fee:")
    }
    assert set(texts) == {f"credit-late_fee:{ref}" for ref in (old, repaid, new)}
    for ref in (old, repaid):
        reply = texts[f"credit-late_fee:{ref}"]
        assert isinstance(reply, dict)
        assert reply["locale"] == "sw"
        assert reply["text"] == (
            f"Oda {ref} imechelewa: ada ya kuchelewa ya {late_fee_owed(owed[ref]).format()} "
            f"imeongezwa. Sasa unadaiwa {owed[ref].outstanding.format()}. Tuma BAL kulipa."
        )
    assert sorted(first.fee_notices) == sorted([old, repaid])
    assert second.fee_notices == []  # once


async def test_credit_daily_by_hand_prints_the_fees_it_texted(
    services: Services,
    clock: SteppedClock,
    any_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An operator's `omniroute credit daily` that texted Juma a fee the migration brought in
    printed only 'N reminders, N late fees': nothing said which retailers had just been told
    of a fee. It now prints each, and how many."""
    assert services.money is not None
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", any_database_url)
    credit = services.money.credit
    await credit_history(services, clock, JUMA.e164)
    await credit.decide(JUMA)
    old = await _on_credit(services, "fee-cli-1")
    clock.advance(11 * DAY)
    await credit.run_daily()
    (charged,) = [c for c in await credit.credits(JUMA) if c.order_reference == old]
    await _as_the_first_fee_code_left_it(services, charged)
    config = alembic_config(any_database_url)
    await asyncio.to_thread(command.downgrade, config, "0021")
    await asyncio.to_thread(command.upgrade, config, "head")

    def credit_daily() -> int:
        args = build_parser().parse_args(["credit", "daily", "--now"])
        return ledger_cli.run(args, clock=clock)

    assert await asyncio.to_thread(credit_daily) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"late fee texted: {old}" in out
    assert out[-1] == "0 reminders, 0 late fees, 1 earlier late fees texted"
    assert await asyncio.to_thread(credit_daily) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "0 reminders, 0 late fees"  # once
