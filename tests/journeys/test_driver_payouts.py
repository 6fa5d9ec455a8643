"""Paying a Nairobi driver: a day of deliveries -> `pay_drivers` -> one M-Pesa B2C payment at a
local Daraja -> its result callback -> the ledger's payout posted and the gig payout paid."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from core.app.bootstrap import Services
from core.app.driver_payouts import pay_drivers
from core.clock import SteppedClock
from core.config import Settings
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.gig import DeliveryRoute, GeoPoint, PayoutStatus, RouteStop
from engines.ledger import chart
from engines.orders import CartLine, OrderStatus, PaymentMethod, PlaceOrder
from engines.payments import CreatePayment, Direction, Method
from engines.settlement import PayoutOrderStatus
from tests.support.gig import code_for, driver
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes, events

Client = TestClient[web.Request, web.Application]
WANJIKU = Phone("+254722000001")
JUMA = Phone("+254711000001")
NAIROBI = GeoPoint(-1.2864, 36.8172)


@pytest.fixture
def database_url(any_database_url: str) -> str:
    """Payouts on SQLite and on the real PostgreSQL (the compare-and-sets differ)."""
    return any_database_url


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


async def a_day_of_deliveries(
    services: Services, km: Decimal = Decimal("3.0"), day: int = 1, *, packed: bool = False
) -> None:
    """Wanjiku delivers one order 3 km out: KES 50 + 3 x 15 for the stop, 150 route bonus
    (`packed`: released by the warehouse first, so Juma pays her at the door)."""
    gig = services.gig
    wanjiku = await driver(services, WANJIKU, "Wanjiku", at=NAIROBI, region=RegionCode.NAIROBI)
    placed = await services.orders.place(
        PlaceOrder(
            customer=JUMA,
            region=RegionCode.NAIROBI,
            lines=(CartLine("NDL-INDO-CHK", 1),),
            payment_method=PaymentMethod.ON_DELIVERY,
            idempotency_key=f"nbo-pay-{day}",
        )
    )
    for status in (OrderStatus.CONFIRMED, OrderStatus.PICKING, OrderStatus.PACKED):
        if packed:
            await services.orders.advance(placed.reference, status)
    task = await gig.create_task(
        DeliveryRoute(
            f"R-NBO-PAY-{day}",
            RegionCode.NAIROBI,
            NAIROBI,
            services.clock.now(),
            (RouteStop(placed.reference, JUMA, "Moi Avenue 10", NAIROBI, 1, km),),
        )
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    await gig.arrive(task.id, wanjiku.id)
    done = await gig.confirm_delivery(
        task.id, wanjiku.id, await code_for(services, JUMA, placed.reference)
    )
    assert done.task_completed


async def test_a_nairobi_driver_is_paid_by_mpesa_b2c_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    assert services.money is not None
    await a_day_of_deliveries(services)
    day = services.clock.now().date()

    report = await pay_drivers(services, RegionCode.NAIROBI, day)

    [sent] = report.sent
    assert (sent["phone"], sent["amount"], sent["currency"]) == (WANJIKU.e164, "245.00", "KES")
    assert report.waiting == []
    [b2c] = fakes.daraja.payouts
    assert b2c.body["PartyB"] == "254722000001"
    assert b2c.body["Amount"] == 245  # whole shillings
    assert b2c.body["CommandID"] == "BusinessPayment"
    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balance == Money(Decimal("245.00"), "KES")  # earned, held, not yet paid
    assert wallet.balances.debits_pending == Decimal("245.00")

    target, body = fakes.daraja.b2c_result(b2c)
    response = await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 200
    await flush_outbox(services)

    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balance == Money(Decimal("0.00"), "KES")  # paid out
    assert wallet.balances.debits_pending == Decimal(0)
    assert wallet.balances.debits_posted == Decimal("245.00")
    mpesa = await services.money.ledger.account("rail:mpesa:KES")
    assert mpesa.balance == Money(Decimal("-245.00"), "KES")
    worker = await services.gig.worker_by_phone(WANJIKU)
    assert worker is not None
    [(_, amount, _, status)] = await services.gig.payouts(worker.id)
    assert (amount, status) == (Money(Decimal("245.00"), "KES"), PayoutStatus.PAID.value)

    # Run again (and the callback again): nothing more is sent or posted.
    again = await pay_drivers(services, RegionCode.NAIROBI, day)
    assert (again.sent, again.waiting) == ([], [])
    await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    await flush_outbox(services)
    assert len(fakes.daraja.payouts) == 1
    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balances.debits_posted == Decimal("245.00")


async def test_the_shillings_cents_are_carried_into_the_next_payout_not_lost(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """0.7 km pays KES 10.50: M-Pesa sends whole shillings, so the 0.50 waits in the wallet
    and goes out with the next day's payout; the report says what was sent and carried."""
    assert services.money is not None
    sent: list[int] = []
    for n in (1, 2):
        await a_day_of_deliveries(services, Decimal("0.7"), day=n)  # 50 + 10.50 + 150
        day = services.clock.now().date()
        runs = await asyncio.gather(
            *(pay_drivers(services, RegionCode.NAIROBI, day) for _ in range(2))
        )
        [row], [other] = runs[0].sent, runs[1].sent
        assert (other["payout"], other["amount"]) == (row["payout"], row["amount"])
        b2c = fakes.daraja.payouts[-1]
        sent.append(b2c.body["Amount"])
        assert row["amount"] == f"{b2c.body['Amount']}.00"  # what M-Pesa was asked to send
        assert row["earned"] == "210.50"
        assert row["carried"] == ("0.50" if n == 1 else "0.00")
        target, body = fakes.daraja.b2c_result(b2c)
        await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
        await flush_outbox(services)
        clock.advance(86_400)

    assert sent == [210, 211]  # 421.00 earned, 421 sent, each once
    assert len(fakes.daraja.payouts) == 2
    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balance == Money(Decimal("0.00"), "KES")
    assert wallet.balances.debits_posted == Decimal(421)
    assert (await services.money.ledger.check()).balanced


