"""The platform's postings: orders, payments and refunds recorded on the ledger.

These are the functions the payments engine, the webhooks and the order lifecycle call. Each
derives its transfer ids from what it records (the order reference, the rail and its receipt),
so calling one twice — a webhook delivered twice, an event redelivered — posts once.

An order's debt is held as a pending transfer from the customer's account to sales when the
order is placed (on a credit line it holds the limit), posted on delivery (and the VAT moved
to the tax account), voided if the order is cancelled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from core.money import Money
from core.phone import Phone
from engines.ledger import chart
from engines.ledger.model import (
    Account,
    Transfer,
    TransferRefusedError,
    TransferRequest,
    TransferStatus,
)
from engines.ledger.service import LedgerService

# How often `kept_for_order` reads her account and the order's hold before it gives up on a
# hold that keeps changing meanwhile (taken, then voided…).
CONSISTENT_READS = 3


def _standing(transfer: Transfer | None) -> TransferStatus | None:
    return None if transfer is None else transfer.status


@dataclass(frozen=True, slots=True)
class OrderPosting:
    """What an order's placement posted: the hold and the account it was taken on."""

    transfer: Transfer
    account: Account


class Books:
    def __init__(
        self,
        ledger: LedgerService,
        *,
        refunds_in_flight: Callable[[Phone, str], Awaitable[Money]] | None = None,
    ) -> None:
        """`refunds_in_flight` names what the rails are still giving back to a customer: her
        receivable shows it as hers until the refund is confirmed, so it is not hers to spend."""
        self.ledger = ledger
        self._refunds_in_flight = refunds_in_flight

    async def giving_back(self, customer: Phone, currency: str) -> Money:
        """What the rails are still refunding to her (zero when none, or not wired)."""
        if self._refunds_in_flight is None:
            return Money.zero(currency)
        return await self._refunds_in_flight(customer, currency)

    async def account(self, spec: chart.AccountSpec) -> Account:
        return await self.ledger.open_account(
            spec.code, spec.type, spec.currency, flags=spec.flags, limit=spec.limit
        )

    async def customer_account(self, customer: Phone, currency: str, *, on_credit: bool) -> Account:
        spec = (
            chart.credit_line(customer, currency)
            if on_credit
            else chart.receivable(customer, currency)
        )
        return await self.account(spec)

    async def account_credit(self, customer: Phone, currency: str) -> Money:
        """Her money kept on her account (an overpaid transfer, a refund a rail could not make,
        the cash she paid at the door for goods that came back): what her receivable holds
        beyond everything she owes, orders on hold included, so money already paid for an order
        on its way is not counted as hers to spend again, nor money a rail is still refunding
        to her (she gets that back there). Zero when she has none."""
        account = await self.ledger.find_account(chart.receivable(customer, currency).code)
        if account is None or account.available.amount >= 0:
            return Money.zero(currency)
        kept = -account.available - await self.giving_back(customer, currency)
        return kept if kept.amount > 0 else Money.zero(currency)

    async def kept_for_order(self, reference: str, customer: Phone, total: Money) -> Money:
        """What the credit kept on her account pays of her unpaid order (`reference`, of
        `total`), at most its total: her receivable's credit beyond all she owes but this
        order's own hold (which already keeps that credit for it), less what a rail is still
        refunding to her. Zero when she has none. Pay again asks a rail only for the rest.

        Her account and the hold are read apart, and the hold may be taken (the order's placing
        handled late) or voided between the reads: they are read again until the hold stood the
        same before and after her account was read, so a hold her balance does not show yet is
        never counted as credit kept for the order (an order paid from credit she has not)."""
        zero = Money.zero(total.currency)
        hold_id = chart.transfer_id("order", reference, "hold")
        code = chart.receivable(customer, total.currency).code
        for _ in range(CONSISTENT_READS):
            before = await self.ledger.get_transfer(hold_id)
            account = await self.ledger.find_account(code)
            hold = await self.ledger.get_transfer(hold_id)
            if _standing(before) is _standing(hold):
                break
        else:
            return zero  # the hold kept moving under us: none counted, the rail is asked it all
        if account is None:
            return zero
        kept = -account.available - await self.giving_back(customer, total.currency)
        if (
            hold is not None
            and hold.status is TransferStatus.PENDING
            and hold.debit_account_id == account.id
        ):
            kept = kept + hold.amount
        return min(kept, total) if kept.amount > 0 else zero

    async def pay_again_from_credit(self, reference: str, customer: Phone, total: Money) -> Money:
        """Pay again, as checkout: what her account credit pays of her unpaid order
        (`kept_for_order`), taken by the order's hold (all of it: the order is hers to mark
        paid; a part: a rail is asked the rest). Zero when she has none, or it was spent
        meanwhile (the rail is asked it all)."""
        kept = await self.kept_for_order(reference, customer, total)
        try:
            if kept >= total:
                await self.order_paid_from_credit(reference, customer, total)
            elif kept.amount > 0:
                await self.order_part_paid_from_credit(reference, customer, total, kept)
        except TransferRefusedError:
            return Money.zero(total.currency)
        return kept

    async def order_placed(
        self, reference: str, customer: Phone, total: Money, *, on_credit: bool = False
    ) -> OrderPosting:
        """Hold the order's total against the customer (refused past a credit limit)."""
        debtor = await self.customer_account(customer, total.currency, on_credit=on_credit)
        transfer = await self.ledger.transfer(await self._hold(reference, debtor, total))
        return OrderPosting(transfer, debtor)

    async def order_paid_from_credit(
        self, reference: str, customer: Phone, total: Money
    ) -> OrderPosting:
        """An order paid from the credit kept on her account: its hold is taken on her
        receivable only where her credit covers it (holds of her other orders counted), so her
        credit never goes below zero and two orders cannot spend it twice. The same hold as
        `order_placed` (its id and body), so placement's posting, delivery and a cancel's void
        treat it as any order's: delivered, her credit is spent on the sale; cancelled, it is
        hers again. A retry answers the first. Refused (EXCEEDS_CREDITS) when it does not
        cover the total: nothing held. Money a rail is still refunding to her does not cover it."""
        debtor = await self.customer_account(customer, total.currency, on_credit=False)
        transfer = await self.ledger.transfer_covered(
            await self._hold(reference, debtor, total),
            keeping=await self.giving_back(customer, total.currency),
        )
        return OrderPosting(transfer, debtor)

    async def order_part_paid_from_credit(
        self, reference: str, customer: Phone, total: Money, part: Money
    ) -> OrderPosting:
        """An order whose `part` the credit kept on her account pays (a rail asked for the
        rest): its hold is taken at once, only where her credit still covers `part` (holds of
        her other orders counted), so that part is hers no more while the order stands; the
        same hold as `order_placed`, so its billing, delivery and a cancel's void treat it as
        any order's (cancelled, her credit is hers again). A retry answers the first. Refused
        (EXCEEDS_CREDITS) when her credit no longer covers `part` (what a rail is still
        refunding to her not counted): nothing held."""
        debtor = await self.customer_account(customer, total.currency, on_credit=False)
        transfer = await self.ledger.transfer_covered(
            await self._hold(reference, debtor, total),
            covering=part,
            keeping=await self.giving_back(customer, total.currency),
        )
        return OrderPosting(transfer, debtor)

    async def _hold(self, reference: str, debtor: Account, total: Money) -> TransferRequest:
        revenue = await self.account(chart.sales(total.currency))
        return TransferRequest.pending(
            chart.transfer_id("order", reference, "hold"),
            debtor.id,
            revenue.id,
            total,
            code="order",
            reference=reference,
        )

    async def order_delivered(
        self, reference: str, tax: Money, amount: Money | None = None
    ) -> Transfer:
        """The goods are with the customer: the debt is final and the VAT is owed. `amount`
        posts only part of the hold (a partial delivery: the rest is released)."""
        posted = await self.ledger.transfer(
            TransferRequest.post(
                chart.transfer_id("order", reference, "delivered"),
                chart.transfer_id("order", reference, "hold"),
                amount,
                code="order",
                reference=reference,
            )
        )
        if tax.amount > 0:
            revenue = await self.account(chart.sales(tax.currency))
            vat = await self.account(chart.vat_payable(tax.currency))
            await self.ledger.transfer(
                TransferRequest.posted(
                    chart.transfer_id("order", reference, "vat"),
                    revenue.id,
                    vat.id,
                    tax,
                    code="vat",
                    reference=reference,
                )
            )
        return posted

    async def order_returned(
        self, reference: str, customer: Phone, total: Money, tax: Money
    ) -> Transfer | None:
        """Goods delivered and then brought back: the sale is reversed. What was delivered
        (`total`, as the delivery posted it) is owed back to the customer's account, where a
        payment for it stands (the refund takes it from there, or it stays hers as credit),
        and its VAT (`tax`) is no longer owed; cash paid at its door gives her back the cash,
        its rounding undone. Once each (the ids the credit line's return uses too). None when
        there was nothing to reverse."""
        revenue = await self.account(chart.sales(total.currency))
        debtor = await self.customer_account(customer, total.currency, on_credit=False)
        vat = await self.account(chart.vat_payable(tax.currency))
        last = None
        for debit, credit, amount, code, what in (
            (revenue, debtor, total, "order", "returned"),
            (vat, revenue, tax, "vat", "returned-vat"),
        ):
            if amount.amount > 0:
                last = await self.ledger.transfer(
                    TransferRequest.posted(
                        chart.transfer_id("order", reference, what),
                        debit.id,
                        credit.id,
                        amount,
                        code=code,
                        reference=reference,
                    )
                )
        rounded = await self.ledger.get_transfer(chart.transfer_id("cash", reference, "rounding"))
        if rounded is not None:
            # Paid in cash at the door, rounded to the cash unit: what she gets back is the
            # cash she paid, so the rounding is undone with the sale (once).
            last = await self.ledger.transfer(
                TransferRequest.posted(
                    chart.transfer_id("cash", reference, "rounding-returned"),
                    rounded.credit_account_id,
                    rounded.debit_account_id,
                    rounded.amount,
                    code="cash_rounding",
                    reference=reference,
                )
            )
        return last

    async def order_cancelled(self, reference: str) -> Transfer:
        """Release the hold (and the credit it took)."""
        return await self.ledger.transfer(
            TransferRequest.void(
                chart.transfer_id("order", reference, "cancelled"),
                chart.transfer_id("order", reference, "hold"),
                code="order",
                reference=reference,
            )
        )

    async def cash_collected(
        self, reference: str, customer: Phone, owed: Money, holder: chart.AccountSpec
    ) -> Transfer:
        """A pay-on-delivery order's cash taken at its door: `owed` rounded to its currency's
        cash unit (what changes hands), which `holder` (the driver's cash, or the depot's) now
        has; the difference goes to the platform's cash rounding, so she owes nothing of `owed`
        and nobody is owed the cents. Once per order: its reference names the transfers, so a
        delivered event relayed again posts nothing twice. Answers the first transfer posted."""
        collected = owed.in_cash()
        held = await self.account(holder)
        debtor = await self.customer_account(customer, owed.currency, on_credit=False)
        requests = []
        if collected.amount > 0:  # else (under half a unit) nothing changed hands
            requests.append(
                TransferRequest.posted(
                    chart.transfer_id("cash", reference, "collected"),
                    held.id,
                    debtor.id,
                    collected,
                    code="cash",
                    reference=reference,
                )
            )
        if collected != owed:
            rounding = await self.account(chart.cash_rounding(owed.currency))
            short = owed > collected  # the platform gives up the difference, else keeps it
            requests.append(
                TransferRequest.posted(
                    chart.transfer_id("cash", reference, "rounding"),
                    rounding.id if short else debtor.id,
                    debtor.id if short else rounding.id,
                    owed - collected if short else collected - owed,
                    code="cash_rounding",
                    reference=reference,
                )
            )
        return (await self.ledger.transfer_all(requests))[0]

    async def cash_handed_in(
        self, driver: Phone, distributor: str, amount: Money, key: str
    ) -> tuple[Transfer, bool]:
        """A driver hands cash he collected to the distributor's depot, once per `key` (the
        same key again answers the first hand-over), and whether this call recorded it (False:
        the key was recorded before, or by a twin at the same moment). Refused
        (EXCEEDS_DEBITS) past what he holds."""
        held = await self.account(chart.driver_cash(driver, amount.currency))
        depot = await self.account(chart.depot_cash(distributor, amount.currency))
        return await self.ledger.transfer_once(
            TransferRequest.posted(
                chart.transfer_id("cash", driver.e164, "handed-in", key),
                depot.id,
                held.id,
                amount,
                code="cash_in",
                reference=key,
            )
        )

    async def post_payment_received(
        self,
        customer: Phone,
        amount: Money,
        rail: str,
        external_ref: str,
        *,
        on_credit: bool = False,
    ) -> Transfer:
        """Money arrived at a rail for a customer: the rail holds it, the customer owes less.

        Idempotent by (rail, external_ref): the provider's receipt number names the transfer.
        The payment intent (engines/payments) keeps which order the receipt paid.
        """
        held = await self.account(chart.rail(rail, amount.currency))
        debtor = await self.customer_account(customer, amount.currency, on_credit=on_credit)
        return await self.ledger.transfer(
            TransferRequest.posted(
                chart.transfer_id("payment", rail, external_ref),
                held.id,
                debtor.id,
                amount,
                code="repayment" if on_credit else "payment",
                # the provider's receipt: what its statement shows, and what reconciles
                reference=external_ref,
            )
        )

    async def post_refund(
        self, customer: Phone, amount: Money, rail: str, refund_ref: str, *, payment_ref: str
    ) -> Transfer:
        """Money given back at a rail: the reverse of `post_payment_received`, once per refund
        (its id names the transfer, so a redelivered event posts nothing twice)."""
        held = await self.account(chart.rail(rail, amount.currency))
        debtor = await self.customer_account(customer, amount.currency, on_credit=False)
        return await self.ledger.transfer(
            TransferRequest.posted(
                chart.transfer_id("refund", rail, refund_ref),
                debtor.id,
                held.id,
                amount,
                code="refund",
                reference=payment_ref,
            )
        )

    async def post_rail_fee(self, rail: str, fee: Money, external_ref: str) -> Transfer:
        """A provider kept a fee out of what it holds for us."""
        expense = await self.account(chart.rail_fees(rail, fee.currency))
        held = await self.account(chart.rail(rail, fee.currency))
        return await self.ledger.transfer(
            TransferRequest.posted(
                chart.transfer_id("fee", rail, external_ref),
                expense.id,
                held.id,
                fee,
                code="fee",
                reference=external_ref,
            )
        )
