"""What the payments service needs from the outside: one adapter per provider (a rail)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from core.phone import Phone
from engines.payments.model import (
    CallbackAnswer,
    CallbackNotice,
    CallbackRequest,
    Observation,
    PaymentIntent,
    VirtualAccount,
)


class PaymentRail(Protocol):
    """A provider's API. `submit` raises RailRejectedError (no money can have moved) or
    RailUnavailableError (we cannot know); `query` answers None when the provider cannot be
    asked about this intent (M-Pesa without its CheckoutRequestID)."""

    name: str

    async def submit(self, intent: PaymentIntent) -> Observation: ...

    async def query(self, intent: PaymentIntent) -> Observation | None: ...

    async def callback(self, request: CallbackRequest) -> CallbackAnswer: ...

    async def close(self) -> None: ...


class VirtualAccountRail(Protocol):
    """Providers that give each customer a bank account number of their own (Paystack DVA)."""

    async def open_virtual_account(self, customer: Phone) -> VirtualAccount: ...


class CreditsRail(Protocol):
    """Virtual-account providers that list the transfers into an account, so that a transfer
    whose webhook never came is still found. Each is the notice its webhook would carry (the
    same event id), so it is applied once whichever comes first."""

    async def credits(
        self, account: VirtualAccount, since: datetime, until: datetime
    ) -> list[CallbackNotice]: ...


class RefundRail(Protocol):
    """Providers that give a collected payment back on the same rail. `refund` answers like
    `submit`; `query` of the refund intent tells where the refund stands."""

    async def refund(self, refund: PaymentIntent, original: PaymentIntent) -> Observation: ...


class AccountNameRail(Protocol):
    """Providers that tell the name a bank account is held in (NIP name enquiry)."""

    async def name_enquiry(self, bank_code: str, account_number: str) -> str: ...
