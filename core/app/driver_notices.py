"""The gig engine's notifier: the customer's delivery code, drivers' route changes and
operators' alerts, by SMS.

Words come from locales/ in the customer's (or operator's) language; the messages go through
the deliveries outbox like every other notification, once per dedupe key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from core.gsm7 import gsm7_length, is_gsm7
from core.i18n import Translator
from core.messages import ChannelKind, OutboundMessage, Reply
from core.phone import Phone
from core.region import RegionCode, market_locale, zone
from engines.customers import CustomerService
from engines.gig import Incident, Offer, Task, TaskStop, Worker
from engines.notifications import NotificationService

log = structlog.get_logger(__name__)

NAMED: Final = 5  # order references a reminder names; the rest are counted
SMS_GSM7: Final = 160  # one SMS: 160 GSM-7 characters, or 70 in UCS-2
SMS_UCS2: Final = 70
CODE_KEY: Final = "delivery-code:"  # then the order reference, ':' and the code


class DriverNotices:
    def __init__(
        self,
        notifications: NotificationService,
        customers: CustomerService,
        translate: Translator,
        provider: str,
        operator: Phone | None,
        *,
        lines: Mapping[RegionCode, Phone] | None = None,
    ) -> None:
        self._lines = dict(lines or {})
        self._notifications = notifications
        self._customers = customers
        self._t = translate
        self._provider = provider
        self._operator = operator

    async def delivery_code(
        self, s: AsyncSession, customer: Phone, order_reference: str, code: str, worker: Worker
    ) -> None:
        found = await self._customers.get(customer)
        locale = (found.locale if found else None) or market_locale(customer) or "en"
        text = self._t(
            locale,
            "sms.delivery_code",
            reference=order_reference,
            driver=worker.name,
            code=code,
        )
        # Not suppressed by STOP: without the code the customer cannot receive the goods.
        await self._notifications.queue_in(
            s,
            OutboundMessage(
                provider=self._provider,
                kind=ChannelKind.SMS,
                to=customer,
                reply=Reply(text, end=True, locale=locale),
                dedupe_key=f"{CODE_KEY}{order_reference}:{code}",
            ),
        )

    async def delivery_code_withdrawn(self, s: AsyncSession, order_reference: str) -> None:
        withdrawn = await self._notifications.withdraw_in(
            s, f"{CODE_KEY}{order_reference}:", "withdrawn: order cancelled"
        )
        if withdrawn:
            log.info("gig.delivery_code_withdrawn", order=order_reference)

    async def stop_cancelled(
        self, s: AsyncSession, worker: Worker, task: Task, stop: TaskStop, *, returned: bool
    ) -> None:
        locale = worker.locale or market_locale(worker.phone) or "en"
        text = self._t(
            locale,
            "sms.stop_returned" if returned else "sms.stop_cancelled",
            order=stop.order_reference,
            position=stop.position,
            task=task.reference,
            address=stop.address,
        )
        key = f"stop-cancelled:{task.id}:{stop.position}"
        await self._text_driver(s, worker, text, locale, key)

    async def task_cancelled(
        self, s: AsyncSession, worker: Worker, task: Task, stop: TaskStop, *, returned: bool
    ) -> None:
        locale = worker.locale or market_locale(worker.phone) or "en"
        if returned:
            text = self._t(
                locale, "sms.route_returned", task=task.reference, order=stop.order_reference
            )
        else:
            text = self._t(locale, "sms.route_cancelled", task=task.reference)
        await self._text_driver(s, worker, text, locale, f"route-cancelled:{task.id}")

    async def route_offered(
        self, s: AsyncSession, worker: Worker, task: Task, offer: Offer
    ) -> None:
        locale = worker.locale or market_locale(worker.phone) or "en"
        line = self._lines.get(task.region)
        leaves = max(task.departure, offer.offered_at).astimezone(zone(task.region))
        text = self._t(
            locale,
            "sms.route_offered",
            reference=task.reference,
            count=len(task.stops),
            time=f"{leaves:%H:%M}",
            line=line.e164 if line else self._t(locale, "sms.drivers_line"),
            minutes=round((offer.expires_at - offer.offered_at).total_seconds() / 60),
        )
        await self._text_driver(s, worker, text, locale, f"route-offered:{offer.id}")

    async def _text_driver(
        self, s: AsyncSession, worker: Worker, text: str, locale: str, key: str
    ) -> None:
        # Not suppressed by STOP: it is the driver's work, not marketing. Queued in the caller's
        # transaction, so the outbox's retries carry it once the change that caused it commits.
        await self._notifications.queue_in(
            s,
            OutboundMessage(
                provider=self._provider,
                kind=ChannelKind.SMS,
                to=worker.phone,
                reply=Reply(text, end=True, locale=locale),
                dedupe_key=key,
            ),
        )

    @property
    def operator(self) -> Phone | None:
        return self._operator

    async def escalations_waiting(self, orders: Sequence[str], day: date) -> bool:
        """Remind the operator of the deliveries still waiting for them; once per `day`."""
        if self._operator is None or not orders:
            return False
        locale = market_locale(self._operator) or "en"
        named = ", ".join(orders[:NAMED])
        if len(orders) > NAMED:
            named += " " + self._t(locale, "reminder.more", count=len(orders) - NAMED)
        text = self._t(locale, "sms.escalations_waiting", count=len(orders), orders=named)
        return await self._text_operator(
            self._operator, text, locale, f"escalations-waiting:{day.isoformat()}"
        )

    async def incident(
        self, s: AsyncSession, incidents: Sequence[Incident], task: Task, worker: Worker
    ) -> None:
        first = incidents[0]
        log.warning(
            "gig.incident",
            kind=first.kind.value,
            task=task.reference,
            stop=first.position,
            doors=[i.position for i in incidents],
            driver=worker.phone.e164,
        )
        if self._operator is None:
            return
        locale = market_locale(self._operator) or "en"
        text = self._t(
            locale,
            "sms.driver_incident",
            problem=self._t(locale, f"incident.{first.kind.value}"),
            driver=worker.name,
            phone=worker.phone.e164,
            task=task.reference,
            stop=first.position or "-",
        )
        await self._notifications.queue_in(
            s,
            OutboundMessage(
                provider=self._provider,
                kind=ChannelKind.SMS,
                to=self._operator,
                reply=Reply(
                    f"{text} {self._handed_over(locale, text, incidents, task)}",
                    end=True,
                    locale=locale,
                ),
                dedupe_key=f"gig-incident:{first.id}",
            ),
        )

    def _handed_over(
        self, locale: str, text: str, incidents: Sequence[Incident], task: Task
    ) -> str:
        """The orders to settle with `deliveries resolve`: all of them while the alert stays
        one SMS, else how many, unless naming them is shorter still (a long alert, two orders:
        the provider splits it, and the operator has the references)."""
        by_door = {stop.position: stop.order_reference for stop in task.stops}
        orders = [by_door[i.position] for i in incidents if i.position in by_door]
        key = "alert.order" if len(orders) == 1 else "alert.orders"
        named = self._t(locale, key, orders=", ".join(orders))
        if len(orders) <= 1 or _one_sms(f"{text} {named}"):
            return named
        counted = self._t(locale, "alert.orders_counted", count=len(orders))
        return counted if len(counted) < len(named) else named

    async def _text_operator(self, operator: Phone, text: str, locale: str, key: str) -> bool:
        """One SMS to the operator per dedupe `key`; False when it was already queued."""
        return await self._notifications.queue(
            OutboundMessage(
                provider=self._provider,
                kind=ChannelKind.SMS,
                to=operator,
                reply=Reply(text, end=True, locale=locale),
                dedupe_key=key,
            )
        )


def _one_sms(text: str) -> bool:
    if is_gsm7(text):
        return gsm7_length(text) <= SMS_GSM7
    return len(text) <= SMS_UCS2
