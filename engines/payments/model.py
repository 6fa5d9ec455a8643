"""Payment intents: one attempt to move one amount, and the states it may pass through.

An intent is created once per idempotency key (Stripe's rule: the same key with the same request
returns the first intent; the same key with a different request is an error). Its status only
moves along `_NEXT`; a provider's word that money moved (`succeeded`) is accepted even after we
gave up on the intent, because money that arrived must never be lost.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Any

from core.money import Money
from core.phone import Phone


class PaymentError(Exception):
    """Base of the payments context's domain errors."""


class IdempotencyKeyReusedError(PaymentError):
    """The key was first used for a different request: answering either would be a lie."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was used for a different request")
        self.key = key


class InvalidPaymentTransitionError(PaymentError):
    def __init__(self, current: IntentStatus, target: IntentStatus) -> None:
        super().__init__(f"{current} -> {target}")
        self.current = current
        self.target = target


class UnknownPaymentError(PaymentError):
    pass


class RailNotConfiguredError(PaymentError):
    """No adapter (or no credentials) for the rail this payment needs."""


class RailUnavailableError(PaymentError):
    """The provider did not answer (timeout, connection, 5xx): the outcome is unknown."""


class RefundRefusedError(PaymentError):
    """A refund that cannot be: the payment did not succeed, or less is left to give back."""


class RailRejectedError(PaymentError):
    """The provider refused the request for good: no money can have moved."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CallbackForgedError(PaymentError):
    """A webhook whose signature or token does not check: it changes nothing."""


class CallbackMalformedError(PaymentError):
    """A signed webhook we cannot read."""


class IntentStatus(StrEnum):
    PENDING = "pending"  # recorded; the provider has not been asked yet
    UNKNOWN = "unknown"  # the provider may have been asked; we do not know what it said
    REQUIRES_ACTION = "requires_action"  # the customer must act (transfer, dial a code)
    PROCESSING = "processing"  # the provider accepted it and is waiting for the customer
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REVERSED = "reversed"  # it succeeded, then the money came back (a bank returned a payout)


OPEN_STATUSES = frozenset(
    {
        IntentStatus.PENDING,
        IntentStatus.UNKNOWN,
        IntentStatus.REQUIRES_ACTION,
        IntentStatus.PROCESSING,
    }
)

_NEXT: dict[IntentStatus, frozenset[IntentStatus]] = {
    IntentStatus.PENDING: frozenset(
        {
            IntentStatus.UNKNOWN,
            IntentStatus.PROCESSING,
            IntentStatus.REQUIRES_ACTION,
            IntentStatus.FAILED,
            IntentStatus.CANCELLED,
        }
    ),
    IntentStatus.UNKNOWN: frozenset(
        {
            IntentStatus.PROCESSING,
            IntentStatus.REQUIRES_ACTION,
            IntentStatus.SUCCEEDED,
            IntentStatus.FAILED,
        }
    ),
    IntentStatus.REQUIRES_ACTION: frozenset(
        {
            IntentStatus.PROCESSING,
            IntentStatus.SUCCEEDED,
            IntentStatus.FAILED,
            IntentStatus.CANCELLED,
            IntentStatus.UNKNOWN,
        }
    ),
    IntentStatus.PROCESSING: frozenset(
        {
            IntentStatus.SUCCEEDED,
            IntentStatus.FAILED,
            IntentStatus.UNKNOWN,
            IntentStatus.CANCELLED,  # expired: the customer never answered
        }
    ),
    # Late money: the provider says it moved after we gave up. It did; record it.
    IntentStatus.FAILED: frozenset({IntentStatus.SUCCEEDED}),
    IntentStatus.CANCELLED: frozenset({IntentStatus.SUCCEEDED}),
    IntentStatus.SUCCEEDED: frozenset({IntentStatus.REVERSED}),
    IntentStatus.REVERSED: frozenset(),
}


def can_move(current: IntentStatus, target: IntentStatus) -> bool:
    return target in _NEXT[current]


class Direction(StrEnum):
    COLLECT = "collect"  # a customer pays us
    PAYOUT = "payout"  # we pay a driver, an agent or a distributor
    REFUND = "refund"  # we give a customer back (part of) a payment they made


