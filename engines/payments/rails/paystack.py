"""Paystack: USSD charges, dedicated virtual accounts (bank transfers in Nigeria), webhooks.

- Every call carries `Authorization: Bearer <secret key>`; answers are `{"status": true|false,
  "message", "data"}`; amounts are in kobo (the currency's subunit).
- PAYSTACK: `POST /charge` with `ussd.type` (737 …) answers `pay_offline` and the code the
  customer dials on any phone; our reference is the Paystack reference.
- BANK_TRANSFER: `POST /customer`, then `POST /dedicated_account` with the preferred bank:
  the customer's own NUBAN, kept for good; every transfer into it is theirs.
- Verify: `GET /transaction/verify/<reference>` ("Transaction reference not found" → not found).
- Webhooks are signed `x-paystack-signature` = hex HMAC-SHA512 of the raw body with the secret
  key; `charge.success` on channel `dedicated_nuban` names the credited account.
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from typing import Any, NoReturn

from core.money import Money, minor_unit
from core.phone import Phone
from engines.payments.model import (
    CallbackAnswer,
    CallbackForgedError,
    CallbackMalformedError,
    CallbackNotice,
    CallbackRequest,
    Method,
    Observation,
    PaymentIntent,
    ProviderStatus,
    RailRejectedError,
    RailUnavailableError,
    VirtualAccount,
)
from engines.payments.rails.http import HttpAnswer, RailHttp, loads

SIGNATURE_HEADER = "x-paystack-signature"
_STATUS = {
    "success": ProviderStatus.SUCCEEDED,
    "failed": ProviderStatus.FAILED,
    "reversed": ProviderStatus.FAILED,
    "abandoned": ProviderStatus.PENDING,  # the customer may still dial the code
    "ongoing": ProviderStatus.PENDING,
    "pending": ProviderStatus.PENDING,
    "processing": ProviderStatus.PENDING,
    "queued": ProviderStatus.PENDING,
    "send_otp": ProviderStatus.ACTION_REQUIRED,
    "pay_offline": ProviderStatus.ACTION_REQUIRED,
}


def signature(secret_key: str, body: bytes) -> str:
    return hmac.new(secret_key.encode(), body, hashlib.sha512).hexdigest()


def to_subunit(amount: Money) -> int:
    return int(amount.amount / minor_unit(amount.currency))


def from_subunit(value: Any, currency: str) -> Money:
    return Money(Decimal(str(value)) * minor_unit(currency), currency)


def customer_email(phone: Phone) -> str:
    """Paystack wants an email; feature-phone customers have none, so the phone names one."""
    return f"{phone.digits}@customers.omniroute.africa"


class PaystackRail:
    name = "paystack"

    def __init__(
        self,
        *,
        base_url: str,
        secret_key: str,
        dva_bank: str = "wema-bank",
        ussd_type: str = "737",
    ) -> None:
        self._http = RailHttp(base_url)
        self._key = secret_key
        self._bank = dva_bank
        self._ussd = ussd_type

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}

    async def submit(self, intent: PaymentIntent) -> Observation:
        if intent.method is not Method.PAYSTACK:
            raise RailRejectedError(f"Paystack does not submit {intent.method}")
        body = {
            "email": customer_email(intent.customer),
            "amount": str(to_subunit(intent.amount)),
            "currency": intent.amount.currency,
            "reference": intent.reference,
            "ussd": {"type": self._ussd},
            "metadata": {"order_reference": intent.order_reference, "intent": str(intent.id)},
        }
        answer = await self._http.request("POST", "/charge", headers=self._auth, json_body=body)
        if answer.status >= 500:
            raise RailUnavailableError(f"Paystack charge: HTTP {answer.status}")
        if not answer.ok or answer.field("status") is not True:
            message = str(answer.field("message", ""))
            if "duplicate" in message.lower():
                # Already charged under this reference: the verify and the webhook tell the rest.
                return Observation(ProviderStatus.PENDING, provider_reference=intent.reference)
            raise RailRejectedError(f"Paystack refused: {message}")
        data = answer.field("data") or {}
        details = {}
        if data.get("ussd_code"):
            details["ussd_code"] = str(data["ussd_code"])
        if data.get("display_text"):
            details["display_text"] = str(data["display_text"])
        return Observation(
            _STATUS.get(str(data.get("status")), ProviderStatus.PENDING),
            provider_reference=str(data.get("reference") or intent.reference),
            details=details,
        )

    async def query(self, intent: PaymentIntent) -> Observation | None:
        if intent.method is Method.BANK_TRANSFER:
            return None  # the customer pushes the money; the webhook names the account
        answer = await self._http.request(
            "GET", f"/transaction/verify/{intent.reference}", headers=self._auth
        )
        return _verified(answer, intent.amount.currency)

    async def open_virtual_account(self, customer: Phone) -> VirtualAccount:
        created = await self._http.request(
            "POST",
            "/customer",
            headers=self._auth,
            json_body={
                "email": customer_email(customer),
                "first_name": "OmniRoute",
                "last_name": customer.digits,
                "phone": customer.e164,
            },
        )
        code = (created.field("data") or {}).get("customer_code")
        if not created.ok or not code:
            _fail("customer", created)
        assigned = await self._http.request(
            "POST",
            "/dedicated_account",
            headers=self._auth,
            json_body={"customer": code, "preferred_bank": self._bank},
        )
        data = assigned.field("data") or {}
        if not assigned.ok or not data.get("account_number"):
            _fail("dedicated_account", assigned)
        return VirtualAccount(
            customer=customer,
            provider=self.name,
            account_number=str(data["account_number"]),
            account_name=str(data.get("account_name", "")),
            bank_name=str((data.get("bank") or {}).get("name", "")),
            provider_customer=str(code),
        )

    async def callback(self, request: CallbackRequest) -> CallbackAnswer:
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given or not hmac.compare_digest(given, signature(self._key, request.body)):
            raise CallbackForgedError("x-paystack-signature does not match")
        try:
            doc = loads(request.body)
            event = str(doc["event"])
            data = doc["data"]
        except (ValueError, KeyError, TypeError) as exc:
            raise CallbackMalformedError("not a Paystack event") from exc
        if event != "charge.success" or not isinstance(data, dict):
            return CallbackAnswer(())  # acknowledged; nothing we act on
        currency = str(data.get("currency", "NGN"))
        seen = Observation(
            ProviderStatus.SUCCEEDED if data.get("status") == "success" else ProviderStatus.PENDING,
            provider_reference=str(data.get("reference")),
            amount=from_subunit(data.get("amount", 0), currency),
            receipt=str(data.get("id")),
        )
        event_id = f"{event}:{data.get('id')}"
        if data.get("channel") == "dedicated_nuban":
            authorization = data.get("authorization") or {}
            metadata = data.get("metadata") or {}
            account = authorization.get("receiver_bank_account_number") or (
                metadata.get("receiver_account_number") if isinstance(metadata, dict) else None
            )
            if not account:
                raise CallbackMalformedError("a dedicated_nuban charge without its account")
            return CallbackAnswer((CallbackNotice(event_id, seen, account_number=str(account)),))
        return CallbackAnswer(
            (CallbackNotice(event_id, seen, provider_reference=str(data.get("reference"))),)
        )

    async def close(self) -> None:
        await self._http.close()


def _verified(answer: HttpAnswer, currency: str) -> Observation:
    if answer.status >= 500:
        raise RailUnavailableError(f"Paystack verify: HTTP {answer.status}")
    if not answer.ok or answer.field("status") is not True:
        message = str(answer.field("message", ""))
        if answer.status in (400, 404) and "not found" in message.lower():
            return Observation(ProviderStatus.NOT_FOUND, reason=message)
        raise RailUnavailableError(f"Paystack verify: {answer.status} {message}")
    data = answer.field("data") or {}
    status = _STATUS.get(str(data.get("status")), ProviderStatus.PENDING)
    return Observation(
        status,
        provider_reference=str(data.get("reference")),
        amount=from_subunit(data.get("amount", 0), str(data.get("currency") or currency)),
        receipt=str(data.get("id")) if data.get("id") is not None else None,
        reason=str(data.get("gateway_response")) if status is ProviderStatus.FAILED else None,
    )


def _fail(what: str, answer: HttpAnswer) -> NoReturn:
    if answer.status >= 500:
        raise RailUnavailableError(f"Paystack {what}: HTTP {answer.status}")
    raise RailRejectedError(f"Paystack {what}: {answer.field('message', answer.status)}")
