"""Payouts in every market: a Lagos driver paid by NIBSS NIP after a name enquiry, a Cape Town
driver by Paystack Transfers settled by its webhooks, an agent's commissions by the same path;
each sent once, retried when refused, and posted on the ledger once."""

from __future__ import annotations

import asyncio
import json
import uuid
from decimal import Decimal

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from core.app.bootstrap import Services
from core.app.driver_payouts import PayReport, pay_agents, pay_drivers
from core.app.payouts import UNSENDABLE
from core.bank import BankAccount
from core.bus import EventEnvelope
from core.bus.tables import outbox
from core.clock import SteppedClock
from core.config import Settings
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.atc import Agent
from engines.gig import DeliveryRoute, GeoPoint, PayoutStatus, RouteStop
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from engines.payments.events import PaymentSucceeded
from engines.settlement import PayoutOrder, PayoutOrderStatus
from tests.support.gig import code_for, driver
from tests.support.providers.africastalking import flush_outbox
from tests.support.providers.payments import PaymentFakes

Client = TestClient[web.Request, web.Application]
EMEKA = Phone("+2348031000001")
NGOZI = Phone("+2348030000001")
THANDI = Phone("+27821000001")
SIPHO = Phone("+27831000001")
TUNDE = Phone("+2348051000001")
LAGOS = GeoPoint(6.4550, 3.3841)
CAPE_TOWN = GeoPoint(-33.9249, 18.4241)


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


@pytest.fixture
def settings(database_url: str, fakes: PaymentFakes) -> Settings:
    return fakes.settings(database_url)


