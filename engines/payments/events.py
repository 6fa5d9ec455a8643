"""Events of the payments context: what the ledger, receipts and order tracking listen to."""

from __future__ import annotations

from typing import ClassVar

from core.bus import DomainEvent


class PaymentIntentChanged(DomainEvent):
    """Every status change of an intent (aggregate id: the intent), in order on one partition."""

    topic: ClassVar[str] = "omniroute.payments.payment_intent_changed.v1"

    intent_id: str
    direction: str
    method: str
    provider: str
    customer: str
    order_reference: str | None
    currency: str
    amount: str
    previous: str | None
    status: str
    provider_reference: str | None
    reason: str | None


class PaymentSucceeded(DomainEvent):
    """payment.succeeded: money moved. The ledger posts it; the customer gets a receipt."""

    topic: ClassVar[str] = "omniroute.payments.payment_succeeded.v1"

    intent_id: str
    direction: str
    method: str
    provider: str
    customer: str
    order_reference: str | None
    currency: str
    amount: str
    received: str  # what the provider reported (may exceed `amount` on a bank transfer)
    receipt: str | None
    late: bool  # the intent had already been given up on (failed/cancelled)
    fee: str | None = None  # what the provider kept of `received` (in `currency`)


class PaymentFailed(DomainEvent):
    """payment.failed: no money moved; the order stays unpaid and may be paid another way."""

    topic: ClassVar[str] = "omniroute.payments.payment_failed.v1"

    intent_id: str
    direction: str
    method: str
    provider: str
    customer: str
    order_reference: str | None
    currency: str
    amount: str
    reason: str | None


class PaymentReversed(DomainEvent):
    """payment.reversed: money that had moved came back (a payout the payee's bank returned).
    The payout desk gives it back to the payee's wallet and sends it again."""

    topic: ClassVar[str] = "omniroute.payments.payment_reversed.v1"

    intent_id: str
    direction: str
    method: str
    provider: str
    customer: str
    order_reference: str | None
    currency: str
    amount: str
    reason: str | None


class UnmatchedFundsReceived(DomainEvent):
    """Money arrived in a customer's virtual account with no open payment to match it: none
    open, or each asks more (then it is a part of the oldest order's, `order_reference`).

    It is the customer's money all the same: the ledger credits it to them.
    """

    topic: ClassVar[str] = "omniroute.payments.unmatched_funds_received.v1"

    provider: str
    customer: str
    account_number: str
    currency: str
    amount: str
    receipt: str | None
    fee: str | None = None  # what the provider kept of `amount`
    # A part of an order's payment (less than it, the rest to come): the order, and what is
    # still to pay for it once this part is counted.
    order_reference: str | None = None
    still_due: str | None = None
