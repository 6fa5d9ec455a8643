"""The money commands of `omniroute`: the ledger check, the daily settlement and credit run,
and the reconciliation of a provider statement."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import Awaitable, Callable
from gettext import ngettext
from typing import TypeVar
from zoneinfo import ZoneInfo

from core.app.money import DISTRIBUTORS, MoneyServices, build_money
from core.bus.memory import MemoryEventBus
from core.clock import Clock, SystemClock
from core.config import Settings, database_url
from core.db import Database
from core.i18n import Translator
from core.ids import RandomIds
from core.money import Money
from engines.catalogue import CatalogueService
from engines.ledger import LedgerReport, Transfer, TransferRefusedError, TransferResult
from engines.notifications import NotificationService
from engines.orders import OrderService
from engines.pricing import PricingService
from engines.settlement import (
    CatchUpTooLongError,
    DayNotOverError,
    FirstDayTooFarBackError,
    SettlementBusyError,
    StatementFormatError,
    parse_statement,
)
from engines.wms import SqlBinStock

T = TypeVar("T")


def _with_money(work: Callable[[MoneyServices], Awaitable[T]], clock: Clock | None = None) -> T:
    async def run() -> T:
        settings = Settings()
        wall, ids = clock or SystemClock(), RandomIds()
        db = Database(database_url(settings))
        catalogue = CatalogueService(db, wall)
        pricing = PricingService(db, wall, catalogue)
        orders = OrderService(db, pricing, wall, ids, bins=SqlBinStock())
        money = build_money(
            db=db,
            bus=MemoryEventBus(),
            clock=wall,
            ids=ids,
            orders=orders,
            notifications=NotificationService(db, wall, ids),
            translate=Translator.load(),
            sms_provider=settings.sms_provider,
            reminder_hour=settings.credit_reminder_hour,
        )
        try:
            return await work(money)
        finally:
            await money.close()
            await db.dispose()

    return asyncio.run(run())


def run(args: argparse.Namespace, *, clock: Clock | None = None) -> int:
    """Run a money command; `clock` is the system clock unless a test gives its own."""
    match args.command:
        case "settle" if args.paid or args.unpaid:
            return _payout_outcome(args)
        case "settle":
            return _settle(args.day, clock)
        case "credit":
            return _credit_daily(now=args.now, clock=clock)
        case "reconcile":
            return _reconcile(args)
    return _ledger(args.action)


def _ledger(action: str) -> int:
    async def work(money: MoneyServices) -> LedgerReport:
        if action == "rebuild":
            return await money.ledger.rebuild()
        return await money.ledger.check()

    report = _with_money(work)
    print(f"{report.accounts} accounts, {report.transfers} transfers")
    for currency, (debits, credits) in sorted(report.totals.items()):
        state = "balanced" if debits == credits else "NOT BALANCED"
        print(f"{currency}: debits {debits} credits {credits} {state}")
    for m in report.mismatches:
        print(f"mismatch {m.code} ({m.problem}): stored {m.stored} replayed {m.replayed}")
    for code in report.over_limit:
        print(f"note: {code} is past its limit (lowered after use?)")
    if action == "rebuild":
        print(f"rebuilt: {len(report.mismatches)} accounts repaired")
        return 0
    print("ledger OK" if report.balanced else "ledger MISMATCH")
    return 0 if report.balanced else 1


def _settle(day: dt.date | None, clock: Clock | None) -> int:
    now = (clock or SystemClock()).now()

    async def work(money: MoneyServices) -> int:
        refused = 0
        for distributor in DISTRIBUTORS:
            local = now.astimezone(ZoneInfo(distributor.timezone)).date()
            try:
                batches = await money.settlement.settle_through(
                    distributor, day or local - dt.timedelta(days=1)
                )
            except (DayNotOverError, CatchUpTooLongError, FirstDayTooFarBackError) as exc:
                print(f"omniroute settle: {exc}", file=sys.stderr)
                refused += 1
                continue
            zero = Money.zero(distributor.currency)
            for batch in batches:
                payout = await money.settlement.payout_held(batch.distributor, batch.day)
                cash = await money.settlement.cash_day(distributor, batch.day)
                print(
                    f"{batch.distributor} {batch.day}: {_count(batch.payments, 'payment')}, gross "
                    f"{batch.gross}, cash {batch.cash} in at the depot "
                    f"({_count(batch.hand_ins, 'hand-over')}; taken at doors {cash.collected} "
                    f"from {_count(cash.orders, 'order')}, held "
                    f"by drivers {cash.held_by_drivers}, handed in {cash.handed_in}), refunds "
                    f"{batch.refunds}, fees {batch.fees}, commission "
                    f"{batch.commission}, carried {batch.carried}, net {batch.net}, payout "
                    f"{payout or zero}"
                    + (
                        f", owes {zero - batch.net} (carried into the next payout)"
                        if batch.net.amount < 0
                        else ""
                    )
                )
        return 2 if refused else 0

    return _with_money(work, clock)


def _count(n: int, thing: str) -> str:
    """'1 payment', '2 payments': the operator's lines are English (ngettext's plural rule)."""
    return f"{n} {ngettext(thing, thing + 's', n)}"


def _payout_outcome(args: argparse.Namespace) -> int:
    """What the bank answered for a distributor's payout, which settle held on the ledger."""
    name, paid = (args.paid, True) if args.paid else (args.unpaid, False)
    flag = "--paid" if paid else "--unpaid"
    if args.day is None:
        print(f"omniroute settle: {flag} needs --day, the day whose payout it was", file=sys.stderr)
        return 2

    async def work(money: MoneyServices) -> Transfer:
        if paid:
            return await money.settlement.payout_confirmed(name, args.day)
        return await money.settlement.payout_failed(name, args.day)

    try:
        transfer = _with_money(work)
    except TransferRefusedError as exc:
        print(f"omniroute settle: {name} {args.day}: {_refusal(exc.result)}", file=sys.stderr)
        return 2
    except SettlementBusyError as exc:
        print(f"omniroute settle: {exc}", file=sys.stderr)
        return 1
    amount = transfer.amount.format()
    if paid:
        print(f"{name} {args.day}: payout {amount} posted")
    else:
        print(
            f"{name} {args.day}: payout {amount} released, still owed to {name}: "
            "the next settlement pays it"
        )
    return 0