class Method(StrEnum):
    """How the customer pays; names as GraphQL's `PaymentMethod` (interfaces.md)."""

    MPESA = "MPESA"
    MOMO = "MOMO"
    BANK_TRANSFER = "BANK_TRANSFER"
    PAYSTACK = "PAYSTACK"
    FLUTTERWAVE = "FLUTTERWAVE"
    MPESA_B2C = "MPESA_B2C"
    NIP = "NIP"
    PAYSTACK_TRANSFER = "PAYSTACK_TRANSFER"  # payouts to a South African bank account


# Which provider carries each method.
PROVIDER_OF: dict[Method, str] = {
    Method.MPESA: "mpesa",
    Method.MOMO: "momo",
    Method.BANK_TRANSFER: "paystack",
    Method.PAYSTACK: "paystack",
    Method.FLUTTERWAVE: "flutterwave",
    Method.MPESA_B2C: "mpesa",
    Method.NIP: "nibss",
    Method.PAYSTACK_TRANSFER: "paystack",
}


class ProviderStatus(StrEnum):
    """What a provider says about a payment, in its own words mapped to ours."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"  # accepted, waiting for the customer or the network
    ACTION_REQUIRED = "action_required"  # the customer must do something we tell them
    NOT_FOUND = "not_found"  # the provider never received it
    REVERSED = "reversed"  # the money moved and came back (Paystack transfer.reversed)


@dataclass(frozen=True, slots=True)
class Observation:
    """One answer from a provider: a submit's response, a query's, or a callback's."""

    status: ProviderStatus
    provider_reference: str | None = None
    amount: Money | None = None
    receipt: str | None = None  # the provider's transaction id (M-Pesa receipt, NIP session)
    reason: str | None = None
    details: dict[str, str] = field(default_factory=dict)  # what to tell the customer
    fee: Money | None = None  # what the provider keeps of `amount` (Paystack's `fees`)


@dataclass(frozen=True, slots=True)
class CallbackNotice:
    """A verified webhook, reduced to which intent it is about and what it says.

    `event_id` identifies the delivery (the same callback twice has the same id) so that it is
    applied once. An intent is found by our id, the provider's reference, — for transfers to
    a customer's virtual account — the account that was credited, or — for a refund named only
    by the payment it gives back (Paystack's refund events carry no refund id) — the open
    refund of that payment for the amount seen.
    """

    event_id: str
    observation: Observation
    intent_id: uuid.UUID | None = None
    provider_reference: str | None = None
    account_number: str | None = None
    refund_of_reference: str | None = None  # the refunded payment's provider reference
    verify: bool = False  # the body is not proof: ask the provider before believing it
    narration: str = ""  # what the sender wrote on a bank transfer (its description)

    def names(self, reference: str) -> bool:
        """Whether the sender wrote `reference` on the transfer, as a word of its own in any
        case ("NIP: NGOZI OKAFOR -order w62acj"): a longer word that holds it names nothing."""
        return reference.upper() in _WORD.findall(self.narration.upper())

    def meant(self, references: Sequence[str]) -> str | None:
        """Which of `references` (her orders still waiting, oldest first) the sender meant: the
        first written as a word of its own; else the one found glued to other text, in any case
        ("ORDERW62ACJ", "pay-W62ACJ", "W62ACJ."; banks' apps and agents often leave no space),
        when no other is; None when none is, or several are glued in."""
        named = [r for r in references if self.names(r)]
        if named:
            return named[0]
        glued = {r for r in references if r.upper() in self.narration.upper()}
        return glued.pop() if len(glued) == 1 else None


_WORD = re.compile(r"[0-9A-Z]+")


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """A provider's HTTP callback as it arrived: the rail verifies it over the raw bytes."""

    headers: dict[str, str]
    query: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """What the rail tells the edge to answer, and the notices to apply."""

    notices: tuple[CallbackNotice, ...]
    body: dict[str, Any] = field(default_factory=dict)
    status: int = 200


@dataclass(frozen=True, slots=True)
class VirtualAccount:
    """A bank account number that is the customer's own: every transfer into it is theirs."""

    customer: Phone
    provider: str
    account_number: str
    account_name: str
    bank_name: str
    provider_customer: str


