"""Build every service from settings (cosmicpython's bootstrap); nothing is built at import."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

import structlog

import channels.africastalking
import channels.meta
import channels.twilio
from core.app.alone import AloneLock
from core.app.cash import CashCollection
from core.app.credit_daily import CreditDaily
from core.app.delivery import DeliveryWorker
from core.app.dispatch import OfferSweeper
from core.app.driver_notices import DriverNotices
from core.app.escalation_reminder import EscalationReminder
from core.app.money import MoneyServices, build_money
from core.app.number_change import NumberChange, change_number
from core.app.objects import build_object_store
from core.app.order_payments import can_refund
from core.app.payment_posting import PaymentPosting
from core.app.payments import PaymentReceiptSms, PaymentRequery, build_rails
from core.app.payouts import PayoutDesk, PayoutSweeper
from core.app.refunds import (
    CancelledBackOrderRefunder,
    DoubleChargeRefunder,
    FailedRefundSms,
    LateMoneyRefunder,
    RefundDesk,
    RefundPosting,
    ReturnedOrderRefunder,
    ShortDeliveryRefunder,
    UnwoundOrderRefunder,
)
from core.app.reservations import ReservationSweeper
from core.app.subscribers import CancelledOrderStops, CreditNoteSms, OrderConfirmationSms
from core.app.workflows import (
    SmsNotifier,
    UnwoundOrderNotice,
    WorkflowRuntime,
    fulfilment_activities,
    stage_reader,
    whatsapp_senders,
)
from core.bus.factory import open_event_bus
from core.bus.outbox import OutboxRelay
from core.bus.port import EventBus
from core.clock import Clock, SystemClock
from core.config import Settings, database_url
from core.conversation import SessionStore
from core.db import Database
from core.i18n import Translator
from core.ids import IdGenerator, RandomIds
from core.messages import ChannelContext, MessageSender, OutboundMessage
from core.objects import ObjectStore
from core.phone import Phone
from core.pipeline import Pipeline, chosen_locale_key
from core.rasa import RasaIntentMatcher
from core.region import RegionCode, UnsupportedRegionError, region_for_phone
from dialogs.driver import DriverDialog
from dialogs.published import PublishedDialog, ServiceEngines
from dialogs.roles import RoleDialog
from dialogs.shopping import ShoppingDialog, ShopServices
from engines.catalogue import CatalogueService
from engines.customers import CustomerService
from engines.fulfilment.effects import SqlEffectLog
from engines.fulfilment.model import PAYMENT_WINDOW_SECONDS
from engines.gig import GigService
from engines.notifications import NotificationService
from engines.orders import OrderService
from engines.payments import PaymentService
from engines.pricing import PricingService
from engines.registry import ServiceRegistry
from engines.routing import RoutePlanStore
from engines.settlement import PayoutOrders
from engines.wms import SqlBinStock, WarehouseService
from sessions import open_session_store

log = structlog.get_logger(__name__)

# The order workflow's payment window: with workflows off an unpaid prepaid order lapses after it.
PAYMENT_WINDOW = timedelta(seconds=PAYMENT_WINDOW_SECONDS)


def chosen_locale_reader(customers: CustomerService) -> Callable[[Phone], Awaitable[str | None]]:
    """The language a customer picked under Language (None: never picked one)."""

    async def chosen_locale(phone: Phone) -> str | None:
        customer = await customers.get(phone)
        return customer.locale if customer is not None else None

    return chosen_locale


def chosen_or_market_locale(
    customers: CustomerService, translate: Translator
) -> Callable[[Phone], Awaitable[str]]:
    """The language the customer chose, else their market's (English outside them)."""

    async def locale_of(phone: Phone) -> str:
        customer = await customers.get(phone)
        if customer is not None and customer.locale and translate.supports(customer.locale):
            return customer.locale
        try:
            return region_for_phone(phone).default_locale
        except UnsupportedRegionError:
            return "en"

    return locale_of


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
    payments: PaymentService | None = None
    requery: PaymentRequery | None = None
    money: MoneyServices | None = None
    workflows: WorkflowRuntime | None = None
    warehouse: WarehouseService = field(kw_only=True)
    gig: GigService = field(kw_only=True)
    sweeper: OfferSweeper = field(kw_only=True)
    objects: ObjectStore = field(kw_only=True)
    reservations: ReservationSweeper | None = None
    payouts: PayoutDesk | None = None
    payout_sweeper: PayoutSweeper | None = None
    refunds: RefundDesk | None = None
    credit_daily: CreditDaily | None = None
    route_plans: RoutePlanStore | None = None
    nlu: RasaIntentMatcher | None = None
    _alone: AloneLock = field(default_factory=AloneLock, init=False, repr=False)

    def channel_context(self) -> ChannelContext:
        return ChannelContext(
            handle=self.pipeline.handle,
            queue_outbound=self.queue_outbound,
            report_delivery=self.notifications.report,
            max_body=self.settings.max_body_bytes,
            translate=self.translate,
            record_inbound=self.notifications.record_inbound,
            locale_of=self.locale_of,
            screen_sent=self.notifications.screen_sent,
            last_screen_sent=self.notifications.last_screen_sent,
            change_number=self.change_number,
        )

    async def locale_of(self, phone: Phone) -> str:
        """The language the customer chose, else their market's (English outside them)."""
        return await chosen_or_market_locale(self.customers, self.translate)(phone)

    async def change_number(self, old: Phone, new: Phone) -> None:
        """Her orders, cart, money and language move to her new number (see number_change);
        what was cached of either number is dropped."""
        if await change_number(self.db, old, new) is NumberChange.MOVED:
            for phone in (old, new):
                await self.customers.forget(phone)
                await self.orders.forget_cart(phone)
                self.pricing.forget_customer(phone)
                await self.store.forget(chosen_locale_key(phone))

    async def queue_outbound(self, message: OutboundMessage) -> None:
        """For channels that answer through an API: the reply goes out via the deliveries."""
        await self.notifications.queue(message)
        self.delivery.wake()

    async def start(self) -> None:
        """Open what runs in the background: bus consumers and the outbox relay."""
        if self.workflows is not None:
            await self.workflows.start()
        await self.bus.start()
        await self._take_back_claims()
        self.relay.start()
        self.delivery.start()
        if self.requery is not None:
            self.requery.start()
        self.sweeper.start()
        if self.reservations is not None:
            self.reservations.start()
        if self.payout_sweeper is not None:
            self.payout_sweeper.start()
        if self.credit_daily is not None:
            self.credit_daily.start()

    async def _take_back_claims(self) -> None:
        """Alone on its database (the embedded SQLite file: `core/app/alone.py`), the gateway
        takes back at start-up what a killed run of it had claimed, so its events and messages
        go now, not when the claim (2 minutes) or the send lease (1 minute) runs out. Where
        another replica may be sending them (PostgreSQL), nothing is touched."""
        if not self._alone.take(self.db.url):
            return
        events = await self.relay.release_claims()
        messages = await self.notifications.release_leases()
        if events or messages:
            log.info("gateway.claims_taken_back", events=events, deliveries=messages)

    async def close(self) -> None:
        """Stop what does work first (loops, relay, consumers, workflows: each lets its pass
        in flight finish), then close what that work uses (rails, the ledger's connections,
        senders, stores, the database): a late pass must not find them closed and open anew."""
        if self.credit_daily is not None:
            await self.credit_daily.stop()
        if self.payout_sweeper is not None:
            await self.payout_sweeper.stop()
        if self.reservations is not None:
            await self.reservations.stop()
        await self.sweeper.stop()
        if self.requery is not None:
            await self.requery.stop()
        await self.relay.stop()
        await self.bus.close()
        if self.workflows is not None:
            await self.workflows.close()
        await self.delivery.stop()
        for sender in self.senders.values():
            await sender.close()
        if self.payments is not None:
            await self.payments.close()
        if self.money is not None:
            await self.money.close()
        if self.nlu is not None:
            await self.nlu.close()
        await self.objects.close()
        await self.store.close()
        await self.db.dispose()
        self._alone.release()