async def test_a_payout_that_failed_for_good_goes_out_with_the_next_one_once(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Day 1's KES 210.50 is refused by M-Pesa at every attempt: it stays in her wallet, and
    day 2's payout sends it with day 2's (421, cents and all), once though two runs race, and
    the report names the payout it sends again."""
    assert services.money is not None
    assert services.payouts is not None
    desk = services.payouts
    await a_day_of_deliveries(services, Decimal("0.7"), day=1)
    await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())
    for attempt in range(1, desk.max_attempts + 1):
        target, body = fakes.daraja.b2c_result(fakes.daraja.payouts[-1], ok=False)
        await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
        await flush_outbox(services)
        if attempt < desk.max_attempts:
            clock.advance(desk.retry_after.total_seconds() * 2 ** (attempt - 1))
            assert await desk.sweep() == (1, 0)
    [first] = await desk.orders.of_person(WANJIKU)
    assert first.status is PayoutOrderStatus.FAILED
    assert [b2c.body["Amount"] for b2c in fakes.daraja.payouts] == [210, 210, 210]

    clock.advance(86_400)
    await a_day_of_deliveries(services, Decimal("0.7"), day=2)
    day = services.clock.now().date()
    runs = await asyncio.gather(*(pay_drivers(services, RegionCode.NAIROBI, day) for _ in range(2)))
    [row], [other] = runs[0].sent, runs[1].sent
    assert (row["amount"], other["amount"]) == ("421.00", "421.00")
    assert row["resends"] == first.source
    assert row["carried"] == "0.00"
    [b2c] = fakes.daraja.payouts[3:]
    assert b2c.body["Amount"] == 421
    target, body = fakes.daraja.b2c_result(b2c)
    await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    await flush_outbox(services)

    clock.advance(86_400)
    again = await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())
    assert again.sent == []
    assert len(fakes.daraja.payouts) == 4  # nothing sent a second time
    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balance == Money(Decimal("0.00"), "KES")
    assert wallet.balances.debits_posted == Decimal(421)
    assert (await services.money.ledger.check()).balanced


@pytest.mark.parametrize("any_database_url", ["sqlite"], indirect=True)
async def test_a_day_nobody_paid_goes_with_the_next_days_run(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Wanjiku's route of day 1 was proved after the day's run (or nobody ran it that day): the
    next morning's `drivers pay` (its default day, today) sends day 1's KES 245, once."""
    await a_day_of_deliveries(services, day=1)
    day_1 = services.clock.now().date()
    clock.advance(86_400)

    report = await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())

    [row] = report.sent
    assert (row["earned_on"], row["amount"]) == (day_1.isoformat(), "245.00")
    assert [b2c.body["Amount"] for b2c in fakes.daraja.payouts] == [245]
    again = await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())
    assert [r["payout"] for r in again.sent] == [row["payout"]]  # on its way, not sent again
    assert len(fakes.daraja.payouts) == 1


