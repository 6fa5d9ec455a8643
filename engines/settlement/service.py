"""Daily settlement per distributor, payouts to distributors, and reconciliation with providers."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from core.clock import Clock
from core.db import Database
from core.ids import IdGenerator
from core.money import Money
from engines.ledger import (
    Account,
    AccountType,
    Books,
    Transfer,
    TransferKind,
    TransferRequest,
    TransferStatus,
    chart,
)
from engines.settlement.model import (
    Batch,
    CashDay,
    CatchUpTooLongError,
    Collected,
    DayNotOverError,
    Distributor,
    FirstDayTooFarBackError,
    Reconciliation,
    SettlementBusyError,
    StatementRow,
    batch_for,
    reconcile,
    still_held,
)
from engines.settlement.tables import settlement_batches, settlement_claims

PAYMENT_CODES = ("payment", "repayment")
# (rail, our references) -> the provider's receipt of those we booked under another reference
ReceiptLookup = Callable[[str, Sequence[str]], Awaitable[Mapping[str, str]]]
CATCH_UP_DAYS = 31  # the most unsettled days one settlement run settles before the asked one
CLAIM_LEASE = timedelta(minutes=30)  # a run's claim on its distributor, if it dies holding it
CLAIM_POLL_SECONDS = 0.05  # how often a run waiting for a distributor looks again


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """The UTC instants a local day starts and ends."""
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, time(0), tz)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


class SettlementService:
    def __init__(
        self,
        db: Database,
        books: Books,
        clock: Clock,
        ids: IdGenerator,
        *,
        receipts: ReceiptLookup | None = None,
    ) -> None:
        self._db = db
        self._receipts = receipts
        self._books = books
        self._clock = clock
        self._ids = ids

    async def collected(
        self, currency: str, day: date, timezone: str, rail: str | None = None
    ) -> list[Collected]:
        """Payments posted on the rails in `currency` during the local day."""
        rails = await self._rail_accounts(currency, rail)
        start, end = day_bounds(day, timezone)
        journal = await self._books.ledger.transfers(
            account_ids=list(rails), since=start, until=end, codes=list(PAYMENT_CODES)
        )
        # one payment per rail and reference: a credit repayment is posted in parts (its late
        # fees to the receivable, the rest to the credit line), one payment on the statement
        paid: dict[tuple[str, str], Money] = {}
        for t in journal:
            if t.debit_account_id in rails and _posted(t):
                key = (rails[t.debit_account_id], t.reference)
                paid[key] = paid[key] + t.amount if key in paid else t.amount
        return [Collected(rail_, reference, amount) for (rail_, reference), amount in paid.items()]

    async def refunded(
        self, currency: str, day: date, timezone: str, rail: str | None = None
    ) -> list[Collected]:
        """Refunds the rails gave back in `currency` during the local day (when the rail
        confirmed them, whenever their payment came), each under its payment's reference and
        with a negative amount."""
        rails = await self._rail_accounts(currency, rail)
        start, end = day_bounds(day, timezone)
        journal = await self._books.ledger.transfers(
            account_ids=list(rails), since=start, until=end, codes=["refund"]
        )
        return [
            Collected(rails[t.credit_account_id], t.reference, Money.zero(currency) - t.amount)
            for t in journal
            if t.credit_account_id in rails and _posted(t)
        ]

    async def cash_in(self, distributor: Distributor, day: date) -> list[Money]:
        """The door cash that reached the distributor's depot during the local day, one amount
        per arrival: a driver's hand-over, or a door taken at the depot itself. What a driver
        still holds is not counted until he hands it in: the depot keeps what it took, and the
        day's payout pays its commission."""
        depot = await self._books.ledger.find_account(
            chart.depot_cash(distributor.name, distributor.currency).code
        )
        if depot is None:
            return []
        start, end = day_bounds(day, distributor.timezone)
        journal = await self._books.ledger.transfers(
            account_ids=[depot.id], since=start, until=end, codes=["cash", "cash_in"]
        )
        return [t.amount for t in journal if t.debit_account_id == depot.id and _posted(t)]

    async def cash_day(self, distributor: Distributor, day: date) -> CashDay:
        """Where the day's cash is now: each driver hands his oldest cash in first, so of what
        he took that day he still holds what his balance has beyond his takings since."""
        cur = distributor.currency
        holders = await self._cash_accounts(cur)
        start, end = day_bounds(day, distributor.timezone)
        journal = await self._books.ledger.transfers(
            account_ids=list(holders), since=start, codes=["cash"]
        )
        zero = Money.zero(cur)
        that_day: dict[uuid.UUID, Money] = {}
        later: dict[uuid.UUID, Money] = {}
        doors = 0
        for t in journal:
            if t.debit_account_id not in holders or not _posted(t):
                continue
            into = that_day if t.created_at < end else later
            into[t.debit_account_id] = into.get(t.debit_account_id, zero) + t.amount
            doors += into is that_day
        collected = sum(that_day.values(), zero)
        on_the_road = sum(
            (
                still_held(took, later.get(account, zero), holders[account].balance)
                for account, took in that_day.items()
                if holders[account].code.startswith("driver:")
            ),
            zero,
        )
        return CashDay(collected, on_the_road, collected - on_the_road, doors)

    async def _cash_accounts(self, currency: str) -> dict[uuid.UUID, Account]:
        """The drivers' cash accounts and the depots' (`driver:<phone>:cash:<ccy>`,
        `depot:<distributor>:cash:<ccy>`) in `currency`."""
        return {
            a.id: a
            for prefix in ("driver:", "depot:")
            for a in await self._books.ledger.accounts(prefix)
            if a.currency == currency and a.code.split(":")[2:] == ["cash", currency]
        }

    async def _rail_accounts(self, currency: str, rail: str | None) -> dict[uuid.UUID, str]:
        accounts = await self._books.ledger.accounts("rail:")
        return {
            a.id: a.code.split(":")[1]
            for a in accounts
            if a.currency == currency
            and a.type is AccountType.ASSET
            and (rail is None or a.code.split(":")[1] == rail)
        }

    async def settle_day(self, distributor: Distributor, day: date) -> Batch:
        """The day's batch, after the unsettled days before it (see `settle_through`)."""
        return (await self.settle_through(distributor, day))[-1]

    async def settle_through(self, distributor: Distributor, day: date) -> list[Batch]:
        """Settle the unsettled days since the distributor's last settled day, in order, then
        `day`: no day is skipped, and each one's shortfall is carried by the next. Returns the
        batches, oldest first (`day`'s last; recorded already: only it, posting nothing).

        More than CATCH_UP_DAYS unsettled days before it are refused (CatchUpTooLongError,
        naming the day to settle first); a day not over yet, too (DayNotOverError), and, with
        nothing settled yet, a day more than CATCH_UP_DAYS back (FirstDayTooFarBackError).
        """
        async with self._settling(distributor.name):
            return await self._settle_through(distributor, day)

    async def _settle_through(self, distributor: Distributor, day: date) -> list[Batch]:
        row = await self._recorded(distributor.name, day)
        if row is not None:
            return [await self._batch(row, distributor)]
        if day_bounds(day, distributor.timezone)[1] > self._clock.now():
            raise DayNotOverError(
                f"{distributor.name} {day}: the day is not over yet in {distributor.timezone}"
            )
        today = self._clock.now().astimezone(ZoneInfo(distributor.timezone)).date()
        earliest = today - timedelta(days=CATCH_UP_DAYS)
        if day < earliest and not await self._settled_any(distributor.name):
            # Recorded, it would be the day every later run catches up from, 31 at a time.
            raise FirstDayTooFarBackError(
                f"{distributor.name} {day}: nothing is settled yet, and a first settlement "
                f"goes back at most {CATCH_UP_DAYS} days (--day {earliest} or later)"
            )
        gap = await self._unsettled_before(distributor.name, day)
        if len(gap) > CATCH_UP_DAYS:
            first = gap[CATCH_UP_DAYS - 1]
            raise CatchUpTooLongError(
                f"{distributor.name} {day}: {len(gap)} days before it are unsettled (since "
                f"{gap[0]}); settle --day {first} first ({CATCH_UP_DAYS} days at a time)",
                first,
            )
        return [await self._settle_one(distributor, d) for d in [*gap, day]]

    @contextlib.asynccontextmanager
    async def _settling(self, distributor: str) -> AsyncIterator[None]:
        """One settlement run of a distributor at a time, from any process (the command line,
        the nightly job): the next waits until it is done, then sees its batches. The database
        is the arbiter (the distributor is the key of the claim row), on SQLite as on
        PostgreSQL; a claim left by a run that died is taken over once past its lease."""
        holder = self._ids.uuid()
        # Polled, not awaited on an event: the run holding it may be another process.
        while not await self._claim(distributor, holder):  # noqa: ASYNC110
            await asyncio.sleep(CLAIM_POLL_SECONDS)
        try:
            yield
        finally:
            await self._unclaim(distributor, holder)

    @contextlib.asynccontextmanager
    async def _answering(self, distributor: str, day: date) -> AsyncIterator[None]:
        """A payout answer takes the run's claim: it never lands while a run of the distributor
        holds its payouts (or another answer is being recorded). It does not wait: refused
        with SettlementBusyError, to be given again once the run is done."""
        holder = self._ids.uuid()
        if not await self._claim(distributor, holder):
            raise SettlementBusyError(
                f"{distributor} {day}: a settlement of {distributor} is running (or another "
                "payout answer); nothing recorded, answer again once it is done"
            )
        try:
            yield
        finally:
            await self._unclaim(distributor, holder)

    async def _unclaim(self, distributor: str, holder: uuid.UUID) -> None:
        async with self._db.transaction() as s:
            await s.execute(
                delete(settlement_claims).where(
                    settlement_claims.c.distributor == distributor,
                    settlement_claims.c.holder == holder,
                )
            )

    async def _claim(self, distributor: str, holder: uuid.UUID) -> bool:
        now = self._clock.now()
        values = {"holder": holder, "claimed_at": now, "expires_at": now + CLAIM_LEASE}
        try:
            async with self._db.transaction() as s:
                await s.execute(
                    settlement_claims.insert().values(distributor=distributor, **values)
                )
            return True
        except IntegrityError:
            pass
        async with self._db.transaction() as s:
            taken = await s.execute(
                update(settlement_claims)
                .where(
                    settlement_claims.c.distributor == distributor,
                    settlement_claims.c.expires_at <= now,
                )
                .values(**values)
            )
        return bool(taken.rowcount == 1)  # type: ignore[attr-defined]

    async def _settled_any(self, distributor: str) -> bool:
        async with self._db.transaction() as s:
            found = await s.execute(
                select(settlement_batches.c.day)
                .where(settlement_batches.c.distributor == distributor)
                .limit(1)
            )
            return found.first() is not None

    async def _unsettled_before(self, distributor: str, day: date) -> list[date]:
        """The days between the distributor's last settled day before `day` and `day`."""
        async with self._db.transaction() as s:
            last = (
                await s.execute(
                    select(func.max(settlement_batches.c.day)).where(
                        and_(
                            settlement_batches.c.distributor == distributor,
                            settlement_batches.c.day < day,
                        )
                    )
                )
            ).scalar()
        if last is None:
            return []
        return [last + timedelta(days=n) for n in range(1, (day - last).days)]

    async def _owed_back(self, distributor: Distributor) -> Money:
        """What the settled days still owe back: every shortfall (a negative net) less what
        later batches carried — whichever order the days were settled in."""
        async with self._db.transaction() as s:
            rows = (
                await s.execute(
                    select(settlement_batches.c.net, settlement_batches.c.carried).where(
                        settlement_batches.c.distributor == distributor.name
                    )
                )
            ).all()
        owed = sum((min(r.net, 0) - r.carried for r in rows), Decimal(0))
        return Money(min(owed, Decimal(0)), distributor.currency)

    async def _settle_one(self, distributor: Distributor, day: date) -> Batch:
        """One day's batch: recorded once, the distributor's share accrued, its payout held.

        The refunds the rails confirmed that day are netted out (a refund of a payment an
        earlier batch paid out comes out of this one); a day that owes more than it collected
        pays nothing and what it owes is carried by the next batch settled.
        Re-running it returns the recorded batch and posts nothing again.
        """
        row = await self._recorded(distributor.name, day)
        if row is not None:
            return await self._batch(row, distributor)
        owed_back = await self._owed_back(distributor)
        carried = owed_back if owed_back.amount < 0 else None
        payments = await self.collected(distributor.currency, day, distributor.timezone)
        refunds = await self.refunded(distributor.currency, day, distributor.timezone)
        rails = await self._rail_accounts(distributor.currency, None)
        start, end = day_bounds(day, distributor.timezone)
        fees = [
            t.amount
            for t in await self._books.ledger.transfers(
                account_ids=list(rails), since=start, until=end, codes=["fee"]
            )
        ]
        batch = batch_for(
            distributor,
            day,
            payments,
            fees,
            refunds=(-r.amount for r in refunds),
            carried=carried,
            cash=await self.cash_in(distributor, day),
        )
        if batch.net.amount > 0:
            await self._accrue(distributor, batch)
        if batch.cash.amount > 0:
            await self._cash_kept(distributor, batch)
        await self._hold_payout(distributor, day)
        try:
            async with self._db.transaction() as s:
                await s.execute(
                    settlement_batches.insert().values(
                        id=self._ids.uuid(),
                        distributor=batch.distributor,
                        day=batch.day,
                        currency=distributor.currency,
                        gross=batch.gross.amount,
                        refunds=batch.refunds.amount,
                        carried=batch.carried.amount,
                        fees=batch.fees.amount,
                        commission=batch.commission.amount,
                        net=batch.net.amount,
                        payments=batch.payments,
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            pass  # a concurrent run recorded the same batch (same transfers, by id)
        return batch

    async def _batch(self, r: Any, distributor: Distributor) -> Batch:
        """A recorded batch; its cash read again from the ledger (what reached the depot on a
        day over never changes), as its net counted it."""
        cur = r.currency
        cash = await self.cash_in(distributor, r.day)
        return Batch(
            r.distributor,
            r.day,
            Money(r.gross, cur),
            Money(r.fees, cur),
            Money(r.commission, cur),
            Money(r.net, cur),
            r.payments,
            Money(r.refunds, cur),
            Money(r.carried, cur),
            sum(cash, Money.zero(cur)),
            len(cash),
        )

    async def _recorded(self, distributor: str, day: date) -> Any:
        async with self._db.transaction() as s:
            return (
                await s.execute(
                    select(settlement_batches).where(
                        and_(
                            settlement_batches.c.distributor == distributor,
                            settlement_batches.c.day == day,
                        )
                    )
                )
            ).first()

    async def _accrue(self, distributor: Distributor, batch: Batch) -> None:
        """The day's share is owed to the distributor."""
        cur = distributor.currency
        sales = await self._books.account(chart.sales(cur))
        owed = await self._books.account(chart.distributor(distributor.name, cur))
        day = batch.day.isoformat()
        await self._books.ledger.transfer(
            TransferRequest.posted(
                chart.transfer_id("settlement", distributor.name, day),
                sales.id,
                owed.id,
                batch.net,
                code="settlement",
                reference=f"{distributor.name}:{day}",
            )
        )

    async def _cash_kept(self, distributor: Distributor, batch: Batch) -> None:
        """The door cash its depot took that day stays with the distributor (the depot is its
        own): it leaves our books as paid to it in notes, never again by bank; the commission
        on it came out of the day's payout."""
        cur = distributor.currency
        sales = await self._books.account(chart.sales(cur))
        depot = await self._books.account(chart.depot_cash(distributor.name, cur))
        day = batch.day.isoformat()
        await self._books.ledger.transfer(
            TransferRequest.posted(
                chart.transfer_id("settlement", distributor.name, day, "cash"),
                sales.id,
                depot.id,
                batch.cash,
                code="cash_kept",
                reference=f"{distributor.name}:{day}",
            )
        )

    async def _hold_payout(self, distributor: Distributor, day: date) -> None:
        """Hold the day's payout: everything accrued to the distributor that no other payout
        holds or paid — the day's share, and what an earlier payout the bank refused (voided)
        still owes, so a refused payout is carried by the next settlement, once. The day's own
        hold is left out of the sum, so a re-run after a crash asks for the same amount."""
        cur = distributor.currency
        owed = await self._books.account(chart.distributor(distributor.name, cur))
        bank = await self._books.account(chart.rail(distributor.payout_rail, cur))
        payout_id = chart.transfer_id("settlement", distributor.name, day.isoformat(), "payout")
        journal = await self._books.ledger.transfers(
            account_ids=[owed.id], codes=["settlement", "payout"]
        )
        accrued = sum(
            (
                t.amount
                for t in journal
                if t.code == "settlement" and _posted(t) and t.credit_account_id == owed.id
            ),
            Money.zero(cur),
        )
        held = sum(
            (
                t.amount
                for t in journal
                if t.code == "payout"
                and t.kind is TransferKind.PENDING
                and t.status is not TransferStatus.VOIDED
                and t.debit_account_id == owed.id
                and t.id != payout_id
            ),
            Money.zero(cur),
        )
        payout = accrued - held
        if payout.amount <= 0:
            return
        await self._books.ledger.transfer(
            TransferRequest.pending(
                payout_id,
                owed.id,
                bank.id,
                payout,
                code="payout",
                reference=f"{distributor.name}:{day.isoformat()}",
            )
        )

    async def payout_held(self, distributor: str, day: date) -> Money | None:
        """What the day's payout asks the bank to send (None: nothing was held that day)."""
        held = await self._books.ledger.get_transfer(
            chart.transfer_id("settlement", distributor, day.isoformat(), "payout")
        )
        return held.amount if held is not None else None

    async def payout_confirmed(self, distributor: str, day: date) -> Transfer:
        """The bank confirmed the transfer to the distributor: post the held payout (refused
        with SettlementBusyError while a settlement of the distributor runs)."""
        async with self._answering(distributor, day):
            return await self._books.ledger.transfer(
                TransferRequest.post(
                    chart.transfer_id("settlement", distributor, day.isoformat(), "payout", "post"),
                    chart.transfer_id("settlement", distributor, day.isoformat(), "payout"),
                    code="payout",
                    reference=f"{distributor}:{day.isoformat()}",
                )
            )

    async def payout_failed(self, distributor: str, day: date) -> Transfer:
        """The bank refused it: release the hold; the money is owed still (refused with
        SettlementBusyError while a settlement of the distributor runs)."""
        async with self._answering(distributor, day):
            return await self._books.ledger.transfer(
                TransferRequest.void(
                    chart.transfer_id("settlement", distributor, day.isoformat(), "payout", "void"),
                    chart.transfer_id("settlement", distributor, day.isoformat(), "payout"),
                    code="payout",
                    reference=f"{distributor}:{day.isoformat()}",
                )
            )

    async def reconcile(
        self,
        rail: str,
        currency: str,
        day: date,
        timezone: str,
        statement: list[StatementRow],
    ) -> Reconciliation:
        """Our payments and refunds on the rail that day against the provider's statement rows;
        one we booked under our own reference (no receipt known then) is matched by the receipt
        the provider gave it later, when `receipts` knows it."""
        ours = await self.collected(currency, day, timezone, rail)
        ours += await self.refunded(currency, day, timezone, rail)
        if self._receipts is not None:
            known = await self._receipts(rail, [p.external_ref for p in ours])
            ours = [
                replace(p, external_ref=known.get(p.external_ref, p.external_ref)) for p in ours
            ]
        return reconcile(rail, day, ours, statement)


def _posted(t: Transfer) -> bool:
    return t.kind is TransferKind.POSTED and t.status is TransferStatus.POSTED
