"""Paystack: USSD charges, dedicated virtual accounts (bank transfers in Nigeria), webhooks.

- Every call carries `Authorization: Bearer <secret key>`; answers are `{"status": true|false,
  "message", "data"}`; amounts are in kobo (the currency's subunit).
- PAYSTACK: `POST /charge` with `ussd.type` (737 …) answers `pay_offline` and the code the
  customer dials on any phone; our reference is the Paystack reference.
- BANK_TRANSFER: `POST /customer`, then `POST /dedicated_account` with the preferred bank:
  the customer's own NUBAN, kept for good; every transfer into it is theirs.
- Verify: `GET /transaction/verify/<reference>` ("Transaction reference not found" → not found).
- A transfer into a virtual account has no reference of ours to verify: when its webhook never
  comes, the requery lists the customer's successful transactions since the intent was made
  (`GET /customer/<code>` for the customer's integer id, then `GET /transaction?customer=<id>
  &status=success&from=&to=&perPage=&page=`) and reads the `dedicated_nuban` ones exactly as
  the webhook would, under the same event id, so whichever comes second changes nothing.
- Webhooks are signed `x-paystack-signature` = hex HMAC-SHA512 of the raw body with the secret
  key; `charge.success` on channel `dedicated_nuban` names the credited account and, in
  `authorization.narration`, what the sender wrote on the transfer (it may name her order).
- Payouts (PAYSTACK_TRANSFER, South Africa): `POST /transferrecipient` (`type` "basa", name,
  account number, bank code, ZAR) gives a recipient code; `POST /transfer` from the balance with
  our reference (Paystack refuses a reference twice, so a retried request cannot pay twice);
  `transfer.success`, `transfer.failed` and `transfer.reversed` webhooks settle it, and
  `GET /transfer/verify/<reference>` when they do not come.
- Refunds: `POST /refund` with the transaction's reference and the amount; `refund.processed`
  / `refund.failed` webhooks name the refunded transaction and the amount (not the refund's
  id), and `GET /refund/<id>` asks what became of the refund they are about. A refund Paystack
  says `needs-attention` stays open (asked again by the requery) and is named for operators.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NoReturn

from core.money import Money, minor_unit
from core.phone import Phone
from engines.payments.model import (
    ATTENTION,
    CallbackAnswer,
    CallbackForgedError,
    CallbackMalformedError,
    CallbackNotice,
    CallbackRequest,
    Direction,
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
_TRANSFER_STATUS = {
    "success": ProviderStatus.SUCCEEDED,
    "failed": ProviderStatus.FAILED,
    "reversed": ProviderStatus.REVERSED,  # failed if it never succeeded; else money back
    "abandoned": ProviderStatus.FAILED,
    "rejected": ProviderStatus.FAILED,
    "blocked": ProviderStatus.FAILED,
    "pending": ProviderStatus.PENDING,
    "processing": ProviderStatus.PENDING,
    "received": ProviderStatus.PENDING,
    "queued": ProviderStatus.PENDING,
}
_REFUND_STATUS = {
    "processed": ProviderStatus.SUCCEEDED,
    "failed": ProviderStatus.FAILED,
    "pending": ProviderStatus.PENDING,
    "processing": ProviderStatus.PENDING,
    "needs-attention": ProviderStatus.PENDING,  # still open: shown to operators, asked again
}
NEEDS_ATTENTION = "needs-attention"
PER_PAGE = 100
MAX_PAGES = 20
TRANSFER_EVENTS = ("transfer.success", "transfer.failed", "transfer.reversed")
REFUND_EVENTS = ("refund.processed", "refund.failed", "refund.pending", "refund.processing")


def signature(secret_key: str, body: bytes) -> str:
    return hmac.new(secret_key.encode(), body, hashlib.sha512).hexdigest()


def to_subunit(amount: Money) -> int:
    return int(amount.amount / minor_unit(amount.currency))


def from_subunit(value: Any, currency: str) -> Money:
    return Money(Decimal(str(value)) * minor_unit(currency), currency)


def customer_email(phone: Phone) -> str:
    """Paystack wants an email; feature-phone customers have none, so the phone names one."""
    return f"{phone.digits}@customers.omniroute.africa"


# The bank whose USSD menu a Paystack USSD charge of each `ussd.type` is dialled in: only that
# bank's customers can pay with its code.
USSD_BANKS = {"737": "GTBank", "919": "UBA", "822": "Sterling Bank", "966": "Zenith Bank"}


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
        self._customer_ids: dict[str, int] = {}

    @property
    def ussd_bank(self) -> tuple[str, str]:
        """The bank whose customers can dial the codes this rail asks for ("" when not known)
        and its USSD code (`*737#`)."""
        return USSD_BANKS.get(self._ussd, ""), f"*{self._ussd}#"

    @property
    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"}

    async def submit(self, intent: PaymentIntent) -> Observation:
        if intent.method is Method.PAYSTACK_TRANSFER and intent.direction is Direction.PAYOUT:
            return await self._transfer(intent)
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

    async def _transfer(self, intent: PaymentIntent) -> Observation:
        if not (intent.bank_account and intent.bank_code and intent.payee_name):
            raise RailRejectedError("a transfer needs the payee's name, account and bank code")
        recipient = await self._http.request(
            "POST",
            "/transferrecipient",
            headers=self._auth,
            json_body={
                "type": "basa",
                "name": intent.payee_name,
                "account_number": intent.bank_account,
                "bank_code": intent.bank_code,
                "currency": intent.amount.currency,
            },
        )
        code = (recipient.field("data") or {}).get("recipient_code")
        if not recipient.ok or recipient.field("status") is not True or not code:
            _fail("transferrecipient", recipient)
        answer = await self._http.request(
            "POST",
            "/transfer",
            headers=self._auth,
            json_body={
                "source": "balance",
                "amount": to_subunit(intent.amount),
                "recipient": code,
                "reference": intent.reference,
                "reason": (intent.description or "OmniRoute payout")[:100],
                "currency": intent.amount.currency,
            },
        )
        if answer.status >= 500:
            raise RailUnavailableError(f"Paystack transfer: HTTP {answer.status}")
        if not answer.ok or answer.field("status") is not True:
            message = str(answer.field("message", ""))
            if "duplicate" in message.lower() or "already" in message.lower():
                # Sent before under this reference: the verify and the webhook tell the rest.
                return Observation(ProviderStatus.PENDING, provider_reference=intent.reference)
            raise RailRejectedError(f"Paystack transfer refused: {message}")
        data = answer.field("data") or {}
        status = str(data.get("status"))
        if status == "otp":
            raise RailRejectedError("Paystack wants an OTP: disable OTP for API transfers")
        return Observation(
            _TRANSFER_STATUS.get(status, ProviderStatus.PENDING),
            provider_reference=intent.reference,
            receipt=str(data.get("transfer_code") or "") or None,
        )

    async def refund(self, refund: PaymentIntent, original: PaymentIntent) -> Observation:
        answer = await self._http.request(
            "POST",
            "/refund",
            headers=self._auth,
            json_body={
                "transaction": original.provider_reference or original.reference,
                "amount": to_subunit(refund.amount),
                "currency": refund.amount.currency,
                "merchant_note": (refund.description or "Refund")[:100],
            },
        )
        if answer.status >= 500:
            raise RailUnavailableError(f"Paystack refund: HTTP {answer.status}")
        data = answer.field("data") or {}
        if not answer.ok or answer.field("status") is not True or data.get("id") is None:
            raise RailRejectedError(f"Paystack refund refused: {answer.field('message')}")
        return Observation(
            _REFUND_STATUS.get(str(data.get("status")), ProviderStatus.PENDING),
            provider_reference=str(data["id"]),
            details=_attention(str(data.get("status"))),
        )

    async def query(self, intent: PaymentIntent) -> Observation | None:
        if intent.direction is Direction.REFUND:
            return await self._query_refund(intent)
        if intent.direction is Direction.PAYOUT:
            answer = await self._http.request(
                "GET", f"/transfer/verify/{intent.reference}", headers=self._auth
            )
            if answer.status >= 500:
                raise RailUnavailableError(f"Paystack transfer verify: HTTP {answer.status}")
            if not answer.ok or answer.field("status") is not True:
                if answer.status in (400, 404):
                    return Observation(
                        ProviderStatus.NOT_FOUND, reason=str(answer.field("message"))
                    )
                raise RailUnavailableError(f"Paystack transfer verify: {answer.status}")
            data = answer.field("data") or {}
            return Observation(
                _TRANSFER_STATUS.get(str(data.get("status")), ProviderStatus.PENDING),
                provider_reference=intent.reference,
                reason=str(data.get("status")),
            )
        if intent.method is Method.BANK_TRANSFER:
            return None  # the customer pushes the money; the webhook names the account
        answer = await self._http.request(
            "GET", f"/transaction/verify/{intent.reference}", headers=self._auth
        )
        return _verified(answer, intent.amount.currency)

    async def _query_refund(self, intent: PaymentIntent) -> Observation | None:
        if not intent.provider_reference:
            return None  # never learned the refund's id: its webhook tells
        answer = await self._http.request(
            "GET", f"/refund/{intent.provider_reference}", headers=self._auth
        )
        if answer.status >= 500 or not isinstance(answer.body, dict):
            raise RailUnavailableError(f"Paystack refund fetch: HTTP {answer.status}")
        if not answer.ok or answer.field("status") is not True:
            return Observation(ProviderStatus.NOT_FOUND, reason=str(answer.field("message")))
        data = answer.field("data") or {}
        status = str(data.get("status"))
        return Observation(
            _REFUND_STATUS.get(status, ProviderStatus.PENDING),
            provider_reference=intent.provider_reference,
            reason=f"refund {status}",
            details=_attention(status),
        )

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
        expected = signature(self._key, request.body)
        if not (given.isascii() and hmac.compare_digest(given, expected)):
            raise CallbackForgedError("x-paystack-signature does not match")
        try:
            doc = loads(request.body)
            event = str(doc["event"])
            data = doc["data"]
        except (ValueError, KeyError, TypeError) as exc:
            raise CallbackMalformedError("not a Paystack event") from exc
        if not isinstance(data, dict):
            return CallbackAnswer(())
        if event in TRANSFER_EVENTS:
            notice = _transfer_notice(event, data)
            # A transfer made elsewhere (the dashboard) is not ours: acknowledged, ignored.
            return CallbackAnswer((notice,) if notice is not None else ())
        if event in REFUND_EVENTS:
            return CallbackAnswer((_refund_notice(event, data),))
        if event != "charge.success":
            return CallbackAnswer(())  # acknowledged; nothing we act on
        return CallbackAnswer((_charge_notice(event, data),))

    async def credits(
        self, account: VirtualAccount, since: datetime, until: datetime
    ) -> list[CallbackNotice]:
        """Transfers into `account` Paystack recorded between `since` and `until`, as the
        `charge.success` notices their webhooks carry (same event ids)."""
        customer_id = await self._customer_id(account.provider_customer)
        listed: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            answer = await self._http.request(
                "GET",
                "/transaction",
                headers=self._auth,
                params={
                    "customer": str(customer_id),
                    "status": "success",
                    "from": _iso(since),
                    "to": _iso(until),
                    "perPage": str(PER_PAGE),
                    "page": str(page),
                },
            )
            if not answer.ok or answer.field("status") is not True:
                _unavailable("transaction list", answer)
            rows = answer.field("data") or []
            listed.extend(
                r for r in rows if isinstance(r, dict) and r.get("channel") == "dedicated_nuban"
            )
            meta = answer.field("meta") or {}
            if len(rows) < PER_PAGE or page >= int(meta.get("pageCount") or page):
                break
        # Oldest first, as their webhooks would have come: the oldest intent gets the first.
        listed.sort(key=lambda r: (str(r.get("paid_at") or ""), str(r.get("id"))))
        notices = [_charge_notice("charge.success", r, strict=False) for r in listed]
        return [n for n in notices if n.account_number == account.account_number]

    async def _customer_id(self, code: str) -> int:
        if code in self._customer_ids:
            return self._customer_ids[code]
        answer = await self._http.request("GET", f"/customer/{code}", headers=self._auth)
        found = (answer.field("data") or {}).get("id") if isinstance(answer.body, dict) else None
        if not answer.ok or answer.field("status") is not True or not isinstance(found, int):
            _unavailable("customer fetch", answer)
        self._customer_ids[code] = found
        return found

    async def close(self) -> None:
        await self._http.close()


def _charge_notice(event: str, data: dict[str, Any], *, strict: bool = True) -> CallbackNotice:
    """A successful charge (webhook or listed): a transfer into a virtual account names the
    account credited; any other names our reference."""
    currency = str(data.get("currency", "NGN"))
    seen = Observation(
        ProviderStatus.SUCCEEDED if data.get("status") == "success" else ProviderStatus.PENDING,
        provider_reference=str(data.get("reference")),
        amount=from_subunit(data.get("amount", 0), currency),
        receipt=str(data.get("id")),
        fee=_fee(data, currency),
    )
    event_id = f"{event}:{data.get('id')}"
    if data.get("channel") == "dedicated_nuban":
        authorization = data.get("authorization") or {}
        metadata = data.get("metadata") or {}
        account = authorization.get("receiver_bank_account_number") or (
            metadata.get("receiver_account_number") if isinstance(metadata, dict) else None
        )
        if not account:
            if strict:
                raise CallbackMalformedError("a dedicated_nuban charge without its account")
            account = ""
        # What she wrote on the transfer (her bank's description): it may name her order.
        narration = authorization.get("narration") or ""
        return CallbackNotice(event_id, seen, account_number=str(account), narration=str(narration))
    return CallbackNotice(event_id, seen, provider_reference=str(data.get("reference")))


def _refund_notice(event: str, data: dict[str, Any]) -> CallbackNotice:
    """A refund event names the refunded transaction and the amount, not the refund (no id):
    it is about the open refund of that payment for that amount, and, as a refund of equal
    amount may be another's, what became of it is asked by the refund's own id."""
    transaction = data.get("transaction_reference")
    if not transaction and data.get("id") is None:
        raise CallbackMalformedError("a refund event naming neither refund nor transaction")
    currency = str(data.get("currency") or "NGN")
    try:
        amount = from_subunit(data["amount"], currency) if data.get("amount") else None
    except ArithmeticError as exc:
        raise CallbackMalformedError("a refund event with an unreadable amount") from exc
    names = (data.get("id"), transaction, data.get("amount"), data.get("refund_reference"))
    return CallbackNotice(
        ":".join([event, *(str(n) for n in names)]),
        Observation(ProviderStatus.PENDING, amount=amount),
        provider_reference=str(data["id"]) if data.get("id") is not None else None,
        refund_of_reference=str(transaction) if transaction else None,
        verify=True,
    )


def _attention(status: str) -> dict[str, str]:
    """A refund Paystack holds until someone acts (`needs-attention`: typically the customer's
    bank account details it wants on the dashboard) is named for an operator; any other word
    clears it."""
    if status == NEEDS_ATTENTION:
        return {ATTENTION: "Paystack: refund needs attention on the dashboard"}
    return {ATTENTION: ""}


def _fee(data: dict[str, Any], currency: str) -> Money | None:
    """What Paystack keeps of a charge (`fees`, in the subunit): it settles the rest."""
    fees = data.get("fees")
    return from_subunit(fees, currency) if isinstance(fees, int | str | Decimal) and fees else None


def _iso(moment: datetime) -> str:
    """Paystack's timestamps: 2016-09-24T00:00:05.000Z (a naive time is UTC, as we store it)."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _unavailable(what: str, answer: HttpAnswer) -> NoReturn:
    raise RailUnavailableError(f"Paystack {what}: {answer.status} {answer.field('message', '')}")


def _transfer_notice(event: str, data: dict[str, Any]) -> CallbackNotice | None:
    reference = str(data.get("reference", ""))
    try:
        intent_id = uuid.UUID(hex=reference)
    except ValueError:
        return None
    currency = str(data.get("currency") or "ZAR")
    status = _TRANSFER_STATUS[event.removeprefix("transfer.")]
    seen = Observation(
        status,
        provider_reference=reference,
        amount=from_subunit(data["amount"], currency) if "amount" in data else None,
        receipt=str(data.get("transfer_code") or "") or None,
        reason=f"{event}: {data.get('reason') or data.get('status')}",
    )
    return CallbackNotice(f"{event}:{data.get('id')}", seen, intent_id=intent_id)


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
        fee=_fee(data, str(data.get("currency") or currency)),
    )


def _fail(what: str, answer: HttpAnswer) -> NoReturn:
    if answer.status >= 500:
        raise RailUnavailableError(f"Paystack {what}: HTTP {answer.status}")
    raise RailRejectedError(f"Paystack {what}: {answer.field('message', answer.status)}")
