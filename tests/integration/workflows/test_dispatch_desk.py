"""The workflow's warehouse, route, driver and credit steps do their effect once per key: a
retried activity (a worker killed after the effect) neither repeats nor changes its answer."""

from __future__ import annotations

import uuid

from core.app.bootstrap import Services
from core.app.workflow_dispatch import CreditLine, DispatchDesk
from core.clock import SteppedClock
from core.phone import Phone
from core.region import RegionCode
from engines.fulfilment.adapters import snapshot_of
from engines.fulfilment.effects import SqlEffectLog
from engines.fulfilment.requests import DispatchStep, SqlDispatchRequests
from engines.orders import CartLine, PaymentMethod, PlaceOrder
from tests.integration.workflows.conftest import effects, place
from tests.support.credit import credit_history

NEWCOMER = Phone("+2348030000444")


async def test_a_retried_release_records_the_request_once(services: Services) -> None:
    order = await place(services)
    log = SqlEffectLog(services.db, services.clock)
    requests = SqlDispatchRequests(services.db)
    desk = DispatchDesk(log, requests, services.orders, services.gig, services.clock)
    key = f"order-{order.reference}:release_to_wave"

    await desk.release_to_wave(order.reference, key=key)
    await desk.release_to_wave(order.reference, key=key)  # the retry
    await desk.request_route(order.reference, key=f"order-{order.reference}:request_route")
    await desk.request_driver(order.reference, key=f"order-{order.reference}:request_driver")

    assert set(await requests.steps(order.reference)) == set(DispatchStep)
    assert await requests.released([order.reference, "NOSUCH"]) == {order.reference}
    assert (await effects(services)).count(key) == 1


async def test_a_credit_refusal_stands_on_retry_even_if_the_line_opens_meanwhile(
    services: Services, clock: SteppedClock
) -> None:
    assert services.money is not None
    credit = services.money.credit
    order = await services.orders.place(
        PlaceOrder(
            NEWCOMER,
            RegionCode.LAGOS,
            (CartLine("NDL-INDO-CHK", 2),),
            PaymentMethod.CREDIT,
            uuid.uuid4().hex,
        )
    )
    line = CreditLine(credit, SqlEffectLog(services.db, services.clock))
    key = f"order-{order.reference}:draw_credit"

    refused = await line.draw(snapshot_of(order), key=key)
    assert (refused.approved, refused.refused) == (False, "no_credit")

    await credit_history(services, clock, NEWCOMER.e164)
    await credit.decide(NEWCOMER)
    again = await line.draw(snapshot_of(order), key=key)  # the same activity, retried
    assert again == refused
    assert await credit.credits(NEWCOMER) == []  # nothing held for an order being unwound
