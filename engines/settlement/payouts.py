"""Payouts to drivers and agents: earnings credited to a wallet that can never pay out more
than it holds; each payout is held (pending) when sent to the rail and posted when the
provider confirms it, or voided when it fails — so a lost callback never pays twice."""

from __future__ import annotations

from core.money import Money
from core.phone import Phone
from engines.ledger import Account, Books, Transfer, TransferRequest, chart

ROLES = ("driver", "agent")


class PayoutService:
    def __init__(self, books: Books) -> None:
        self._books = books

    async def wallet(self, role: str, person: Phone, currency: str) -> Account:
        _check(role)
        return await self._books.account(chart.wallet(role, person, currency))

    async def earn(self, role: str, person: Phone, amount: Money, reference: str) -> Transfer:
        """Credit what a delivery or a commission earned (once per reference)."""
        wallet = await self.wallet(role, person, amount.currency)
        expense = await self._books.account(chart.payouts_expense(role, amount.currency))
        return await self._books.ledger.transfer(
            TransferRequest.posted(
                chart.transfer_id("earn", role, person.e164, reference),
                expense.id,
                wallet.id,
                amount,
                code="earning",
                reference=reference,
            )
        )

    async def request(
        self, role: str, person: Phone, amount: Money, rail: str, payout_id: str
    ) -> Transfer:
        """Hold the payout while the rail sends it; refused (exceeds_credits) past the wallet."""
        wallet = await self.wallet(role, person, amount.currency)
        bank = await self._books.account(chart.rail(rail, amount.currency))
        return await self._books.ledger.transfer(
            TransferRequest.pending(
                chart.transfer_id("payout", payout_id),
                wallet.id,
                bank.id,
                amount,
                code="payout",
                reference=payout_id,
            )
        )

    async def confirmed(self, payout_id: str) -> Transfer:
        return await self._books.ledger.transfer(
            TransferRequest.post(
                chart.transfer_id("payout", payout_id, "post"),
                chart.transfer_id("payout", payout_id),
                code="payout",
                reference=payout_id,
            )
        )

    async def paid_late(
        self, role: str, person: Phone, amount: Money, rail: str, payout_id: str
    ) -> Transfer:
        """The rail paid after we had released the hold (it never answered in time): the money
        did leave, so it leaves the wallet now — refused (exceeds_credits) if that would take
        more than the wallet holds, for an operator to reconcile."""
        wallet = await self.wallet(role, person, amount.currency)
        bank = await self._books.account(chart.rail(rail, amount.currency))
        return await self._books.ledger.transfer(
            TransferRequest.posted(
                chart.transfer_id("payout", payout_id, "late"),
                wallet.id,
                bank.id,
                amount,
                code="payout",
                reference=payout_id,
            )
        )

    async def returned(
        self, role: str, person: Phone, amount: Money, rail: str, payout_id: str
    ) -> Transfer:
        """The rail paid, then the payee's bank sent the money back (a reversal): it is the
        payee's again, credited to the wallet once per payout attempt."""
        wallet = await self.wallet(role, person, amount.currency)
        bank = await self._books.account(chart.rail(rail, amount.currency))
        return await self._books.ledger.transfer(
            TransferRequest.posted(
                chart.transfer_id("payout", payout_id, "returned"),
                bank.id,
                wallet.id,
                amount,
                code="payout_returned",
                reference=payout_id,
            )
        )

    async def failed(self, payout_id: str) -> Transfer:
        return await self._books.ledger.transfer(
            TransferRequest.void(
                chart.transfer_id("payout", payout_id, "void"),
                chart.transfer_id("payout", payout_id),
                code="payout",
                reference=payout_id,
            )
        )


def _check(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"payouts are for {', '.join(ROLES)}, not {role!r}")
