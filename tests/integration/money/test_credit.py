"""A Lagos retailer buys on credit and repays it; reminders, late fees and blocks as stated."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import replace
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from core.app import ledger_cli
from core.app.bootstrap import Services
from core.app.cli_parser import build_parser
from core.app.payment_posting import PaymentPosting
from core.clock import SteppedClock
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.credit import (
    CreditRefusedError,
    CreditRefusedReason,
    CreditService,
    CreditStatus,
    decide_limit,
)
from engines.ledger import Books, LedgerService, chart
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from engines.payments.events import PaymentSucceeded

NGOZI = Phone("+2348030000001")
DAY = 86_400
_keys = itertools.count(1)
LIFECYCLE = [
    OrderStatus.CONFIRMED,
    OrderStatus.PICKING,
    OrderStatus.PACKED,
    OrderStatus.DISPATCHED,
    OrderStatus.DELIVERED,
]


def ngn(amount: str | int) -> Money:
    return Money(Decimal(amount), "NGN")


async def _delivered_order(services: Services, quantity: int) -> Money:
    order = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", quantity),),
            PaymentMethod.ON_DELIVERY,
            f"history-{next(_keys)}",
        )
    )
    for status in LIFECYCLE:
        await services.orders.advance(order.reference, status)
    return order.total


async def _history(services: Services, clock: SteppedClock) -> Money:
    total = ngn(0)
    for _ in range(3):
        total = total + await _delivered_order(services, 4)
        clock.advance(20 * DAY)
    return total


async def test_no_history_no_credit(credit: CreditService) -> None:
    decision = await credit.decide(NGOZI)
    assert decision.limit == ngn(0)
    with pytest.raises(CreditRefusedError) as refused:
        await credit.authorise("AAAAAA", NGOZI, ngn(1000))
    assert refused.value.reason is CreditRefusedReason.NO_CREDIT


async def test_buy_on_credit_within_the_limit_and_repay_by_any_rail(
    services: Services,
    clock: SteppedClock,
    credit: CreditService,
    ledger: LedgerService,
    books: Books,
) -> None:
    bought = await _history(services, clock)
    decision = await credit.decide(NGOZI)
    # half a usual month: bought over 60 days, counted over 90 -> bought / 3 / 2, to NGN 1,000
    expected = (bought.amount / 3 / 2 // 1000) * 1000
    assert decision.limit == ngn(expected)
    assert decision.term_days == 7
    assert await credit.available(NGOZI) == decision.limit

    first = await credit.authorise("CRED01", NGOZI, ngn(10_000))
    assert (first.due_on, first.term_days) == (None, 7)  # due 7 days after delivery
    assert await credit.authorise("CRED01", NGOZI, ngn(10_000)) == first  # a retried checkout
    delivered = await credit.delivered("CRED01", clock.now())
    assert delivered is not None
    assert delivered.due_on is not None
    assert delivered.due_on.isoformat() == "2026-03-13"  # delivered 6 March (Lagos), + 7
    assert await credit.available(NGOZI) == decision.limit - ngn(10_000)
    with pytest.raises(CreditRefusedError) as refused:
        await credit.authorise("CRED02", NGOZI, decision.limit)
    assert refused.value.reason is CreditRefusedReason.INSUFFICIENT
    second = await credit.authorise("CRED03", NGOZI, ngn(4_000))
    assert second.status is CreditStatus.OPEN

    # a repayment by M-Pesa pays the oldest first; the webhook arrives twice
    paid = await credit.repay(NGOZI, ngn(12_000), "mpesa", "QK12345678")
    again = await credit.repay(NGOZI, ngn(12_000), "mpesa", "QK12345678")
    assert again.duplicate
    owed = {c.order_reference: c.outstanding for c in await credit.credits(NGOZI)}
    assert owed == {"CRED01": ngn(0), "CRED03": ngn(2_000)}
    assert paid.unapplied == ngn(0)
    # and the rest by bank transfer
    await credit.repay(NGOZI, ngn(2_000), "paystack", "T-889")
    assert all(c.status is CreditStatus.REPAID for c in await credit.credits(NGOZI))
    assert await credit.available(NGOZI) == decision.limit
    assert (await ledger.account("rail:mpesa:NGN")).balance == ngn(12_000)
    # once delivered, the holds become the debt the repayments settled
    await books.order_delivered("CRED01", ngn(697.67))
    await books.order_delivered("CRED03", ngn(279.07))
    assert (await books.account(chart.credit_line(NGOZI, "NGN"))).balance == ngn(0)
    assert (await ledger.account("vat:NGN")).balance == ngn("976.74")
    report = await ledger.check()
    assert report.balanced


async def test_a_repayment_of_more_than_she_owes_keeps_the_rest_as_credit_on_her_account(
    services: Services, clock: SteppedClock, credit: CreditService, books: Books
) -> None:
    """Ngozi owes NGN 5,000 on credit and sends NGN 9,000 into her account: the NGN 4,000 over
    is hers to spend (Balance shows it, checkout offers it), not hidden on her credit line,
    where it raised her credit past its limit and her next credit order still asked it all."""
    await _history(services, clock)
    limit = (await credit.decide(NGOZI)).limit
    await credit.authorise("CRED10", NGOZI, ngn(5_000))
    await credit.delivered("CRED10", clock.now())
    await books.order_delivered("CRED10", ngn(0))
    kept = await books.account_credit(NGOZI, "NGN")

    paid = await credit.repay(NGOZI, ngn(9_000), "paystack", "T-OVER")

    assert paid.unapplied == ngn(4_000)
    assert await books.account_credit(NGOZI, "NGN") == kept + ngn(4_000)
    assert await credit.available(NGOZI) == limit
    assert (await books.account(chart.credit_line(NGOZI, "NGN"))).balance == ngn(0)
    assert (await books.ledger.check()).balanced


async def test_reminders_then_overdue_blocks_credit_and_charges_a_late_fee_once(
    services: Services, clock: SteppedClock, credit: CreditService, ledger: LedgerService
) -> None:
    await _history(services, clock)
    before = (await credit.decide(NGOZI)).limit
    await credit.authorise("LATE01", NGOZI, ngn(5_000))  # due in 7 days
    await credit.delivered("LATE01", clock.now())  # at once
    clock.advance(4 * DAY)
    assert (await credit.run_daily()).reminders == []
    clock.advance(1 * DAY)  # two days before
    run = await credit.run_daily()
    assert [(r, k.value) for r, k in run.reminders] == [("LATE01", "due_soon")]
    assert (await credit.run_daily()).reminders == []  # once
    sms = [
        d
        for d in await services.notifications.for_recipient(NGOZI)
        if d.dedupe_key.startswith("credit-")
    ]
    assert len(sms) == 1
    clock.advance(3 * DAY)  # the day after the due date
    run = await credit.run_daily()
    assert [k.value for _, k in run.reminders] == ["overdue"]
    assert await credit.blocked(NGOZI)
    with pytest.raises(CreditRefusedError) as refused:
        await credit.authorise("LATE02", NGOZI, ngn(100))
    assert refused.value.reason is CreditRefusedReason.OVERDUE
    clock.advance(3 * DAY)
    assert (await credit.run_daily()).late_fees == [("LATE01", ngn(100))]  # 2 % of 5,000
    assert (await credit.run_daily()).late_fees == []
    await credit.repay(NGOZI, ngn(5_100), "mpesa", "QK-LATE")  # the credit and its fee
    assert not await credit.blocked(NGOZI)
    # the repayment re-decided the line at once: being late halved it
    after = (await credit.terms(NGOZI)).limit  # type: ignore[union-attr]
    assert Money.zero("NGN") < after < before
    assert (await ledger.check()).balanced


async def test_concurrent_checkouts_never_take_more_than_the_limit(
    services: Services, clock: SteppedClock, credit: CreditService, ledger: LedgerService
) -> None:
    await _history(services, clock)
    limit = (await credit.decide(NGOZI)).limit
    share = Money(limit.amount / 4, "NGN")
    results = await asyncio.gather(
        *(credit.authorise(f"RACE{i:02d}", NGOZI, share) for i in range(10)),
        return_exceptions=True,
    )
    granted = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, CreditRefusedError)]
    assert len(granted) == 4
    assert len(refused) == 6
    assert await credit.available(NGOZI) == ngn(0)
    report = await ledger.check()
    assert report.balanced
    assert report.over_limit == []


async def test_reminders_speak_the_language_the_retailer_chose(
    services: Services, clock: SteppedClock, credit: CreditService
) -> None:
    """Juma in Nairobi chose English; his credit reminders came in Swahili, his market's."""
    juma = Phone("+254711000001")
    await services.customers.set_locale(juma, "en")
    for _ in range(3):
        order = await services.orders.place(
            PlaceOrder(
                juma,
                RegionCode.NAIROBI,
                (CartLine("NDL-INDO-CHK", 10),),
                PaymentMethod.ON_DELIVERY,
                f"history-{next(_keys)}",
            )
        )
        for status in LIFECYCLE:
            await services.orders.advance(order.reference, status)
        clock.advance(20 * DAY)
    await credit.authorise("JUMA01", juma, Money(Decimal(2_000), "KES"))  # due in 7 days
    await credit.delivered("JUMA01", clock.now())  # at once
    clock.advance(5 * DAY)

    assert [k.value for _, k in (await credit.run_daily()).reminders] == ["due_soon"]

    [sms] = [
        d
        for d in await services.notifications.for_recipient(juma)
        if d.dedupe_key.startswith("credit-")
    ]
    reply = sms.payload["reply"]
    assert isinstance(reply, dict)
    assert reply["text"].startswith("Reminder: KES 2,000.00 for order JUMA01 is due on")
    assert reply["locale"] == "en"


