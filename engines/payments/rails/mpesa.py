"""M-Pesa Daraja: STK push (Lipa na M-Pesa Online) for collections, B2C for payouts.

- OAuth: `GET /oauth/v1/generate?grant_type=client_credentials`, Basic consumer key:secret;
  the token is cached until a minute before it expires.
- STK push: `POST /mpesa/stkpush/v1/processrequest`, Password = base64(shortcode + passkey +
  timestamp), Timestamp `YYYYMMDDHHMMSS` in Nairobi time; the answer's CheckoutRequestID is
  the provider reference. STK query: `POST /mpesa/stkpushquery/v1/query` (ResultCode only: a
  success found this way holds the whole shillings pushed, its receipt unknown).
- The callback (`Body.stkCallback`) carries ResultCode 0 with CallbackMetadata (Amount,
  MpesaReceiptNumber, TransactionDate, PhoneNumber) or a failure code (1032 cancelled, 1037
  unreachable, 1 insufficient funds …); it is answered `{"ResultCode": 0, "ResultDesc":
  "Accepted"}`.
- B2C: `POST /mpesa/b2c/v3/paymentrequest` with our reference as OriginatorConversationID; the
  result arrives at ResultURL (`Result`), a queue timeout at QueueTimeOutURL.
- Refunds: the Transaction Reversal API (`POST /mpesa/reversal/v1/request`, CommandID
  TransactionReversal, the payment's receipt as TransactionID) gives a whole payment back to
  the wallet it came from, fees included, and leaves the trail Safaricom's statement shows as a
  reversal. It can only reverse a whole transaction named by its receipt, so a partial refund,
  or one of a payment only the STK query confirmed (it names no receipt), is a B2C payment to
  the payer's phone. Either answers at ResultURL like B2C.
- Status: a B2C payout or a reversal whose result never came is asked about with the
  Transaction Status API (`POST /mpesa/transactionstatus/v1/query`, CommandID
  TransactionStatusQuery, Initiator and SecurityCredential as for B2C, by its
  OriginatorConversationID — ours for B2C, Daraja's for a reversal); the answer comes to the
  ResultURL (kind "status"): ResultCode 0 with TransactionStatus Completed is the money moved,
  a non-zero code (Daraja has no such transaction) settles nothing.
Daraja signs nothing, so every callback URL we give it is signed per intent (CallbackUrls).
Amounts are whole shillings: a total with cents is charged rounded up, never down; a payment
given back in parts by B2C pays each part what `whole_refund_part` decided (rounded down, the
cents kept carried to a later part), so the parts never pay back more than was charged.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from core.clock import Clock
from core.money import Money
from engines.payments.model import (
    CallbackAnswer,
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
from engines.payments.rails.callbacks import CallbackUrls
from engines.payments.rails.http import RailHttp, basic_auth, loads

NAIROBI = ZoneInfo("Africa/Nairobi")
OAUTH_PATH = "/oauth/v1/generate"
STK_PUSH_PATH = "/mpesa/stkpush/v1/processrequest"
STK_QUERY_PATH = "/mpesa/stkpushquery/v1/query"
B2C_PATH = "/mpesa/b2c/v3/paymentrequest"
REVERSAL_PATH = "/mpesa/reversal/v1/request"
STATUS_PATH = "/mpesa/transactionstatus/v1/query"
RESULT_KINDS = ("b2c", "timeout", "reversal", "status")
ORIGINATOR = "originator_conversation_id"
# TransactionStatus in a status result: the payout or reversal will never complete.
FAILED_STATES = frozenset({"Failed", "Declined", "Cancelled", "Expired", "Reversed"})
ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}
# STK query while the customer has not answered yet.
STILL_PROCESSING = "500.001.1001"


def stk_password(shortcode: str, passkey: str, timestamp: str) -> str:
    return base64.b64encode(f"{shortcode}{passkey}{timestamp}".encode()).decode()


def whole_shillings(amount: Money) -> int:
    return int(amount.amount.to_integral_value(rounding=ROUND_CEILING))


class MpesaRail:
    name = "mpesa"

    def __init__(
        self,
        *,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        shortcode: str,
        passkey: str,
        callbacks: CallbackUrls,
        clock: Clock,
        transaction_type: str = "CustomerPayBillOnline",
        initiator_name: str | None = None,
        security_credential: str | None = None,
        b2c_shortcode: str | None = None,
    ) -> None:
        self._http = RailHttp(base_url)
        self._key = consumer_key
        self._secret = consumer_secret
        self._shortcode = shortcode
        self._passkey = passkey
        self._callbacks = callbacks
        self._clock = clock
        self._type = transaction_type
        self._initiator = initiator_name
        self._credential = security_credential
        self._b2c_shortcode = b2c_shortcode or shortcode
        self._token: tuple[str, datetime] | None = None

    async def _bearer(self) -> dict[str, str]:
        now = self._clock.now()
        if self._token is None or self._token[1] <= now:
            answer = await self._http.request(
                "GET",
                OAUTH_PATH,
                params={"grant_type": "client_credentials"},
                headers=basic_auth(self._key, self._secret),
            )
            token = answer.field("access_token")
            if not answer.ok or not token:
                raise RailUnavailableError(f"M-Pesa OAuth refused: HTTP {answer.status}")
            lifetime = int(answer.field("expires_in", "3599"))
            self._token = (str(token), now + timedelta(seconds=max(0, lifetime - 60)))
        return {"Authorization": f"Bearer {self._token[0]}"}

    def _stamp(self) -> tuple[str, str]:
        timestamp = self._clock.now().astimezone(NAIROBI).strftime("%Y%m%d%H%M%S")
        return timestamp, stk_password(self._shortcode, self._passkey, timestamp)

    async def submit(self, intent: PaymentIntent) -> Observation:
        if intent.direction is Direction.PAYOUT:
            return await self._b2c(intent)
        timestamp, password = self._stamp()
        body = {
            "BusinessShortCode": self._shortcode,
            "Password": password,
            "Timestamp": timestamp,
            "TransactionType": self._type,
            "Amount": whole_shillings(intent.amount),
            "PartyA": intent.customer.digits,
            "PartyB": self._shortcode,
            "PhoneNumber": intent.customer.digits,
            "CallBackURL": self._callbacks.url(self.name, intent.id),
            "AccountReference": (intent.order_reference or intent.reference)[:12],
            "TransactionDesc": (intent.description or "Payment")[:13],
        }
        answer = await self._http.request(
            "POST", STK_PUSH_PATH, headers=await self._bearer(), json_body=body
        )
        if answer.ok and str(answer.field("ResponseCode")) == "0":
            return Observation(
                ProviderStatus.PENDING,
                provider_reference=str(answer.field("CheckoutRequestID")),
                details={"merchant_request_id": str(answer.field("MerchantRequestID", ""))},
            )
        _refusal(answer.status, answer.field("errorMessage") or answer.field("ResponseDescription"))

    async def refund(self, refund: PaymentIntent, original: PaymentIntent) -> Observation:
        if refund.amount != original.amount or not original.receipt:
            # A reversal gives back whole transactions only, named by their receipt; a part, or
            # a payment we only know succeeded from the STK query (no receipt), goes by B2C.
            return await self._b2c(refund)
        if not self._initiator or not self._credential:
            raise RailRejectedError("M-Pesa reversal needs an initiator name and credential")
        body = {
            "Initiator": self._initiator,
            "SecurityCredential": self._credential,
            "CommandID": "TransactionReversal",
            "TransactionID": original.receipt,
            "Amount": whole_shillings(original.amount),
            "ReceiverParty": self._shortcode,
            "RecieverIdentifierType": "11",  # sic: Daraja's spelling; 11 = the organisation
            "ResultURL": self._callbacks.url(self.name, refund.id, "reversal"),
            "QueueTimeOutURL": self._callbacks.url(self.name, refund.id, "timeout"),
            "Remarks": (refund.description or "Refund")[:100],
            "Occasion": (refund.order_reference or "")[:100],
        }
        answer = await self._http.request(
            "POST", REVERSAL_PATH, headers=await self._bearer(), json_body=body
        )
        if answer.ok and str(answer.field("ResponseCode")) == "0":
            return Observation(
                ProviderStatus.PENDING,
                provider_reference=str(answer.field("ConversationID")),
                # Daraja names the reversal request: the status query asks by this name.
                details={ORIGINATOR: str(answer.field("OriginatorConversationID", ""))},
            )
        _refusal(answer.status, answer.field("errorMessage") or answer.field("ResponseDescription"))

    async def _b2c(self, intent: PaymentIntent) -> Observation:
        if not self._initiator or not self._credential:
            raise RailRejectedError("M-Pesa B2C needs an initiator name and security credential")
        amount = whole_shillings(intent.payable)  # a refund part says what it pays
        if amount <= 0:
            raise RailRejectedError("M-Pesa pays whole shillings: less than one to send")
        body = {
            "OriginatorConversationID": intent.reference,
            "InitiatorName": self._initiator,
            "SecurityCredential": self._credential,
            "CommandID": "BusinessPayment",
            "Amount": amount,
            "PartyA": self._b2c_shortcode,
            "PartyB": intent.customer.digits,
            "Remarks": (intent.description or "Payout")[:100],
            "QueueTimeOutURL": self._callbacks.url(self.name, intent.id, "timeout"),
            "ResultURL": self._callbacks.url(self.name, intent.id, "b2c"),
            "Occasion": (intent.order_reference or "")[:100],
        }
        answer = await self._http.request(
            "POST", B2C_PATH, headers=await self._bearer(), json_body=body
        )
        if answer.ok and str(answer.field("ResponseCode")) == "0":
            return Observation(
                ProviderStatus.PENDING, provider_reference=str(answer.field("ConversationID"))
            )
        _refusal(answer.status, answer.field("errorMessage") or answer.field("ResponseDescription"))

    async def query(self, intent: PaymentIntent) -> Observation | None:
        """STK query by CheckoutRequestID (None when we never learned it); for a B2C payout or
        a reversal, a Transaction Status query whose answer comes by callback (None now)."""
        if intent.direction is not Direction.COLLECT:
            await self._ask_status(intent)
            return None
        if not intent.provider_reference:
            return None
        timestamp, password = self._stamp()
        body = {
            "BusinessShortCode": self._shortcode,
            "Password": password,
            "Timestamp": timestamp,
            "CheckoutRequestID": intent.provider_reference,
        }
        answer = await self._http.request(
            "POST", STK_QUERY_PATH, headers=await self._bearer(), json_body=body
        )
        if answer.field("errorCode") == STILL_PROCESSING:
            return Observation(ProviderStatus.PENDING)
        if answer.status >= 500:
            raise RailUnavailableError(f"M-Pesa STK query: HTTP {answer.status}")
        if not answer.ok:
            return Observation(ProviderStatus.NOT_FOUND, reason=str(answer.field("errorMessage")))
        seen = _stk_outcome(str(answer.field("ResultCode")), answer.field("ResultDesc"))
        if seen.status is ProviderStatus.SUCCEEDED:
            # The query names no amount (nor receipt): the push asked for whole shillings, and
            # that is what the customer paid, so that is what the books hold.
            return replace(seen, amount=Money(Decimal(whole_shillings(intent.amount)), "KES"))
        return seen

    async def _ask_status(self, intent: PaymentIntent) -> None:
        if not self._initiator or not self._credential:
            return  # B2C is not configured either: nothing of ours to ask about
        body = {
            "Initiator": self._initiator,
            "SecurityCredential": self._credential,
            "CommandID": "TransactionStatusQuery",
            "OriginatorConversationID": intent.details.get(ORIGINATOR) or intent.reference,
            "PartyA": self._b2c_shortcode,
            "IdentifierType": "4",  # an organisation's shortcode
            "ResultURL": self._callbacks.url(self.name, intent.id, "status"),
            "QueueTimeOutURL": self._callbacks.url(self.name, intent.id, "timeout"),
            "Remarks": "Status of an unanswered request",
            "Occasion": (intent.order_reference or "")[:100],
        }
        if intent.receipt:
            body["TransactionID"] = intent.receipt
        answer = await self._http.request(
            "POST", STATUS_PATH, headers=await self._bearer(), json_body=body
        )
        if answer.status >= 500:
            raise RailUnavailableError(f"M-Pesa transaction status: HTTP {answer.status}")
        if not answer.ok or str(answer.field("ResponseCode")) != "0":
            raise RailUnavailableError(
                f"M-Pesa transaction status refused: {answer.field('errorMessage')}"
            )

    async def callback(self, request: CallbackRequest) -> CallbackAnswer:
        intent_id, kind = self._callbacks.check(self.name, request.query)
        try:
            doc = loads(request.body)
        except ValueError as exc:
            raise CallbackMalformedError("not JSON") from exc
        if kind in RESULT_KINDS:
            return CallbackAnswer((_b2c_notice(intent_id, kind, doc),), ACCEPTED)
        try:
            stk = doc["Body"]["stkCallback"]
            checkout = str(stk["CheckoutRequestID"])
            code = str(stk["ResultCode"])
        except (KeyError, TypeError) as exc:
            raise CallbackMalformedError("no Body.stkCallback") from exc
        seen = _stk_outcome(code, stk.get("ResultDesc"))
        if seen.status is ProviderStatus.SUCCEEDED:
            items = {
                str(i.get("Name")): i.get("Value")
                for i in (stk.get("CallbackMetadata") or {}).get("Item", [])
                if isinstance(i, dict)
            }
            amount = items.get("Amount")
            seen = Observation(
                ProviderStatus.SUCCEEDED,
                provider_reference=checkout,
                amount=Money(Decimal(str(amount)), "KES") if amount is not None else None,
                receipt=str(items["MpesaReceiptNumber"]) if "MpesaReceiptNumber" in items else None,
            )
        notice = CallbackNotice(
            # One id per push *and* result: a redelivery is a duplicate, but a success after a
            # failure for the same push (1037 reported, then the PIN went through) is news.
            event_id=f"stk:{checkout}:{code}",
            observation=seen,
            intent_id=intent_id,
            provider_reference=checkout,
        )
        return CallbackAnswer((notice,), ACCEPTED)

    async def close(self) -> None:
        await self._http.close()


def _stk_outcome(code: str, description: Any) -> Observation:
    if code == "0":
        return Observation(ProviderStatus.SUCCEEDED)
    # 1032 cancelled by the customer, 1037 phone unreachable, 1 insufficient balance,
    # 2001 wrong PIN, 1019 expired: all final, no money moved.
    return Observation(ProviderStatus.FAILED, reason=f"{code}: {description}")


def _b2c_notice(intent_id: uuid.UUID, kind: str, doc: Any) -> CallbackNotice:
    try:
        result = doc["Result"]
        conversation = str(result.get("ConversationID") or result["OriginatorConversationID"])
        code = str(result["ResultCode"])
    except (KeyError, TypeError) as exc:
        raise CallbackMalformedError("no Result") from exc
    if kind == "timeout":
        # The request timed out in Daraja's queue: nothing is known yet.
        seen = Observation(ProviderStatus.PENDING, provider_reference=conversation)
    elif kind == "status":
        return _status_notice(intent_id, conversation, code, result)
    elif code == "0":
        params = {
            str(p.get("Key")): p.get("Value")
            for p in (result.get("ResultParameters") or {}).get("ResultParameter", [])
            if isinstance(p, dict)
        }
        amount = params.get("TransactionAmount", params.get("Amount"))  # B2C, reversal
        seen = Observation(
            ProviderStatus.SUCCEEDED,
            provider_reference=conversation,
            amount=Money(Decimal(str(amount)), "KES") if amount is not None else None,
            receipt=str(result.get("TransactionID") or params.get("TransactionReceipt") or ""),
        )
    else:
        seen = Observation(
            ProviderStatus.FAILED,
            provider_reference=conversation,
            reason=f"{code}: {result.get('ResultDesc')}",
        )
    return CallbackNotice(event_id=f"{kind}:{conversation}", observation=seen, intent_id=intent_id)


def _status_notice(
    intent_id: uuid.UUID, conversation: str, code: str, result: dict[str, Any]
) -> CallbackNotice:
    """A Transaction Status result: what became of the payout or reversal asked about. Its
    ConversationID is the query's own, so the intent is named by the signed URL alone."""
    params = {
        str(p.get("Key")): p.get("Value")
        for p in (result.get("ResultParameters") or {}).get("ResultParameter", [])
        if isinstance(p, dict)
    }
    state = str(params.get("TransactionStatus", ""))
    if code != "0":
        seen = Observation(ProviderStatus.NOT_FOUND, reason=f"{code}: {result.get('ResultDesc')}")
    elif state == "Completed":
        amount = params.get("Amount")
        seen = Observation(
            ProviderStatus.SUCCEEDED,
            amount=Money(Decimal(str(amount)), "KES") if amount is not None else None,
            receipt=str(params.get("ReceiptNo") or result.get("TransactionID") or "") or None,
        )
    elif state in FAILED_STATES:
        seen = Observation(ProviderStatus.FAILED, reason=f"transaction status: {state}")
    else:
        seen = Observation(ProviderStatus.PENDING, reason=f"transaction status: {state}")
    return CallbackNotice(event_id=f"status:{conversation}", observation=seen, intent_id=intent_id)


def _refusal(status: int, message: Any) -> NoReturn:
    if status >= 500:
        raise RailUnavailableError(f"M-Pesa: HTTP {status} {message}")
    raise RailRejectedError(f"M-Pesa refused: {message}")