@pytest.mark.parametrize("any_database_url", ["sqlite"], indirect=True)
async def test_a_payout_that_failed_for_good_is_sent_again_when_no_payout_follows_it(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Day 1's KES 210.50 is refused by M-Pesa at every attempt and Wanjiku drives no more
    that week: her money went only 'with the next payout', and none came, so no run of
    `drivers pay` ever sent it. The next run sends it on its own (its whole shillings), once;
    her next day's payout then sends that day's pay and the 0.50 carried, not day 1's again."""
    assert services.payouts is not None
    desk = services.payouts
    await a_day_of_deliveries(services, Decimal("0.7"), day=1)
    await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())
    for attempt in range(1, desk.max_attempts + 1):
        target, body = fakes.daraja.b2c_result(fakes.daraja.payouts[-1], ok=False)
        await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
        await flush_outbox(services)
        if attempt < desk.max_attempts:
            clock.advance(desk.retry_after.total_seconds() * 2 ** (attempt - 1))
            await desk.sweep()
    [failed] = await desk.orders.of_person(WANJIKU)
    assert failed.status is PayoutOrderStatus.FAILED
    clock.advance(86_400)

    [row] = (await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())).sent
    assert (row["amount"], row["resends"]) == ("210.00", failed.source)
    [again] = (await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())).sent
    assert (again["payout"], again["status"]) == (row["payout"], "sending")  # not sent twice
    assert [b2c.body["Amount"] for b2c in fakes.daraja.payouts] == [210, 210, 210, 210]
    target, body = fakes.daraja.b2c_result(fakes.daraja.payouts[-1])
    await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    await flush_outbox(services)

    clock.advance(86_400)
    await a_day_of_deliveries(services, Decimal("0.7"), day=3)
    [row] = (await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())).sent
    assert (row["amount"], row["carried"]) == ("211.00", "0.00")
    assert [b2c.body["Amount"] for b2c in fakes.daraja.payouts][4:] == [211]
    target, body = fakes.daraja.b2c_result(fakes.daraja.payouts[-1])
    await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    await flush_outbox(services)
    assert services.money is not None
    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balances.debits_posted == Decimal(421)  # 210.50 twice, each sent once
    assert wallet.balance == Money(Decimal("0.00"), "KES")
    assert (await services.money.ledger.check()).balanced