@dataclass(frozen=True, slots=True)
class CreatePayment:
    """Ask for one payment, once per idempotency key."""

    idempotency_key: str
    method: Method
    amount: Money
    customer: Phone
    order_reference: str | None = None
    direction: Direction = Direction.COLLECT
    description: str = ""
    bank_account: str | None = None  # NIP payouts: the beneficiary's NUBAN
    bank_code: str | None = None  # NIP payouts: the beneficiary bank's institution code
    payee_name: str | None = None  # bank payouts: the name the account is held in
    refund_of: uuid.UUID | None = None  # refunds: the collected intent given back

    def extra_details(self) -> dict[str, str]:
        """What the intent keeps of the request beyond its columns (in `details`)."""
        extra = {}
        if self.payee_name:
            extra["payee_name"] = self.payee_name
        if self.refund_of is not None:
            extra["refund_of"] = str(self.refund_of)
        return extra

    def fingerprint(self) -> str:
        """A digest of everything the request asks for; the key must always ask the same."""
        doc = {
            "method": self.method.value,
            "amount": str(self.amount.amount),
            "currency": self.amount.currency,
            "customer": self.customer.e164,
            "order": self.order_reference,
            "direction": self.direction.value,
            "description": self.description,
            "bank_account": self.bank_account,
            "bank_code": self.bank_code,
            **self.extra_details(),
        }
        raw = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(raw).hexdigest()


# An intent's detail naming what an operator must do before the provider goes on (empty: none).
ATTENTION = "attention"
# What earlier transfers into her virtual account, each short of it, brought towards an intent.
IN_PARTS = "received_in_parts"


@dataclass(frozen=True, slots=True)
class PaymentIntent:
    id: uuid.UUID
    idempotency_key: str
    fingerprint: str
    direction: Direction
    method: Method
    provider: str
    customer: Phone
    amount: Money
    status: IntentStatus
    created_at: datetime
    updated_at: datetime
    order_reference: str | None = None
    description: str = ""
    provider_reference: str | None = None
    receipt: str | None = None
    failure_reason: str | None = None
    details: dict[str, str] = field(default_factory=dict)
    bank_account: str | None = None
    bank_code: str | None = None

    @property
    def reference(self) -> str:
        """Our reference at the provider: unique, alphanumeric, 32 characters."""
        return self.id.hex

    @property
    def asked(self) -> Money:
        """What the customer's own prompt asks her to pay: M-Pesa's STK push takes whole
        shillings, so a total with cents is asked rounded up (rails/mpesa.py)."""
        if self.method is Method.MPESA and self.direction is Direction.COLLECT:
            whole = self.amount.amount.to_integral_value(rounding=ROUND_CEILING)
            return Money(whole, self.amount.currency)
        return self.amount

    @property
    def refund_of(self) -> uuid.UUID | None:
        found = self.details.get("refund_of")
        return uuid.UUID(found) if found else None

    @property
    def payee_name(self) -> str | None:
        return self.details.get("payee_name")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def attention(self) -> str:
        """What the provider waits for someone to do ("" when nothing)."""
        return self.details.get(ATTENTION, "")

    @property
    def payable(self) -> Money:
        """What the rail is to move: a refund part paid in whole units says so (`pays`)."""
        pays = self.details.get("pays")
        return Money(Decimal(pays), self.amount.currency) if pays is not None else self.amount

    @property
    def received_in_parts(self) -> Money:
        """What earlier transfers, each less than it, brought towards this intent: a bank's
        daily limit makes a retailer send an order's total in parts."""
        return Money(Decimal(self.details.get(IN_PARTS, "0")), self.amount.currency)

    @property
    def still_due(self) -> Money:
        """What pays it now: what the rail is to move, less what came in parts."""
        return self.payable - self.received_in_parts

    def with_part(self, part: Money) -> PaymentIntent:
        """The intent with one more transfer short of it counted towards it."""
        received = self.received_in_parts + part
        return replace(self, details={**self.details, IN_PARTS: str(received.amount)})

    def move(self, target: IntentStatus, now: datetime) -> PaymentIntent:
        if not can_move(self.status, target):
            raise InvalidPaymentTransitionError(self.status, target)
        return replace(self, status=target, updated_at=now)


