"""Payment use cases: create an intent once, submit it once, settle it on the provider's word.

Money moves exactly once because:
- an intent is created once per idempotency key;
- it is submitted once: `pending -> unknown` is committed *before* the provider is called, so a
  retry, a second worker or a crash after the call never submits it again;
- a callback is applied once (its id is recorded in the same transaction as its effect);
- an intent left `unknown` (we crashed, or the provider timed out) or waiting too long is settled
  by the requery, which *asks* the provider and never submits again.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import TypeVar

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.bus import DomainEvent
from core.bus.outbox import record
from core.clock import Clock
from core.db import Database
from core.ids import IdGenerator
from core.money import Money
from core.phone import Phone
from engines.orders.model import OrderStatus
from engines.orders.repository import SqlOrderRepository
from engines.payments.events import (
    PaymentFailed,
    PaymentIntentChanged,
    PaymentReversed,
    PaymentSucceeded,
    UnmatchedFundsReceived,
)
from engines.payments.model import (
    PROVIDER_OF,
    CallbackNotice,
    CreatePayment,
    Direction,
    IdempotencyKeyReusedError,
    IntentStatus,
    Method,
    Observation,
    PaymentIntent,
    ProviderStatus,
    RailNotConfiguredError,
    RailRejectedError,
    RailUnavailableError,
    RefundRefusedError,
    UnknownPaymentError,
    VirtualAccount,
    target_status,
    whole_refund_part,
)
from engines.payments.ports import (
    AccountNameRail,
    CreditsRail,
    PaymentRail,
    RefundRail,
    VirtualAccountRail,
)
from engines.payments.rails.paystack import PaystackRail
from engines.payments.repository import SqlPaymentRepository

log = structlog.get_logger(__name__)

CAS_ATTEMPTS = 5
T = TypeVar("T")


class _MovedMeanwhileError(Exception):
    """Another writer moved the intent between our read and our write: read again."""


@dataclass(frozen=True, slots=True)
class RequeryReport:
    checked: int
    settled: int
    still_open: int


class PaymentService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        ids: IdGenerator,
        rails: Mapping[str, PaymentRail],
        *,
        requery_after: timedelta = timedelta(minutes=2),
        expire_after: timedelta = timedelta(hours=24),
    ) -> None:
        self._db = db
        self._clock = clock
        self._ids = ids
        self._rails = dict(rails)
        self._requery_after = requery_after
        self._expire_after = expire_after

    async def close(self) -> None:
        for rail in self._rails.values():
            await rail.close()

    def rail(self, provider: str) -> PaymentRail | None:
        return self._rails.get(provider)

    # --- what callers ask -----------------------------------------------------------------

    def offers(self, method: Method) -> bool:
        """Whether the rail for `method` is configured (the checkout offers only those)."""
        return PROVIDER_OF[method] in self._rails

    def ussd_bank(self) -> tuple[str, str] | None:
        """The bank whose customers can dial a bank USSD code (PAYSTACK) and its code, when
        offered: a code works only in that bank's menu, so the checkout names it."""
        rail = self._rails.get(PROVIDER_OF[Method.PAYSTACK])
        return rail.ussd_bank if isinstance(rail, PaystackRail) else None

    async def create(
        self,
        command: CreatePayment,
        *,
        guard: Callable[[SqlPaymentRepository], Awaitable[dict[str, str] | None]] | None = None,
    ) -> PaymentIntent:
        """The intent for this key: new, or the first one if the request is the same.

        `guard` runs in the inserting transaction, before the insert, and may refuse it by
        raising: a check and the write it allows cannot be split by a concurrent request. What
        it answers is kept in the intent's details.
        """
        provider = PROVIDER_OF[command.method]
        if provider not in self._rails:
            raise RailNotConfiguredError(provider)
        fingerprint = command.fingerprint()

        async def work(s: AsyncSession) -> PaymentIntent:
            repo = SqlPaymentRepository(s)
            existing = await repo.by_key(command.idempotency_key)
            if existing is not None:
                return _same_request(existing, fingerprint)
            decided = await guard(repo) if guard is not None else None
            now = self._clock.now()
            intent = PaymentIntent(
                id=self._ids.uuid(),
                idempotency_key=command.idempotency_key,
                fingerprint=fingerprint,
                direction=command.direction,
                method=command.method,
                provider=provider,
                customer=command.customer,
                amount=command.amount,
                status=IntentStatus.PENDING,
                created_at=now,
                updated_at=now,
                order_reference=command.order_reference,
                description=command.description,
                bank_account=command.bank_account,
                bank_code=command.bank_code,
                details={**command.extra_details(), **(decided or {})},
            )
            await repo.add(intent)
            await record(s, self._changed(intent, None))
            return intent

        try:
            return await self._db.retrying(work)
        except IntegrityError:
            # A concurrent request with the same key won the insert: answer as it would be.
            async with self._db.transaction() as s:
                existing = await SqlPaymentRepository(s).by_key(command.idempotency_key)
            if existing is None:
                raise
            return _same_request(existing, fingerprint)

    async def pay(self, command: CreatePayment) -> PaymentIntent:
        """Create the intent and ask the provider, once; a retry returns where it stands."""
        intent = await self.create(command)
        if intent.status is IntentStatus.PENDING:
            return await self.submit(intent.id)
        return intent

    async def submit(self, intent_id: uuid.UUID) -> PaymentIntent:
        """Ask the provider for the money. Only the caller that claims the intent calls out."""
        claimed = await self._claim(intent_id)
        if claimed is None:
            return await self.get(intent_id)
        rail = self._rails[claimed.provider]
        try:
            if claimed.direction is Direction.REFUND:
                seen = await self._refund_at(rail, claimed)
            elif claimed.method is Method.BANK_TRANSFER:
                try:
                    account = await self.virtual_account(claimed.customer, claimed.provider)
                except RailUnavailableError as exc:
                    # Opening an account moves no money: say it failed, the customer may retry.
                    raise RailRejectedError(f"no virtual account: {exc}") from exc
                seen = Observation(
                    ProviderStatus.ACTION_REQUIRED,
                    details={
                        "bank": account.bank_name,
                        "account_number": account.account_number,
                        "account_name": account.account_name,
                    },
                )
            else:
                seen = await rail.submit(claimed)
        except RailRejectedError as exc:
            seen = Observation(ProviderStatus.FAILED, reason=exc.reason)
        except RailUnavailableError as exc:
            # It stays `unknown`: the requery or a callback will tell what happened.
            log.warning("payments.submit_unknown", intent=str(intent_id), error=str(exc))
            return claimed
        return await self.observe(intent_id, seen)

    async def refund(
        self, original_id: uuid.UUID, amount: Money, *, key: str, reason: str = "Refund"
    ) -> PaymentIntent:
        """Give back (part of) a collected payment on the rail it came by, once per key.

        Refused (RefundRefusedError) unless the payment succeeded and at least `amount` of it
        has not been refunded yet; a repeated key answers the first refund.
        """
        original = await self.get(original_id)
        if original.direction is not Direction.COLLECT or original.status is not (
            IntentStatus.SUCCEEDED
        ):
            raise RefundRefusedError(f"payment {original_id} has not been collected")
        async with self._db.transaction() as s:
            mine = await SqlPaymentRepository(s).by_key(key)
        if mine is not None and mine.refund_of == original.id:
            return await self.submit(mine.id) if mine.status is IntentStatus.PENDING else mine
        if amount.currency != original.amount.currency or not amount.amount > 0:
            raise RefundRefusedError(f"{amount} is not an amount of {original.amount}")

        async def within_what_is_left(repo: SqlPaymentRepository) -> dict[str, str] | None:
            # Taking the payment's row first makes refunds of one payment wait for each other
            # (a row lock on PostgreSQL, the write lock on SQLite): two refunds under different
            # keys cannot both see the same amount left.
            await repo.hold(original.id)
            earlier = await repo.refunds_of(original)
            left = _left_to_refund(original, earlier)
            if amount.amount > left:
                raise RefundRefusedError(f"{amount} exceeds the {left} left to refund")
            if original.method is Method.MPESA:
                # M-Pesa pays whole shillings: decided here, with the payment's row held.
                return whole_refund_part(amount, original, earlier)
            return None

        command = CreatePayment(
            idempotency_key=key,
            method=original.method,
            direction=Direction.REFUND,
            amount=amount,
            customer=original.customer,
            order_reference=original.order_reference,
            description=reason[:200],
            refund_of=original.id,
        )
        intent = await self.create(command, guard=within_what_is_left)
        if intent.status is IntentStatus.PENDING:
            return await self.submit(intent.id)
        return intent

    async def left_to_refund(self, original_id: uuid.UUID, *, key: str) -> Money:
        """How much a refund under `key` gives back of a collected payment: all that no other
        refund took yet (failed and cancelled refunds gave nothing), or, when `key` already has
        its refund, that refund's amount (so a retried unwind asks for the same refund again)."""
        original = await self.get(original_id)
        async with self._db.transaction() as s:
            repo = SqlPaymentRepository(s)
            mine = await repo.by_key(key)
            if mine is not None and mine.refund_of == original.id:
                return mine.amount
            left = _left_to_refund(original, await repo.refunds_of(original))
        return Money(max(left, Decimal(0)), original.amount.currency)

    async def account_name(self, provider: str, bank_code: str, account_number: str) -> str:
        """The name a bank account is held in (NIP name enquiry), before paying into it."""
        rail = self._rails.get(provider)
        if rail is None or not hasattr(rail, "name_enquiry"):
            raise RailNotConfiguredError(provider)
        enquirer: AccountNameRail = rail  # type: ignore[assignment]
        return await enquirer.name_enquiry(bank_code, account_number)

    async def give_up(self, intent_id: uuid.UUID, reason: str) -> PaymentIntent:
        """Ask the provider one last time; if it still says nothing final, call it failed
        (PaymentFailed is published, so whoever held money for it releases the hold)."""
        intent = await self.get(intent_id)
        if not intent.is_open:
            return intent
        try:
            intent = await self._requery_one(intent)
        except RailUnavailableError as exc:
            log.warning("payments.give_up_unavailable", intent=str(intent_id), error=str(exc))
        if not intent.is_open:
            return intent
        return await self.observe(intent.id, Observation(ProviderStatus.FAILED, reason=reason))

    async def _refund_at(self, rail: PaymentRail, refund: PaymentIntent) -> Observation:
        if refund.refund_of is None or not hasattr(rail, "refund"):
            raise RailRejectedError(f"{rail.name} cannot refund")
        original = await self.get(refund.refund_of)
        refunder: RefundRail = rail  # type: ignore[assignment]
        return await refunder.refund(refund, original)

    async def pending_refunds(self) -> list[PaymentIntent]:
        """Refunds the rails have not settled yet, oldest first (those waiting on someone name
        it in `attention`): what an operator looks at."""
        async with self._db.transaction() as s:
            return await SqlPaymentRepository(s).open_refunds()

    async def by_key(self, key: str) -> PaymentIntent | None:
        async with self._db.transaction() as s:
            return await SqlPaymentRepository(s).by_key(key)

    async def get(self, intent_id: uuid.UUID) -> PaymentIntent:
        async with self._db.transaction() as s:
            intent = await SqlPaymentRepository(s).get(intent_id)
        if intent is None:
            raise UnknownPaymentError(str(intent_id))
        return intent

    async def for_order(self, order_reference: str) -> list[PaymentIntent]:
        async with self._db.transaction() as s:
            return await SqlPaymentRepository(s).for_order(order_reference.upper())

    async def for_orders(self, order_references: Sequence[str]) -> dict[str, list[PaymentIntent]]:
        """The intents of each order (oldest first), for many orders at once."""
        wanted = {r.upper() for r in order_references}
        async with self._db.transaction() as s:
            found = await SqlPaymentRepository(s).for_orders(sorted(wanted))
        by_order: dict[str, list[PaymentIntent]] = {r: [] for r in wanted}
        for intent in found:
            if intent.order_reference is not None:
                by_order[intent.order_reference].append(intent)
        return by_order

    async def cancel(self, intent_id: uuid.UUID, reason: str = "cancelled") -> PaymentIntent:
        """Stop waiting for the customer (money that still arrives is recorded, late)."""

        async def work(s: AsyncSession) -> PaymentIntent:
            repo = SqlPaymentRepository(s)
            intent = await repo.get(intent_id, lock=True)
            if intent is None:
                raise UnknownPaymentError(str(intent_id))
            moved = replace(
                intent.move(IntentStatus.CANCELLED, self._clock.now()), failure_reason=reason
            )
            await self._save(s, intent, moved)
            return moved

        return await self._cas(work)

    async def virtual_account(self, customer: Phone, provider: str) -> VirtualAccount:
        """The customer's own account number at `provider`, opened on first use."""
        async with self._db.transaction() as s:
            account = await SqlPaymentRepository(s).virtual_account(customer, provider)
        if account is not None:
            return account
        rail = self._rails.get(provider)
        if rail is None or not hasattr(rail, "open_virtual_account"):
            raise RailNotConfiguredError(provider)
        opener: VirtualAccountRail = rail  # type: ignore[assignment]
        account = await opener.open_virtual_account(customer)
        try:
            async with self._db.transaction() as s:
                await SqlPaymentRepository(s).add_virtual_account(account, self._clock.now())
        except IntegrityError:
            async with self._db.transaction() as s:
                found = await SqlPaymentRepository(s).virtual_account(customer, provider)
            if found is None:
                raise
            return found
        return account

    # --- what providers say ---------------------------------------------------------------

    async def observe(self, intent_id: uuid.UUID, seen: Observation) -> PaymentIntent:
        """Apply one provider answer (a submit's or a query's) to the intent."""

        async def work(s: AsyncSession) -> PaymentIntent:
            repo = SqlPaymentRepository(s)
            intent = await repo.get(intent_id, lock=True)
            if intent is None:
                raise UnknownPaymentError(str(intent_id))
            return await self._apply(s, intent, seen)

        return await self._cas(work)

    async def apply_callback(self, provider: str, notice: CallbackNotice) -> bool:
        """Apply a verified webhook once; False when it was a duplicate or matched nothing."""
        if notice.verify:
            # The body is not proof (MoMo does not sign it): ask the provider.
            intent = await self._find(provider, notice)
            if intent is None:
                return False
            answer = await self._rails[provider].query(intent)
            if answer is None:
                return False
            notice = replace(notice, observation=answer, intent_id=intent.id)

        async def work(s: AsyncSession) -> bool:
            repo = SqlPaymentRepository(s)
            now = self._clock.now()
            if notice.account_number is not None:
                return await self._credit_account(s, provider, notice)
            intent = await self._find_in(repo, provider, notice)
            if not await repo.claim_callback(
                provider, notice.event_id, intent.id if intent else None, now
            ):
                return False
            if intent is None:
                log.warning(
                    "payments.callback_unmatched", provider=provider, callback=notice.event_id
                )
                return False
            before = intent.status
            after = await self._apply(s, intent, notice.observation)
            return after.status is not before

        try:
            return await self._cas(work)
        except IntegrityError:
            # The same callback, delivered concurrently, recorded its id first: it had the effect.
            return False

    async def requery(self, *, limit: int = 200) -> RequeryReport:
        """Settle intents stuck in pending/unknown/processing by asking their provider.

        Never submits: a payment the provider has is found by our reference, and one it never
        received (`not_found` after the grace period) failed without moving money.
        """
        cutoff = self._clock.now() - self._requery_after
        async with self._db.transaction() as s:
            stuck = await SqlPaymentRepository(s).unsettled(cutoff, limit)
        settled = 0
        for intent in stuck:
            try:
                after = await self._requery_one(intent)
            except RailUnavailableError as exc:
                log.warning("payments.requery_unavailable", intent=str(intent.id), error=str(exc))
                continue
            if not after.is_open:
                settled += 1
        return RequeryReport(checked=len(stuck), settled=settled, still_open=len(stuck) - settled)

    async def _requery_one(self, intent: PaymentIntent) -> PaymentIntent:
        if intent.status is IntentStatus.PENDING:
            # Created but never claimed: the creator died before asking the provider.
            return await self.observe(
                intent.id, Observation(ProviderStatus.FAILED, reason="never submitted")
            )
        answer = None
        if intent.method is Method.BANK_TRANSFER and intent.direction is Direction.COLLECT:
            # The customer pushes the money; when the webhook never came, the account's list does.
            await self._requery_credits(intent)
            intent = await self.get(intent.id)
            if not intent.is_open:
                return intent
        else:
            answer = await self._rails[intent.provider].query(intent)
        if answer is not None and answer.status is ProviderStatus.NOT_FOUND:
            if intent.status is IntentStatus.UNKNOWN:
                answer = replace(
                    answer, status=ProviderStatus.FAILED, reason="provider has no record"
                )
            else:
                answer = None
        after = await self.observe(intent.id, answer) if answer is not None else intent
        if after.status is not intent.status:
            return after
        if (
            after.status in (IntentStatus.REQUIRES_ACTION, IntentStatus.PROCESSING)
            and after.direction is Direction.COLLECT
            and self._clock.now() - after.created_at > self._expire_after
        ):
            # The customer never paid: stop waiting (money that still arrives is recorded late).
            return await self.cancel(after.id, "expired")
        # Nothing new: checked now, so the next pass asks the intents waiting longest first.
        async with self._db.transaction() as s:
            await SqlPaymentRepository(s).touch(after.id, after.status, self._clock.now())
        return after

    async def _requery_credits(self, intent: PaymentIntent) -> None:
        """Apply the transfers into the customer's account since the intent was made that no
        webhook brought: each under its webhook's event id, so each is applied once."""
        rail = self._rails[intent.provider]
        if not hasattr(rail, "credits"):
            return
        async with self._db.transaction() as s:
            account = await SqlPaymentRepository(s).virtual_account(
                intent.customer, intent.provider
            )
        if account is None:
            return
        lister: CreditsRail = rail  # type: ignore[assignment]
        for notice in await lister.credits(account, intent.created_at, self._clock.now()):
            if await self.apply_callback(intent.provider, notice):
                log.info("payments.credit_found_by_requery", callback=notice.event_id)

    # --- inside a transaction ---------------------------------------------------------------

    async def _claim(self, intent_id: uuid.UUID) -> PaymentIntent | None:
        """pending -> unknown, committed before the provider is called; None if not ours."""

        async def work(s: AsyncSession) -> PaymentIntent | None:
            repo = SqlPaymentRepository(s)
            intent = await repo.get(intent_id, lock=True)
            if intent is None:
                raise UnknownPaymentError(str(intent_id))
            if intent.status is not IntentStatus.PENDING:
                return None
            moved = intent.move(IntentStatus.UNKNOWN, self._clock.now())
            await self._save(s, intent, moved)
            return moved

        return await self._cas(work)

    async def _apply(
        self, s: AsyncSession, intent: PaymentIntent, seen: Observation
    ) -> PaymentIntent:
        now = self._clock.now()
        target = target_status(intent.status, seen.status)
        if (
            target is IntentStatus.SUCCEEDED
            and seen.amount is not None
            and (seen.amount.currency != intent.amount.currency or seen.amount < intent.still_due)
        ):
            # Less than asked is not payment of this intent; keep waiting, say why.
            log.warning("payments.short_payment", intent=str(intent.id), seen=str(seen.amount))
            target = None
        updated = replace(
            intent,
            provider_reference=intent.provider_reference or seen.provider_reference,
            receipt=seen.receipt or intent.receipt,
            details={**intent.details, **seen.details},
        )
        if target is not None:
            updated = updated.move(target, now)
            if target in (IntentStatus.FAILED, IntentStatus.REVERSED):
                updated = replace(updated, failure_reason=seen.reason)
        if updated == intent:
            return intent
        await self._save(s, intent, updated)
        if updated.attention and updated.attention != intent.attention:
            # Nobody is told otherwise: `omniroute refunds pending` lists it until it moves.
            log.warning(
                "payments.needs_attention",
                intent=str(updated.id),
                provider=updated.provider,
                direction=updated.direction.value,
                amount=str(updated.amount),
                order=updated.order_reference,
                attention=updated.attention,
            )
        if target is IntentStatus.SUCCEEDED:
            await self._succeeded(s, intent, updated, seen)
        elif target is IntentStatus.FAILED:
            await record(s, self._failed(updated))
        elif target is IntentStatus.REVERSED:
            await record(
                s, PaymentReversed(**self._base(updated), **_about(updated), reason=seen.reason)
            )
        return updated

    async def _save(self, s: AsyncSession, before: PaymentIntent, after: PaymentIntent) -> None:
        if not await SqlPaymentRepository(s).save(after, before.status):
            raise _MovedMeanwhileError
        if after.status is not before.status:
            await record(s, self._changed(after, before.status))

    async def _succeeded(
        self, s: AsyncSession, before: PaymentIntent, after: PaymentIntent, seen: Observation
    ) -> None:
        if after.direction is Direction.COLLECT and after.order_reference:
            await SqlOrderRepository(s).mark_paid(after.order_reference, self._clock.now())
        await record(
            s,
            PaymentSucceeded(
                **self._base(after),
                **_about(after),
                received=str((seen.amount or after.payable).amount),
                receipt=after.receipt,
                late=before.status in (IntentStatus.FAILED, IntentStatus.CANCELLED),
                fee=str(seen.fee.amount) if seen.fee is not None else None,
            ),
        )

    async def _credit_account(self, s: AsyncSession, provider: str, notice: CallbackNotice) -> bool:
        """A transfer into a customer's virtual account pays their oldest matching intent; one
        short of every order still waiting counts as a part of the oldest (her bank's daily
        limit: she sends the rest later), which the part that completes it pays. One whose
        description names an order of hers still waiting goes to that order, whole or part
        (as a word of its own, or glued to other text when it is the only one of hers in it)."""
        repo = SqlPaymentRepository(s)
        now = self._clock.now()
        account = await repo.virtual_account_by_number(provider, notice.account_number or "")
        seen = notice.observation
        if account is None or seen.amount is None or seen.status is not ProviderStatus.SUCCEEDED:
            await repo.claim_callback(provider, notice.event_id, None, now)
            return False
        open_ = await repo.open_for_customer(account.customer, Method.BANK_TRANSFER, provider)
        for intent in open_:
            await repo.hold(intent.id)  # two of her transfers at once: each part counted once
        open_ = await repo.open_for_customer(account.customer, Method.BANK_TRANSFER, provider)
        # Her payments waiting, not a refund to her on the same rail, which money in never pays.
        same = [
            i
            for i in open_
            if i.direction is Direction.COLLECT and i.amount.currency == seen.amount.currency
        ]
        waiting = [
            i for i in same if i.order_reference is not None and not await _order_closed(s, i)
        ]
        meant = notice.meant([i.order_reference for i in waiting if i.order_reference])
        named = [i for i in waiting if meant is not None and i.order_reference == meant]
        if named:
            # She wrote the order's number on the transfer: it is for that order, not the
            # one its amount happens to cover.
            whole = named[0].still_due <= seen.amount
            chosen, part_of = (named[0], None) if whole else (None, named[0])
        else:
            chosen, part_of = await _by_amount(s, same, seen.amount)
        paid = chosen or part_of
        if not await repo.claim_callback(
            provider, notice.event_id, paid.id if paid is not None else None, now
        ):
            return False
        if chosen is not None:
            await self._apply(s, chosen, seen)
            return True
        still_due = None
        if part_of is not None:
            counted = part_of.with_part(seen.amount)
            await self._save(s, part_of, counted)  # its status unchanged: no event of its own
            still_due = str(counted.still_due.amount)
        await record(
            s,
            UnmatchedFundsReceived(
                event_id=self._ids.uuid(),
                occurred_at=now,
                aggregate_id=account.customer.e164,
                provider=provider,
                customer=account.customer.e164,
                account_number=account.account_number,
                currency=seen.amount.currency,
                amount=str(seen.amount.amount),
                receipt=seen.receipt,
                fee=str(seen.fee.amount) if seen.fee is not None else None,
                order_reference=part_of.order_reference if part_of else None,
                still_due=still_due,
            ),
        )
        return True

    async def _find(self, provider: str, notice: CallbackNotice) -> PaymentIntent | None:
        async with self._db.transaction() as s:
            return await self._find_in(SqlPaymentRepository(s), provider, notice)

    @staticmethod
    async def _find_in(
        repo: SqlPaymentRepository, provider: str, notice: CallbackNotice
    ) -> PaymentIntent | None:
        if notice.intent_id is not None:
            found = await repo.get(notice.intent_id, lock=True)
            if found is not None and found.provider == provider:
                return found
        if notice.provider_reference is not None:
            return await repo.by_provider_reference(provider, notice.provider_reference)
        if notice.refund_of_reference is not None:
            paid = await repo.by_provider_reference(provider, notice.refund_of_reference)
            if paid is None:
                return None
            amount = notice.observation.amount
            return next(
                (
                    r
                    for r in sorted(await repo.refunds_of(paid), key=lambda r: r.created_at)
                    if r.is_open and (amount is None or r.amount == amount)
                ),
                None,
            )
        return None

    async def _cas(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        for attempt in range(1, CAS_ATTEMPTS + 1):
            try:
                return await self._db.retrying(work)
            except _MovedMeanwhileError:
                if attempt == CAS_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    # --- events -----------------------------------------------------------------------------

    def _base(self, intent: PaymentIntent) -> dict[str, object]:
        return {
            "event_id": self._ids.uuid(),
            "occurred_at": self._clock.now(),
            "aggregate_id": str(intent.id),
        }

    def _changed(self, intent: PaymentIntent, previous: IntentStatus | None) -> DomainEvent:
        return PaymentIntentChanged(
            **self._base(intent),
            **_about(intent),
            provider_reference=intent.provider_reference,
            previous=previous.value if previous else None,
            status=intent.status.value,
            reason=intent.failure_reason,
        )

    def _failed(self, intent: PaymentIntent) -> DomainEvent:
        return PaymentFailed(**self._base(intent), **_about(intent), reason=intent.failure_reason)


def _about(intent: PaymentIntent) -> dict[str, object]:
    return {
        "intent_id": str(intent.id),
        "direction": intent.direction.value,
        "method": intent.method.value,
        "provider": intent.provider,
        "customer": intent.customer.e164,
        "order_reference": intent.order_reference,
        "currency": intent.amount.currency,
        "amount": str(intent.amount.amount),
    }


async def _by_amount(
    s: AsyncSession, same: list[PaymentIntent], amount: Money
) -> tuple[PaymentIntent | None, PaymentIntent | None]:
    """For a transfer naming no order of hers: the oldest of her payments it covers (one of
    exactly its amount first), else the oldest order still waiting, of which it is a part."""
    candidates = [i for i in same if i.still_due <= amount]
    # An order cancelled while its transfer was awaited keeps its intent open (money may
    # still come for it), but a transfer pays an order still waiting first: the customer
    # who cancelled and ordered the same again pays the new order, not the dead one.
    waiting = [i for i in candidates if not await _order_closed(s, i)]
    pool = waiting or candidates
    exact = [i for i in pool if i.still_due == amount]
    matches = exact or pool
    if matches:
        return matches[0], None
    for intent in same:
        if intent.order_reference is not None and not await _order_closed(s, intent):
            return None, intent
    return None, None


async def _order_closed(s: AsyncSession, intent: PaymentIntent) -> bool:
    """Whether the intent's order was cancelled or returned (nothing more to pay for)."""
    if intent.order_reference is None:
        return False
    order = await SqlOrderRepository(s).by_reference(intent.order_reference)
    return order is not None and order.status in (OrderStatus.CANCELLED, OrderStatus.RETURNED)


def _same_request(existing: PaymentIntent, fingerprint: str) -> PaymentIntent:
    if existing.fingerprint != fingerprint:
        raise IdempotencyKeyReusedError(existing.idempotency_key)
    return existing


def _left_to_refund(original: PaymentIntent, refunds: list[PaymentIntent]) -> Decimal:
    """The part of `original` its refunds have not taken (failed or cancelled ones took none)."""
    given = sum(
        (
            r.amount.amount
            for r in refunds
            if r.status not in (IntentStatus.FAILED, IntentStatus.CANCELLED)
        ),
        Decimal(0),
    )
    return original.amount.amount - given
