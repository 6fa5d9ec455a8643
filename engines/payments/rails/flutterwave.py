"""Flutterwave v3: a hosted payment link, `verif-hash` webhooks, and verify by reference.

- `POST /v3/payments` with `Authorization: Bearer <secret key>`, `{tx_ref, amount, currency,
  redirect_url, customer: {email, phonenumber}}` → `{"status": "success", "data": {"link"}}`.
- Webhooks carry `verif-hash`, the secret hash set on the dashboard, compared in constant time.
  Their body is not believed: Flutterwave's advice is to verify before giving value, so every
  webhook is followed by `GET /v3/transactions/verify_by_reference?tx_ref=<ref>`.
- Refunds: the transaction's id (from verify by reference), then `POST
  /v3/transactions/<id>/refund` `{amount}`; `GET /v3/refunds/<refund id>` tells where it stands.
- Fees: the verified transaction's `app_fee` is what Flutterwave keeps of it (it settles
  `amount_settled`, the rest), booked on the ledger and netted out of the day's settlement as
  Paystack's `fees` are.
"""

from __future__ import annotations

import hmac
from decimal import Decimal
from typing import Any

from core.money import Money
from engines.payments.model import (
    CallbackAnswer,
    CallbackForgedError,
    CallbackMalformedError,
    CallbackNotice,
    CallbackRequest,
    Direction,
    Observation,
    PaymentIntent,
    ProviderStatus,
    RailRejectedError,
    RailUnavailableError,
)
from engines.payments.rails.http import RailHttp, loads
from engines.payments.rails.paystack import customer_email

_REFUND_STATUS = {
    "completed": ProviderStatus.SUCCEEDED,
    "completed-offline": ProviderStatus.SUCCEEDED,
    "failed": ProviderStatus.FAILED,
    "pending": ProviderStatus.PENDING,
    "pending-offline": ProviderStatus.PENDING,
}
_STATUS = {
    "successful": ProviderStatus.SUCCEEDED,
    "failed": ProviderStatus.FAILED,
    "cancelled": ProviderStatus.FAILED,
    "pending": ProviderStatus.PENDING,
}