async def a_day_of_work(
    services: Services,
    who: Phone,
    name: str,
    customer: Phone,
    region: RegionCode,
    at: GeoPoint,
    key: str,
) -> None:
    """One delivery 3 km out: the stop, the km and the route bonus of the region's tariff."""
    gig = services.gig
    worker = await driver(services, who, name, at=at, region=region)
    placed = await services.orders.place(
        PlaceOrder(
            customer=customer,
            region=region,
            lines=(CartLine("NDL-INDO-CHK", 1),),
            payment_method=PaymentMethod.ON_DELIVERY,
            idempotency_key=key,
        )
    )
    task = await gig.create_task(
        DeliveryRoute(
            f"R-{key}",
            region,
            at,
            services.clock.now(),
            (RouteStop(placed.reference, customer, "Main Road 1", at, 1, Decimal("3.0")),),
        )
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    await gig.arrive(task.id, worker.id)
    done = await gig.confirm_delivery(
        task.id, worker.id, await code_for(services, customer, placed.reference)
    )
    assert done.task_completed


async def wallet_of(
    services: Services, role: str, who: Phone, currency: str
) -> tuple[Decimal, ...]:
    """(balance, held for a payout being sent, paid out)."""
    assert services.money is not None
    wallet = await services.money.payouts.wallet(role, who, currency)
    b = wallet.balances
    return wallet.balance.amount, b.debits_pending, b.debits_posted


def dec(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in values)


def nip(fakes: PaymentFakes, path: str) -> list[dict[str, object]]:
    return [r.json for r in fakes.nibss.requests if r.path == path]


# --- Lagos: NIBSS NIP ---------------------------------------------------------------------------


async def test_a_lagos_driver_is_paid_by_nip_after_a_name_enquiry_once(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    await a_day_of_work(services, EMEKA, "Emeka Obi", NGOZI, RegionCode.LAGOS, LAGOS, "lag-1")
    await services.gig.set_bank_account(EMEKA, "000013", "01234 56789")
    day = services.clock.now().date()

    report = await pay_drivers(services, RegionCode.LAGOS, day)

    [sent] = report.sent
    assert (sent["amount"], sent["currency"], sent["status"]) == ("2360.00", "NGN", "paid")
    [first, second] = nip(fakes, "/nip/nameenquiry")  # ours, then the transfer's own
    assert first["accountNumber"] == "0123456789"
    assert first["destinationInstitutionCode"] == "000013"
    [transfer] = nip(fakes, "/nip/fundstransfer")
    assert transfer["amount"] == "2360.00"
    assert transfer["beneficiaryAccountName"] == "EMEKA OBI"
    assert transfer["nameEnquiryRef"] == second["sessionID"]
    assert await wallet_of(services, "driver", EMEKA, "NGN") == dec("0.00", "0", "2360.00")
    worker = await services.gig.worker_by_phone(EMEKA)
    assert worker is not None
    [(_, _, _, status)] = await services.gig.payouts(worker.id)
    assert status == PayoutStatus.PAID.value

    again = await pay_drivers(services, RegionCode.LAGOS, day)
    assert (again.sent, again.waiting, again.held) == ([], [], [])
    assert len(nip(fakes, "/nip/fundstransfer")) == 1


async def test_an_account_held_in_another_name_holds_the_payout_until_it_is_fixed(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    await a_day_of_work(services, EMEKA, "Emeka Obi", NGOZI, RegionCode.LAGOS, LAGOS, "lag-2")
    day = services.clock.now().date()

    no_account = await pay_drivers(services, RegionCode.LAGOS, day)
    [held] = no_account.held
    assert held["reason"] == "no bank account on file for the payee"

    await services.gig.set_bank_account(EMEKA, "000013", "0234567891")  # Adaeze's account
    report = await pay_drivers(services, RegionCode.LAGOS, day)
    [held] = report.held
    assert "ADAEZE NGOZI OKAFOR" in held["reason"]
    assert "Emeka Obi" in held["reason"]
    assert nip(fakes, "/nip/fundstransfer") == []
    assert await wallet_of(services, "driver", EMEKA, "NGN") == dec("2360.00", "0", "0")

    await services.gig.set_bank_account(EMEKA, "000013", "0123456789")
    fixed = await pay_drivers(services, RegionCode.LAGOS, day)
    assert [row["status"] for row in fixed.sent] == ["paid"]
    assert len(nip(fakes, "/nip/fundstransfer")) == 1
    assert await wallet_of(services, "driver", EMEKA, "NGN") == dec("0.00", "0", "2360.00")


async def test_a_payout_held_yesterday_is_paid_when_today_is_paid_after_the_fix(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    await a_day_of_work(services, EMEKA, "Emeka Obi", NGOZI, RegionCode.LAGOS, LAGOS, "lag-y")
    yesterday = services.clock.now().date()
    [held] = (await pay_drivers(services, RegionCode.LAGOS, yesterday)).held
    assert held["reason"] == "no bank account on file for the payee"

    # The next day the operator records Emeka's account and pays the day, as every day.
    clock.advance(24 * 3600)
    await services.gig.set_bank_account(EMEKA, "000013", "0123456789")
    today = services.clock.now().date()
    report = await pay_drivers(services, RegionCode.LAGOS, today)

    [sent] = report.sent
    assert (sent["amount"], sent["status"], sent["earned_on"]) == (
        "2360.00",
        "paid",
        yesterday.isoformat(),
    )
    assert [t["amount"] for t in nip(fakes, "/nip/fundstransfer")] == ["2360.00"]
    assert await wallet_of(services, "driver", EMEKA, "NGN") == dec("0.00", "0", "2360.00")
    again = await pay_drivers(services, RegionCode.LAGOS, today)
    assert (again.sent, again.waiting, again.held) == ([], [], [])
    assert len(nip(fakes, "/nip/fundstransfer")) == 1


async def test_a_nip_transfer_that_times_out_is_settled_by_the_status_requery_once(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    assert services.payments is not None
    await a_day_of_work(services, EMEKA, "Emeka Obi", NGOZI, RegionCode.LAGOS, LAGOS, "lag-3")
    await services.gig.set_bank_account(EMEKA, "000013", "0123456789")
    fakes.nibss.timeout_next_transfer = True

    report = await pay_drivers(services, RegionCode.LAGOS, services.clock.now().date())
    [sent] = report.sent
    assert sent["status"] == "sending"  # NIP said 97: the beneficiary bank may have it
    assert await wallet_of(services, "driver", EMEKA, "NGN") == dec("2360.00", "2360.00", "0")

    clock.advance(180)
    requeried = await services.payments.requery()
    assert requeried.settled == 1
    assert len(nip(fakes, "/nip/tsq")) == 1
    await flush_outbox(services)
    assert await wallet_of(services, "driver", EMEKA, "NGN") == dec("0.00", "0", "2360.00")
    assert len(nip(fakes, "/nip/fundstransfer")) == 1  # the TSQ asked; nothing was resent


async def test_a_refused_nip_transfer_is_retried_with_a_new_session_and_paid_once(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    assert services.payouts is not None
    await a_day_of_work(services, EMEKA, "Emeka Obi", NGOZI, RegionCode.LAGOS, LAGOS, "lag-4")
    await services.gig.set_bank_account(EMEKA, "000013", "0123456789")
    fakes.nibss.fail_next_transfer = "51"  # no sufficient funds at the sending account

    report = await pay_drivers(services, RegionCode.LAGOS, services.clock.now().date())
    [waiting] = report.waiting
    assert (waiting["status"], waiting["reason"]) == ("retrying", "NIP 51")
    assert await wallet_of(services, "driver", EMEKA, "NGN") == dec("2360.00", "0", "0")

    clock.advance(services.payouts.retry_after.total_seconds())
    assert await services.payouts.sweep() == (1, 0)
    first, second = nip(fakes, "/nip/fundstransfer")
    assert first["sessionID"] != second["sessionID"]
    assert await wallet_of(services, "driver", EMEKA, "NGN") == dec("0.00", "0", "2360.00")
    assert len(fakes.nibss.transfers) == 1  # credited once


async def test_a_nip_payout_refused_for_good_goes_out_with_the_next_one_once(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Day 1's NGN 2,360 is refused by NIP at every attempt: it stays in Emeka's wallet, and
    day 2's payout sends both days, once though two runs race, naming the day it sends again."""
    assert services.payouts is not None
    desk = services.payouts
    await a_day_of_work(services, EMEKA, "Emeka Obi", NGOZI, RegionCode.LAGOS, LAGOS, "lag-f1")
    await services.gig.set_bank_account(EMEKA, "000013", "0123456789")
    fakes.nibss.fail_next_transfer = "51"
    await pay_drivers(services, RegionCode.LAGOS, services.clock.now().date())
    for attempt in range(1, desk.max_attempts):
        clock.advance(desk.retry_after.total_seconds() * 2 ** (attempt - 1))
        fakes.nibss.fail_next_transfer = "51"
        assert await desk.sweep() == (1, 0)
    [first] = await desk.orders.of_person(EMEKA)
    assert first.status is PayoutOrderStatus.FAILED
    assert [t["amount"] for t in nip(fakes, "/nip/fundstransfer")] == ["2360.00"] * 3
    assert await wallet_of(services, "driver", EMEKA, "NGN") == dec("2360.00", "0", "0")

    clock.advance(86_400)
    await a_day_of_work(services, EMEKA, "Emeka Obi", NGOZI, RegionCode.LAGOS, LAGOS, "lag-f2")
    day = services.clock.now().date()
    runs = await asyncio.gather(*(pay_drivers(services, RegionCode.LAGOS, day) for _ in range(2)))
    [row], [other] = runs[0].sent, runs[1].sent
    assert (row["amount"], other["amount"]) == ("4720.00", "4720.00")
    assert row["resends"] == first.source
    assert [t["amount"] for t in nip(fakes, "/nip/fundstransfer")][3:] == ["4720.00"]
    await flush_outbox(services)
    assert await wallet_of(services, "driver", EMEKA, "NGN") == dec("0.00", "0", "4720.00")

    clock.advance(86_400)
    again = await pay_drivers(services, RegionCode.LAGOS, services.clock.now().date())
    assert again.sent == []
    assert len(nip(fakes, "/nip/fundstransfer")) == 4  # nothing sent a second time


async def test_a_nip_payout_paid_at_once_is_not_taken_from_the_wallet_again_by_its_event(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """NIP pays day 1 at once (posted then); its success event reaches the desk (again: the bus
    delivers at least once) while day 2's pay waits in the wallet (the account on file is
    someone else's): day 2's money stays his, and is sent once the account is fixed."""
    assert services.payouts is not None
    assert services.payments is not None
    desk = services.payouts
    await a_day_of_work(services, EMEKA, "Emeka Obi", NGOZI, RegionCode.LAGOS, LAGOS, "lag-e1")
    await services.gig.set_bank_account(EMEKA, "000013", "0123456789")
    [paid] = (await pay_drivers(services, RegionCode.LAGOS, services.clock.now().date())).sent
    assert paid["status"] == "paid"

    clock.advance(86_400)
    await a_day_of_work(services, EMEKA, "Emeka Obi", NGOZI, RegionCode.LAGOS, LAGOS, "lag-e2")
    await services.gig.set_bank_account(EMEKA, "000013", "0234567891")  # Adaeze's account
    day = services.clock.now().date()
    [held] = (await pay_drivers(services, RegionCode.LAGOS, day)).held
    assert held["amount"] == "2360.00"
    # day 1's PaymentSucceeded reaches the payout desk now
    [day_one] = [o for o in await desk.orders.of_person(EMEKA) if o.source == paid["payout"]]
    assert day_one.intent_id is not None
    await desk.settled(await services.payments.get(day_one.intent_id))
    await flush_outbox(services)
    assert await wallet_of(services, "driver", EMEKA, "NGN") == dec("2360.00", "0", "2360.00")

    await services.gig.set_bank_account(EMEKA, "000013", "0123456789")
    [sent] = (await pay_drivers(services, RegionCode.LAGOS, day)).sent
    assert (sent["amount"], sent["status"]) == ("2360.00", "paid")
    await flush_outbox(services)
    assert [t["amount"] for t in nip(fakes, "/nip/fundstransfer")] == ["2360.00", "2360.00"]
    assert await wallet_of(services, "driver", EMEKA, "NGN") == dec("0.00", "0", "4720.00")


# --- Cape Town: Paystack Transfers --------------------------------------------------------------


async def test_a_cape_town_driver_is_paid_by_a_paystack_transfer_settled_by_its_webhook(
    gateway: Client, services: Services, fakes: PaymentFakes
) -> None:
    await a_day_of_work(
        services, THANDI, "Thandi Mokoena", SIPHO, RegionCode.CAPE_TOWN, CAPE_TOWN, "cpt-1"
    )
    await services.gig.set_bank_account(THANDI, "632005", "4081234567")
    report = await pay_drivers(services, RegionCode.CAPE_TOWN, services.clock.now().date())

    [sent] = report.sent
    assert (sent["amount"], sent["currency"], sent["status"]) == ("61.00", "ZAR", "sending")
    [recipient] = [r.json for r in fakes.paystack.requests if r.path == "/transferrecipient"]
    assert recipient == {
        "type": "basa",
        "name": "Thandi Mokoena",
        "account_number": "4081234567",
        "bank_code": "632005",
        "currency": "ZAR",
    }
    [reference] = fakes.paystack.transfers
    transfer = fakes.paystack.transfers[reference]
    assert (transfer["amount"], transfer["currency"]) == (6100, "ZAR")
    assert await wallet_of(services, "driver", THANDI, "ZAR") == dec("61.00", "61.00", "0")

    body, headers = fakes.paystack.transfer_result(reference)
    forged = await gateway.post(
        "/webhooks/paystack", data=body, headers=headers | {"x-paystack-signature": "0" * 128}
    )
    assert forged.status == 403
    for _ in range(2):  # delivered twice: settled once
        answer = await gateway.post("/webhooks/paystack", data=body, headers=headers)
        assert answer.status == 200
        await flush_outbox(services)
    assert await wallet_of(services, "driver", THANDI, "ZAR") == dec("0.00", "0", "61.00")
    assert services.money is not None
    rail = await services.money.ledger.account("rail:paystack:ZAR")
    assert rail.balance == Money(Decimal("-61.00"), "ZAR")

    # A transfer someone made on the dashboard is acknowledged and changes nothing.
    body, headers = fakes.paystack.webhook(
        {"event": "transfer.success", "data": {"id": 1, "reference": "dashboard-payout-0001"}}
    )
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    await flush_outbox(services)
    assert await wallet_of(services, "driver", THANDI, "ZAR") == dec("0.00", "0", "61.00")


async def test_a_failed_paystack_transfer_is_retried_under_a_new_reference(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    assert services.payouts is not None
    await a_day_of_work(
        services, THANDI, "Thandi Mokoena", SIPHO, RegionCode.CAPE_TOWN, CAPE_TOWN, "cpt-2"
    )
    await services.gig.set_bank_account(THANDI, "632005", "4081234567")
    await pay_drivers(services, RegionCode.CAPE_TOWN, services.clock.now().date())
    [first] = fakes.paystack.transfers
    body, headers = fakes.paystack.transfer_result(first, "transfer.failed")
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    await flush_outbox(services)
    [order] = await services.payouts.orders.of_person(THANDI)
    assert order.status is PayoutOrderStatus.RETRYING
    assert await wallet_of(services, "driver", THANDI, "ZAR") == dec("61.00", "0", "0")

    clock.advance(services.payouts.retry_after.total_seconds())
    assert await services.payouts.sweep() == (1, 0)
    [second] = [r for r in fakes.paystack.transfers if r != first]
    body, headers = fakes.paystack.transfer_result(second)
    await gateway.post("/webhooks/paystack", data=body, headers=headers)
    await flush_outbox(services)

    [order] = await services.payouts.orders.of_person(THANDI)
    assert (order.status, order.attempts) == (PayoutOrderStatus.PAID, 2)
    assert await wallet_of(services, "driver", THANDI, "ZAR") == dec("0.00", "0", "61.00")
    worker = await services.gig.worker_by_phone(THANDI)
    assert worker is not None
    [(_, _, _, status)] = await services.gig.payouts(worker.id)
    assert status == PayoutStatus.PAID.value


async def test_a_paystack_transfer_reversed_after_success_goes_back_to_the_wallet_once(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """The bank returns the money after `transfer.success`: the wallet gets it back once, the
    payout is sent again after the backoff, and paid once on the ledger in the end."""
    assert services.payouts is not None
    assert services.money is not None
    await a_day_of_work(
        services, THANDI, "Thandi Mokoena", SIPHO, RegionCode.CAPE_TOWN, CAPE_TOWN, "cpt-3"
    )
    await services.gig.set_bank_account(THANDI, "632005", "4081234567")
    await pay_drivers(services, RegionCode.CAPE_TOWN, services.clock.now().date())
    [first] = fakes.paystack.transfers
    paid = fakes.paystack.transfer_result(first)
    reversed_ = fakes.paystack.transfer_result(first, "transfer.reversed")
    for body, headers in (paid, reversed_, reversed_):  # the reversal is delivered twice
        assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
        await flush_outbox(services)

    [order] = await services.payouts.orders.of_person(THANDI)
    assert order.status is PayoutOrderStatus.RETRYING
    assert order.reason is not None
    assert order.reason.startswith("returned by the payee's bank")
    # Paid out, then credited back: 61.00 is hers again, nothing held.
    assert await wallet_of(services, "driver", THANDI, "ZAR") == dec("61.00", "0", "61.00")
    rail = await services.money.ledger.account("rail:paystack:ZAR")
    assert rail.balance == Money(Decimal("0.00"), "ZAR")
    worker = await services.gig.worker_by_phone(THANDI)
    assert worker is not None
    [(_, _, _, status)] = await services.gig.payouts(worker.id)
    assert status == PayoutStatus.PENDING.value  # owed again, not "paid"

    clock.advance(services.payouts.retry_after.total_seconds())
    assert await services.payouts.sweep() == (1, 0)
    [second] = [r for r in fakes.paystack.transfers if r != first]
    body, headers = fakes.paystack.transfer_result(second)
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    await flush_outbox(services)
    [order] = await services.payouts.orders.of_person(THANDI)
    assert (order.status, order.attempts) == (PayoutOrderStatus.PAID, 2)
    assert await wallet_of(services, "driver", THANDI, "ZAR") == dec("0.00", "0", "122.00")
    rail = await services.money.ledger.account("rail:paystack:ZAR")
    assert rail.balance == Money(Decimal("-61.00"), "ZAR")
    [(_, _, _, status)] = await services.gig.payouts(worker.id)
    assert status == PayoutStatus.PAID.value


async def success_again(
    gateway: Client, services: Services, paid: tuple[bytes, dict[str, str]]
) -> None:
    """Attempt 1's success comes again: Paystack's webhook, and the desk's event from the bus."""
    body, headers = paid
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    async with services.db.transaction() as s:
        rows = (await s.execute(select(outbox.c.envelope).order_by(outbox.c.id))).all()
    again = [
        e
        for e in (EventEnvelope.model_validate(r.envelope) for r in rows)
        if e.topic == PaymentSucceeded.topic and e.data.get("direction") == "payout"
    ]
    assert again
    await services.bus.publish(again)
    await flush_outbox(services)


async def test_a_reversed_payouts_success_delivered_again_takes_nothing_from_the_wallet(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Attempt 1 paid, then returned by the bank, waiting to be sent again: its success,
    delivered again then and after attempt 2 is paid, is no 'paid late': the 61.00 the bank
    sent back stays hers until attempt 2 sends it, and leaves the wallet once."""
    assert services.payouts is not None
    assert services.money is not None
    await a_day_of_work(
        services, THANDI, "Thandi Mokoena", SIPHO, RegionCode.CAPE_TOWN, CAPE_TOWN, "cpt-4"
    )
    await services.gig.set_bank_account(THANDI, "632005", "4081234567")
    await pay_drivers(services, RegionCode.CAPE_TOWN, services.clock.now().date())
    [first] = fakes.paystack.transfers
    paid = fakes.paystack.transfer_result(first)
    for body, headers in (paid, fakes.paystack.transfer_result(first, "transfer.reversed")):
        assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
        await flush_outbox(services)

    await success_again(gateway, services, paid)

    [order] = await services.payouts.orders.of_person(THANDI)
    assert (order.status, order.attempts) == (PayoutOrderStatus.RETRYING, 1)
    assert await wallet_of(services, "driver", THANDI, "ZAR") == dec("61.00", "0", "61.00")

    clock.advance(services.payouts.retry_after.total_seconds())
    assert await services.payouts.sweep() == (1, 0)
    [second] = [r for r in fakes.paystack.transfers if r != first]
    body, headers = fakes.paystack.transfer_result(second)
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    await flush_outbox(services)
    await success_again(gateway, services, paid)

    [order] = await services.payouts.orders.of_person(THANDI)
    assert (order.status, order.attempts) == (PayoutOrderStatus.PAID, 2)
    assert await wallet_of(services, "driver", THANDI, "ZAR") == dec("0.00", "0", "122.00")
    rail = await services.money.ledger.account("rail:paystack:ZAR")
    assert rail.balance == Money(Decimal("-61.00"), "ZAR")


async def test_a_transfer_reversed_before_we_heard_it_succeeded_is_retried(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Only `transfer.reversed` arrives (the success webhook was lost): never counted as paid,
    the hold is released and the payout is sent again."""
    assert services.payouts is not None
    await a_day_of_work(
        services, THANDI, "Thandi Mokoena", SIPHO, RegionCode.CAPE_TOWN, CAPE_TOWN, "cpt-4"
    )
    await services.gig.set_bank_account(THANDI, "632005", "4081234567")
    await pay_drivers(services, RegionCode.CAPE_TOWN, services.clock.now().date())
    [first] = fakes.paystack.transfers
    body, headers = fakes.paystack.transfer_result(first, "transfer.reversed")
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    await flush_outbox(services)
    [order] = await services.payouts.orders.of_person(THANDI)
    assert order.status is PayoutOrderStatus.RETRYING
    assert await wallet_of(services, "driver", THANDI, "ZAR") == dec("61.00", "0", "0")


async def test_a_paystack_payout_failed_for_good_goes_out_with_the_next_one_once(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """Day 1's ZAR 61 fails at every attempt (`transfer.failed`): it stays in Thandi's wallet,
    and day 2's payout sends both days, once though two runs race."""
    assert services.payouts is not None
    desk = services.payouts
    await a_day_of_work(
        services, THANDI, "Thandi Mokoena", SIPHO, RegionCode.CAPE_TOWN, CAPE_TOWN, "cpt-f1"
    )
    await services.gig.set_bank_account(THANDI, "632005", "4081234567")
    await pay_drivers(services, RegionCode.CAPE_TOWN, services.clock.now().date())
    for attempt in range(1, desk.max_attempts + 1):
        [reference] = list(fakes.paystack.transfers)[attempt - 1 :]
        body, headers = fakes.paystack.transfer_result(reference, "transfer.failed")
        assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
        await flush_outbox(services)
        if attempt < desk.max_attempts:
            clock.advance(desk.retry_after.total_seconds() * 2 ** (attempt - 1))
            assert await desk.sweep() == (1, 0)
    [first] = await desk.orders.of_person(THANDI)
    assert first.status is PayoutOrderStatus.FAILED
    assert await wallet_of(services, "driver", THANDI, "ZAR") == dec("61.00", "0", "0")

    clock.advance(86_400)
    await a_day_of_work(
        services, THANDI, "Thandi Mokoena", SIPHO, RegionCode.CAPE_TOWN, CAPE_TOWN, "cpt-f2"
    )
    day = services.clock.now().date()
    runs = await asyncio.gather(
        *(pay_drivers(services, RegionCode.CAPE_TOWN, day) for _ in range(2))
    )
    [row], [other] = runs[0].sent, runs[1].sent
    assert (row["amount"], other["amount"]) == ("122.00", "122.00")
    assert row["resends"] == first.source
    [reference] = list(fakes.paystack.transfers)[3:]
    transfer = fakes.paystack.transfers[reference]
    assert (transfer["amount"], transfer["currency"]) == (12200, "ZAR")
    body, headers = fakes.paystack.transfer_result(reference)
    assert (await gateway.post("/webhooks/paystack", data=body, headers=headers)).status == 200
    await flush_outbox(services)
    assert await wallet_of(services, "driver", THANDI, "ZAR") == dec("0.00", "0", "122.00")

    clock.advance(86_400)
    again = await pay_drivers(services, RegionCode.CAPE_TOWN, services.clock.now().date())
    assert again.sent == []
    assert len(fakes.paystack.transfers) == 4  # nothing sent a second time


# --- agents' commissions ------------------------------------------------------------------------


async def test_an_agents_commissions_are_paid_out_once_by_the_same_path(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    assert services.money is not None
    atc = services.money.atc
    await atc.register(
        Agent(TUNDE, "Tunde Bakare", RegionCode.LAGOS, BankAccount("000014", "0345678912"))
    )
    await atc.set_limit(TUNDE, Money(Decimal(100_000), "NGN"))
    await atc.onboard(TUNDE, NGOZI)
    await atc.grant(TUNDE, NGOZI, "ATC0001", Money(Decimal(20_000), "NGN"))
    await atc.collect(TUNDE, NGOZI, Money(Decimal(10_000), "NGN"), "RCPT-1")
    day = services.clock.now().date()

    report = await pay_agents(services, RegionCode.LAGOS, day)

    [sent] = report.sent
    assert (sent["amount"], sent["status"]) == ("200.00", "paid")
    [transfer] = nip(fakes, "/nip/fundstransfer")
    assert (transfer["amount"], transfer["beneficiaryAccountName"]) == ("200.00", "TUNDE BAKARE")
    assert await wallet_of(services, "agent", TUNDE, "NGN") == dec("0.00", "0", "200.00")
    expense = await services.money.ledger.account("agent_earnings:NGN")
    assert expense.balance == Money(Decimal("200.00"), "NGN")  # earned once, paid once

    again = await pay_agents(services, RegionCode.LAGOS, day)
    assert again.sent == []
    assert len(nip(fakes, "/nip/fundstransfer")) == 1

    # A collection later that day earns 100.00: run again that day, the report says what the
    # day's payout sent (200.00), not that the new 100.00 went (it goes with tomorrow's).
    await atc.collect(TUNDE, NGOZI, Money(Decimal(5_000), "NGN"), "RCPT-2")
    later = await pay_agents(services, RegionCode.LAGOS, day)
    assert [(row["amount"], row["status"]) for row in later.sent] == [("200.00", "paid")]
    assert len(nip(fakes, "/nip/fundstransfer")) == 1
    clock.advance(86_400)
    tomorrow = await pay_agents(services, RegionCode.LAGOS, services.clock.now().date())
    assert [row["amount"] for row in tomorrow.sent] == ["100.00"]
    assert await wallet_of(services, "agent", TUNDE, "NGN") == dec("0.00", "0", "300.00")


@pytest.mark.parametrize("any_database_url", ["sqlite"], indirect=True)
async def test_a_nairobi_agents_shilling_cents_never_hold_up_its_commissions(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """M-Pesa pays whole shillings. Achieng's KES 10.50 of commission goes as KES 10 (the row
    says 10.00), and the 0.50 left waits in her wallet: it was a payout M-Pesa could never send,
    queued for good, and while it stood no later commission of hers was ever paid."""
    assert services.money is not None
    atc = services.money.atc
    achieng, juma = Phone("+254733000001"), Phone("+254711000001")
    await atc.register(Agent(achieng, "Achieng Otieno", RegionCode.NAIROBI, None))
    await atc.set_limit(achieng, Money(Decimal(10_000), "KES"))
    await atc.onboard(achieng, juma)
    await atc.grant(achieng, juma, "ATC0001", Money(Decimal(2_000), "KES"))

    async def paid(receipt: str) -> list[dict[str, str]]:
        await atc.collect(achieng, juma, Money(Decimal(525), "KES"), receipt)  # 10.50 earned
        before = len(fakes.daraja.payouts)
        report = await pay_agents(services, RegionCode.NAIROBI, services.clock.now().date())
        for b2c in fakes.daraja.payouts[before:]:
            target, body = fakes.daraja.b2c_result(b2c)
            await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
        await flush_outbox(services)
        clock.advance(86_400)
        return report.sent + report.waiting

    [day_1] = await paid("RCPT-1")
    assert (day_1["amount"], day_1["currency"]) == ("10.00", "KES")
    only_cents = await pay_agents(services, RegionCode.NAIROBI, services.clock.now().date())
    assert (only_cents.sent, only_cents.waiting) == ([], [])
    [day_3] = await paid("RCPT-2")  # 0.50 + 10.50
    assert (day_3["amount"], day_3["status"]) == ("11.00", "sending")
    assert [b2c.body["Amount"] for b2c in fakes.daraja.payouts] == [10, 11]
    assert await wallet_of(services, "agent", achieng, "KES") == dec("0.00", "0", "21.00")


@pytest.mark.parametrize("any_database_url", ["sqlite"], indirect=True)
async def test_a_cents_payout_queued_before_whole_shillings_no_longer_holds_up_an_agent(
    gateway: Client, services: Services, fakes: PaymentFakes, clock: SteppedClock
) -> None:
    """A database from before agents' M-Pesa payouts were whole shillings holds Achieng's KES
    0.50 payout (of her 10.50, 10 went), queued for good ('less than the rail pays'): every
    'agents pay' only retried it, and none of her later commissions was paid. The next run
    cancels it, once, and pays her wallet's whole shillings, those 0.50 with them."""
    assert services.money is not None
    assert services.payouts is not None
    atc = services.money.atc
    achieng, juma = Phone("+254733000001"), Phone("+254711000001")
    await atc.register(Agent(achieng, "Achieng Otieno", RegionCode.NAIROBI, None))
    await atc.set_limit(achieng, Money(Decimal(10_000), "KES"))
    await atc.onboard(achieng, juma)
    await atc.grant(achieng, juma, "ATC0001", Money(Decimal(2_000), "KES"))

    async def paid(receipt: str) -> PayReport:
        await atc.collect(achieng, juma, Money(Decimal(525), "KES"), receipt)  # 10.50 earned
        before = len(fakes.daraja.payouts)
        report = await pay_agents(services, RegionCode.NAIROBI, clock.now().date())
        for b2c in fakes.daraja.payouts[before:]:
            target, body = fakes.daraja.b2c_result(b2c)
            await gateway.post(target, data=body, headers={"Content-Type": "application/json"})
        await flush_outbox(services)
        clock.advance(86_400)
        return report

    await paid("RCPT-1")  # 10 went
    now = clock.now()
    stuck = PayoutOrder(
        uuid.uuid4(), f"atc:{achieng.e164}:{now.date()}", "agent", achieng, RegionCode.NAIROBI,
        Money(Decimal("0.50"), "KES"), PayoutOrderStatus.QUEUED, 0, now, now,
        reason="less than the rail pays",
    )  # fmt: skip
    await services.payouts.orders.add(stuck)  # as the code before whole shillings made it
    clock.advance(86_400)

    report = await paid("RCPT-2")

    [cancelled] = report.failed
    assert (cancelled["amount"], cancelled["reason"]) == ("0.50", UNSENDABLE)
    assert [(row["amount"], row["status"]) for row in report.sent] == [("11.00", "sending")]
    assert [b2c.body["Amount"] for b2c in fakes.daraja.payouts] == [10, 11]
    assert await wallet_of(services, "agent", achieng, "KES") == dec("0.00", "0", "21.00")
    again = await pay_agents(services, RegionCode.NAIROBI, clock.now().date())
    assert (again.sent, again.waiting, again.failed) == ([], [], [])


def test_bank_accounts_are_checked_at_the_edge_of_the_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    from core.app.cli import main  # noqa: PLC0415

    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    args = ["agents", "add", "--phone", "+2348051000001", "--name", "Tunde Bakare"]
    assert main([*args, "--region", "lagos", "--bank-code", "13", "--account", "1"]) == 2
    assert "bank_code: expected a 6-digit NIP institution code" in capsys.readouterr().err
    assert main([*args, "--region", "lagos", "--bank-code", "000014", "--account", "123"]) == 2
    assert "account_number: expected a 10-digit NUBAN" in capsys.readouterr().err
    assert main([*args, "--region", "lagos"]) == 0
    capsys.readouterr()
    bank = ["--phone", "+2348051000001", "--bank-code", "000014", "--account", "0345678912"]
    assert main(["agents", "bank", *bank]) == 0
    recorded = json.loads(capsys.readouterr().out)
    assert (recorded["bank_code"], recorded["account"]) == ("000014", "0345678912")
    assert main(["drivers", "bank", *bank]) == 2
    assert capsys.readouterr().err == (
        "omniroute drivers bank: no driver with phone +2348051000001\n"
    )


def test_an_agent_is_recorded_only_in_the_region_of_its_phone(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    """A Kenyan agent is paid on M-Pesa at its phone, a Nigerian one on NIP in naira: an agent
    recorded in a region its phone is not from could never be paid there, so it is refused."""
    from core.app.cli import main  # noqa: PLC0415

    monkeypatch.setenv("OMNIROUTE_DATABASE_URL", database_url)
    args = ["agents", "add", "--phone", "+2348051000001", "--name", "Tunde Bakare"]
    assert main([*args, "--region", "nairobi"]) == 2
    assert capsys.readouterr().err == (
        "omniroute agents add: --phone +2348051000001 is a NG number: an agent in nairobi needs"
        " a KE one\n"
    )
    assert main(["agents", "pay", "--region", "nairobi"]) == 0
    assert json.loads(capsys.readouterr().out)["pending"] == []  # nobody was recorded
    assert main([*args, "--region", "lagos"]) == 0
    assert json.loads(capsys.readouterr().out)["region"] == "lagos"
