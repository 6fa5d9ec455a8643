"""MTN MoMo Collection: request-to-pay, with our intent id as `X-Reference-Id`.

- Token: `POST /collection/token/` with Basic api user:api key and `Ocp-Apim-Subscription-Key`.
- `POST /collection/v1_0/requesttopay` with `X-Reference-Id` (a UUID: MoMo's idempotency key —
  the same id twice is `409 RESOURCE_ALREADY_EXIST`, never a second debit),
  `X-Target-Environment`, `X-Callback-Url`; body `{amount, currency, externalId, payer:
  {partyIdType: MSISDN, partyId}, payerMessage, payeeNote}` → 202 Accepted.
- `GET /collection/v1_0/requesttopay/<X-Reference-Id>` → `status` PENDING, SUCCESSFUL or
  FAILED (with `reason`); 404 `RESOURCE_NOT_FOUND` when MoMo never received it.
MoMo does not sign its callback, so the callback URL is signed per intent and the body is not
believed: the status is fetched from MoMo before anything changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from core.clock import Clock
from core.money import Money
from engines.payments.model import (
    CallbackAnswer,
    CallbackMalformedError,
    CallbackNotice,
    CallbackRequest,
    Observation,
    PaymentIntent,
    ProviderStatus,
    RailRejectedError,
    RailUnavailableError,
)
from engines.payments.rails.callbacks import CallbackUrls
from engines.payments.rails.http import RailHttp, basic_auth, loads

REQUEST_TO_PAY = "/collection/v1_0/requesttopay"
_STATUS = {
    "SUCCESSFUL": ProviderStatus.SUCCEEDED,
    "FAILED": ProviderStatus.FAILED,
    "REJECTED": ProviderStatus.FAILED,
    "TIMEOUT": ProviderStatus.FAILED,
    "PENDING": ProviderStatus.PENDING,
}


class MomoRail:
    name = "momo"

    def __init__(
        self,
        *,
        base_url: str,
        subscription_key: str,
        api_user: str,
        api_key: str,
        target_environment: str,
        callbacks: CallbackUrls,
        clock: Clock,
        currency: str | None = None,
    ) -> None:
        self._http = RailHttp(base_url)
        self._subscription = subscription_key
        self._user = api_user
        self._key = api_key
        self._environment = target_environment
        self._callbacks = callbacks
        self._clock = clock
        self._currency = currency
        self._token: tuple[str, datetime] | None = None

    async def _headers(self) -> dict[str, str]:
        now = self._clock.now()
        if self._token is None or self._token[1] <= now:
            answer = await self._http.request(
                "POST",
                "/collection/token/",
                headers={
                    "Ocp-Apim-Subscription-Key": self._subscription,
                    **basic_auth(self._user, self._key),
                },
            )
            token = answer.field("access_token")
            if not answer.ok or not token:
                raise RailUnavailableError(f"MoMo token refused: HTTP {answer.status}")
            lifetime = int(answer.field("expires_in", 3600))
            self._token = (str(token), now + timedelta(seconds=max(0, lifetime - 60)))
        return {
            "Authorization": f"Bearer {self._token[0]}",
            "X-Target-Environment": self._environment,
            "Ocp-Apim-Subscription-Key": self._subscription,
        }

    async def submit(self, intent: PaymentIntent) -> Observation:
        headers = await self._headers()
        headers["X-Reference-Id"] = str(intent.id)
        headers["X-Callback-Url"] = self._callbacks.url(self.name, intent.id)
        body = {
            "amount": f"{intent.amount.amount:f}",
            "currency": self._currency or intent.amount.currency,
            "externalId": intent.reference,
            "payer": {"partyIdType": "MSISDN", "partyId": intent.customer.digits},
            "payerMessage": (intent.description or "OmniRoute payment")[:160],
            "payeeNote": (intent.order_reference or intent.reference)[:160],
        }
        answer = await self._http.request("POST", REQUEST_TO_PAY, headers=headers, json_body=body)
        if answer.status in (202, 409):
            # 409: MoMo already has this X-Reference-Id; it is the same request, not a new one.
            return Observation(ProviderStatus.PENDING, provider_reference=str(intent.id))
        if answer.status >= 500:
            raise RailUnavailableError(f"MoMo request-to-pay: HTTP {answer.status}")
        raise RailRejectedError(f"MoMo refused: {answer.field('message', answer.status)}")

    async def query(self, intent: PaymentIntent) -> Observation | None:
        answer = await self._http.request(
            "GET", f"{REQUEST_TO_PAY}/{intent.id}", headers=await self._headers()
        )
        if answer.status == 404:
            return Observation(ProviderStatus.NOT_FOUND)
        if not answer.ok:
            raise RailUnavailableError(f"MoMo status: HTTP {answer.status}")
        return _observed(answer.body, intent)

    async def callback(self, request: CallbackRequest) -> CallbackAnswer:
        intent_id, _kind = self._callbacks.check(self.name, request.query)
        try:
            doc = loads(request.body) if request.body else {}
        except ValueError as exc:
            raise CallbackMalformedError("not JSON") from exc
        said = str(doc.get("status", "")) if isinstance(doc, dict) else ""
        transaction = str(doc.get("financialTransactionId", "")) if isinstance(doc, dict) else ""
        notice = CallbackNotice(
            event_id=f"{intent_id}:{said}:{transaction}",
            observation=Observation(ProviderStatus.PENDING),
            intent_id=intent_id,
            verify=True,
        )
        return CallbackAnswer((notice,))

    async def close(self) -> None:
        await self._http.close()


def _observed(doc: Any, intent: PaymentIntent) -> Observation:
    if not isinstance(doc, dict):
        raise RailUnavailableError("MoMo status: not JSON")
    status = _STATUS.get(str(doc.get("status")), ProviderStatus.PENDING)
    reason = doc.get("reason")
    amount = doc.get("amount")
    currency = str(doc.get("currency") or intent.amount.currency)
    seen_amount = None
    if amount is not None and currency == intent.amount.currency:
        seen_amount = Money(Decimal(str(amount)), currency)
    return Observation(
        status,
        provider_reference=str(intent.id),
        amount=seen_amount,
        receipt=str(doc["financialTransactionId"]) if doc.get("financialTransactionId") else None,
        reason=(reason.get("message") or reason.get("code"))
        if isinstance(reason, dict)
        else reason,
    )
