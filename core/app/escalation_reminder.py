"""The operator's morning reminder of the deliveries still waiting for them.

An escalated door (three wrong codes, or a route not finished on its day) has no deadline of its
own: its order's workflow waits at out for delivery, and the customer's money or goods with it,
until an operator settles it. The operator is alerted once when it happens; this reminds them
once a day, from 08:00 in their region, of every delivery that has waited more than 12 hours
(looked for at most hourly, so one that comes due later in the day is named within the hour).
One SMS a day (the notification's dedupe key is the day), however many passes or replicas run.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Final

import structlog

from core.app.driver_notices import DriverNotices
from core.clock import Clock
from core.region import UnsupportedRegionError, region_for_phone, zone
from engines.gig import GigService

log = structlog.get_logger(__name__)

REMIND_FROM: Final = time(8, 0)  # the operator's local time
WAITING_OVER: Final = timedelta(hours=12)
LOOK_AGAIN: Final = timedelta(hours=1)  # after finding nothing due


class EscalationReminder:
    def __init__(self, gig: GigService, notices: DriverNotices, clock: Clock) -> None:
        self._gig = gig
        self._notices = notices
        self._clock = clock
        self._sent_on: date | None = None  # the day this process's reminder went (or was found)
        self._quiet_until: datetime | None = None  # nothing was due at the last look

    async def remind(self) -> bool:
        """Queue today's reminder if it is due; True when this call queued it."""
        operator = self._notices.operator
        if operator is None:
            return False
        try:
            region = region_for_phone(operator)
        except UnsupportedRegionError:
            return False
        now = self._clock.now()
        local = now.astimezone(zone(region.code))
        if local.time() < REMIND_FROM or self._sent_on == local.date():
            return False
        if self._quiet_until is not None and now < self._quiet_until:
            return False
        waiting = await self._gig.escalated_before(now - WAITING_OVER)
        if not waiting:
            self._quiet_until = now + LOOK_AGAIN
            return False
        queued = await self._notices.escalations_waiting(waiting, local.date())
        self._sent_on = local.date()  # queued now, or already by another replica
        if queued:
            log.info("gig.escalations_reminded", count=len(waiting))
        return queued