async def test_a_lagos_reminder_does_not_send_her_to_mpesa(
    services: Services, clock: SteppedClock, credit: CreditService
) -> None:
    """'Pay by M-Pesa, bank transfer or to your agent', said to a retailer in Lagos, where
    there is no M-Pesa: the reminders now send her to BAL, which offers her country's rails."""
    await _history(services, clock)
    await credit.authorise("LAGOS1", NGOZI, ngn(5_000))  # due in 7 days
    await credit.delivered("LAGOS1", clock.now())  # at once
    clock.advance(5 * DAY)
    await credit.run_daily()
    clock.advance(3 * DAY)
    await credit.run_daily()

    texts = [
        d.payload["reply"]["text"]  # type: ignore[index]
        for d in await services.notifications.for_recipient(NGOZI)
        if d.dedupe_key.startswith("credit-")
    ]
    assert len(texts) == 2
    assert all("M-Pesa" not in text and "BAL" in text for text in texts)


async def test_a_late_fee_is_texted_once_and_repaid_before_the_principal(
    services: Services,
    clock: SteppedClock,
    credit: CreditService,
    ledger: LedgerService,
    books: Books,
) -> None:
    """The fee was booked on Ngozi's receivable where no SMS, no BAL and no repayment ever
    reached it. Now she is told once in English, and a repayment pays the fee first."""
    await _history(services, clock)
    await credit.decide(NGOZI)
    await credit.authorise("FEE001", NGOZI, ngn(5_000))  # due in 7 days
    await credit.delivered("FEE001", clock.now())  # at once
    receivable = (await books.account(chart.receivable(NGOZI, "NGN"))).code
    before = (await ledger.account(receivable)).balance
    clock.advance(11 * DAY)
    assert (await credit.run_daily()).late_fees == [("FEE001", ngn(100))]
    await credit.run_daily()
    texts = [
        d.payload["reply"]["text"]  # type: ignore[index]
        for d in await services.notifications.for_recipient(NGOZI)
        if d.dedupe_key.startswith("credit-late_fee:")
    ]
    assert texts == [
        "Order FEE001 is overdue: a late fee of NGN 100.00 was added. You now owe NGN 5,100.00."
        " Send BAL to repay."
    ]
    [owed] = await credit.credits(NGOZI)
    assert owed.outstanding == ngn(5_100)

    await credit.repay(NGOZI, ngn(60), "paystack", "T-FEE-1")  # part of the fee
    await credit.repay(NGOZI, ngn(60), "paystack", "T-FEE-1")  # the webhook again: once
    assert (await ledger.account(receivable)).balance == before + ngn(40)
    await credit.repay(NGOZI, ngn(5_040), "paystack", "T-FEE-2")  # the rest of fee, principal

    [repaid] = await credit.credits(NGOZI)
    assert repaid.status is CreditStatus.REPAID
    assert (await ledger.account(receivable)).balance == before
    assert (await ledger.account("late_fees:NGN")).balance == ngn(100)
    assert (await ledger.account("rail:paystack:NGN")).balance == ngn(5_100)
    # a payment split between the fee and the credit line is one payment on the statement
    day = clock.now().date()
    collected = await services.money.settlement.collected("NGN", day, "Africa/Lagos", "paystack")  # type: ignore[union-attr]
    assert sorted((c.external_ref, c.amount) for c in collected) == [
        ("T-FEE-1", ngn(60)),
        ("T-FEE-2", ngn(5_040)),
    ]
    assert (await ledger.check()).balanced