def whole_refund_part(
    amount: Money, original: PaymentIntent, earlier: Sequence[PaymentIntent]
) -> dict[str, str]:
    """What a rail that pays whole units (M-Pesa B2C) sends for one part of a payment given
    back in parts, never more than is owed: a part pays its amount rounded down, plus the
    sub-unit remainders earlier parts kept once they were paid (`carried_in`); what it leaves
    (`kept`) is recorded. The part that gives back everything left pays the rest of what was
    charged (M-Pesa charged the total rounded up) less what the other parts pay — counting an
    open part at the most it could cost, so none that fails later makes it more than owed.

    So parts paid in turn add up to exactly the refunded amount rounded down, and to all that
    was charged once the whole payment is given back; a part that fails frees what it carried.
    """
    alive = [r for r in earlier if r.status not in (IntentStatus.FAILED, IntentStatus.CANCELLED)]
    done = [r for r in alive if r.status is IntentStatus.SUCCEEDED]
    given = sum((r.amount.amount for r in alive), Decimal(0))
    if amount.amount >= original.amount.amount - given:
        charged = original.amount.amount.to_integral_value(rounding=ROUND_CEILING)
        open_at_most = sum(
            (max(r.payable.amount, r.amount.amount) for r in alive if r not in done), Decimal(0)
        ).to_integral_value(rounding=ROUND_CEILING)
        paid = sum((r.payable.amount for r in done), Decimal(0))
        pays = max(charged - paid - open_at_most, Decimal(0))
    else:
        left_over = sum((_part(r, "kept") for r in done), Decimal(0)) - sum(
            (_part(r, "carried_in") for r in alive), Decimal(0)
        )
        pays = (amount.amount + left_over).to_integral_value(rounding=ROUND_FLOOR)
    carried_in = max(pays - amount.amount, Decimal(0))
    kept = amount.amount + carried_in - pays
    return {"pays": str(pays), "carried_in": str(carried_in), "kept": str(kept)}


def _part(refund: PaymentIntent, name: str) -> Decimal:
    return Decimal(refund.details.get(name, "0"))


def target_status(current: IntentStatus, seen: ProviderStatus) -> IntentStatus | None:
    """Where an intent goes on a provider's word; None when the word changes nothing.

    `not_found` is not decided here: only the requery, after a grace period, may conclude
    that an intent the provider never received has failed.
    """
    wanted = {
        ProviderStatus.SUCCEEDED: IntentStatus.SUCCEEDED,
        ProviderStatus.FAILED: IntentStatus.FAILED,
        ProviderStatus.PENDING: IntentStatus.PROCESSING,
        ProviderStatus.ACTION_REQUIRED: IntentStatus.REQUIRES_ACTION,
        # Returned before we heard it arrived: as good as failed; after, it is a reversal.
        ProviderStatus.REVERSED: IntentStatus.REVERSED
        if current is IntentStatus.SUCCEEDED
        else IntentStatus.FAILED,
    }.get(seen)
    if wanted is None or wanted == current or not can_move(current, wanted):
        return None
    return wanted


def given_back(intents: Sequence[PaymentIntent], paid: PaymentIntent) -> Decimal:
    """How much of `paid` its refunds gave back, as the rail confirmed."""
    return sum(
        (
            r.amount.amount
            for r in intents
            if r.direction is Direction.REFUND
            and r.refund_of == paid.id
            and r.status is IntentStatus.SUCCEEDED
        ),
        Decimal(0),
    )


def refunded_in_full(intents: Sequence[PaymentIntent]) -> bool:
    """Every payment of an order that succeeded was given back in full: nothing of it is kept
    (False when none succeeded)."""
    paid = [
        i
        for i in intents
        if i.direction is Direction.COLLECT and i.status is IntentStatus.SUCCEEDED
    ]
    return bool(paid) and all(given_back(intents, i) >= i.amount.amount for i in paid)


def sent_in_parts(intents: Sequence[PaymentIntent]) -> Money | None:
    """What her transfers, each short of the order, brought towards a payment not completed
    (None: nothing): counted on the intent, each posted as her money. No rail gives them back
    (none is a payment of its own), so a cancelled order leaves them as her credit."""
    parts = [
        i.received_in_parts
        for i in intents
        if i.direction is Direction.COLLECT
        and i.status is not IntentStatus.SUCCEEDED
        and i.received_in_parts.amount > 0
    ]
    if not parts:
        return None
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total
