"""The gateway's Temporal side: connect, optionally run the worker, start and signal workflows.

An order placed on any channel becomes an `order-<REF>` workflow through the `OrderPlaced`
event (so no channel or dialog knows about Temporal); a status set outside the workflow (an
operator cancelling, a driver app delivering) is passed on to it as a signal.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

import structlog
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from core.app.money import DISTRIBUTORS
from core.app.refunds import RefundDesk
from core.app.service_creation import RegistryPublisher
from core.app.subscribers import whatsapp_of
from core.app.workflow_dispatch import CreditLine, DispatchDesk, GigSignals
from core.app.workflow_payments import IntentRail, PaymentSignals
from core.app.workflow_settlement import LedgerSettlement
from core.bus import EventBus, EventEnvelope
from core.clock import Clock
from core.config import SettingError, Settings
from core.i18n import Translator
from core.messages import ChannelKind, OutboundMessage, Reply
from core.money import Money
from core.phone import Phone
from core.region import UnsupportedRegionError, region_for_phone
from engines.credit import CreditService
from engines.customers import CustomerService
from engines.fulfilment.activities import FulfilmentActivities, Ports
from engines.fulfilment.adapters import PendingEngines, SqlOrderDesk
from engines.fulfilment.effects import SqlEffectLog
from engines.fulfilment.gateway import TemporalFulfilment
from engines.fulfilment.model import (
    CustomerNotice,
    DriverAssigned,
    NoticeKind,
    RoutePlanned,
    ServiceDefinition,
    cancel_reason,
)
from engines.fulfilment.requests import SqlDispatchRequests
from engines.fulfilment.workflows import WORKFLOWS, order_workflow_id
from engines.gig import GigService, TaskStatus
from engines.notifications import NotificationService
from engines.orders import OrderService
from engines.orders.events import OrderPlaced, OrderStatusChanged
from engines.payments import MoneyBack, PaymentService, money_back, sent_in_parts
from engines.registry import PublishedService, ServiceRegistry
from engines.settlement import SettlementService

log = structlog.get_logger(__name__)

# Statuses someone else may set that the order's workflow must hear about.
SIGNALLED_STATUSES = frozenset({"cancelled", "delivered", "returned"})
# A cancelled order's text says where her money is, as My orders does (engines.payments.money_back)
CANCELLED_MONEY = {
    None: "sms.order_cancelled_unpaid",  # nothing shows she paid for it
    MoneyBack.REFUNDED: "sms.order_cancelled",
    MoneyBack.ON_ITS_WAY: "sms.order_cancelled_refunding",
    MoneyBack.DELAYED: "sms.order_cancelled_refunding",  # on its way, the rail waits on someone
    MoneyBack.KEPT: "sms.order_cancelled_kept",  # a rail that cannot refund (MoMo), her credit
}
# A returned order's text says the same (brought back undelivered at the door: nothing paid)
RETURNED_MONEY = {
    None: "sms.order_returned_unpaid",
    MoneyBack.REFUNDED: "sms.order_returned",
    MoneyBack.ON_ITS_WAY: "sms.order_returned_refunding",
    MoneyBack.DELAYED: "sms.order_returned_refunding",
    MoneyBack.KEPT: "sms.order_returned_kept",
}
# Set by the engines that do the work (the WMS packs after the pick is confirmed, the gig
# platform dispatches when a driver accepts the route): each tells the workflow its step is done.
# The gig platform's own events carry the driver (GigSignals); a dispatch set by hand is told
# with the driver of the order's task when there is one, else marked "status".
PACKED, DISPATCHED, CANCELLED = "packed", "dispatched", "cancelled"
DELIVERED, RETURNED = "delivered", "returned"
BY_STATUS = "status"


def whatsapp_senders(settings: Settings) -> frozenset[str]:
    """The WhatsApp providers configured to send a message nobody asked for (a notice), not
    only to answer a webhook: Meta with its token and number, Twilio with a WhatsApp sender."""
    able = set()
    token = settings.meta_access_token
    if token is not None and token.get_secret_value() and settings.meta_phone_number_id:
        able.add("meta")
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_whatsapp_from:
        able.add("twilio")
    return frozenset(able)


class SmsNotifier:
    """Customer and operator messages, in their language, queued once per activity key.

    By SMS on `provider`; a customer's order placed on WhatsApp is told there instead, when its
    provider is one of `whatsapp` (those able to send it). With `payments`, a cancelled or
    returned order says where her money is, as My orders does: refunded, on its way back, kept
    as her credit (what she sent in parts, with its amount), or nothing when she paid nothing.
    With `registry`, an operator who published an older version of a service is told it is
    recorded and what answers instead (a newer version, or nothing: the service is retired), not
    that it is live."""

    def __init__(
        self,
        notifications: NotificationService,
        customers: CustomerService,
        orders: OrderService,
        translate: Translator,
        provider: str,
        *,
        whatsapp: frozenset[str] = frozenset(),
        payments: PaymentService | None = None,
        registry: ServiceRegistry | None = None,
    ) -> None:
        self._notifications = notifications
        self._payments = payments
        self._registry = registry
        self._customers = customers
        self._orders = orders
        self._t = translate
        self._provider = provider
        self._whatsapp = whatsapp

    async def notify(self, notice: CustomerNotice, *, key: str) -> bool:
        order = await self._orders.get(notice.reference)
        phone = order.customer
        customer = await self._customers.get(phone)
        locale = (customer.locale if customer else None) or region_for_phone(phone).default_locale
        values: dict[str, object] = {"reference": order.reference}
        message = f"sms.order_{notice.kind.value}"
        if notice.kind is NoticeKind.CANCELLED:
            reason = notice.reason.value if notice.reason else "failed"
            values["reason"] = self._t(locale, f"cancel_reason.{reason}")
        ended = notice.kind in (NoticeKind.CANCELLED, NoticeKind.RETURNED)
        if ended and self._payments is not None:
            # Transfers short of the order were counted towards it and posted as her money:
            # no rail gives them back, so they stay her credit, and she is told so.
            paid_as = order.reference
            if order.paid_by_original:  # a back-order born paid: its first order's payment
                paid_as = (await self._orders.lineage(order))[0].reference
            intents = await self._payments.for_order(paid_as)
            parts = sent_in_parts(intents) if paid_as == order.reference else None
            if notice.kind is NoticeKind.RETURNED:
                message = RETURNED_MONEY[money_back(order, intents)]
            elif parts is not None:
                message, values["amount"] = "sms.order_cancelled_parts_kept", parts.format()
            else:
                message = CANCELLED_MONEY[money_back(order, intents)]
        text = self._t(locale, message, **values)
        suppressed = bool(customer and customer.opted_out)
        whatsapp = await self._whatsapp_of(order.idempotency_key, phone)
        if whatsapp is None:
            return await self._send(phone, text, key, suppressed=suppressed)
        # Ordered on WhatsApp: told there, on the provider she wrote from; by SMS once the
        # 24-hour window has closed (there is no approved template for these notices).
        return await self._notifications.queue(
            OutboundMessage(
                provider=whatsapp,
                kind=ChannelKind.WHATSAPP,
                to=phone,
                reply=Reply(text, end=True, locale=locale),
                dedupe_key=key,
                sms_fallback=self._provider,
            ),
            suppressed=suppressed,
        )

    async def _whatsapp_of(self, order_key: str, phone: Phone) -> str | None:
        return await whatsapp_of(self._notifications, self._whatsapp, order_key, phone)

    async def service_published(
        self, operator: str, definition: ServiceDefinition, *, key: str
    ) -> None:
        phone = Phone(operator)
        try:
            locale = region_for_phone(phone).default_locale
        except UnsupportedRegionError:
            locale = "en"  # an operator's phone outside our markets (head office abroad)
        name, version = definition.name, definition.version
        newest = await self._newest(name)
        # The service answers on its newest version's claim, or on none once retired: an older
        # version published is kept, not put on the air (services_cli prints the same).
        if newest is not None and newest.retired_at is not None:
            text = self._t(
                locale,
                "sms.service_recorded_retired",
                name=name,
                version=version,
                newest=newest.version,
            )
        elif newest is not None and newest.version > version:
            text = self._t(
                locale,
                "sms.service_recorded_older",
                name=name,
                version=version,
                newest=newest.version,
            )
        else:
            text = self._t(locale, "sms.service_published", name=name, version=version)
            # Each time it goes on the air is news, a retried publish is not: put back on the
            # air after it was retired, the same version is live again.
            if newest is not None and newest.on_air_since is not None:
                key = f"{key}:{newest.on_air_since.isoformat()}"
        await self._send(phone, text, key)

    async def _newest(self, name: str) -> PublishedService | None:
        if self._registry is None:
            return None
        return next((s for s in await self._registry.latest() if s.name == name), None)

    async def _send(self, phone: Phone, text: str, key: str, *, suppressed: bool = False) -> bool:
        return await self._notifications.queue(
            OutboundMessage(
                provider=self._provider,
                kind=ChannelKind.SMS,
                to=phone,
                reply=Reply(text, end=True),
                dedupe_key=key,
            ),
            suppressed=suppressed,
        )


class UnwoundOrderNotice:
    """With workflows off (`OMNIROUTE_TEMPORAL=off`) no order workflow tells the customer where
    her order is, so she is told here, as its workflow tells her: on its way (each dispatch, a
    second one after a recall too), delivered, brought back before delivery (returned from
    dispatched; one returned after delivery is past the workflow's end), and cancelled with its
    reason (hers, our team's, no payment in time, credit refused), however it was cancelled (an
    operator, an app, a lapsed hold). The same text in her language on the channel the
    workflow would use, queued under the workflow's own notice key, so a redelivered event
    tells her once."""

    def __init__(self, notifier: SmsNotifier, notifications: NotificationService) -> None:
        self._notifier = notifier
        self._notifications = notifications

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(OrderStatusChanged.topic, "unwound-order-notice", self.on_status_changed)

    async def on_status_changed(self, envelope: EventEnvelope) -> None:
        event = OrderStatusChanged.model_validate(envelope.data)
        notice = _notice_of(event)
        if notice is None:
            return
        key = f"{order_workflow_id(event.reference)}:notify_customer:{notice.kind.value}"
        if notice.kind is NoticeKind.OUT_FOR_DELIVERY:
            # The workflow numbers a dispatch after a recall (`:2`, `:3`…): the event says which
            # dispatch it is, so each is told once however late this runs (two dispatches
            # handled after both happened too). An event from before dispatches were counted:
            # one more than the dispatches told before it happened.
            if event.dispatch is not None:
                told = event.dispatch - 1
            else:
                told = await self._notifications.queued_before(key, envelope.occurred_at)
            if told:
                notice = replace(notice, dispatch=told + 1)
                key = f"{key}:{told + 1}"
        await self._notifier.notify(notice, key=key)


def _notice_of(event: OrderStatusChanged) -> CustomerNotice | None:
    """What the order workflow tells her when its order reaches `event.status`, if anything."""
    if event.status == CANCELLED:
        return CustomerNotice(event.reference, NoticeKind.CANCELLED, cancel_reason(event.reason))
    if event.status == DISPATCHED and event.previous == PACKED:
        return CustomerNotice(event.reference, NoticeKind.OUT_FOR_DELIVERY)
    if event.status == DELIVERED:
        return CustomerNotice(event.reference, NoticeKind.DELIVERED)
    if event.status == RETURNED and event.previous == DISPATCHED:
        return CustomerNotice(event.reference, NoticeKind.RETURNED)
    return None


def fulfilment_activities(
    effects: SqlEffectLog,
    clock: Clock,
    orders: OrderService,
    notifier: SmsNotifier,
    payments: PaymentService | None = None,
    *,
    settlement: SettlementService | None = None,
    refunds: RefundDesk | None = None,
    gig: GigService | None = None,
    credit: CreditService | None = None,
) -> FulfilmentActivities:
    pending = PendingEngines(effects, clock)
    settles = (
        LedgerSettlement(settlement, DISTRIBUTORS, pending) if settlement is not None else pending
    )
    desk = DispatchDesk(effects, SqlDispatchRequests(effects.db), orders, gig, clock)
    order_desk = SqlOrderDesk(orders, effects)
    return FulfilmentActivities(
        Ports(
            orders=order_desk,
            customers=notifier,
            rail=(
                IntentRail(payments, pending, refunds, order_desk)
                if payments is not None
                else pending
            ),
            warehouse=desk,
            routes=desk,
            dispatch=desk,
            settlement=settles,
            registry=RegistryPublisher(ServiceRegistry(effects.db, clock)),
            operators=notifier,
            credit=CreditLine(credit, effects) if credit is not None else None,
        )
    )


class TemporalUnreachableError(SettingError):
    """Nothing answers at OMNIROUTE_TEMPORAL_ADDRESS: serve and worker stop, saying so."""


async def connect(settings: Settings) -> Client:
    address = settings.temporal_address
    assert address is not None
    try:
        return await Client.connect(
            address, namespace=settings.temporal_namespace, data_converter=pydantic_data_converter
        )
    except RuntimeError as error:  # temporalio's "Failed client connect: …"
        raise TemporalUnreachableError(
            f"cannot reach Temporal at {address} ({error}): start it, or set "
            "OMNIROUTE_TEMPORAL_ADDRESS to its frontend (host:7233)"
        ) from error


# Value types the workflows carry are imported once, outside the sandbox: they hold no state,
# and pydantic must resolve their annotations against the real modules.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("core", "babel", "pydantic")
)


def load_money_data() -> None:
    """Load Babel's currency tables now: `Money` checks its currency when a workflow decodes
    it, and the sandbox forbids the file reads Babel would otherwise do on first use."""
    Money.zero("NGN")


def make_worker(client: Client, task_queue: str, activities: FulfilmentActivities) -> Worker:
    load_money_data()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities.all(),
        workflow_runner=SANDBOX,
    )


class WorkflowRuntime:
    """Opened with the gateway: the client, the in-process worker when asked for, the schedule."""

    def __init__(
        self,
        settings: Settings,
        activities: FulfilmentActivities,
        gig: GigService | None = None,
    ) -> None:
        self._settings = settings
        self._activities = activities
        self._gig = gig
        self._fulfilment: TemporalFulfilment | None = None
        self._worker: Worker | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def activities(self) -> FulfilmentActivities:
        return self._activities

    @property
    def fulfilment(self) -> TemporalFulfilment:
        if self._fulfilment is None:
            raise RuntimeError("workflows are not started")
        return self._fulfilment

    def subscribe(self, bus: EventBus) -> None:
        bus.subscribe(OrderPlaced.topic, "order-fulfilment-start", self.on_order_placed)
        bus.subscribe(OrderStatusChanged.topic, "order-fulfilment-status", self.on_status_changed)
        PaymentSignals(self, self._activities.ports.orders).subscribe(bus)
        GigSignals(lambda: self.fulfilment).subscribe(bus)

    async def start(self) -> None:
        client = await connect(self._settings)
        self._fulfilment = TemporalFulfilment(client, self._settings.temporal_task_queue)
        if self._settings.temporal_worker:
            self._worker = make_worker(client, self._settings.temporal_task_queue, self._activities)
            self._task = asyncio.create_task(self._worker.run(), name="temporal-worker")
        await self._fulfilment.ensure_settlement_schedule()

    async def close(self) -> None:
        if self._worker is not None:
            await self._worker.shutdown()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._task
        self._worker = self._task = None

    async def ping(self) -> bool:
        """Temporal's frontend answers its health check (for /readyz)."""
        if self._fulfilment is None:
            return False
        try:
            return await self._fulfilment.client.service_client.check_health(
                timeout=timedelta(seconds=2)
            )
        except RPCError:
            return False

    async def on_order_placed(self, envelope: EventEnvelope) -> None:
        event = OrderPlaced.model_validate(envelope.data)
        started = await self.fulfilment.start_order(event.reference)
        log.info("workflow.order_started", reference=event.reference, new=started)

    async def on_status_changed(self, envelope: EventEnvelope) -> None:
        event = OrderStatusChanged.model_validate(envelope.data)
        try:
            if event.status in SIGNALLED_STATUSES:
                await self.fulfilment.status_changed(event.reference, event.status, event.reason)
            elif event.status == PACKED and event.previous == DISPATCHED:
                # recalled: its route expired before the first door; it waits for another
                await self.fulfilment.status_changed(event.reference, event.status)
            elif event.status == PACKED:
                await self.fulfilment.wave_picked(event.reference)
            elif event.status == DISPATCHED:
                # the workflow's own move to dispatched comes back here too: keep what it knows
                known = await self.fulfilment.status(event.reference)
                if known.route_id is None or known.driver_id is None:
                    route, driver = await self._on_task(event.reference)
                    await self.fulfilment.route_planned(event.reference, route)
                    await self.fulfilment.driver_assigned(event.reference, driver)
                # a recalled order on its way again (ignored by a workflow that was not recalled)
                await self.fulfilment.status_changed(event.reference, event.status)
        except RPCError as error:
            # The workflow set this status itself and has finished: nothing to tell it.
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise

    async def _on_task(self, reference: str) -> tuple[RoutePlanned, DriverAssigned]:
        """The route and driver of the gig task carrying the order, if a driver has it."""
        if self._gig is not None:
            for task in await self._gig.tasks(TaskStatus.ASSIGNED, TaskStatus.COMPLETED):
                stop = next((s for s in task.stops if s.order_reference == reference), None)
                if stop is not None and task.worker_id is not None:
                    worker = await self._gig.worker(task.worker_id)
                    return (
                        RoutePlanned(task.route_id, stop.position),
                        DriverAssigned(str(worker.id), worker.name),
                    )
        return RoutePlanned(BY_STATUS), DriverAssigned(BY_STATUS)


# A person is waiting on the line (a USSD session times out in seconds): a worker that does not
# answer a query quickly is treated as no answer, and the stored status is shown instead.
STAGE_QUERY_TIMEOUT = timedelta(seconds=2)


def stage_reader(runtime: WorkflowRuntime | None) -> Callable[[str], Awaitable[str | None]]:
    """Where an order's workflow says it is (a `Stage` value), or None when no workflow answers
    (workflows off or not started yet, an order placed before they ran, a slow worker)."""

    async def stage_of(reference: str) -> str | None:
        if runtime is None:
            return None
        try:
            status = await runtime.fulfilment.status(reference, rpc_timeout=STAGE_QUERY_TIMEOUT)
        except (RPCError, WorkflowQueryFailedError, RuntimeError, TimeoutError):
            return None
        return status.stage.value

    return stage_of