async def test_credit_daily_by_hand_at_night_waits_for_the_reminder_hour(
    services: Services,
    clock: SteppedClock,
    credit: CreditService,
    any_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An operator's `omniroute credit daily` at 02:00 texted Ngozi her debt at night, where
    the gateway's own loop waits for 08:00 where she is. Now it leaves her for later and
    says so; `--now` is the operator's explicit override."""
    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", any_database_url)
    await _history(services, clock)
    await credit.decide(NGOZI)
    await credit.authorise("NIGHT1", NGOZI, ngn(5_000))  # due in 7 days
    await credit.delivered("NIGHT1", clock.now())  # at once
    clock.advance(5 * DAY - 8 * 3600)  # two days before, 02:00 in Lagos
    assert clock.now().astimezone(ZoneInfo("Africa/Lagos")).hour == 2

    def credit_daily(*flags: str) -> int:
        args = build_parser().parse_args(["credit", "daily", *flags])
        return ledger_cli.run(args, clock=clock)

    assert await asyncio.to_thread(credit_daily) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "1 credits left for later: before 08:00 where the retailer is (--now to run them now)",
        "0 reminders, 0 late fees",
    ]
    reminders = [
        d
        for d in await services.notifications.for_recipient(NGOZI)
        if d.dedupe_key.startswith("credit-")
    ]
    assert reminders == []

    assert await asyncio.to_thread(credit_daily, "--now") == 0
    assert capsys.readouterr().out.splitlines() == [
        "reminder due_soon: NIGHT1",
        "1 reminders, 0 late fees",
    ]


