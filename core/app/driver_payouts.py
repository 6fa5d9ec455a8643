"""Paying drivers: the gig engine's day of earnings -> the ledger's payout wallet -> a payout
on the region's rail (M-Pesa B2C in Kenya) -> the rail's result posts or voids the hold.

It joins three contexts (gig, settlement, payments), so it lives in the composition layer.
Every step is keyed on the gig payout's id, so running it twice (or after a crash half way)
sends each payout once.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR
from typing import TYPE_CHECKING

import structlog

from core.bus import EventBus, EventEnvelope
from core.config import Settings
from core.money import Money
from core.region import RegionCode
from engines.gig import GigService, PayoutStatus
from engines.ledger import TransferRefusedError
from engines.payments import PROVIDER_OF, CreatePayment, Direction, Method, PaymentService
from engines.payments.events import PaymentFailed, PaymentSucceeded
from engines.settlement import PayoutService

if TYPE_CHECKING:
    from core.app.bootstrap import Services

log = structlog.get_logger(__name__)

ROLE = "driver"
KEY_PREFIX = "payout:"
# The rail each region pays its drivers on; a region missing here keeps its payouts pending.
# (Lagos pays on NIP, which needs each driver's bank account: not collected at onboarding yet.)
PAYOUT_METHODS: dict[RegionCode, Method] = {RegionCode.NAIROBI: Method.MPESA_B2C}


@dataclass(slots=True)
class PayReport:
    region: str
    day: str
    sent: list[dict[str, str]] = field(default_factory=list)
    waiting: list[dict[str, str]] = field(default_factory=list)  # no payout rail configured

    def as_json(self) -> dict[str, object]:
        return {"region": self.region, "date": self.day, "sent": self.sent, "pending": self.waiting}


def ledger_reference(payout_id: uuid.UUID) -> str:
    return f"gig:{payout_id}"


def sendable(amount: Money) -> Money:
    """Mobile money pays whole units: send the floor, the cents stay in the driver's wallet
    (the rail would round a fraction up and pay out more than the wallet holds)."""
    return Money(amount.amount.quantize(1, rounding=ROUND_FLOOR), amount.currency)


async def pay_drivers(services: Services, region: RegionCode, day: date) -> PayReport:
    """Settle every driver of the region for `day` and send what each is owed."""
    assert services.money is not None
    assert services.payments is not None
    gig, payouts, payments = services.gig, services.money.payouts, services.payments
    method = PAYOUT_METHODS.get(region)
    rail_ready = method is not None and payments.offers(method)
    report = PayReport(region.value, day.isoformat())
    for worker in await gig.workers(region):
        await gig.settle(worker.id, day)
        for payout_id, amount, earned_on, status in await gig.payouts(worker.id):
            if status != PayoutStatus.PENDING.value or earned_on != day:
                continue
            reference = ledger_reference(payout_id)
            await payouts.earn(ROLE, worker.phone, amount, reference=reference)
            row = {
                "worker": str(worker.id),
                "phone": worker.phone.e164,
                "payout": str(payout_id),
                "amount": str(amount.amount),
                "currency": amount.currency,
            }
            if method is None or not rail_ready:
                report.waiting.append(row)
                continue
            send = sendable(amount)
            if send.amount <= 0:
                report.waiting.append(row)
                continue
            await payouts.request(ROLE, worker.phone, send, PROVIDER_OF[method], reference)
            intent = await payments.pay(
                CreatePayment(
                    idempotency_key=f"{KEY_PREFIX}{payout_id}",
                    method=method,
                    direction=Direction.PAYOUT,
                    amount=send,
                    customer=worker.phone,
                    description="Driver earnings",
                )
            )
            sent = {"sent": str(send.amount), "intent": str(intent.id)}
            report.sent.append(row | sent | {"status": intent.status.value})
    return report


class DriverPayoutResults:
    """The rail's answer on a driver payout posts the ledger's hold (or voids it) and closes
    the gig payout; a callback delivered twice changes nothing the second time."""

    def __init__(self, payments: PaymentService, payouts: PayoutService, gig: GigService) -> None:
        self._payments = payments
        self._payouts = payouts
        self._gig = gig

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(PaymentSucceeded.topic, "driver-payouts", self.on_succeeded)
        bus.subscribe(PaymentFailed.topic, "driver-payouts", self.on_failed)

    async def on_succeeded(self, envelope: EventEnvelope) -> None:
        event = PaymentSucceeded.model_validate(envelope.data)
        if event.direction == Direction.PAYOUT.value:
            await self._close(event.intent_id, PayoutStatus.PAID)

    async def on_failed(self, envelope: EventEnvelope) -> None:
        event = PaymentFailed.model_validate(envelope.data)
        if event.direction == Direction.PAYOUT.value:
            await self._close(event.intent_id, PayoutStatus.FAILED)

    async def _close(self, intent_id: str, status: PayoutStatus) -> None:
        intent = await self._payments.get(uuid.UUID(intent_id))
        if not intent.idempotency_key.startswith(KEY_PREFIX):
            return  # an agent's or a distributor's payout: not ours
        payout_id = uuid.UUID(intent.idempotency_key.removeprefix(KEY_PREFIX))
        reference = ledger_reference(payout_id)
        try:
            if status is PayoutStatus.PAID:
                await self._payouts.confirmed(reference)
            else:
                await self._payouts.failed(reference)
        except TransferRefusedError as refused:
            # A success after the hold was voided (or the reverse): the ledger keeps its first
            # answer and an operator reconciles it against the rail's statement.
            log.warning("driver_payout_out_of_order", payout=str(payout_id), error=str(refused))
            return
        await self._gig.close_payout(payout_id, status)


def pay_drivers_command(region: RegionCode, day: date | None) -> int:
    """`omniroute drivers pay`: pay the region's drivers for the day (default: today, UTC)."""
    report = asyncio.run(_pay(region, day))
    print(json.dumps(report.as_json(), indent=2))
    return 0


async def _pay(region: RegionCode, day: date | None) -> PayReport:
    from core.app.bootstrap import build_services  # noqa: PLC0415 - bootstrap wires this module

    services = build_services(Settings())
    try:
        return await pay_drivers(services, region, day or services.clock.now().date())
    finally:
        await services.close()