class FlutterwaveRail:
    name = "flutterwave"

    def __init__(
        self, *, base_url: str, secret_key: str, secret_hash: str, redirect_url: str
    ) -> None:
        self._http = RailHttp(base_url)
        self._key = secret_key
        self._hash = secret_hash
        self._redirect = redirect_url

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}

    async def submit(self, intent: PaymentIntent) -> Observation:
        body = {
            "tx_ref": intent.reference,
            "amount": f"{intent.amount.amount:f}",
            "currency": intent.amount.currency,
            "redirect_url": self._redirect,
            "customer": {
                "email": customer_email(intent.customer),
                "phonenumber": intent.customer.e164,
            },
            "meta": {"order_reference": intent.order_reference},
            "customizations": {"title": "OmniRoute"},
        }
        answer = await self._http.request(
            "POST", "/v3/payments", headers=self._auth, json_body=body
        )
        if answer.status >= 500:
            raise RailUnavailableError(f"Flutterwave payments: HTTP {answer.status}")
        link = (answer.field("data") or {}).get("link")
        if not answer.ok or answer.field("status") != "success" or not link:
            raise RailRejectedError(f"Flutterwave refused: {answer.field('message')}")
        return Observation(
            ProviderStatus.ACTION_REQUIRED,
            provider_reference=intent.reference,
            details={"link": str(link)},
        )

    async def refund(self, refund: PaymentIntent, original: PaymentIntent) -> Observation:
        found = await self._http.request(
            "GET",
            "/v3/transactions/verify_by_reference",
            headers=self._auth,
            params={"tx_ref": original.reference},
        )
        if found.status >= 500:
            raise RailUnavailableError(f"Flutterwave verify: HTTP {found.status}")
        transaction = (found.field("data") or {}).get("id")
        if not found.ok or transaction is None:
            raise RailRejectedError(f"Flutterwave has no transaction {original.reference}")
        answer = await self._http.request(
            "POST",
            f"/v3/transactions/{transaction}/refund",
            headers=self._auth,
            json_body={"amount": f"{refund.amount.amount:f}"},
        )
        if answer.status >= 500:
            raise RailUnavailableError(f"Flutterwave refund: HTTP {answer.status}")
        data = answer.field("data") or {}
        if not answer.ok or answer.field("status") != "success" or data.get("id") is None:
            raise RailRejectedError(f"Flutterwave refund refused: {answer.field('message')}")
        return Observation(
            _REFUND_STATUS.get(str(data.get("status")), ProviderStatus.PENDING),
            provider_reference=str(data["id"]),
        )

    async def _query_refund(self, intent: PaymentIntent) -> Observation | None:
        if not intent.provider_reference:
            return None
        answer = await self._http.request(
            "GET", f"/v3/refunds/{intent.provider_reference}", headers=self._auth
        )
        if answer.status >= 500:
            raise RailUnavailableError(f"Flutterwave refund fetch: HTTP {answer.status}")
        data = answer.field("data")
        if not answer.ok or not isinstance(data, dict):
            return Observation(ProviderStatus.NOT_FOUND, reason=str(answer.field("message")))
        return Observation(
            _REFUND_STATUS.get(str(data.get("status")), ProviderStatus.PENDING),
            provider_reference=intent.provider_reference,
            reason=f"refund {data.get('status')}",
        )

    async def query(self, intent: PaymentIntent) -> Observation | None:
        if intent.direction is Direction.REFUND:
            return await self._query_refund(intent)
        answer = await self._http.request(
            "GET",
            "/v3/transactions/verify_by_reference",
            headers=self._auth,
            params={"tx_ref": intent.reference},
        )
        if answer.status >= 500:
            raise RailUnavailableError(f"Flutterwave verify: HTTP {answer.status}")
        data = answer.field("data")
        if not answer.ok or not isinstance(data, dict):
            if answer.status in (400, 404):
                return Observation(ProviderStatus.NOT_FOUND, reason=str(answer.field("message")))
            raise RailUnavailableError(f"Flutterwave verify: HTTP {answer.status}")
        return _observed(data, intent)

    async def callback(self, request: CallbackRequest) -> CallbackAnswer:
        given = request.headers.get("verif-hash", "")
        if not (self._hash and given.isascii() and hmac.compare_digest(given, self._hash)):
            raise CallbackForgedError("verif-hash does not match")
        try:
            doc = loads(request.body)
            data = doc["data"]
            reference = data.get("tx_ref")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CallbackMalformedError("not a Flutterwave event") from exc
        if not reference:
            # A transfer, a refund, a dispute: nothing of ours to settle. Acknowledged, as
            # Flutterwave retries whatever does not get a 200.
            return CallbackAnswer(())
        notice = CallbackNotice(
            event_id=f"{doc.get('event')}:{data.get('id')}:{data.get('status')}",
            observation=Observation(ProviderStatus.PENDING),
            provider_reference=str(reference),
            verify=True,
        )
        return CallbackAnswer((notice,))

    async def close(self) -> None:
        await self._http.close()


def _observed(data: dict[str, Any], intent: PaymentIntent) -> Observation:
    status = _STATUS.get(str(data.get("status")), ProviderStatus.PENDING)
    currency = str(data.get("currency") or intent.amount.currency)
    amount = data.get("amount")
    return Observation(
        status,
        provider_reference=str(data.get("tx_ref") or intent.reference),
        amount=Money(Decimal(str(amount)), currency) if amount is not None else None,
        receipt=str(data.get("flw_ref") or data.get("id") or "") or None,
        reason=str(data.get("processor_response")) if status is ProviderStatus.FAILED else None,
        fee=_fee(data, currency) if status is ProviderStatus.SUCCEEDED else None,
    )


def _fee(data: dict[str, Any], currency: str) -> Money | None:
    """What Flutterwave keeps of a charge (`app_fee`, in the major unit): it settles the rest.
    Where the customer was charged the fee on top (`charged_amount` is `amount` plus it), we
    keep the whole amount and nothing is ours to book."""
    try:
        fee = Decimal(str(data.get("app_fee") or 0))
        amount = Decimal(str(data.get("amount") or 0))
        charged = Decimal(str(data.get("charged_amount") or amount))
    except ArithmeticError:
        return None
    if not fee > 0 or charged - amount >= fee:
        return None
    return Money(fee, currency)