def _refusal(result: TransferResult) -> str:
    match result:
        case TransferResult.PENDING_TRANSFER_NOT_FOUND:
            return "no payout is held for that day (not settled yet, or nothing to pay)"
        case TransferResult.PENDING_TRANSFER_ALREADY_POSTED:
            return "that payout was already confirmed paid"
        case TransferResult.PENDING_TRANSFER_ALREADY_VOIDED:
            return "that payout was already recorded as refused (the money is still owed)"
    return f"the ledger refused it ({result.value})"


def _credit_daily(*, now: bool, clock: Clock | None) -> int:
    """The gateway's credit pass, by hand: like the gateway's loop, it leaves out retailers
    before the reminder hour in their time zone (nobody gets a debt SMS at night) unless
    `--now`; a later run, or the gateway's loop, picks them up."""
    hour = Settings().credit_reminder_hour

    async def work(money: MoneyServices) -> int:
        run = await money.credit.run_daily(not_before=None if now else dt.time(hour))
        for reference, kind in run.reminders:
            print(f"reminder {kind.value}: {reference}")
        for reference, fee in run.late_fees:
            print(f"late fee {fee}: {reference}")
        for reference in run.fee_notices:
            print(f"late fee texted: {reference}")
        if run.later:
            print(
                f"{len(run.later)} credits left for later: before {hour:02d}:00 where the "
                "retailer is (--now to run them now)"
            )
        told = f", {len(run.fee_notices)} earlier late fees texted" if run.fee_notices else ""
        print(f"{len(run.reminders)} reminders, {len(run.late_fees)} late fees{told}")
        return 0

    return _with_money(work, clock)


def _reconcile(args: argparse.Namespace) -> int:
    try:
        # utf-8-sig: Excel's "CSV UTF-8" starts with a byte order mark (read as any UTF-8)
        text = args.statement.read_text(encoding="utf-8-sig")
        rows = parse_statement(text, args.currency)
    except UnicodeDecodeError:
        print(
            f"omniroute reconcile: {args.statement}: not UTF-8 text (save as CSV UTF-8)",
            file=sys.stderr,
        )
        return 2
    except (OSError, StatementFormatError) as exc:
        print(f"omniroute reconcile: {exc}", file=sys.stderr)
        return 2

    async def work(money: MoneyServices) -> int:
        # A rail that took money in other currencies only (M-Pesa's statement in NGN, say) is
        # a slip of the operator's: it would list every row as missing on our side.
        taken = {a.currency for a in await money.ledger.accounts(f"rail:{args.rail}:")}
        if taken and args.currency not in taken:
            print(
                f"omniroute reconcile: {args.rail} has taken no {args.currency}: its payments "
                f"are in {', '.join(sorted(taken))}",
                file=sys.stderr,
            )
            return 2
        local = (d.timezone for d in DISTRIBUTORS if d.currency == args.currency)
        timezone = args.timezone or next(local, "UTC")  # the day its settlement settles
        report = await money.settlement.reconcile(
            args.rail, args.currency, args.day, timezone, rows
        )
        sys.stdout.write(report.to_csv())
        return 0 if report.clean else 1

    return _with_money(work)
