"""Money out to drivers and agents, on each market's rail: one path for both.

Nairobi pays to the phone's M-Pesa wallet (B2C); Lagos to a bank account by NIBSS NIP, after a
name enquiry shows the account is held in the payee's name; Cape Town to a bank account by
Paystack Transfers. It joins payments, the ledger, gig and ATC, so it lives in the composition
layer. Every step is keyed so that running it twice, or after a crash half way, sends each
attempt once:

- the payout is recorded once per source (a gig payout, an agent's day) — `PayoutOrders`;
- an attempt is claimed (compare-and-set) before anything is held or sent; its ledger hold
  and its payment intent are keyed on (payout, attempt);
- the rail's answer (a webhook, a requery, or at once) posts or voids that attempt's hold;
- a refused attempt is retried after a backoff, at most `max_attempts` times; an attempt the
  rail never answers is asked once more and then given up: its hold is released and it is not
  retried, because the rail may still have paid (a late success is then posted as paid late).
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

import structlog

from core.app.periodic import Periodic
from core.bank import BankAccount, names_match
from core.bus import EventBus, EventEnvelope
from core.clock import Clock
from core.ids import IdGenerator
from core.money import Money
from core.phone import Phone
from core.region import RegionCode
from engines.atc import AtcService
from engines.gig import GigService, PayoutStatus
from engines.ledger import TransferRefusedError
from engines.payments import (
    PROVIDER_OF,
    CreatePayment,
    Direction,
    IntentStatus,
    Method,
    PaymentIntent,
    PaymentService,
    RailNotConfiguredError,
    RailRejectedError,
    RailUnavailableError,
)
from engines.payments.events import PaymentFailed, PaymentReversed, PaymentSucceeded
from engines.settlement import (
    PayoutOrder,
    PayoutOrders,
    PayoutOrderStatus,
    PayoutService,
    backoff,
)
from engines.settlement.payout_orders import SENDABLE, moved

log = structlog.get_logger(__name__)

# The rail each market pays drivers and agents on.
PAYOUT_METHODS: dict[RegionCode, Method] = {
    RegionCode.NAIROBI: Method.MPESA_B2C,
    RegionCode.LAGOS: Method.NIP,
    RegionCode.CAPE_TOWN: Method.PAYSTACK_TRANSFER,
}
KEY_PREFIX = "payout:"
NO_ANSWER = "the rail did not answer in time"
RETURNED = "returned by the payee's bank"
CARRIED = "nothing to send: carried into the next payout"
UNSENDABLE = "cancelled: less than the rail pays (the money stays in the wallet)"
LEDGER_REFUSED = "ledger: "


@dataclass(frozen=True, slots=True)
class Payee:
    """Who is paid, as on file: the name a bank account must be held in, and where to pay."""

    role: str  # "driver" or "agent"
    phone: Phone
    name: str
    region: RegionCode
    bank: BankAccount | None


def pays_whole_units(region: RegionCode) -> bool:
    """M-Pesa B2C pays whole shillings; NIP pays kobo and Paystack Transfers pay cents."""
    return PAYOUT_METHODS.get(region) is Method.MPESA_B2C


def payout_due(
    earned_before: Decimal, sent_before: Decimal, earned: Money, *, whole_units: bool
) -> tuple[Money, Money]:
    """What a driver's payout sends, and what it leaves carried to the next one, given all the
    payee earned in payouts before it and what those payouts really sent: together they pay
    everything earned so far (its whole units on a whole-units rail, so the cents of one day go
    out with a later day's payout), so the money of a payout that failed for good (it sent
    nothing) goes out with the next one, as does what one rounded down (before cents were
    carried).

    Decided by the payouts' order and the earlier payouts alone (not by what a run happens to
    see), so two runs at once send the same amount, and nothing is sent twice."""
    through = earned_before + earned.amount
    owed = through.quantize(Decimal(1), rounding=ROUND_FLOOR) if whole_units else through
    sent = max(owed - sent_before, Decimal(0))
    carried = through - sent_before - sent
    return Money(sent, earned.currency), Money(carried, earned.currency)


def whole_units_due(
    earned_before: Decimal, sent_before: Decimal, earned: Money
) -> tuple[Money, Money]:
    """`payout_due` on a whole-units rail (M-Pesa)."""
    return payout_due(earned_before, sent_before, earned, whole_units=True)


def really_sent(
    order: PayoutOrder | None, earned: Money, *, failed: bool, whole_units: bool = True
) -> Decimal:
    """What an earlier payout sent (or may still send): nothing when the rail refused it for
    good (every attempt: its money is still in the wallet, to go with the next payout), else
    its amount (the whole shillings of it on M-Pesa). Not sent again either: a payout given up
    unanswered (the rail may still have paid it) or one the wallet could not hold (the money is
    not there: asked for again, it would take the next day's payout down with it)."""
    if order is None:  # sent before payout orders existed: settled as it was then
        amount = Money(Decimal(0) if failed else earned.amount, earned.currency)
    elif order.status is PayoutOrderStatus.FAILED and not (
        order.reason == NO_ANSWER or (order.reason or "").startswith(LEDGER_REFUSED)
    ):
        return Decimal(0)
    else:
        amount = order.amount
    return sendable(amount, Method.MPESA_B2C).amount if whole_units else amount.amount


def sendable(amount: Money, method: Method) -> Money:
    """Mobile money pays whole units: send the floor, the cents stay in the wallet (the rail
    would round a fraction up and pay out more than the wallet holds). Banks pay cents."""
    if method is not Method.MPESA_B2C:
        return amount
    return Money(amount.amount.quantize(Decimal(1), rounding=ROUND_FLOOR), amount.currency)


def attempt_of(intent: PaymentIntent) -> tuple[uuid.UUID, int] | None:
    """The payout and attempt an intent was created for, from its idempotency key."""
    if intent.direction is not Direction.PAYOUT or not intent.idempotency_key.startswith(
        KEY_PREFIX
    ):
        return None
    order_id, _, attempt = intent.idempotency_key.removeprefix(KEY_PREFIX).partition(":")
    try:
        return uuid.UUID(order_id), int(attempt)
    except ValueError:
        return None  # an older key format (a gig payout id alone): not an order of ours


class PayoutDesk:
    def __init__(  # noqa: PLR0917 - the services a composition root hands over
        self,
        payments: PaymentService,
        ledger: PayoutService,
        orders: PayoutOrders,
        gig: GigService,
        atc: AtcService,
        clock: Clock,
        ids: IdGenerator,
        *,
        max_attempts: int = 3,
        retry_after: timedelta = timedelta(minutes=10),
        answer_within: timedelta = timedelta(hours=24),
    ) -> None:
        self._payments = payments
        self._ledger = ledger
        self.orders = orders
        self._gig = gig
        self._atc = atc
        self._clock = clock
        self._ids = ids
        self.max_attempts = max_attempts
        self.retry_after = retry_after
        self.answer_within = answer_within

    # --- sending ------------------------------------------------------------------------------

    async def pay(
        self,
        payee: Payee,
        amount: Money,
        source: str,
        *,
        earn: bool,
        earned: Money | None = None,
    ) -> PayoutOrder:
        """Record what `source` sends the payee (crediting the wallet with `earned`, or the
        amount, when `earn`) and send it, unless it was sent before; answers where the payout
        stands. What was earned and not sent stays in the wallet for a later payout."""
        if earn:
            credit = amount if earned is None else earned
            await self._ledger.earn(payee.role, payee.phone, credit, reference=source)
        now = self._clock.now()
        order = await self.orders.add(
            PayoutOrder(
                self._ids.uuid(),
                source,
                payee.role,
                payee.phone,
                payee.region,
                amount,
                PayoutOrderStatus.QUEUED,
                0,
                now,
                now,
            )
        )
        if order.status in SENDABLE:
            return await self._attempt(order, payee)
        return order

    async def _attempt(self, order: PayoutOrder, payee: Payee) -> PayoutOrder:
        method = PAYOUT_METHODS.get(order.region)
        if method is None or not self._payments.offers(method):
            return await self._wait(order, PayoutOrderStatus.QUEUED, "no payout rail configured")
        send = sendable(order.amount, method)
        if order.amount.amount == 0:
            # All of it carried into the next payout (a day of less than one shilling).
            return await self._close(order, PayoutOrderStatus.PAID, CARRIED)
        if send.amount <= 0:
            return await self._wait(order, PayoutOrderStatus.QUEUED, "less than the rail pays")
        if method is not Method.MPESA_B2C:
            if payee.bank is None:
                return await self._wait(
                    order, PayoutOrderStatus.HELD, "no bank account on file for the payee"
                )
            if method is Method.NIP:
                refused = await self._check_name(payee, payee.bank)
                if refused is not None:
                    return await self._wait(order, *refused)
        attempt = order.attempts + 1
        claimed = moved(
            order,
            self._clock.now(),
            status=PayoutOrderStatus.SENDING,
            attempts=attempt,
            reason=None,
            next_attempt_at=None,
            intent_id=None,
        )
        if not await self.orders.move(order, claimed):
            return await self._current(order)  # another runner claimed this attempt
        provider = PROVIDER_OF[method]
        try:
            await self._ledger.request(
                payee.role, payee.phone, send, provider, claimed.hold_reference()
            )
        except TransferRefusedError as refused:
            # The wallet holds less than the payout (paid some other way meanwhile).
            return await self._close(
                claimed, PayoutOrderStatus.FAILED, f"{LEDGER_REFUSED}{refused}"
            )
        intent = await self._payments.pay(
            CreatePayment(
                idempotency_key=claimed.intent_key(attempt),
                method=method,
                direction=Direction.PAYOUT,
                amount=send,
                customer=payee.phone,
                description="Agent commission" if payee.role == "agent" else "Driver earnings",
                bank_account=payee.bank.number
                if payee.bank and method is not (Method.MPESA_B2C)
                else None,
                bank_code=payee.bank.bank_code
                if payee.bank and method is not (Method.MPESA_B2C)
                else None,
                payee_name=payee.name if method is Method.PAYSTACK_TRANSFER else None,
            )
        )
        with_intent = moved(claimed, self._clock.now(), intent_id=intent.id)
        if await self.orders.move(claimed, with_intent):
            claimed = with_intent
        if not intent.is_open:
            await self.settled(intent)  # refused at once (or already final): settle it now
        return await self._current(claimed)

    async def cancel_unsendable(self, order: PayoutOrder) -> PayoutOrder | None:
        """A payout queued for less than its rail sends, never sent (an agent's cents on
        M-Pesa, made before agents' payouts were whole shillings): open, it would hold up the
        payee's later payouts for good. Cancelled, its money is in the wallet again (a hold left
        of it voided, once), for a later payout. None when the order is not such a payout."""
        method = PAYOUT_METHODS.get(order.region)
        if (
            method is None
            or order.status is not PayoutOrderStatus.QUEUED
            or order.intent_id is not None
            or order.amount.amount <= 0
            or sendable(order.amount, method).amount > 0
        ):
            return None
        with contextlib.suppress(TransferRefusedError):  # never held: nothing to give back
            await self._ledger.failed(order.hold_reference())
        return await self._close(order, PayoutOrderStatus.FAILED, UNSENDABLE)

    async def _check_name(
        self, payee: Payee, bank: BankAccount
    ) -> tuple[PayoutOrderStatus, str] | None:
        """NIP name enquiry: None when the account is the payee's, else why the payout waits."""
        try:
            held_by = await self._payments.account_name(
                PROVIDER_OF[Method.NIP], bank.bank_code, bank.number
            )
        except RailRejectedError as exc:
            return PayoutOrderStatus.HELD, f"name enquiry refused: {exc.reason}"
        except (RailUnavailableError, RailNotConfiguredError) as exc:
            return PayoutOrderStatus.QUEUED, f"name enquiry not answered: {exc}"
        if not names_match(payee.name, held_by):
            return (
                PayoutOrderStatus.HELD,
                f"account {bank.bank_code}/{bank.number} is held by {held_by!r},"
                f" not {payee.name!r}",
            )
        return None

    async def _wait(
        self, order: PayoutOrder, status: PayoutOrderStatus, reason: str
    ) -> PayoutOrder:
        if order.status is status and order.reason == reason:
            return order
        after = moved(order, self._clock.now(), status=status, reason=reason)
        return after if await self.orders.move(order, after) else await self._current(order)

    async def _current(self, order: PayoutOrder) -> PayoutOrder:
        found = await self.orders.get(order.id)
        assert found is not None
        return found

    # --- the rail's answer --------------------------------------------------------------------

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(PaymentSucceeded.topic, "payouts", self.on_event)
        bus.subscribe(PaymentFailed.topic, "payouts", self.on_event)
        bus.subscribe(PaymentReversed.topic, "payouts", self.on_event)

    async def on_event(self, envelope: EventEnvelope) -> None:
        if envelope.data.get("direction") != Direction.PAYOUT.value:
            return
        await self.settled(await self._payments.get(uuid.UUID(str(envelope.data["intent_id"]))))

    async def settled(self, intent: PaymentIntent) -> None:
        """Post or release the attempt's hold on the rail's final word; idempotent."""
        if intent.is_open:
            return
        found = attempt_of(intent)
        if found is None:
            await self._settled_before_orders(intent)
            return
        order = await self.orders.get(found[0])
        if order is None:
            return
        attempt = found[1]
        current = order.status is PayoutOrderStatus.SENDING and order.attempts == attempt
        if intent.status is IntentStatus.SUCCEEDED:
            await self._succeeded(order, attempt, intent, current=current)
        elif intent.status is IntentStatus.REVERSED:
            await self._reversed(order, attempt, intent)
        elif current:
            await self._failed(order, intent)

    async def _settled_before_orders(self, intent: PaymentIntent) -> None:
        """A driver payout sent before payout orders existed (key `payout:<gig payout id>`):
        settled as it was then — post or void its hold, close the gig payout."""
        if intent.direction is not Direction.PAYOUT:
            return
        try:
            payout_id = uuid.UUID(intent.idempotency_key.removeprefix(KEY_PREFIX))
        except ValueError:
            return  # not a payout of ours
        reference = f"gig:{payout_id}"
        paid = intent.status is IntentStatus.SUCCEEDED
        try:
            if paid:
                await self._ledger.confirmed(reference)
            else:
                await self._ledger.failed(reference)
        except TransferRefusedError as refused:
            log.warning("payout.legacy_out_of_order", payout=reference, error=str(refused))
            return
        await self._gig.close_payout(payout_id, PayoutStatus.PAID if paid else PayoutStatus.FAILED)

    async def _succeeded(
        self, order: PayoutOrder, attempt: int, intent: PaymentIntent, *, current: bool
    ) -> None:
        if order.status is PayoutOrderStatus.PAID and order.attempts == attempt:
            # Booked when it was paid: at once (NIP answers the transfer), or by an earlier
            # delivery of this event. Not "paid late": that would take it from the wallet again.
            return
        reference = order.hold_reference(attempt)
        if current:
            try:
                await self._ledger.confirmed(reference)
            except TransferRefusedError:
                current = False  # released meanwhile: post it as paid late below
        if not current:
            try:
                await self._ledger.paid_late(
                    order.role, order.person, intent.amount, intent.provider, reference
                )
            except TransferRefusedError as refused:
                log.warning("payout.paid_late_refused", payout=order.source, error=str(refused))
        if order.status is not PayoutOrderStatus.PAID:
            await self._close(order, PayoutOrderStatus.PAID, None)

    async def _reversed(self, order: PayoutOrder, attempt: int, intent: PaymentIntent) -> None:
        """The money came back: the wallet gets it again (once per attempt) and the payout is
        sent again, or held once its attempts are used up."""
        if order.attempts != attempt or (order.reason or "").startswith(RETURNED):
            return  # handled before (a redelivered event), or a later attempt is under way
        if order.status is not PayoutOrderStatus.PAID:
            # The success is not on the books yet (its event is still on the way): book it.
            current = order.status is PayoutOrderStatus.SENDING
            await self._succeeded(order, attempt, intent, current=current)
            order = await self._current(order)
        try:
            await self._ledger.returned(
                order.role, order.person, intent.amount, intent.provider, order.hold_reference()
            )
        except TransferRefusedError as refused:
            log.warning("payout.return_refused", payout=order.source, error=str(refused))
            return
        reason = f"{RETURNED}: {intent.failure_reason or 'reversed'}"
        now = self._clock.now()
        if order.attempts >= self.max_attempts:
            after = moved(order, now, status=PayoutOrderStatus.HELD, reason=reason)
        else:
            after = moved(
                order,
                now,
                status=PayoutOrderStatus.RETRYING,
                reason=reason,
                next_attempt_at=now + backoff(self.retry_after, order.attempts),
            )
        if await self.orders.move(order, after) and order.source.startswith("gig:"):
            # The driver's payout is owed again: it says pending until a new attempt is paid.
            await self._gig.reopen_payout(uuid.UUID(order.source.removeprefix("gig:")))

    async def _failed(self, order: PayoutOrder, intent: PaymentIntent) -> None:
        try:
            await self._ledger.failed(order.hold_reference())
        except TransferRefusedError as refused:
            log.warning("payout.void_refused", payout=order.source, error=str(refused))
        reason = intent.failure_reason or "failed"
        if reason == NO_ANSWER or order.attempts >= self.max_attempts:
            await self._close(order, PayoutOrderStatus.FAILED, reason)
            return
        after = moved(
            order,
            self._clock.now(),
            status=PayoutOrderStatus.RETRYING,
            reason=reason,
            next_attempt_at=self._clock.now() + backoff(self.retry_after, order.attempts),
        )
        await self.orders.move(order, after)

    async def _close(
        self, order: PayoutOrder, status: PayoutOrderStatus, reason: str | None
    ) -> PayoutOrder:
        after = moved(order, self._clock.now(), status=status, reason=reason, next_attempt_at=None)
        if not await self.orders.move(order, after):
            return await self._current(order)
        if order.source.startswith("gig:"):
            gig_status = (
                PayoutStatus.PAID if status is PayoutOrderStatus.PAID else (PayoutStatus.FAILED)
            )
            await self._gig.close_payout(uuid.UUID(order.source.removeprefix("gig:")), gig_status)
        return after

    # --- the periodic pass --------------------------------------------------------------------

    async def sweep(self) -> tuple[int, int]:
        """Send the retries that are due; give up on attempts the rail never answered.
        Returns (retried, given up)."""
        now = self._clock.now()
        retried = 0
        for order in await self.orders.due(now):
            payee = await self.payee(order)
            if payee is None:
                continue
            queued = moved(order, now, status=PayoutOrderStatus.QUEUED)
            if await self.orders.move(order, queued):
                await self._attempt(queued, payee)
                retried += 1
        given_up = 0
        for order in await self.orders.sending_since(now - self.answer_within):
            intent = await self._payments.by_key(order.intent_key(order.attempts))
            if intent is None:
                # Claimed, then the runner died before asking the rail: nothing was sent.
                with contextlib.suppress(TransferRefusedError):  # never held either
                    await self._ledger.failed(order.hold_reference())
                again = moved(order, now, status=PayoutOrderStatus.RETRYING, next_attempt_at=now)
                await self.orders.move(order, again)
                continue
            settled = await self._payments.give_up(intent.id, NO_ANSWER)
            await self.settled(settled)
            given_up += 1
        return retried, given_up

    async def payee(self, order: PayoutOrder) -> Payee | None:
        """The payee as on file now (a bank account fixed since the last attempt counts)."""
        if order.role == "driver":
            worker = await self._gig.worker_by_phone(order.person)
            if worker is None:
                return None
            return Payee("driver", worker.phone, worker.name, worker.region, worker.bank)
        agent = await self._atc.agent(order.person)
        if agent is None:
            return None
        return Payee("agent", agent.phone, agent.name, agent.region, agent.bank)


class PayoutSweeper(Periodic):
    """Sends the payout retries that are due and gives up on attempts never answered."""

    name = "payouts-sweeper"
    wait_first = True

    def __init__(self, desk: PayoutDesk, *, every_seconds: float = 60.0) -> None:
        super().__init__(every_seconds=every_seconds)
        self._desk = desk

    async def tick(self) -> None:
        retried, given_up = await self._desk.sweep()
        if retried or given_up:
            log.info("payouts.sweep", retried=retried, given_up=given_up)