async def test_running_twice_before_the_result_sends_one_payout(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    assert services.money is not None
    await a_day_of_deliveries(services)
    day = services.clock.now().date()

    report = await pay_drivers(services, RegionCode.LAGOS, day)
    assert (report.sent, report.waiting) == ([], [])  # Wanjiku drives in Nairobi

    # A second run before the callback arrives sends nothing new.
    first = await pay_drivers(services, RegionCode.NAIROBI, day)
    second = await pay_drivers(services, RegionCode.NAIROBI, day)
    assert len(fakes.daraja.payouts) == 1
    assert first.sent[0]["intent"] == second.sent[0]["intent"]


async def test_two_runs_at_the_same_moment_pay_the_driver_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    # An operator's `drivers pay` and the scheduled one start together.
    assert services.money is not None
    await a_day_of_deliveries(services)
    day = services.clock.now().date()

    await asyncio.gather(*(pay_drivers(services, RegionCode.NAIROBI, day) for _ in range(4)))

    assert [b2c.body["Amount"] for b2c in fakes.daraja.payouts] == [245]
    worker = await services.gig.worker_by_phone(WANJIKU)
    assert worker is not None
    assert [amount for _, amount, _, _ in await services.gig.payouts(worker.id)] == [
        Money(Decimal("245.00"), "KES")
    ]
    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balances.credits_posted == Decimal("245.00")  # earned once
    texts = await services.notifications.for_recipient(WANJIKU)
    assert len([d for d in texts if d.dedupe_key.startswith("driver-paid:")]) == 1  # told once


async def test_a_failed_b2c_voids_the_hold_and_is_retried_until_the_attempts_run_out(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    assert services.money is not None
    assert services.payouts is not None
    desk = services.payouts
    await a_day_of_deliveries(services)
    await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())
    worker = await services.gig.worker_by_phone(WANJIKU)
    assert worker is not None

    for attempt in range(1, desk.max_attempts + 1):
        assert len(fakes.daraja.payouts) == attempt
        b2c = fakes.daraja.payouts[-1]
        target, body = fakes.daraja.b2c_result(b2c, ok=False)
        response = await gateway.post(
            target, data=body, headers={"Content-Type": "application/json"}
        )
        assert response.status == 200
        await flush_outbox(services)

        wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
        assert wallet.balance == Money(Decimal("245.00"), "KES")  # still owed to her
        assert wallet.balances.debits_pending == Decimal(0)  # the hold is released
        assert wallet.balances.debits_posted == Decimal(0)
        [order] = await desk.orders.of_person(WANJIKU)
        [(_, _, _, status)] = await services.gig.payouts(worker.id)
        if attempt < desk.max_attempts:
            assert order.status is PayoutOrderStatus.RETRYING
            assert status == PayoutStatus.PENDING.value
            # Not before the backoff: 10 min after the 1st failure, 20 after the 2nd.
            assert await desk.sweep() == (0, 0)
            clock.advance(desk.retry_after.total_seconds() * 2 ** (attempt - 1))
            assert await desk.sweep() == (1, 0)
            assert await desk.sweep() == (0, 0)  # a second pass sends nothing more
        else:
            assert order.status is PayoutOrderStatus.FAILED
            assert status == PayoutStatus.FAILED.value

    # The last result delivered again, now claiming success, is ignored: nothing is paid.
    target, body = fakes.daraja.b2c_result(fakes.daraja.payouts[-1])
    await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    await flush_outbox(services)
    assert await events(services, "PaymentSucceeded") == []
    clock.advance(86_400 * 2)
    assert await desk.sweep() == (0, 0)
    assert len(fakes.daraja.payouts) == desk.max_attempts
    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balances.debits_posted == Decimal(0)
    assert wallet.balance == Money(Decimal("245.00"), "KES")


async def test_a_b2c_whose_result_never_came_is_settled_by_a_transaction_status_query(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """The B2C result is lost: the requery asks Daraja's Transaction Status API, whose answer
    (at its own ResultURL) pays the driver once; the B2C result that comes late changes
    nothing."""
    assert services.money is not None
    assert services.payments is not None
    assert services.payouts is not None
    await a_day_of_deliveries(services)
    await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())
    [b2c] = fakes.daraja.payouts
    clock.advance(180)
    await services.payments.requery()

    [query] = fakes.daraja.status_queries
    result_url, timeout_url = query.body.pop("ResultURL"), query.body.pop("QueueTimeOutURL")
    assert "kind=status" in result_url
    assert "kind=timeout" in timeout_url
    assert query.body == {
        "Initiator": "omniroute_api",
        "SecurityCredential": "c2VjdXJpdHktY3JlZGVudGlhbA==",
        "CommandID": "TransactionStatusQuery",
        "OriginatorConversationID": b2c.body["OriginatorConversationID"],
        "PartyA": b2c.body["PartyA"],
        "IdentifierType": "4",
        "Remarks": "Status of an unanswered request",
        "Occasion": "",
    }
    query.body |= {"ResultURL": result_url, "QueueTimeOutURL": timeout_url}
    target, body = fakes.daraja.status_result(query)
    for _ in range(2):  # Daraja repeats itself: one effect
        answer = await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
        assert answer.status == 200
        await flush_outbox(services)
    [order] = await services.payouts.orders.of_person(WANJIKU)
    assert order.status is PayoutOrderStatus.PAID
    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balance == Money(Decimal("0.00"), "KES")
    assert wallet.balances.debits_posted == Decimal("245.00")

    # The lost B2C result turns up after all: nothing moves twice.
    target, body = fakes.daraja.b2c_result(b2c)
    await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    await flush_outbox(services)
    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balances.debits_posted == Decimal("245.00")
    assert len(await events(services, "PaymentSucceeded")) == 1
    assert len(fakes.daraja.payouts) == 1


async def test_a_status_query_about_a_b2c_daraja_never_got_settles_nothing(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Daraja has no such transaction: the answer is no proof either way, so the payout waits
    (the sweeper gives it up after a day, as before) and nothing is paid or retried."""
    assert services.payments is not None
    assert services.payouts is not None
    await a_day_of_deliveries(services)
    await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())
    fakes.daraja.payouts.clear()  # as if the request never reached M-Pesa
    clock.advance(180)
    await services.payments.requery()
    [query] = fakes.daraja.status_queries
    target, body = fakes.daraja.status_result(query)
    answer = await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    assert answer.status == 200
    await flush_outbox(services)
    [order] = await services.payouts.orders.of_person(WANJIKU)
    assert order.status is PayoutOrderStatus.SENDING
    assert await events(services, "PaymentSucceeded") == []


async def test_a_payout_given_up_unanswered_is_not_sent_again_with_the_next_one(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Daraja never answered day 1's B2C (given up: it may yet have paid): day 2's payout sends
    day 2's pay alone, and the late success of day 1 then leaves nothing owed twice."""
    assert services.money is not None
    assert services.payouts is not None
    desk = services.payouts
    await a_day_of_deliveries(services, day=1)
    await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())
    clock.advance(desk.answer_within.total_seconds() + 60)
    assert await desk.sweep() == (0, 1)

    await a_day_of_deliveries(services, day=2)
    [row] = (await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())).sent
    assert (row["amount"], "resends" in row) == ("245.00", False)
    assert [b2c.body["Amount"] for b2c in fakes.daraja.payouts] == [245, 245]
    for b2c in fakes.daraja.payouts:
        target, body = fakes.daraja.b2c_result(b2c)
        await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    await flush_outbox(services)
    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balance == Money(Decimal("0.00"), "KES")
    assert wallet.balances.debits_posted == Decimal(490)


