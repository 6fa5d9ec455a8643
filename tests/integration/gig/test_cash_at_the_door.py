"""Pay on delivery: the cash a driver takes at the door is on the books. Her receivable is
cleared against the driver's own cash account (what arrived, on a short delivery), once however
often the delivered event is relayed, and the order reads as paid from its delivery on. On
SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from core.app.bootstrap import Services
from core.bus import EventEnvelope
from core.bus.tables import outbox
from core.money import Money
from core.phone import Phone
from engines.gig import CodeCheck, StopStatus
from engines.ledger import chart
from engines.orders.events import OrderDelivered
from tests.integration.gig.test_days import packed
from tests.support.gig import CHIDI, EMEKA, NGOZI, code_for, driver, order, route


async def balance(services: Services, spec: chart.AccountSpec) -> Money:
    assert services.money is not None
    found = await services.money.ledger.find_account(spec.code)
    return found.balance if found is not None else Money.zero(spec.currency)


async def owes(services: Services, customer: Phone) -> Money:
    return await balance(services, chart.receivable(customer, "NGN"))


async def delivered_events_again(services: Services) -> None:
    """The bus hands every delivered event out again (delivery is at least once)."""
    async with services.db.transaction() as s:
        rows = (await s.execute(select(outbox.c.envelope).order_by(outbox.c.id))).all()
    again = [
        e
        for e in (EventEnvelope.model_validate(r.envelope) for r in rows)
        if e.topic == OrderDelivered.topic
    ]
    assert again
    await services.bus.publish(again)
    await services.relay.drain()


async def test_the_cash_taken_at_the_door_clears_her_debt_into_the_drivers_cash_once(
    services: Services,
) -> None:
    assert services.money is not None
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    first = await order(services, NGOZI, "cash-a", quantity=3)
    second = await order(services, CHIDI, "cash-b", quantity=3)
    for reference in (first, second):
        await packed(services, reference)
    task = await gig.create_task(
        route(
            "R-cash",
            [(first, NGOZI, "12 Broad St"), (second, CHIDI, "4 Marina")],
            services=services,
        )
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    await services.relay.drain()

    # Ngozi reads her code to Emeka and hands him the cash: she owes nothing any more.
    hit = await gig.confirm_delivery(task.id, emeka.id, await code_for(services, NGOZI, first))
    assert hit.outcome is CodeCheck.DELIVERED
    # Chidi takes 1 of her 3 cartons and pays for that one only.
    short = await services.orders.deliver(second, {"NDL-INDO-CHK": 1})
    await services.relay.drain()
    await delivered_events_again(services)

    full = await services.orders.get(first)
    assert full.paid_at is not None
    assert full.paid_at.utcoffset() is not None  # a moment, as every paid time is
    assert short.paid_at is not None
    assert await owes(services, NGOZI) == Money.zero("NGN")
    assert await owes(services, CHIDI) == Money.zero("NGN")
    assert short.total < full.total
    # He took whole naira at each door (nobody hands over kobo): the platform's cash rounding
    # has the difference, so neither she nor he is left owing the kobo.
    held = await balance(services, chart.driver_cash(EMEKA, "NGN"))
    assert held == full.total.in_cash() + short.total.in_cash()
    assert held.amount == held.amount.to_integral_value()
    rounding = await balance(services, chart.cash_rounding("NGN"))
    assert held + rounding == full.total + short.total
    assert (await services.money.ledger.check()).balanced


async def test_a_door_an_operator_settles_as_delivered_puts_her_cash_with_the_driver(
    services: Services,
) -> None:
    """Three wrong codes hand the door to an operator; she confirms by phone that the goods
    arrived, and she paid the driver: his cash holds it, her receivable is clear."""
    assert services.money is not None
    gig = services.gig
    emeka = await driver(services, EMEKA, "Emeka")
    reference = await order(services, NGOZI, "cash-escalated", quantity=3)
    await packed(services, reference)
    task = await gig.create_task(
        route("R-cash-x", [(reference, NGOZI, "12 Broad St")], services=services)
    )
    [offer] = await gig.allocate()
    await gig.accept(offer.id)
    code = await code_for(services, NGOZI, reference)
    wrong = "0000" if code != "0000" else "1111"
    for _ in range(3):
        await gig.confirm_delivery(task.id, emeka.id, wrong)
    await services.relay.drain()
    assert await balance(services, chart.driver_cash(EMEKA, "NGN")) == Money.zero("NGN")

    await gig.resolve_escalation(reference, StopStatus.DELIVERED)
    await services.relay.drain()
    delivered = await services.orders.get(reference)
    assert delivered.paid_at is not None
    assert await balance(services, chart.driver_cash(EMEKA, "NGN")) == delivered.total.in_cash()
    assert await owes(services, NGOZI) == Money.zero("NGN")
    assert (await services.money.ledger.check()).balanced
