"""Port adapters over the orders engine (status and stock, SQL), and the pending engines.

`PendingEngines` stands in where no engine answers yet: refunds (recorded for an operator), and
the rail and settlement when the gateway runs without payments or ledger.
Each request is recorded once in the effects table (visible, never repeated) and answered as
pending. The warehouse, route and driver steps are real (core.app.workflow_dispatch).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.money import Money
from engines.fulfilment.effects import Result, SqlEffectLog
from engines.fulfilment.model import (
    Charge,
    ChargeRequest,
    OrderSnapshot,
    PaymentStatus,
    RefundRequest,
    SettlementReport,
)
from engines.orders import (
    InvalidTransitionError,
    Order,
    OrderService,
    OrderStatus,
    UnknownOrderError,
)
from engines.orders.repository import SqlOrderRepository

SETTLEMENT_RECORD = "settlement-record"
# An order's way forward. The engines that do the work move it along (the WMS packs, the gig
# platform dispatches) and the workflow hears of it by signal, sometimes late: a step the
# order is already past is done, not an impossible move.
FORWARD = (
    OrderStatus.PLACED,
    OrderStatus.CONFIRMED,
    OrderStatus.PICKING,
    OrderStatus.PACKED,
    OrderStatus.DISPATCHED,
    OrderStatus.DELIVERED,
)


def already_past(current: OrderStatus, target: OrderStatus) -> bool:
    return (
        current in FORWARD and target in FORWARD and FORWARD.index(current) > FORWARD.index(target)
    )


def snapshot_of(order: Order) -> OrderSnapshot:
    return OrderSnapshot(
        reference=order.reference,
        customer=order.customer.e164,
        region=order.region.value,
        total=order.total,
        payment_method=order.payment_method.value,
        status=order.status.value,
        paid_by_original=order.paid_by_original,
        paid=order.paid_at is not None,
    )


class SqlOrderDesk:
    """Order status and stock through the orders and catalogue engines, one effect per key."""

    def __init__(self, orders: OrderService, effects: SqlEffectLog) -> None:
        self._orders = orders
        self._effects = effects

    async def snapshot(self, reference: str) -> OrderSnapshot:
        return snapshot_of(await self._orders.get(reference))

    async def advance(self, reference: str, status: str, *, key: str) -> OrderSnapshot:
        target = OrderStatus(status)

        async def work(s: AsyncSession) -> Result:
            order = await _order_in(s, reference)
            if order.status is not target and not already_past(order.status, target):
                try:
                    await self._orders.advance_in(s, reference, target)
                except InvalidTransitionError as lost:
                    if lost.current is not target and not already_past(lost.current, target):
                        raise
                    # Moved there (or past) by someone else at the same moment: nothing written.
            return {"status": target.value}

        await self._effects.once(key, work)
        return await self.snapshot(reference)

    async def cancel_and_release(
        self, reference: str, *, reason: str | None, key: str
    ) -> OrderSnapshot:
        async def work(s: AsyncSession) -> Result:
            order = await _order_in(s, reference)
            if order.status is OrderStatus.CANCELLED:
                # Someone else (an operator, the reservation sweeper) cancelled it, and that
                # cancel released its stock: releasing again would free other orders' holds.
                return {"released": []}
            # Cancelling releases the order's reserved stock (OrderService.advance_in).
            try:
                await self._orders.advance_in(s, reference, OrderStatus.CANCELLED, reason=reason)
            except InvalidTransitionError as lost:
                if lost.current is not OrderStatus.CANCELLED:
                    raise
                return {"released": []}  # cancelled at the same moment by someone else, as above
            return {"released": [[line.sku, line.quantity] for line in order.lines]}

        await self._effects.once(key, work)
        return await self.snapshot(reference)


async def _order_in(s: AsyncSession, reference: str) -> Order:
    order = await SqlOrderRepository(s).by_reference(reference.upper())
    if order is None:
        raise UnknownOrderError(reference)
    return order


def _money(doc: Result) -> Money:
    return Money(Decimal(str(doc["amount"])), str(doc["currency"]))


class PendingEngines:
    """Rail, refunds and settlement where no engine answers them."""

    def __init__(self, effects: SqlEffectLog, clock: Clock) -> None:
        self._effects = effects
        self._clock = clock

    async def _record(self, key: str, doc: Result) -> tuple[Result, bool]:
        async def work(_s: AsyncSession) -> Result:
            return doc

        return await self._effects.once(key, work)

    # PaymentRail --------------------------------------------------------------------------
    async def start_charge(self, request: ChargeRequest, *, key: str) -> Charge:
        await self._record(
            key,
            {
                "payment_id": request.payment_id,
                "amount": str(request.amount.amount),
                "currency": request.amount.currency,
                "method": request.method,
                "payer": request.payer,
                "status": PaymentStatus.PENDING.value,
            },
        )
        return Charge(request.payment_id, PaymentStatus.PENDING)

    async def requery(self, payment_id: str) -> Charge:
        # No rail to ask yet: only the webhook signal can say it was paid.
        return Charge(payment_id, PaymentStatus.PENDING)

    async def refund(self, request: RefundRequest, *, key: str) -> Charge:
        await self._record(
            key,
            {
                "payment_id": request.payment_id,
                "amount": str(request.amount.amount),
                "currency": request.amount.currency,
                "provider_reference": request.provider_reference,
                "refund": True,
            },
        )
        return Charge(request.payment_id, PaymentStatus.PENDING, request.provider_reference)

    # Settlement ---------------------------------------------------------------------------
    async def record_order(self, order: OrderSnapshot, *, key: str) -> None:
        await self._record(
            f"{SETTLEMENT_RECORD}:{order.reference}",
            {
                "reference": order.reference,
                "amount": str(order.total.amount),
                "currency": order.total.currency,
                "key": key,
            },
        )

    async def settle_day(self, day: date, *, key: str) -> SettlementReport:
        """Totals per currency of the orders recorded for settlement that day (UTC)."""
        since = datetime.combine(day, time(0), tzinfo=UTC)
        records = await self._effects.matching(
            f"{SETTLEMENT_RECORD}:%", since, since + timedelta(days=1)
        )
        totals: dict[str, Money] = {}
        for _key, doc in records:
            amount = _money(doc)
            totals[amount.currency] = (
                totals.get(amount.currency, Money.zero(amount.currency)) + amount
            )
        report = {
            "day": day.isoformat(),
            "orders": len(records),
            "totals": [[str(m.amount), m.currency] for m in totals.values()],
        }
        done, _ = await self._record(key, report)
        return SettlementReport(
            day=date.fromisoformat(str(done["day"])),
            orders=int(done["orders"]),
            totals=tuple(Money(Decimal(a), c) for a, c in done["totals"]),
        )