def build_senders(settings: Settings) -> dict[str, MessageSender]:
    """The outbound providers whose credentials are configured, by name."""
    senders: dict[str, MessageSender] = {}
    for name, provider in SENDERS:
        sender = provider.make_sender(settings)
        if sender is not None:
            senders[name] = sender
    return senders


def build_nlu(settings: Settings) -> RasaIntentMatcher | None:
    """Rasa behind the intent port when OMNIROUTE_RASA_URL names one; the built-in steps alone
    otherwise."""
    if not settings.rasa_url:
        return None
    return RasaIntentMatcher(
        settings.rasa_url,
        threshold=settings.rasa_confidence,
        timeout_seconds=settings.rasa_timeout_seconds,
    )


def build_services(
    settings: Settings, *, clock: Clock | None = None, ids: IdGenerator | None = None
) -> Services:
    clock = clock or SystemClock()
    ids = ids or RandomIds()
    db = Database(
        database_url(settings),
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    store = open_session_store(settings.session_url, clock)
    bus = open_event_bus(settings.events_url, max_attempts=settings.events_max_attempts)
    relay = OutboxRelay(
        db, bus, clock, sequence_retention_seconds=settings.outbox_sequence_retention_seconds
    )
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
        bins=SqlBinStock(),  # the WMS's bins follow on_hand, in the same transaction
        # with workflows off an unpaid prepaid order lapses as its workflow would unwind it
        payment_window=PAYMENT_WINDOW if settings.temporal == "off" else None,
    )
    customers = CustomerService(db, clock, cache=store)
    objects = build_object_store(settings)
    payments = PaymentService(
        db,
        clock,
        ids,
        build_rails(settings, clock),
        requery_after=timedelta(seconds=settings.payments_requery_after_seconds),
        expire_after=timedelta(seconds=settings.payments_expire_after_seconds),
    )
    notifications = NotificationService(db, clock, ids)
    money = build_money(
        db=db,
        bus=bus,
        clock=clock,
        ids=ids,
        orders=orders,
        notifications=notifications,
        translate=translate,
        sms_provider=settings.sms_provider,
        credit_notes=CreditNoteSms(
            notifications,
            customers,
            translate,
            settings.sms_provider,
            orders,
            payments=payments,
            whatsapp=whatsapp_senders(settings),
        ),
        refundable=lambda provider: can_refund(payments, provider),
        reminder_hour=settings.credit_reminder_hour,
        whatsapp=whatsapp_senders(settings),
    )
    operator = Phone.parse(settings.operator_phone) if settings.operator_phone else None
    lines = {RegionCode(r): Phone.parse(n) for r, n in settings.driver_lines.items()}
    notices = DriverNotices(
        notifications, customers, translate, settings.sms_provider, operator, lines=lines
    )
    gig = GigService(
        db,
        clock,
        ids,
        objects,
        notices,
        orders,
        offer_ttl=timedelta(seconds=settings.gig_offer_ttl_seconds),
    )
    payouts = PayoutDesk(
        payments,
        money.payouts,
        PayoutOrders(db),
        gig,
        money.atc,
        clock,
        ids,
        max_attempts=settings.payouts_max_attempts,
        retry_after=timedelta(seconds=settings.payouts_retry_after_seconds),
        answer_within=timedelta(seconds=settings.payouts_answer_within_seconds),
    )
    payouts.subscribe(bus)
    RefundPosting(money.books, payments).subscribe(bus)
    DoubleChargeRefunder(payments).subscribe(bus)
    refunds = RefundDesk(payments)
    # The customers' notices, as the order workflow sends them, or its events with workflows
    # off; given a registry, the operators' too (only a workflow publishes services).
    sms_notifier = partial(
        SmsNotifier,
        notifications,
        customers,
        orders,
        translate,
        settings.sms_provider,
        whatsapp=whatsapp_senders(settings),
        payments=payments,
    )
    if settings.temporal == "off":  # what the order workflow does otherwise
        UnwoundOrderRefunder(payments).subscribe(bus)
        UnwoundOrderNotice(sms_notifier(), notifications).subscribe(bus)
    workflows = None
    if settings.temporal == "on" and settings.temporal_address:
        effects = SqlEffectLog(db, clock)
        activities = fulfilment_activities(
            effects,
            clock,
            orders,
            sms_notifier(registry=ServiceRegistry(db, clock)),
            payments,
            settlement=money.settlement,
            refunds=refunds,
            gig=gig,
            credit=money.credit,
        )
        workflows = WorkflowRuntime(settings, activities, gig)
        workflows.subscribe(bus)
    nlu = build_nlu(settings)
    dialog = ShoppingDialog(
        ShopServices(
            catalogue,
            pricing,
            orders,
            customers,
            payments,
            money.credit,
            money.books,
            stage_of=stage_reader(workflows),
        ),
        translate,
        nlu=nlu,
    )
    drivers = DriverDialog(gig, orders, translate, notifications, settings.sms_provider)
    published = PublishedDialog(
        ServiceRegistry(db, clock),
        ServiceEngines(
            catalogue,
            pricing,
            orders,
            stage_of=stage_reader(workflows),
            payments=payments,
            books=money.books,
        ),
        translate,
        chosen_or_market_locale(customers, translate),
    )
    roles = RoleDialog(dialog, drivers, gig.is_driver, published)
    pipeline = Pipeline(
        store,
        roles,
        translate,
        session_ttl_seconds=settings.ussd_session_ttl_seconds,
        reply_ttl_seconds=settings.reply_cache_ttl_seconds,
        chat_session_ttl_seconds=settings.chat_session_ttl_seconds,
        chosen_locale=chosen_locale_reader(customers),
        now=clock.now,
    )
    senders = build_senders(settings)
    delivery = DeliveryWorker(notifications, senders)
    whatsapp = whatsapp_senders(settings)
    OrderConfirmationSms(
        notifications,
        customers,
        translate,
        settings.sms_provider,
        orders,
        payments=payments,
        whatsapp=whatsapp,
    ).subscribe(bus)
    CancelledOrderStops(gig).subscribe(bus)
    PaymentReceiptSms(
        notifications,
        customers,
        translate,
        settings.sms_provider,
        orders=orders,
        payments=payments,
        whatsapp=whatsapp,
        repays_credit=PaymentPosting(money.books, money.credit, orders).repays_credit,
    ).subscribe(bus)
    LateMoneyRefunder(
        notifications, customers, translate, settings.sms_provider, payments=payments, orders=orders
    ).subscribe(bus)
    # what was paid for goods she did not get (or gave back) goes back on its rail, or she is told
    for refunder in (
        ShortDeliveryRefunder,
        CancelledBackOrderRefunder,
        ReturnedOrderRefunder,
        FailedRefundSms,
    ):
        refunder(
            notifications,
            customers,
            translate,
            settings.sms_provider,
            payments=payments,
            orders=orders,
            whatsapp=whatsapp,
        ).subscribe(bus)
    PaymentPosting(money.books, money.credit, orders).subscribe(bus)
    CashCollection(money.books, orders, gig).subscribe(bus)
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
        payments=payments,
        requery=PaymentRequery(payments),
        money=money,
        workflows=workflows,
        warehouse=WarehouseService(db, clock, ids, orders),
        gig=gig,
        sweeper=OfferSweeper(
            gig,
            every_seconds=settings.gig_sweep_seconds,
            reminder=EscalationReminder(gig, notices, clock),
        ),
        objects=objects,
        reservations=ReservationSweeper(orders, payments),
        payouts=payouts,
        payout_sweeper=PayoutSweeper(payouts),
        refunds=refunds,
        route_plans=RoutePlanStore(db, ids),
        nlu=nlu,
        credit_daily=CreditDaily(
            money.credit,
            every_seconds=settings.credit_daily_every_seconds,
            reminder_hour=settings.credit_reminder_hour,
        ),
    )
