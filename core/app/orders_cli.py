"""`omniroute orders return REF [--reason TEXT]`: a delivered order's goods came back (the
retailer gave them back, an operator took them in), and the order is returned.

The order moves through `OrderService.advance`, so what a return does runs from its status
event, wherever the gateway relays the outbox: the goods go back on hand, the sale and its VAT
are reversed, the invoice gets its credit note, what was paid for the goods goes back on the rail
it came by (core.app.refunds.ReturnedOrderRefunder), or stays her credit where the rail cannot
give it back (as the cash she paid at the door does), and a credit order's credit is released.
The command says so in one line. Run again, it says the order is returned already and does
nothing (exit 0); an unknown reference or an order that is not delivered is refused in one
line, exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass

from core.app.bootstrap import Services, build_services
from core.app.order_payments import can_refund, cash_taken
from core.app.refunds import returned_refunds
from core.config import Settings
from engines.orders import (
    InvalidTransitionError,
    Order,
    OrderStatus,
    PaymentMethod,
    UnknownOrderError,
)

PROG = "omniroute orders return"


class NotDeliveredError(Exception):
    def __init__(self, order: Order) -> None:
        super().__init__(order.reference)
        self.order = order


@dataclass(frozen=True, slots=True)
class Returned:
    """What the command did: the order, whether it was returned already, and where its money
    goes (one phrase per payment, or the credit line's)."""

    order: Order
    already: bool
    money: tuple[str, ...] = ()


def run(args: argparse.Namespace) -> int:
    reference = args.reference.strip().upper()
    try:
        done = asyncio.run(_give_back(reference, args.reason))
    except UnknownOrderError:
        return _refused(f"no order {reference}")
    except NotDeliveredError as exc:
        status = exc.order.status
        hint = (
            " (goods that came back undelivered: `omniroute deliveries resolve`)"
            if status is OrderStatus.DISPATCHED
            else ""
        )
        return _refused(
            f"order {reference} is {status.value}: only a delivered order is returned{hint}"
        )
    print(said(done))
    return 0


async def give_back(services: Services, reference: str, reason: str | None = None) -> Returned:
    """The command's work over the caller's services (tests drive it with theirs)."""
    order = await services.orders.get(reference)
    if order.status is OrderStatus.RETURNED:
        return Returned(order, already=True)
    if order.status is not OrderStatus.DELIVERED:
        raise NotDeliveredError(order)
    money = await _where_the_money_goes(services, order)  # before: the return moves it
    try:
        moved = await services.orders.advance(
            reference, OrderStatus.RETURNED, reason=reason or "returned after delivery"
        )
    except InvalidTransitionError as exc:
        if exc.current is not OrderStatus.RETURNED:
            raise NotDeliveredError(await services.orders.get(reference)) from exc
        return Returned(order, already=True)  # another operator's run returned it meanwhile
    return Returned(moved, already=False, money=money)


async def _where_the_money_goes(services: Services, order: Order) -> tuple[str, ...]:
    if order.payment_method is PaymentMethod.CREDIT:
        return (f"her credit of {order.total.format()} released",)
    if cash_taken(order):
        return (f"her cash of {order.total.in_cash().format()} kept as her credit",)
    if order.payment_method is PaymentMethod.ACCOUNT_CREDIT:
        return (f"{order.total.format()} back on her account as credit (it was paid from there)",)
    if services.payments is None:
        return ()
    said = []
    for payment, _key, part in await returned_refunds(services.payments, services.orders, order):
        if part.amount <= 0:
            continue
        if can_refund(services.payments, payment.provider):
            said.append(f"a refund of {part.format()} is being asked on {payment.provider}")
        else:
            said.append(f"{part.format()} kept as her credit ({payment.provider} cannot refund)")
    return tuple(said)


def said(done: Returned) -> str:
    order = done.order
    if done.already:
        return f"order {order.reference} was already returned: nothing done"
    money = "; ".join(done.money) or (
        f"nothing was paid upfront, nothing to refund ({order.total.format()} no longer owed)"
    )
    return f"order {order.reference} returned, its goods back on the shelves: {money}"


def _refused(reason: str) -> int:
    print(f"{PROG}: {reason}", file=sys.stderr)
    return 2


async def _give_back(reference: str, reason: str | None) -> Returned:
    services = build_services(Settings())
    try:
        return await give_back(services, reference, reason)
    finally:
        await services.close()
