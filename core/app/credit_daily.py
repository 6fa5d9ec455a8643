"""Credit reminders and late fees on a schedule: a periodic pass in every gateway.

Why a loop and not a Temporal schedule (as the nightly settlement is): the credit run needs no
durable orchestration, since each credit is locked, reminded and flagged in one transaction, so
a pass that dies half-way is simply finished by the next one, and passes on several replicas
(or an operator's `omniroute credit daily`) never send a reminder twice. And "the day" is each
retailer's local day in three time zones, with no reminder at night: a pass every
`OMNIROUTE_CREDIT_DAILY_EVERY_SECONDS` (15 min) that leaves out customers before
`OMNIROUTE_CREDIT_REMINDER_HOUR` (08:00) local time gets both right, where one UTC schedule would
wake Nairobi at night or Lagos late. It runs wherever the gateway runs, the embedded `serve`
included, with Temporal on or off.
"""

from __future__ import annotations

from datetime import time

import structlog

from core.app.periodic import Periodic
from engines.credit import CreditService, DailyRun

log = structlog.get_logger(__name__)


class CreditDaily(Periodic):
    name = "credit-daily"
    wait_first = True  # a restart loop must not become a reminder loop: the first pass waits

    def __init__(
        self, credit: CreditService, *, every_seconds: float, reminder_hour: int = 8
    ) -> None:
        super().__init__(every_seconds=every_seconds)
        self._credit = credit
        self._not_before = time(reminder_hour)

    async def run_once(self) -> DailyRun:
        run = await self._credit.run_daily(not_before=self._not_before)
        if run.reminders or run.late_fees or run.fee_notices:
            log.info(
                "credit.daily",
                reminders=[(ref, kind.value) for ref, kind in run.reminders],
                late_fees=[(ref, str(fee)) for ref, fee in run.late_fees],
                fee_notices=run.fee_notices,
            )
        return run

    async def tick(self) -> None:
        await self.run_once()
