"""In-process reactions to domain events, wired by the composition root.

An order placed on any channel gets an SMS confirmation in the customer's language; the
delivery is queued once per event (its dedupe key), so a redelivered event sends nothing twice.
"""

from __future__ import annotations

from decimal import Decimal

from core.bus import EventBus, EventEnvelope
from core.i18n import Translator
from core.messages import ChannelKind, OutboundMessage, Reply
from core.money import Money
from core.phone import Phone
from core.region import region_for_phone
from engines.customers import CustomerService
from engines.notifications import NotificationService
from engines.orders.events import OrderPlaced


class OrderConfirmationSms:
    def __init__(
        self,
        notifications: NotificationService,
        customers: CustomerService,
        translate: Translator,
        provider: str,
    ) -> None:
        self._notifications = notifications
        self._customers = customers
        self._t = translate
        self._provider = provider

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(OrderPlaced.topic, "order-confirmation-sms", self)

    async def __call__(self, envelope: EventEnvelope) -> None:
        event = OrderPlaced.model_validate(envelope.data)
        phone = Phone(event.customer)
        customer = await self._customers.get(phone)
        locale = (customer.locale if customer else None) or region_for_phone(phone).default_locale
        text = self._t(
            locale,
            "sms.order_placed",
            reference=event.reference,
            total=Money(Decimal(event.total), event.currency).format(),
            method=self._t(locale, f"method.{event.payment_method}"),
        )
        await self._notifications.queue(
            OutboundMessage(
                provider=self._provider,
                kind=ChannelKind.SMS,
                to=phone,
                reply=Reply(text, end=True),
                dedupe_key=f"order-placed-sms:{event.event_id}",
            ),
            suppressed=bool(customer and customer.opted_out),
        )
