"""What the ledger promises on SQLite and PostgreSQL: money moves once, balanced, in limits."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import update

from core.db import Database
from core.money import Money
from engines.ledger import (
    AccountConflictError,
    AccountFlags,
    AccountType,
    LedgerService,
    TransferRefusedError,
    TransferRequest,
    TransferResult,
    TransferStatus,
)
from engines.ledger.tables import ledger_accounts


def ngn(amount: str) -> Money:
    return Money(Decimal(amount), "NGN")


async def _pair(ledger: LedgerService) -> tuple[uuid.UUID, uuid.UUID]:
    cash = await ledger.open_account("rail:mpesa:NGN", AccountType.ASSET, "NGN")
    sales = await ledger.open_account("sales:NGN", AccountType.REVENUE, "NGN")
    return cash.id, sales.id


async def test_a_transfer_debits_one_account_and_credits_the_other(ledger: LedgerService) -> None:
    cash, sales = await _pair(ledger)
    await ledger.transfer(TransferRequest.posted(uuid.uuid4(), cash, sales, ngn("1250.50")))
    assert (await ledger.account("rail:mpesa:NGN")).balance == ngn("1250.50")
    assert (await ledger.account("sales:NGN")).balance == ngn("1250.50")
    report = await ledger.check()
    assert report.balanced
    assert report.totals["NGN"] == (Decimal("1250.50"), Decimal("1250.50"))


async def test_a_retried_transfer_moves_the_money_once(ledger: LedgerService) -> None:
    cash, sales = await _pair(ledger)
    request = TransferRequest.posted(uuid.uuid4(), cash, sales, ngn("100"), reference="W62ACJ")
    first = await ledger.transfer(request)
    again = await ledger.transfer(request)
    assert again.id == first.id
    assert again.amount == first.amount
    assert (await ledger.account("sales:NGN")).balance == ngn("100")
    assert len(await ledger.transfers()) == 1


async def test_the_same_id_with_another_amount_is_refused(ledger: LedgerService) -> None:
    cash, sales = await _pair(ledger)
    transfer_id = uuid.uuid4()
    await ledger.transfer(TransferRequest.posted(transfer_id, cash, sales, ngn("100")))
    with pytest.raises(TransferRefusedError) as refused:
        await ledger.transfer(TransferRequest.posted(transfer_id, cash, sales, ngn("101")))
    assert refused.value.result is TransferResult.EXISTS_WITH_DIFFERENT_FIELDS
    assert (await ledger.account("sales:NGN")).balance == ngn("100")


async def test_a_credit_line_cannot_go_past_its_limit(ledger: LedgerService) -> None:
    receivable = await ledger.open_account(
        "retailer:+2348030000001:credit:NGN",
        AccountType.ASSET,
        "NGN",
        flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
        limit=Decimal(5000),
    )
    sales = await ledger.open_account("sales:NGN", AccountType.REVENUE, "NGN")
    await ledger.transfer(
        TransferRequest.posted(uuid.uuid4(), receivable.id, sales.id, ngn("4000"))
    )
    with pytest.raises(TransferRefusedError) as refused:
        await ledger.transfer(
            TransferRequest.posted(uuid.uuid4(), receivable.id, sales.id, ngn("1000.01"))
        )
    assert refused.value.result is TransferResult.EXCEEDS_CREDITS
    await ledger.transfer(
        TransferRequest.posted(uuid.uuid4(), receivable.id, sales.id, ngn("1000"))
    )
    assert (await ledger.account(receivable.code)).balance == ngn("5000")
    # a repayment makes room again
    cash = await ledger.open_account("rail:mpesa:NGN", AccountType.ASSET, "NGN")
    await ledger.transfer(TransferRequest.posted(uuid.uuid4(), cash.id, receivable.id, ngn("300")))
    await ledger.transfer(TransferRequest.posted(uuid.uuid4(), receivable.id, sales.id, ngn("300")))
    assert (await ledger.check()).balanced


async def test_a_wallet_cannot_pay_out_more_than_it_holds(ledger: LedgerService) -> None:
    wallet = await ledger.open_account(
        "driver:+254711000009:payable:KES",
        AccountType.LIABILITY,
        "KES",
        flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
    )
    fees = await ledger.open_account("delivery_fees:KES", AccountType.EXPENSE, "KES")
    cash = await ledger.open_account("rail:mpesa:KES", AccountType.ASSET, "KES")
    kes = Money(Decimal(700), "KES")
    await ledger.transfer(TransferRequest.posted(uuid.uuid4(), fees.id, wallet.id, kes))
    with pytest.raises(TransferRefusedError) as refused:
        await ledger.transfer(
            TransferRequest.posted(uuid.uuid4(), wallet.id, cash.id, Money(701, "KES"))
        )
    assert refused.value.result is TransferResult.EXCEEDS_CREDITS


async def test_a_pending_transfer_holds_then_posts_or_voids_once(ledger: LedgerService) -> None:
    wallet = await ledger.open_account(
        "agent:+2348030000002:payable:NGN",
        AccountType.LIABILITY,
        "NGN",
        flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
    )
    commission = await ledger.open_account("commission:NGN", AccountType.EXPENSE, "NGN")
    cash = await ledger.open_account("rail:paystack:NGN", AccountType.ASSET, "NGN")
    await ledger.transfer(
        TransferRequest.posted(uuid.uuid4(), commission.id, wallet.id, ngn("1000"))
    )
    hold = uuid.uuid4()
    pending = await ledger.transfer(TransferRequest.pending(hold, wallet.id, cash.id, ngn("800")))
    assert pending.status is TransferStatus.PENDING
    # the hold counts against the limit before it posts
    with pytest.raises(TransferRefusedError) as refused:
        await ledger.transfer(TransferRequest.pending(uuid.uuid4(), wallet.id, cash.id, ngn("300")))
    assert refused.value.result is TransferResult.EXCEEDS_CREDITS
    assert (await ledger.account(wallet.code)).balance == ngn("1000")  # nothing posted yet

    post = TransferRequest.post(uuid.uuid4(), hold, ngn("750"))
    await ledger.transfer(post)
    await ledger.transfer(post)  # a retried post is the same post
    with pytest.raises(TransferRefusedError) as again:
        await ledger.transfer(TransferRequest.void(uuid.uuid4(), hold))
    assert again.value.result is TransferResult.PENDING_TRANSFER_ALREADY_POSTED
    assert (await ledger.account(wallet.code)).balance == ngn("250")  # 50 released
    assert (await ledger.get_transfer(hold)).status is TransferStatus.POSTED  # type: ignore[union-attr]

    second = uuid.uuid4()
    await ledger.transfer(TransferRequest.pending(second, wallet.id, cash.id, ngn("250")))
    await ledger.transfer(TransferRequest.void(uuid.uuid4(), second))
    with pytest.raises(TransferRefusedError) as voided:
        await ledger.transfer(TransferRequest.post(uuid.uuid4(), second))
    assert voided.value.result is TransferResult.PENDING_TRANSFER_ALREADY_VOIDED
    assert (await ledger.account(wallet.code)).available == ngn("250")
    assert (await ledger.check()).balanced


@pytest.mark.parametrize(
    ("amount", "currency", "same", "result"),
    [
        ("0", "NGN", False, TransferResult.AMOUNT_MUST_BE_POSITIVE),
        ("-5", "NGN", False, TransferResult.AMOUNT_MUST_BE_POSITIVE),
        ("5", "KES", False, TransferResult.CURRENCY_MISMATCH),
        ("5", "NGN", True, TransferResult.ACCOUNTS_MUST_BE_DIFFERENT),
    ],
)
async def test_malformed_transfers_move_nothing(
    ledger: LedgerService, amount: str, currency: str, same: bool, result: TransferResult
) -> None:
    cash, sales = await _pair(ledger)
    request = TransferRequest.posted(
        uuid.uuid4(), cash, cash if same else sales, Money(Decimal(amount), currency)
    )
    with pytest.raises(TransferRefusedError) as refused:
        await ledger.transfer(request)
    assert refused.value.result is result
    assert await ledger.transfers() == []


async def test_unknown_accounts_and_pendings_are_refused(ledger: LedgerService) -> None:
    cash, _ = await _pair(ledger)
    with pytest.raises(TransferRefusedError) as refused:
        await ledger.transfer(TransferRequest.posted(uuid.uuid4(), cash, uuid.uuid4(), ngn("1")))
    assert refused.value.result is TransferResult.ACCOUNT_NOT_FOUND
    with pytest.raises(TransferRefusedError) as missing:
        await ledger.transfer(TransferRequest.post(uuid.uuid4(), uuid.uuid4()))
    assert missing.value.result is TransferResult.PENDING_TRANSFER_NOT_FOUND


async def test_opening_an_account_twice_is_idempotent_but_not_a_retype(
    ledger: LedgerService,
) -> None:
    first = await ledger.open_account("sales:NGN", AccountType.REVENUE, "NGN")
    assert (await ledger.open_account("sales:NGN", AccountType.REVENUE, "NGN")).id == first.id
    with pytest.raises(AccountConflictError):
        await ledger.open_account("sales:NGN", AccountType.ASSET, "NGN")


async def test_rebuild_finds_and_repairs_a_tampered_balance(
    ledger: LedgerService, db: Database
) -> None:
    cash, sales = await _pair(ledger)
    await ledger.transfer(TransferRequest.posted(uuid.uuid4(), cash, sales, ngn("70")))
    async with db.transaction() as s:  # someone edits the table by hand
        await s.execute(
            update(ledger_accounts)
            .where(ledger_accounts.c.id == sales)
            .values(credits_posted=Decimal("90"))
        )
    report = await ledger.check()
    assert not report.balanced
    assert [m.code for m in report.mismatches] == ["sales:NGN"]
    assert report.mismatches[0].replayed.credits_posted == Decimal("70")
    await ledger.rebuild()
    assert (await ledger.check()).balanced
    assert (await ledger.account("sales:NGN")).balance == ngn("70")


async def test_linked_transfers_commit_together_or_not_at_all(ledger: LedgerService) -> None:
    cash, sales = await _pair(ledger)
    wallet = await ledger.open_account(
        "driver:+2348030000009:wallet:NGN",
        AccountType.LIABILITY,
        "NGN",
        flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
    )
    ok = TransferRequest.posted(uuid.uuid4(), cash, sales, ngn("10"))
    too_much = TransferRequest.posted(uuid.uuid4(), wallet.id, cash, ngn("1"))
    with pytest.raises(TransferRefusedError) as refused:
        await ledger.transfer_all([ok, too_much])
    assert refused.value.result is TransferResult.EXCEEDS_CREDITS
    assert await ledger.transfers() == []
    both = await ledger.transfer_all(
        [ok, TransferRequest.posted(uuid.uuid4(), sales, wallet.id, ngn("1"))]
    )
    assert [t.amount for t in both] == [ngn("10"), ngn("1")]
    assert (await ledger.check()).balanced