async def test_a_b2c_the_rail_never_answers_is_given_up_and_its_hold_released(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    assert services.money is not None
    assert services.payouts is not None
    desk = services.payouts
    await a_day_of_deliveries(services)
    await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())
    clock.advance(desk.answer_within.total_seconds() - 60)
    assert await desk.sweep() == (0, 0)  # not yet
    clock.advance(120)
    assert await desk.sweep() == (0, 1)
    await flush_outbox(services)

    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balances.debits_pending == Decimal(0)
    assert wallet.balance == Money(Decimal("245.00"), "KES")
    [order] = await desk.orders.of_person(WANJIKU)
    assert order.status is PayoutOrderStatus.FAILED  # not retried: the rail may yet pay
    assert len(fakes.daraja.payouts) == 1

    # It does pay, late: the money left, so it leaves the wallet now, once.
    target, body = fakes.daraja.b2c_result(fakes.daraja.payouts[0])
    for _ in range(2):
        await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
        await flush_outbox(services)
    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balance == Money(Decimal("0.00"), "KES")
    assert wallet.balances.debits_posted == Decimal("245.00")
    [order] = await desk.orders.of_person(WANJIKU)
    assert order.status is PayoutOrderStatus.PAID


async def test_a_payout_sent_before_payout_orders_still_settles_when_its_result_comes(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    """Intents keyed `payout:<gig payout id>` (sent by the earlier code) keep settling."""
    assert services.money is not None
    assert services.payments is not None
    await a_day_of_deliveries(services)
    worker = await services.gig.worker_by_phone(WANJIKU)
    assert worker is not None
    await services.gig.settle(worker.id, services.clock.now().date())
    [(payout_id, amount, _, _)] = await services.gig.payouts(worker.id)
    reference = f"gig:{payout_id}"
    await services.money.payouts.earn("driver", WANJIKU, amount, reference=reference)
    await services.money.payouts.request("driver", WANJIKU, amount, "mpesa", reference)
    await services.payments.pay(
        CreatePayment(
            idempotency_key=f"payout:{payout_id}",
            method=Method.MPESA_B2C,
            direction=Direction.PAYOUT,
            amount=amount,
            customer=WANJIKU,
            description="Driver earnings",
        )
    )

    target, body = fakes.daraja.b2c_result(fakes.daraja.payouts[0])
    await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
    await flush_outbox(services)

    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balances.debits_posted == Decimal("245.00")
    [(_, _, _, status)] = await services.gig.payouts(worker.id)
    assert status == PayoutStatus.PAID.value


async def test_a_driver_holding_overdue_cash_is_paid_net_of_it_and_the_rest_once_handed_in(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Wanjiku keeps KES 100 of her first day's door cash past the depot's 24 hours: her next
    payout is her day's KES 245 less that 100, and the row says so; once she hands it in, the
    100 goes with her next payout, once."""
    assert services.money is not None
    books, ledger = services.money.books, services.money.ledger
    cash = chart.driver_cash(WANJIKU, "KES").code

    async def paid(n: int) -> dict[str, str]:
        await a_day_of_deliveries(services, day=n, packed=True)  # Juma pays her at the door
        await flush_outbox(services)
        report = await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())
        [row] = report.sent
        target, body = fakes.daraja.b2c_result(fakes.daraja.payouts[-1])
        await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
        await flush_outbox(services)
        return row

    assert (await paid(1))["amount"] == "245.00"
    clock.advance(30 * 3600)
    took = (await ledger.account(cash)).balance
    await books.cash_handed_in(WANJIKU, "nairobi", took - Money(Decimal(100), "KES"), "SLIP-1")

    row = await paid(2)  # the 100 she still holds from the first day is overdue; today's is not
    assert (row["amount"], row["withheld"], row["carried"]) == ("145.00", "100.00", "100.00")

    await books.cash_handed_in(WANJIKU, "nairobi", (await ledger.account(cash)).balance, "SLIP-2")
    clock.advance(24 * 3600)
    row = await paid(3)
    assert (row["amount"], row["carried"]) == ("345.00", "0.00")
    assert "withheld" not in row
    again = await pay_drivers(services, RegionCode.NAIROBI, services.clock.now().date())
    assert (again.sent, again.waiting) == ([], [])  # paid: nothing sent again
    assert [p.body["Amount"] for p in fakes.daraja.payouts] == [245, 145, 345]  # 3 days, once
    wallet = await services.money.payouts.wallet("driver", WANJIKU, "KES")
    assert wallet.balance == Money(Decimal("0.00"), "KES")

    # She is texted each payout once (the re-run texts nothing), in her market's Swahili, and
    # told what was held back and the cash that releases it.
    days = [(services.clock.now() - timedelta(hours=h)).date().isoformat() for h in (54, 24, 0)]
    texts = [
        str(d.payload["reply"]["text"])  # type: ignore[index]
        for d in await services.notifications.for_recipient(WANJIKU)
        if d.dedupe_key.startswith("driver-paid:")
    ]
    assert texts == [
        f"OmniRoute: tumekulipa KES 245.00 kwa {days[0]}.",
        f"OmniRoute: tumekulipa KES 145.00 kwa {days[1]}. KES 100.00 imezuiliwa hadi"
        " ukabidhi taslimu KES 100.00.",
        f"OmniRoute: tumekulipa KES 345.00 kwa {days[2]}.",
    ]
