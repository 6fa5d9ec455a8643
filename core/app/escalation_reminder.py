"""The operator's morning reminder of the deliveries still waiting for them.

An escalated door (three wrong codes, or a route not finished on its day) has no deadline of its
own: its order's workflow waits at out for delivery, and the customer's money or goods with it,
until an operator settles it. The operator is alerted once when it happens; this reminds them
once a day, from 08:00 in their region, of every delivery that has waited more than 12 hours.
One SMS a day (the notification's dedupe key is the day), however many passes or replicas run.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Final

import structlog

from core.clock import Clock
from core.i18n import Translator
from core.messages import ChannelKind, OutboundMessage, Reply
from core.phone import Phone
from core.region import UnsupportedRegionError, region_for_phone, zone
from engines.gig import GigService
from engines.notifications import NotificationService

log = structlog.get_logger(__name__)

REMIND_FROM: Final = time(8, 0)  # the operator's local time
WAITING_OVER: Final = timedelta(hours=12)
NAMED: Final = 5  # order references named in the SMS; the rest are counted


class EscalationReminder:
    def __init__(
        self,
        gig: GigService,
        notifications: NotificationService,
        translate: Translator,
        clock: Clock,
        *,
        provider: str,
        operator: Phone | None,
    ) -> None:
        self._gig = gig
        self._notifications = notifications
        self._t = translate
        self._clock = clock
        self._provider = provider
        self._operator = operator
        self._done_on: date | None = None  # this process has already reminded (or found none)

    async def remind(self) -> bool:
        """Queue today's reminder if it is due; True when this call queued it."""
        if self._operator is None:
            return False
        try:
            region = region_for_phone(self._operator)
        except UnsupportedRegionError:
            return False
        now = self._clock.now()
        local = now.astimezone(zone(region.code))
        if local.time() < REMIND_FROM or self._done_on == local.date():
            return False
        waiting = await self._gig.escalated_before(now - WAITING_OVER)
        if not waiting:
            self._done_on = local.date()
            return False
        locale = region.default_locale
        orders = ", ".join(waiting[:NAMED])
        if len(waiting) > NAMED:
            orders += " " + self._t(locale, "reminder.more", count=len(waiting) - NAMED)
        text = self._t(locale, "sms.escalations_waiting", count=len(waiting), orders=orders)
        queued = await self._notifications.queue(
            OutboundMessage(
                provider=self._provider,
                kind=ChannelKind.SMS,
                to=self._operator,
                reply=Reply(text, end=True, locale=locale),
                dedupe_key=f"escalations-waiting:{local.date().isoformat()}",
            )
        )
        self._done_on = local.date()
        if queued:
            log.info("gig.escalations_reminded", count=len(waiting))
        return queued
