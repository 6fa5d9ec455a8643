"""The dispatcher loop: every so often, lapsed offers are closed and open routes re-offered.

Drivers' answers re-offer at once (a decline allocates again), and an idle driver calling in
pulls work; this loop covers the silent case, an offer nobody answers, and the morning: a task is
offered only on its region's day (see `GigService.allocate`), so tomorrow's routes, planned the
evening before, are offered by this loop once the region's clock passes midnight and drivers are
on shift. Each pass also closes the routes of a day that is over that nobody started
(`GigService.expire_stale_tasks`), so a driver who never went out is free for the new day, and
reminds the operator, once a day from 08:00, of the deliveries still waiting for them
(`EscalationReminder`).
"""

from __future__ import annotations

import structlog

from core.app.escalation_reminder import EscalationReminder
from core.app.periodic import Periodic
from engines.gig import GigService

log = structlog.get_logger(__name__)


class OfferSweeper(Periodic):
    name = "offer-sweeper"
    wait_first = True  # offers made at start-up come from the drivers' own calls

    def __init__(
        self,
        gig: GigService,
        *,
        every_seconds: float,
        reminder: EscalationReminder | None = None,
    ) -> None:
        super().__init__(every_seconds=every_seconds)
        self._gig = gig
        self._reminder = reminder

    async def tick(self) -> None:
        offers = await self._gig.allocate()
        if offers:
            log.info("gig.offered", count=len(offers))
        if self._reminder is not None:
            await self._reminder.remind()
