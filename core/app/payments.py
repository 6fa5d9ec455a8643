"""Payments, composed: the rails configured in settings, the receipt SMS and the requery loop."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal

import structlog

from core.app.order_payments import customer_of, late_money
from core.app.periodic import Periodic
from core.app.subscribers import CustomerSms
from core.bus import EventBus, EventEnvelope
from core.clock import Clock
from core.config import SettingError, Settings
from core.i18n import Translator
from core.money import Money
from core.phone import Phone
from engines.customers import CustomerService
from engines.notifications import NotificationService
from engines.orders import OrderService, UnknownOrderError
from engines.payments import (
    Method,
    PaymentFailed,
    PaymentRail,
    PaymentService,
    PaymentSucceeded,
    UnmatchedFundsReceived,
    payable_again,
)
from engines.payments.rails.callbacks import CallbackUrls
from engines.payments.rails.flutterwave import FlutterwaveRail
from engines.payments.rails.momo import MomoRail
from engines.payments.rails.mpesa import MpesaRail
from engines.payments.rails.nibss import NibssRail
from engines.payments.rails.paystack import PaystackRail

log = structlog.get_logger(__name__)

# Used only outside production when no secret is set, so that a laptop works out of the box.
DEV_CALLBACK_SECRET = "omniroute-dev-callback-secret"  # noqa: S105


class MissingPaymentSecretError(SettingError):
    """Production with a rail configured but a secret it needs missing."""


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter else str(value)


def build_rails(settings: Settings, clock: Clock) -> dict[str, PaymentRail]:
    """Every rail whose credentials are set; the others are simply not offered."""
    s = settings
    if s.payments_callback_secret is not None:
        secret = s.payments_callback_secret.get_secret_value()
    elif s.production and (s.mpesa_consumer_key or s.momo_api_user):
        raise MissingPaymentSecretError(
            "OMNIROUTE_PAYMENTS_CALLBACK_SECRET is required to receive M-Pesa and MoMo callbacks"
        )
    else:
        secret = DEV_CALLBACK_SECRET
    if s.production and (s.mpesa_consumer_key or s.momo_api_user) and not s.public_url:
        raise MissingPaymentSecretError(
            "OMNIROUTE_PUBLIC_URL is required: M-Pesa and MoMo call back to it"
        )
    callbacks = CallbackUrls(s.public_url or "http://127.0.0.1:8080", secret)
    rails: dict[str, PaymentRail] = {}
    if s.mpesa_consumer_key and s.mpesa_consumer_secret and s.mpesa_shortcode and s.mpesa_passkey:
        rails["mpesa"] = MpesaRail(
            base_url=s.mpesa_base_url,
            consumer_key=s.mpesa_consumer_key,
            consumer_secret=_secret(s.mpesa_consumer_secret),
            shortcode=s.mpesa_shortcode,
            passkey=_secret(s.mpesa_passkey),
            callbacks=callbacks,
            clock=clock,
            transaction_type=s.mpesa_transaction_type,
            initiator_name=s.mpesa_initiator_name,
            security_credential=_secret(s.mpesa_security_credential)
            if s.mpesa_security_credential
            else None,
            b2c_shortcode=s.mpesa_b2c_shortcode,
        )
    if s.momo_subscription_key and s.momo_api_user and s.momo_api_key:
        rails["momo"] = MomoRail(
            base_url=s.momo_base_url,
            subscription_key=_secret(s.momo_subscription_key),
            api_user=s.momo_api_user,
            api_key=_secret(s.momo_api_key),
            target_environment=s.momo_target_environment,
            callbacks=callbacks,
            clock=clock,
            currency=s.momo_currency,
        )
    if s.paystack_secret_key:
        rails["paystack"] = PaystackRail(
            base_url=s.paystack_base_url,
            secret_key=_secret(s.paystack_secret_key),
            dva_bank=s.paystack_dva_bank,
            ussd_type=s.paystack_ussd_type,
        )
    if s.flutterwave_secret_key:
        if s.flutterwave_secret_hash is None and s.production:
            raise MissingPaymentSecretError(
                "OMNIROUTE_FLUTTERWAVE_SECRET_HASH is required to check Flutterwave webhooks"
            )
        rails["flutterwave"] = FlutterwaveRail(
            base_url=s.flutterwave_base_url,
            secret_key=_secret(s.flutterwave_secret_key),
            secret_hash=_secret(s.flutterwave_secret_hash) if s.flutterwave_secret_hash else "",
            redirect_url=f"{(s.public_url or 'http://127.0.0.1:8080').rstrip('/')}/",
        )
    if s.nibss_institution_code and s.nibss_api_key and s.nibss_account_number:
        rails["nibss"] = NibssRail(
            base_url=s.nibss_base_url,
            institution_code=s.nibss_institution_code,
            api_key=_secret(s.nibss_api_key),
            account_number=s.nibss_account_number,
            account_name=s.nibss_account_name,
        )
    return rails


class PaymentReceiptSms(CustomerSms):
    """When money arrives for an order, the customer gets an SMS receipt in their language (on
    WhatsApp for an order placed there, as `CustomerSms` says); when the provider took an
    order's payment and then said it failed (the M-Pesa prompt cancelled or unanswered), that
    it did not go through and STATUS pays it again.

    Queued once per event (its dedupe key), so a redelivered event sends nothing twice.
    """

    def __init__(
        self,
        notifications: NotificationService,
        customers: CustomerService,
        translate: Translator,
        provider: str,
        *,
        orders: OrderService | None = None,
        payments: PaymentService | None = None,
        whatsapp: frozenset[str] = frozenset(),
        repays_credit: Callable[[UnmatchedFundsReceived], Awaitable[bool]] | None = None,
    ) -> None:
        super().__init__(notifications, customers, translate, provider, whatsapp=whatsapp)
        self._orders = orders
        self._payments = payments
        # money that named no order and repays credit is receipted by the repayment's SMS
        self._repays_credit = repays_credit

    async def _order_key(self, reference: str) -> str | None:
        """The idempotency key of the order paid (None when it is not known here)."""
        if self._orders is None:
            return None
        try:
            return (await self._orders.get(reference)).idempotency_key
        except UnknownOrderError:
            return None

    async def _customer(self, reference: str | None, named: str) -> Phone:
        """Who is told: the order's customer now (she may have changed her number since the
        event was queued), else the one the event names."""
        if self._orders is None:
            return Phone(named)
        return await customer_of(self._orders, reference, named)

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(PaymentSucceeded.topic, "payment-receipt-sms", self)
        bus.subscribe(UnmatchedFundsReceived.topic, "payment-receipt-sms", self.on_unmatched)
        bus.subscribe(PaymentFailed.topic, "payment-failed-sms", self.on_failed)

    async def on_failed(self, envelope: EventEnvelope) -> None:
        """An order's payment the provider accepted and then refused: without a word she waits
        for a prompt that is gone, and the order is cancelled unpaid a day later. Told once per
        payment, only while My orders offers to pay it again (no other payment open, the order
        open and unpaid); one refused when asked was said on the checkout's closing screen."""
        event = PaymentFailed.model_validate(envelope.data)
        reference = event.order_reference
        if event.direction != "collect" or reference is None:
            return
        if self._orders is None or self._payments is None:
            return
        intents = (await self._payments.for_orders([reference])).get(reference, [])
        failed = next((i for i in intents if str(i.id) == event.intent_id), None)
        if failed is None or failed.provider_reference is None:
            return
        try:
            order = await self._orders.get(reference)
        except UnknownOrderError:
            return
        if not self._payments.offers(failed.method) or not payable_again(order, intents):
            return
        await self.send(
            order.customer,  # her number now (she may have changed it since)
            f"payment-failed-sms:{event.intent_id}",
            "sms.payment_failed",
            order_key=order.idempotency_key,
            reference=reference,
            total=order.total.format(),
        )

    async def on_unmatched(self, envelope: EventEnvelope) -> None:
        """Money that paid no order (less than it, or none open) is still acknowledged: the
        customer was told they would hear when their transfer arrived. A part of an order's
        payment says what is still to pay for it."""
        event = UnmatchedFundsReceived.model_validate(envelope.data)
        amount = Money(Decimal(event.amount), event.currency).format()
        key = f"payment-receipt-sms:{event.event_id}"
        if event.order_reference is not None and event.still_due is not None:
            # A part of the order's payment: she is told what is still to send for it.
            await self.send(
                await self._customer(event.order_reference, event.customer),
                key,
                "sms.payment_part_received",
                order_key=await self._order_key(event.order_reference),
                amount=amount,
                reference=event.order_reference,
                due=Money(Decimal(event.still_due), event.currency).format(),
            )
            return
        repays = self._repays_credit
        if event.order_reference is None and repays is not None and await repays(event):
            return  # the repayment's SMS says what it paid, and what she owes or keeps
        await self.send(Phone(event.customer), key, "sms.payment_received_plain", amount=amount)

    async def _late(self, event: PaymentSucceeded) -> bool:
        """Money for an order already cancelled or returned: the late money refunder's text
        (kept as her credit) is the one she gets, or none when it goes back on its rail, as the
        cancellation said; a receipt thanking her for the order would be wrong."""
        if self._orders is None or self._payments is None or event.order_reference is None:
            return False
        try:
            order = await self._orders.get(event.order_reference)
        except UnknownOrderError:
            return False
        return late_money(order, await self._payments.get(uuid.UUID(event.intent_id)))

    async def __call__(self, envelope: EventEnvelope) -> None:
        event = PaymentSucceeded.model_validate(envelope.data)
        if event.direction != "collect":
            return
        amount = Money(Decimal(event.received), event.currency).format()
        key = f"payment-receipt-sms:{event.event_id}"
        phone = await self._customer(event.order_reference, event.customer)
        order_key = await self._order_key(event.order_reference) if event.order_reference else None
        if event.order_reference:
            if not await self._late(event):
                await self.send(
                    phone,
                    key,
                    "sms.payment_received",
                    order_key=order_key,
                    amount=amount,
                    reference=event.order_reference,
                    receipt=event.receipt or "-",
                )
        else:
            await self.send(phone, key, "sms.payment_received_plain", amount=amount)
        extra = Money(Decimal(event.received), event.currency) - Money(
            Decimal(event.amount), event.currency
        )
        if event.method == Method.BANK_TRANSFER.value and self._payments is not None:
            # What earlier transfers, each short of the order, brought towards it counts too.
            paid = await self._payments.get(uuid.UUID(event.intent_id))
            extra = extra + paid.received_in_parts
        if (
            event.method == Method.BANK_TRANSFER.value
            and event.order_reference
            and extra.amount > 0
        ):
            # A transfer of more than the order cost pays it; the rest stays on their account
            # (posted with the payment): say how much, once per payment.
            await self.send(
                phone,
                f"overpayment-credit-sms:{event.intent_id}",
                "sms.overpayment_credited",
                order_key=order_key,
                amount=extra.format(),
                reference=event.order_reference,
            )


class PaymentRequery(Periodic):
    """The periodic task that settles intents stuck in pending/unknown/processing."""

    name = "payments-requery"

    def __init__(self, payments: PaymentService, *, every_seconds: float = 60.0) -> None:
        super().__init__(every_seconds=every_seconds)
        self._payments = payments

    async def tick(self) -> None:
        report = await self._payments.requery()
        if report.checked:
            log.info(
                "payments.requery",
                checked=report.checked,
                settled=report.settled,
                still_open=report.still_open,
            )