async def test_the_limit_counts_orders_from_the_day_their_goods_arrived(
    services: Services, clock: SteppedClock, credit: CreditService
) -> None:
    """Ngozi's three orders sat dispatched for three months and arrived five days ago: she was
    given credit for a month's history she did not have (dated by when she ordered), while her
    credits fall due from delivery. The first goods came five days ago: no credit yet."""
    placed = []
    for _ in range(3):
        order = await services.orders.place(
            PlaceOrder(
                NGOZI,
                RegionCode.LAGOS,
                (CartLine("NDL-INDO-CHK", 4),),
                PaymentMethod.ON_DELIVERY,
                f"history-{next(_keys)}",
            )
        )
        for status in LIFECYCLE[:-1]:
            await services.orders.advance(order.reference, status)
        placed.append(order.reference)
        clock.advance(10 * DAY)
    clock.advance(60 * DAY)
    for reference in placed:
        await services.orders.advance(reference, OrderStatus.DELIVERED)
    clock.advance(5 * DAY)

    decision = await credit.decide(NGOZI)
    assert decision.limit == ngn(0)
    assert decision.reason == "history of 5 days"


async def test_a_credit_repaid_months_late_halves_the_limit_after_it_is_repaid(
    services: Services, clock: SteppedClock, credit: CreditService
) -> None:
    """Due 184 days before she repaid it, her credit was not counted as late at all once she
    paid (the 180 days were counted from its due date): the worst payer got the full limit.
    Counted from the day she repaid it, it halves her limit for 180 days."""
    await _history(services, clock)
    await credit.decide(NGOZI)
    await credit.authorise("SLOW01", NGOZI, ngn(5_000))
    await credit.delivered("SLOW01", clock.now())  # due in 7 days
    clock.advance(190 * DAY)
    for _ in range(3):
        await _delivered_order(services, 10)
    await credit.repay(NGOZI, ngn(5_000), "mpesa", "QK-SLOW")
    [repaid] = await credit.credits(NGOZI)
    assert repaid.repaid_late

    history = await credit.history(NGOZI)
    on_time = decide_limit(replace(history, late_repayments=()), "NGN", clock.now().date())
    assert on_time.limit > ngn(0)
    decision = await credit.decide(NGOZI)
    assert decision.limit < on_time.limit
    assert decision.reason.endswith(", 1 late")


