"""In-process reactions to domain events, wired by the composition root.

An order gets an SMS confirmation in the customer's language, unless it was placed in an SMS
or WhatsApp conversation, whose closing text already said it, or was cancelled before the
confirmation went (a credit checkout the line refused); the delivery is queued once per event
(its dedupe key), so a redelivered event sends nothing twice. An order cancelled or brought back
before its door comes off its driver's route (`GigService.drop_order`, once).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.app.order_payments import can_refund, cash_taken, paid_for
from core.bus import EventBus, EventEnvelope
from core.i18n import Translator
from core.messages import ChannelKind, OutboundMessage, Reply
from core.money import Money
from core.phone import Phone
from core.region import UnsupportedRegionError, region_for_phone
from engines.customers import CustomerService
from engines.gig import GigService
from engines.invoices import CreditNote, CreditReason, credit_note_sms_values
from engines.notifications import NotificationService
from engines.orders import Order, OrderService, OrderStatus, PaymentMethod, UnknownOrderError
from engines.orders.events import OrderPlaced, OrderStatusChanged
from engines.payments import Direction, IntentStatus, Method, PaymentIntent, PaymentService
from engines.payments.events import PaymentIntentChanged


async def whatsapp_of(
    notifications: NotificationService, able: frozenset[str], order_key: str, phone: Phone
) -> str | None:
    """The WhatsApp provider an order placed in a WhatsApp conversation came in on, when it is
    one of `able`; None for any other order (NotificationService.order_whatsapp: the rule the
    credit engine's receipts follow too)."""
    return await notifications.order_whatsapp(able, order_key, phone)


class CustomerSms:
    """Texts a customer in their language (theirs, else their region's, else English), queued
    once per dedupe key and held back when they opted out. Subclasses react to one event.

    A message about an order placed on WhatsApp goes there instead, through a provider of
    `whatsapp` (those able to send it), and by SMS once her 24-hour window has closed."""

    def __init__(
        self,
        notifications: NotificationService,
        customers: CustomerService,
        translate: Translator,
        provider: str,
        *,
        whatsapp: frozenset[str] = frozenset(),
    ) -> None:
        self._notifications = notifications
        self._customers = customers
        self._t = translate
        self._provider = provider
        self._whatsapp = whatsapp

    async def send(
        self,
        phone: Phone,
        dedupe_key: str,
        key: str,
        *,
        order_key: str | None = None,
        **values: object,
    ) -> None:
        """`order_key`: the idempotency key of the order the message is about, if any."""
        customer = await self._customers.get(phone)
        try:
            default = region_for_phone(phone).default_locale
        except UnsupportedRegionError:
            default = "en"
        locale = (customer.locale if customer else None) or default
        words = {
            k: self._t(locale, v.key) if isinstance(v, Words) else v for k, v in values.items()
        }
        reply = Reply(self._t(locale, key, **words), end=True, locale=locale)
        whatsapp = (
            await whatsapp_of(self._notifications, self._whatsapp, order_key, phone)
            if order_key is not None
            else None
        )
        await self._notifications.queue(
            OutboundMessage(
                provider=self._provider,
                kind=ChannelKind.SMS,
                to=phone,
                reply=reply,
                dedupe_key=dedupe_key,
            )
            if whatsapp is None
            else OutboundMessage(
                provider=whatsapp,
                kind=ChannelKind.WHATSAPP,
                to=phone,
                reply=reply,
                dedupe_key=dedupe_key,
                sms_fallback=self._provider,
            ),
            suppressed=bool(customer and customer.opted_out),
        )


@dataclass(frozen=True, slots=True)
class Words:
    """A value that is itself a message id, translated in the customer's language."""

    key: str


class OrderConfirmationSms(CustomerSms):
    """The order's SMS confirmation. Paid by a transfer to her account or a bank code to dial,
    it says where to send the money or what to dial, as the closing screen did: a USSD screen is
    gone once read. That is known once the rail has answered the checkout's payment, which is
    often after the order's event is relayed (opening her account takes longer than the relay
    waits): then the payment's answer sends it. Either way under one key per order, so once."""

    def __init__(
        self,
        notifications: NotificationService,
        customers: CustomerService,
        translate: Translator,
        provider: str,
        orders: OrderService,
        *,
        payments: PaymentService | None = None,
        whatsapp: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(notifications, customers, translate, provider, whatsapp=whatsapp)
        self._orders = orders
        self._payments = payments

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(OrderPlaced.topic, "order-confirmation-sms", self)
        bus.subscribe(PaymentIntentChanged.topic, "order-confirmation-sms", self.on_payment)

    async def __call__(self, envelope: EventEnvelope) -> None:
        event = OrderPlaced.model_validate(envelope.data)
        if event.customer_texted:
            return  # an SMS or WhatsApp order: the conversation's closing text confirmed it
        order = await self._orders.get(event.reference)
        if order.status is OrderStatus.CANCELLED:
            return  # cancelled at checkout (the credit line refused it): the screen said so
        payment = await self._checkout_payment(order)
        if payment is not None and payment.status in ASKING:
            return  # the rail is being asked: its answer (on_payment) sends the confirmation
        await self._confirm(order, payment)

    async def on_payment(self, envelope: EventEnvelope) -> None:
        """The rail answered the checkout's payment of an order told by SMS: confirm it now."""
        event = PaymentIntentChanged.model_validate(envelope.data)
        if (
            event.direction != Direction.COLLECT.value
            or event.order_reference is None
            or event.method not in TOLD_WHERE
            or event.previous not in ASKING
            or event.status in ASKING
        ):
            return
        try:
            order = await self._orders.get(event.order_reference)
        except UnknownOrderError:
            return
        if order.status is OrderStatus.CANCELLED or conversation_texted(order):
            return
        payment = await self._checkout_payment(order)
        if payment is not None and str(payment.id) == event.intent_id:
            await self._confirm(order, payment)

    async def _checkout_payment(self, order: Order) -> PaymentIntent | None:
        """The payment the checkout asked for an order paid by transfer or bank code: its
        first (Pay again's come after it)."""
        if self._payments is None or order.payment_method.value not in TOLD_WHERE:
            return None
        intents = await self._payments.for_order(order.reference)
        return next((i for i in intents if i.direction is Direction.COLLECT), None)

    async def _confirm(self, order: Order, payment: PaymentIntent | None) -> None:
        """The confirmation, naming where to pay when the rail told us (her account, a code)."""
        waiting = payment is not None and payment.status is IntentStatus.REQUIRES_ACTION
        details = payment.details if payment is not None and waiting else {}  # else: paid, failed
        method = order.payment_method.value
        key = "sms.order_placed"
        values: dict[str, object] = {"method": Words(f"method.{method}")}
        if method == Method.BANK_TRANSFER.value and "account_number" in details:
            key = "sms.order_placed_bank_transfer"
            values = {"bank": details.get("bank", ""), "account": details["account_number"]}
        elif method == Method.PAYSTACK.value and "ussd_code" in details:
            key, values = "sms.order_placed_paystack", {"code": details["ussd_code"]}
        elif order.payment_method is PaymentMethod.ON_DELIVERY and (
            (cash := order.total.in_cash()) != order.total
        ):  # the cash she pays at the door, what the driver is told to collect
            key, values = "sms.order_placed_on_delivery_cash", {"cash": cash.format()}
        await self.send(
            order.customer,
            f"order-placed-sms:{order.reference}",
            key,
            order_key=order.idempotency_key,
            reference=order.reference,
            total=order.total.format(),
            **values,
        )


# The checkout payments whose closing screen said where to pay (an account, a code to dial).
TOLD_WHERE = frozenset({Method.BANK_TRANSFER.value, Method.PAYSTACK.value})
# A payment the rail is being asked for: what to tell her is not known yet.
ASKING = frozenset({IntentStatus.PENDING.value, IntentStatus.UNKNOWN.value})


def conversation_texted(order: Order) -> bool:
    """Whether the order was placed in an SMS or WhatsApp conversation, whose closing text
    confirmed it (the dialog keys an order by its conversation's session key)."""
    return order.idempotency_key.startswith(
        (f"{ChannelKind.SMS.value}:", f"{ChannelKind.WHATSAPP.value}:")
    )


class CancelledOrderStops:
    """A planned order cancelled (or returned) before its door leaves its route: no code is
    texted for it, no driver drives there or is paid for it."""

    ENDED = frozenset({"cancelled", "returned"})

    def __init__(self, gig: GigService) -> None:
        self._gig = gig

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(OrderStatusChanged.topic, "gig-cancelled-stops", self)

    async def __call__(self, envelope: EventEnvelope) -> None:
        event = OrderStatusChanged.model_validate(envelope.data)
        if event.status in self.ENDED:
            await self._gig.drop_order(event.reference, returned=event.status == "returned")


class CreditNoteSms(CustomerSms):
    """A credit note for goods that did not arrive or came back is texted to the retailer, in
    her language, naming it, the invoice it corrects and the amount; once per note (its number
    is the dedupe key). On WhatsApp when she ordered there and her window is open, as the
    order's notices are.

    It is the one text of its event, so it also says what becomes of her money: refunded (a
    checkout payment on a rail that gives money back), kept as her credit (a rail without
    refunds, MTN MoMo), or what she now owes on credit (`owed`: a credit order's return). The
    refunders and the credit line say nothing more of it. The cash she paid at the door for
    goods she gave back is kept as her credit, as on a rail that cannot refund."""

    def __init__(
        self,
        notifications: NotificationService,
        customers: CustomerService,
        translate: Translator,
        provider: str,
        orders: OrderService,
        *,
        payments: PaymentService | None = None,
        whatsapp: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(notifications, customers, translate, provider, whatsapp=whatsapp)
        self._orders = orders
        self._payments = payments

    async def __call__(
        self, note: CreditNote, *, owed: Money | None = None, refunds: bool = True
    ) -> None:
        order = await self._orders.get(note.order_reference)
        key, more = "credit_note.sms", {}
        if owed is not None:
            key, more = "credit_note.sms_credit", {"owed": owed.format()}
        elif note.reason is CreditReason.RETURNED and cash_taken(order):
            key = "credit_note.sms_kept"
        elif refunds and order.payment_method is PaymentMethod.ACCOUNT_CREDIT:
            key = "credit_note.sms_kept"  # paid from the credit on her account: back there
        elif refunds and self._payments is not None:
            paid = (await paid_for(self._payments, self._orders, order)).payments
            if paid and can_refund(self._payments, paid[0].provider):
                key = "credit_note.sms_refunded"
            elif paid:
                key = "credit_note.sms_kept"
        await self.send(
            note.customer,
            f"credit-note-sms:{note.number}",
            key,
            order_key=order.idempotency_key,
            **credit_note_sms_values(note),
            **more,
        )
