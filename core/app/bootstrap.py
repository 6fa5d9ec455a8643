"""Build every service from settings (cosmicpython's bootstrap); nothing is built at import."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import channels.africastalking
import channels.meta
import channels.twilio
from core.app.delivery import DeliveryWorker
from core.app.reservations import ReservationSweeper
from core.app.subscribers import OrderConfirmationSms
from core.bus.factory import open_event_bus
from core.bus.outbox import OutboxRelay
from core.bus.port import EventBus
from core.clock import Clock, SystemClock
from core.config import Settings
from core.conversation import SessionStore
from core.db import Database
from core.i18n import Translator
from core.ids import IdGenerator, RandomIds
from core.messages import ChannelContext, MessageSender, OutboundMessage
from core.pipeline import Pipeline
from dialogs.shopping import ShoppingDialog, ShopServices
from engines.catalogue import CatalogueService
from engines.customers import CustomerService
from engines.notifications import NotificationService
from engines.orders import OrderService
from engines.pricing import PricingService
from sessions import open_session_store

SENDERS = (
    ("africastalking", channels.africastalking),
    ("twilio", channels.twilio),
    ("meta", channels.meta),
)


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    clock: Clock
    db: Database
    store: SessionStore
    bus: EventBus
    relay: OutboxRelay
    translate: Translator
    catalogue: CatalogueService
    pricing: PricingService
    orders: OrderService
    customers: CustomerService
    pipeline: Pipeline
    notifications: NotificationService
    delivery: DeliveryWorker
    senders: dict[str, MessageSender] = field(default_factory=dict)
    reservations: ReservationSweeper | None = None

    def channel_context(self) -> ChannelContext:
        return ChannelContext(
            handle=self.pipeline.handle,
            queue_outbound=self.queue_outbound,
            report_delivery=self.notifications.report,
            max_body=self.settings.max_body_bytes,
            translate=self.translate,
            record_inbound=self.notifications.record_inbound,
        )

    async def queue_outbound(self, message: OutboundMessage) -> None:
        """For channels that answer through an API: the reply goes out via the deliveries."""
        await self.notifications.queue(message)
        self.delivery.wake()

    async def start(self) -> None:
        """Open what runs in the background: bus consumers and the outbox relay."""
        await self.bus.start()
        self.relay.start()
        self.delivery.start()
        if self.reservations is not None:
            self.reservations.start()

    async def close(self) -> None:
        if self.reservations is not None:
            await self.reservations.stop()
        await self.delivery.stop()
        for sender in self.senders.values():
            await sender.close()
        await self.relay.stop()
        await self.bus.close()
        await self.store.close()
        await self.db.dispose()


def build_services(
    settings: Settings, *, clock: Clock | None = None, ids: IdGenerator | None = None
) -> Services:
    clock = clock or SystemClock()
    ids = ids or RandomIds()
    db = Database(settings.database_url)
    store = open_session_store(settings.session_url, clock)
    bus = open_event_bus(settings.events_url)
    relay = OutboxRelay(db, bus, clock)
    translate = Translator.load()
    catalogue = CatalogueService(db, clock)
    pricing = PricingService(db, clock, catalogue, ids=ids)
    orders = OrderService(
        db,
        pricing,
        clock,
        ids,
        cart_ttl=timedelta(seconds=settings.cart_ttl_seconds),
        cache=store,
    )
    customers = CustomerService(db, clock, cache=store)
    dialog = ShoppingDialog(ShopServices(catalogue, pricing, orders, customers), translate)
    pipeline = Pipeline(
        store,
        dialog,
        translate,
        session_ttl_seconds=settings.ussd_session_ttl_seconds,
        reply_ttl_seconds=settings.reply_cache_ttl_seconds,
        chat_session_ttl_seconds=settings.chat_session_ttl_seconds,
    )
    notifications = NotificationService(db, clock, ids)
    senders: dict[str, MessageSender] = {}
    for name, provider in SENDERS:
        sender = provider.make_sender(settings)
        if sender is not None:
            senders[name] = sender
    delivery = DeliveryWorker(notifications, senders)
    OrderConfirmationSms(notifications, customers, translate, settings.sms_provider).subscribe(bus)
    return Services(
        settings,
        clock,
        db,
        store,
        bus,
        relay,
        translate,
        catalogue,
        pricing,
        orders,
        customers,
        pipeline,
        notifications,
        delivery,
        senders,
        reservations=ReservationSweeper(orders),
    )
