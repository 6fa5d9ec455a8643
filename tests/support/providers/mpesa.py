"""A local M-Pesa Daraja API that checks requests as Safaricom does, and a customer's phone.

Served on a free loopback port (docs: developer.safaricom.co.ke, "Authorization", "M-Pesa
Express", "B2C"):
- `GET /oauth/v1/generate?grant_type=client_credentials` with Basic consumer key:secret →
  `{"access_token", "expires_in": "3599"}` (400 for a bad grant type, 401 for bad credentials);
- `POST /mpesa/stkpush/v1/processrequest` with the bearer token: every field present and typed
  as Daraja wants (Amount a whole number, PartyA/PhoneNumber `2547…`, AccountReference ≤ 12,
  TransactionDesc ≤ 13), Password = base64(shortcode + passkey + Timestamp) → `{
  MerchantRequestID, CheckoutRequestID, ResponseCode: "0", …}`; a malformed request gets
  Daraja's `{"requestId", "errorCode": "400.002.02", "errorMessage": "Bad Request - Invalid …"}`;
- `POST /mpesa/stkpushquery/v1/query` → `500.001.1001` while the customer has not answered,
  then `ResultCode` "0", "1032" …;
- `POST /mpesa/b2c/v3/paymentrequest` → `{ConversationID, OriginatorConversationID,
  ResponseCode: "0"}`;
- `POST /mpesa/reversal/v1/request` (CommandID TransactionReversal, the receipt of a payment
  made to our shortcode as TransactionID, its whole Amount, `RecieverIdentifierType` "11") →
  the same acknowledgement; `reversal_result` builds the Result posted to ResultURL.
- `POST /mpesa/transactionstatus/v1/query` ("Transaction Status": Initiator and
  SecurityCredential as for B2C, CommandID TransactionStatusQuery, a TransactionID or an
  OriginatorConversationID, PartyA a shortcode with IdentifierType "4", ResultURL,
  QueueTimeOutURL, Remarks) → the acknowledgement; `status_result` builds the Result posted to
  its ResultURL: TransactionStatus, Amount, ReceiptNo … of the payout or reversal asked
  about, or ResultCode 1 when Daraja has no such transaction.
The customer's side (`pay`, `cancel`) builds the exact callback Daraja would post to the
CallBackURL, which the test delivers (late, twice, out of order or never).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from tests.support.providers.loopback import LoopbackFake, ReceivedRequest

CONSUMER_KEY = "mpesa-consumer-key-3f9a"
CONSUMER_SECRET = "mpesa-consumer-secret-71c2"
SHORTCODE = "174379"
PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
INITIATOR = "omniroute_api"
SECURITY_CREDENTIAL = "c2VjdXJpdHktY3JlZGVudGlhbA=="
STK_FIELDS = (
    "BusinessShortCode",
    "Password",
    "Timestamp",
    "TransactionType",
    "Amount",
    "PartyA",
    "PartyB",
    "PhoneNumber",
    "CallBackURL",
    "AccountReference",
    "TransactionDesc",
)
MSISDN = re.compile(r"^2547\d{8}$|^2541\d{8}$")
TIMESTAMP = re.compile(r"^\d{14}$")


@dataclass
class StkPush:
    checkout_id: str
    merchant_id: str
    body: dict[str, Any]
    state: str = "pending"  # pending | paid | failed
    result_code: int | None = None
    receipt: str | None = None

    @property
    def callback_url(self) -> str:
        return str(self.body["CallBackURL"])


@dataclass
class B2CRequest:
    conversation_id: str
    body: dict[str, Any]
    status: str = "Completed"  # what a Transaction Status query finds (Daraja pays at once)
    receipt: str = "NLJ41HAY6Q"


@dataclass
class FakeDaraja(LoopbackFake):
    requests: list[ReceivedRequest] = field(default_factory=list)
    pushes: list[StkPush] = field(default_factory=list)
    payouts: list[B2CRequest] = field(default_factory=list)
    reversals: list[B2CRequest] = field(default_factory=list)
    status_queries: list[B2CRequest] = field(default_factory=list)
    token: str = "0A0v8OgxqqoocblflR58m9chMdnU"
    fail_next_push: int | None = None  # an HTTP status the next STK push gets
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __hash__(self) -> int:
        return id(self)

    # --- the customer's side ----------------------------------------------------------------

    def push_for(self, phone_digits: str) -> StkPush:
        return next(p for p in reversed(self.pushes) if p.body["PhoneNumber"] == phone_digits)

    def pay(self, push: StkPush) -> tuple[str, bytes]:
        """The customer enters the PIN: the callback Daraja posts (path with query, body)."""
        push.state = "paid"
        push.result_code = 0
        push.receipt = f"NLJ7RT{next(self._ids):04d}"
        body = {
            "Body": {
                "stkCallback": {
                    "MerchantRequestID": push.merchant_id,
                    "CheckoutRequestID": push.checkout_id,
                    "ResultCode": 0,
                    "ResultDesc": "The service request is processed successfully.",
                    "CallbackMetadata": {
                        "Item": [
                            {
                                "Name": "Amount",
                                "Value": Decimal(push.body["Amount"]) + Decimal("0.00"),
                            },
                            {"Name": "MpesaReceiptNumber", "Value": push.receipt},
                            {"Name": "TransactionDate", "Value": 20260105091502},
                            {"Name": "PhoneNumber", "Value": int(push.body["PhoneNumber"])},
                        ]
                    },
                }
            }
        }
        return _target(push.callback_url), _dumps(body)

    def cancel(self, push: StkPush) -> tuple[str, bytes]:
        """The customer presses Cancel: ResultCode 1032, no metadata."""
        push.state = "failed"
        push.result_code = 1032
        body = {
            "Body": {
                "stkCallback": {
                    "MerchantRequestID": push.merchant_id,
                    "CheckoutRequestID": push.checkout_id,
                    "ResultCode": 1032,
                    "ResultDesc": "Request cancelled by user",
                }
            }
        }
        return _target(push.callback_url), _dumps(body)

    def b2c_result(self, payout: B2CRequest, *, ok: bool = True) -> tuple[str, bytes]:
        payout.status = "Completed" if ok else "Failed"
        result: dict[str, Any] = {
            "ResultType": 0,
            "ResultCode": 0 if ok else 2001,
            "ResultDesc": "The service request is processed successfully."
            if ok
            else "The initiator information is invalid.",
            "OriginatorConversationID": payout.body["OriginatorConversationID"],
            "ConversationID": payout.conversation_id,
            "TransactionID": "NLJ41HAY6Q",
        }
        if ok:
            result["ResultParameters"] = {
                "ResultParameter": [
                    {"Key": "TransactionAmount", "Value": payout.body["Amount"]},
                    {"Key": "TransactionReceipt", "Value": "NLJ41HAY6Q"},
                    {"Key": "ReceiverPartyPublicName", "Value": "254711000001 - Juma"},
                ]
            }
        return _target(str(payout.body["ResultURL"])), _dumps({"Result": result})

    def status_result(self, query: B2CRequest) -> tuple[str, bytes]:
        """Daraja's answer to a Transaction Status query, posted to the query's ResultURL."""
        asked = self._asked_about(query.body)
        result: dict[str, Any] = {
            "ResultType": 0,
            "ResultCode": 0 if asked else 1,
            "ResultDesc": "The service request is processed successfully."
            if asked
            else "The transaction could not be found.",
            "OriginatorConversationID": query.body.get("OriginatorConversationID", ""),
            "ConversationID": query.conversation_id,
            "TransactionID": asked.receipt if asked else "",
            "ReferenceData": {"ReferenceItem": {"Key": "Occasion"}},
        }
        if asked:
            amount = asked.body["Amount"]
            result["ResultParameters"] = {
                "ResultParameter": [
                    {"Key": "DebitPartyName", "Value": f"{asked.body.get('PartyA')} - OmniRoute"},
                    {"Key": "CreditPartyName", "Value": f"{asked.body.get('PartyB')} - Juma"},
                    {
                        "Key": "OriginatorConversationID",
                        "Value": query.body.get("OriginatorConversationID"),
                    },
                    {"Key": "InitiatedTime", "Value": 20260105091502},
                    {"Key": "DebitAccountType", "Value": "Utility Account"},
                    {"Key": "ReasonType", "Value": "Business Payment to Customer via API"},
                    {"Key": "TransactionStatus", "Value": asked.status},
                    {"Key": "FinalisedTime", "Value": 20260105091503},
                    {"Key": "Amount", "Value": Decimal(amount) + Decimal("0.00")},
                    {"Key": "ConversationID", "Value": asked.conversation_id},
                    {"Key": "ReceiptNo", "Value": asked.receipt},
                ]
            }
        return _target(str(query.body["ResultURL"])), _dumps({"Result": result})

    def _asked_about(self, body: dict[str, Any]) -> B2CRequest | None:
        for made in (*self.payouts, *self.reversals):
            if body.get("TransactionID") and body["TransactionID"] == made.receipt:
                return made
            originator = made.body.get("OriginatorConversationID")
            if body.get("OriginatorConversationID") == originator:
                return made
        return None

    def reversal_result(self, reversal: B2CRequest, *, ok: bool = True) -> tuple[str, bytes]:
        result: dict[str, Any] = {
            "ResultType": 0,
            "ResultCode": 0 if ok else "R000001",
            "ResultDesc": "The service request is processed successfully."
            if ok
            else "The transaction has already been reversed",
            "OriginatorConversationID": reversal.body.get("OriginatorConversationID", "0"),
            "ConversationID": reversal.conversation_id,
            "TransactionID": "NLJ51HAY7R",
        }
        if ok:
            result["ResultParameters"] = {
                "ResultParameter": [
                    {"Key": "Amount", "Value": reversal.body["Amount"]},
                    {"Key": "OriginalTransactionID", "Value": reversal.body["TransactionID"]},
                ]
            }
        return _target(str(reversal.body["ResultURL"])), _dumps({"Result": result})

    # --- the API ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.requests.append(
            ReceivedRequest(request.method, request.path_qs, dict(request.headers), raw)
        )
        if request.path == "/oauth/v1/generate":
            return self._oauth(request)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "404.001.03", "Invalid Access Token")
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "400.002.02", "Bad Request - Invalid JSON")
        if request.path == "/mpesa/stkpush/v1/processrequest":
            return self._push(body)
        if request.path == "/mpesa/stkpushquery/v1/query":
            return self._query(body)
        if request.path == "/mpesa/b2c/v3/paymentrequest":
            return self._b2c(body)
        if request.path == "/mpesa/reversal/v1/request":
            return self._reversal(body)
        if request.path == "/mpesa/transactionstatus/v1/query":
            return self._status(body)
        return _error(404, "404.001.01", "Resource not found")

    def _oauth(self, request: web.Request) -> web.Response:
        if request.query.get("grant_type") != "client_credentials":
            return _error(400, "400.008.02", "Invalid grant type passed")
        expected = base64.b64encode(f"{CONSUMER_KEY}:{CONSUMER_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return _error(400, "400.008.01", "Invalid Authentication passed")
        return web.json_response({"access_token": self.token, "expires_in": "3599"})

    def _push(self, body: dict[str, Any]) -> web.Response:
        for name in STK_FIELDS:
            if name not in body:
                return _error(400, "400.002.02", f"Bad Request - Invalid {name}")
        if body["BusinessShortCode"] != SHORTCODE or body["PartyB"] != SHORTCODE:
            return _error(400, "400.002.02", "Bad Request - Invalid BusinessShortCode")
        if not TIMESTAMP.match(str(body["Timestamp"])):
            return _error(400, "400.002.02", "Bad Request - Invalid Timestamp")
        expected = base64.b64encode(f"{SHORTCODE}{PASSKEY}{body['Timestamp']}".encode()).decode()
        if body["Password"] != expected:
            return _error(500, "500.001.1001", "The merchant password is invalid")
        if body["TransactionType"] not in ("CustomerPayBillOnline", "CustomerBuyGoodsOnline"):
            return _error(400, "400.002.02", "Bad Request - Invalid TransactionType")
        if not isinstance(body["Amount"], int) or body["Amount"] < 1:
            return _error(400, "400.002.02", "Bad Request - Invalid Amount")
        for name in ("PartyA", "PhoneNumber"):
            if not MSISDN.match(str(body[name])):
                return _error(400, "400.002.02", f"Bad Request - Invalid {name}")
        if not urlsplit(str(body["CallBackURL"])).scheme.startswith("http"):
            return _error(400, "400.002.02", "Bad Request - Invalid CallBackURL")
        if not 1 <= len(body["AccountReference"]) <= 12:
            return _error(400, "400.002.02", "Bad Request - Invalid AccountReference")
        if not 1 <= len(body["TransactionDesc"]) <= 13:
            return _error(400, "400.002.02", "Bad Request - Invalid TransactionDesc")
        if self.fail_next_push is not None:
            status, self.fail_next_push = self.fail_next_push, None
            return _error(status, "500.003.02", "System is busy. Please try again in few minutes.")
        n = next(self._ids)
        push = StkPush(f"ws_CO_05012026091500{n:06d}", f"29115-34620561-{n}", body)
        self.pushes.append(push)
        return web.json_response(
            {
                "MerchantRequestID": push.merchant_id,
                "CheckoutRequestID": push.checkout_id,
                "ResponseCode": "0",
                "ResponseDescription": "Success. Request accepted for processing",
                "CustomerMessage": "Success. Request accepted for processing",
            }
        )

    def _query(self, body: dict[str, Any]) -> web.Response:
        expected = base64.b64encode(
            f"{SHORTCODE}{PASSKEY}{body.get('Timestamp')}".encode()
        ).decode()
        if body.get("BusinessShortCode") != SHORTCODE or body.get("Password") != expected:
            return _error(500, "500.001.1001", "The merchant password is invalid")
        push = next(
            (p for p in self.pushes if p.checkout_id == body.get("CheckoutRequestID")), None
        )
        if push is None:
            return _error(400, "400.002.02", "Bad Request - Invalid CheckoutRequestID")
        if push.state == "pending":
            return _error(500, "500.001.1001", "The transaction is being processed")
        return web.json_response(
            {
                "ResponseCode": "0",
                "ResponseDescription": "The service request has been accepted successsfully",
                "MerchantRequestID": push.merchant_id,
                "CheckoutRequestID": push.checkout_id,
                "ResultCode": str(push.result_code),
                "ResultDesc": "The service request is processed successfully."
                if push.result_code == 0
                else "Request cancelled by user",
            }
        )

    def _b2c(self, body: dict[str, Any]) -> web.Response:
        required = (
            "OriginatorConversationID",
            "InitiatorName",
            "SecurityCredential",
            "CommandID",
            "Amount",
            "PartyA",
            "PartyB",
            "Remarks",
            "QueueTimeOutURL",
            "ResultURL",
        )
        for name in required:
            if name not in body:
                return _error(400, "400.002.02", f"Bad Request - Invalid {name}")
        if body["InitiatorName"] != INITIATOR or body["SecurityCredential"] != SECURITY_CREDENTIAL:
            return _error(400, "400.002.02", "Bad Request - Invalid Initiator")
        if body["CommandID"] not in ("BusinessPayment", "SalaryPayment", "PromotionPayment"):
            return _error(400, "400.002.02", "Bad Request - Invalid CommandID")
        if not isinstance(body["Amount"], int) or not MSISDN.match(str(body["PartyB"])):
            return _error(400, "400.002.02", "Bad Request - Invalid Amount or PartyB")
        payout = B2CRequest(f"AG_20260105_{next(self._ids):08d}", body)
        self.payouts.append(payout)
        return web.json_response(
            {
                "ConversationID": payout.conversation_id,
                "OriginatorConversationID": body["OriginatorConversationID"],
                "ResponseCode": "0",
                "ResponseDescription": "Accept the service request successfully.",
            }
        )

    def _reversal(self, body: dict[str, Any]) -> web.Response:
        required = (
            "Initiator",
            "SecurityCredential",
            "CommandID",
            "TransactionID",
            "Amount",
            "ReceiverParty",
            "RecieverIdentifierType",
            "ResultURL",
            "QueueTimeOutURL",
            "Remarks",
        )
        for name in required:
            if name not in body:
                return _reversal_error(name)
        if body["Initiator"] != INITIATOR or body["SecurityCredential"] != SECURITY_CREDENTIAL:
            return _reversal_error("Initiator")
        if body["CommandID"] != "TransactionReversal":
            return _reversal_error("CommandID")
        if body["ReceiverParty"] != SHORTCODE or str(body["RecieverIdentifierType"]) != "11":
            return _reversal_error("ReceiverParty")
        paid = next((p for p in self.pushes if p.receipt == body["TransactionID"]), None)
        if paid is None or paid.state != "paid":
            return _reversal_error("TransactionID")
        if body["Amount"] != paid.body["Amount"]:  # a reversal is of the whole transaction
            return _reversal_error("Amount")
        if any(r.body["TransactionID"] == body["TransactionID"] for r in self.reversals):
            return _error(400, "400.002.02", "Bad Request - Transaction already reversed")
        n = next(self._ids)
        reversal = B2CRequest(f"AG_20260105_{n:08d}", body | {"OriginatorConversationID": f"{n}-r"})
        self.reversals.append(reversal)
        return web.json_response(
            {
                "OriginatorConversationID": f"{n}-r",
                "ConversationID": reversal.conversation_id,
                "ResponseCode": "0",
                "ResponseDescription": "Accept the service request successfully.",
            }
        )

    def _status(self, body: dict[str, Any]) -> web.Response:
        required = (
            "Initiator",
            "SecurityCredential",
            "CommandID",
            "PartyA",
            "IdentifierType",
            "ResultURL",
            "QueueTimeOutURL",
            "Remarks",
        )
        for name in required:
            if name not in body:
                return _reversal_error(name)
        if body["Initiator"] != INITIATOR or body["SecurityCredential"] != SECURITY_CREDENTIAL:
            return _reversal_error("Initiator")
        if body["CommandID"] != "TransactionStatusQuery":
            return _reversal_error("CommandID")
        if not re.fullmatch(r"\d{5,7}", str(body["PartyA"])) or str(body["IdentifierType"]) != "4":
            return _reversal_error("PartyA")
        if not (body.get("TransactionID") or body.get("OriginatorConversationID")):
            return _reversal_error("TransactionID")
        for url in ("ResultURL", "QueueTimeOutURL"):
            if not str(body[url]).startswith(("http://", "https://")):
                return _reversal_error(url)
        n = next(self._ids)
        query = B2CRequest(f"AG_20260105_{n:08d}", body)
        self.status_queries.append(query)
        return web.json_response(
            {
                "OriginatorConversationID": f"{n}-s",
                "ConversationID": query.conversation_id,
                "ResponseCode": "0",
                "ResponseDescription": "Accept the service request successfully.",
            }
        )


def _reversal_error(field_name: str) -> web.Response:
    return _error(400, "400.002.02", f"Bad Request - Invalid {field_name}")


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"requestId": "11728-2929992-1", "errorCode": code, "errorMessage": message},
        status=status,
    )


def _target(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _dumps(body: Any) -> bytes:
    """Daraja's JSON: amounts as numbers with decimals (1.00), as the real callbacks show."""
    return json.dumps(
        body, default=lambda d: float(d) if isinstance(d, Decimal) else str(d)
    ).encode()