# what is spent, told and reminded, not the database: the race is the property test's, on both
@pytest.mark.parametrize("any_database_url", ["sqlite"], indirect=True)
async def test_credit_on_her_account_repays_her_credit_debt_and_the_reminder_names_the_rest(
    services: Services,
    clock: SteppedClock,
    credit: CreditService,
    ledger: LedgerService,
    books: Books,
) -> None:
    """Ngozi was owed NGN 5,000 (kept on her account) while she owed NGN 20,000 on credit, and
    was reminded of all 20,000. Her credit repays the oldest debt first, once, she is told what
    it paid and what is left, and the reminder names what is left; drawing on credit while she
    holds credit spends it at once."""
    for _ in range(3):
        await _delivered_order(services, 8)
        clock.advance(20 * DAY)
    assert (await credit.decide(NGOZI)).limit >= ngn(22_000)
    await credit.authorise("OWE001", NGOZI, ngn(20_000))
    await credit.delivered("OWE001", clock.now())
    await books.post_payment_received(NGOZI, ngn(5_000), "paystack", "KEPT-1")  # hers, kept
    clock.advance(5 * DAY)  # due in two days

    await credit.run_daily()
    await credit.run_daily()

    texts = [
        d.payload["reply"]["text"]  # type: ignore[index]
        for d in await services.notifications.for_recipient(NGOZI)
        if d.dedupe_key.startswith("credit-")
    ]
    assert texts == [
        "OmniRoute: NGN 5,000.00 of your credit paid your debt; you now owe NGN 15,000.00.",
        "Reminder: NGN 15,000.00 for order OWE001 is due on 2026-03-13. Send BAL to repay,"
        " or pay your agent.",
    ]
    assert await books.account_credit(NGOZI, "NGN") == ngn(0)

    # more credit kept, then a new order on credit: spent at once on the oldest first
    await books.post_payment_received(NGOZI, ngn(3_000), "paystack", "KEPT-2")
    await credit.authorise("OWE002", NGOZI, ngn(2_000))
    owed = {c.order_reference: c.outstanding for c in await credit.credits(NGOZI)}
    assert owed == {"OWE001": ngn(12_000), "OWE002": ngn(2_000)}
    assert await books.account_credit(NGOZI, "NGN") == ngn(0)
    line = await ledger.account(chart.credit_line(NGOZI, "NGN").code)
    assert line.available == ngn(14_000)  # OWE001 delivered, OWE002 held, 8,000 repaid
    last = (await services.notifications.for_recipient(NGOZI))[-1]
    assert last.payload["reply"]["text"] == (  # type: ignore[index]
        "OmniRoute: NGN 3,000.00 of your credit paid your debt; you now owe NGN 14,000.00."
    )

    # a bank transfer of NGN 2,000 more than her order cost: the rest repays her debt, once
    order = await services.orders.place(
        PlaceOrder(
            NGOZI,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 1),),
            PaymentMethod.BANK_TRANSFER,
            "overpaid-1",
        )
    )
    await books.order_placed(order.reference, NGOZI, order.total)  # as billing holds it
    paid = PaymentSucceeded(
        event_id=uuid.uuid4(),
        occurred_at=clock.now(),
        aggregate_id=order.reference,
        intent_id=str(uuid.uuid4()),
        direction="collect",
        method="bank_transfer",
        provider="paystack",
        customer=NGOZI.e164,
        order_reference=order.reference,
        currency="NGN",
        amount=str(order.total.amount),
        received=str(order.total.amount + 2_000),
        receipt="T-OVER-1",
        late=False,
    ).envelope()
    posting = PaymentPosting(books, credit, services.orders)
    await posting.on_succeeded(paid)
    await posting.on_succeeded(paid)  # redelivered
    owed = {c.order_reference: c.outstanding for c in await credit.credits(NGOZI)}
    assert owed == {"OWE001": ngn(10_000), "OWE002": ngn(2_000)}
    assert await books.account_credit(NGOZI, "NGN") == ngn(0)  # her order's money stays its own
    last = (await services.notifications.for_recipient(NGOZI))[-1]
    assert last.payload["reply"]["text"] == (  # type: ignore[index]
        "OmniRoute: NGN 2,000.00 of your credit paid your debt; you now owe NGN 12,000.00."
    )

    # more than she owes: all of it paid, the rest hers
    await books.post_payment_received(NGOZI, ngn(13_000), "paystack", "KEPT-3")
    await credit.run_daily()
    assert all(c.status is CreditStatus.REPAID for c in await credit.credits(NGOZI))
    assert await books.account_credit(NGOZI, "NGN") == ngn(1_000)
    last = (await services.notifications.for_recipient(NGOZI))[-1]
    assert last.payload["reply"]["text"] == (  # type: ignore[index]
        "OmniRoute: NGN 12,000.00 of your credit paid all you owed on credit."
        " Credit left on your account: NGN 1,000.00."
    )
    assert (await ledger.check()).balanced
