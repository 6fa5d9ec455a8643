"""The nightly settlement workflow's port, answered by the ledger's settlement service.

The Temporal Schedule runs the Settlement workflow each night; its `settle_day` activity settles
every distributor's day on the ledger (a batch per distributor, net of rail fees and commission,
the payout held), idempotently — a retried activity gets the recorded batches back. The days a
distributor left unsettled since its last batch (nights the cluster was down) are settled first,
in order, at most CATCH_UP_DAYS a night: beyond that the oldest are, with a warning, and the next
nights go on from there. The per-order
`record_order` step stays a record in `workflow_effects`: the ledger already posted the order's
money when it was paid and delivered.
"""

from __future__ import annotations

from datetime import date

import structlog

from core.money import Money
from engines.fulfilment.adapters import PendingEngines
from engines.fulfilment.model import OrderSnapshot, SettlementReport
from engines.settlement import (
    Batch,
    CatchUpTooLongError,
    Distributor,
    SettlementService,
)

log = structlog.get_logger(__name__)


class LedgerSettlement:
    def __init__(
        self,
        settlement: SettlementService,
        distributors: tuple[Distributor, ...],
        recorder: PendingEngines,
    ) -> None:
        self._settlement = settlement
        self._distributors = distributors
        self._recorder = recorder

    async def record_order(self, order: OrderSnapshot, *, key: str) -> None:
        await self._recorder.record_order(order, key=key)

    async def settle_day(self, day: date, *, key: str) -> SettlementReport:
        """Every day settled in this run counts: the missed days settled before `day` too
        (their payments, and each day's own net — a shortfall once, not again where the next
        day carries it)."""
        batches = [b for d in self._distributors for b in await self._settle(d, day)]
        net: dict[str, Money] = {}
        for batch in batches:
            own = batch.net - batch.carried
            if batch.payments or batch.hand_ins or own.amount:
                currency = batch.net.currency
                net[currency] = net.get(currency, Money.zero(currency)) + own
        return SettlementReport(
            day=day,
            orders=sum(b.payments + b.hand_ins for b in batches),
            totals=tuple(net.values()),
            days=tuple(sorted({b.day for b in batches})),
        )

    async def _settle(self, distributor: Distributor, day: date) -> list[Batch]:
        try:
            return await self._settlement.settle_through(distributor, day)
        except CatchUpTooLongError as exc:
            log.warning(
                "settlement.catch_up_limit",
                distributor=distributor.name,
                day=day.isoformat(),
                settling_through=exc.settle_first.isoformat(),
                detail=str(exc),
            )
            return await self._settlement.settle_through(distributor, exc.settle_first)
