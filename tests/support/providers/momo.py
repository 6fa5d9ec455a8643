"""A local MTN MoMo Collection API that checks requests as MoMo does.

(docs: momodeveloper.mtn.com, "Collection": `POST /collection/token/`, `POST
/collection/v1_0/requesttopay`, `GET /collection/v1_0/requesttopay/{referenceId}`.) The token
needs Basic api user:api key and `Ocp-Apim-Subscription-Key`; request-to-pay needs the bearer
token, `X-Reference-Id` (a UUID; a reused one is `409 RESOURCE_ALREADY_EXIST`),
`X-Target-Environment` and a body with `amount` (a string), `currency`, `externalId` and
`payer {partyIdType: MSISDN, partyId}`; it answers 202 with no body. `approve`/`reject` play
the payer, and `callback_for` builds the PUT MoMo sends to the X-Callback-Url.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from tests.support.providers.loopback import LoopbackFake, ReceivedRequest

SUBSCRIPTION_KEY = "momo-subscription-0c1d2e3f"
API_USER = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
API_KEY = "momo-api-key-9a8b7c6d"
ENVIRONMENT = "sandbox"


@dataclass
class RequestToPay:
    reference_id: str
    callback_url: str | None
    body: dict[str, Any]
    status: str = "PENDING"
    transaction_id: str | None = None


@dataclass
class FakeMomo(LoopbackFake):
    requests: list[ReceivedRequest] = field(default_factory=list)
    payments: dict[str, RequestToPay] = field(default_factory=dict)
    token: str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSMjU2In0.momo"

    def __hash__(self) -> int:
        return id(self)

    def approve(self, reference_id: str) -> None:
        payment = self.payments[reference_id]
        payment.status = "SUCCESSFUL"
        payment.transaction_id = "1893217" + reference_id[:4].replace("-", "0")

    def reject(self, reference_id: str) -> None:
        self.payments[reference_id].status = "FAILED"

    def _result(self, payment: RequestToPay) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "amount": payment.body["amount"],
            "currency": payment.body["currency"],
            "externalId": payment.body["externalId"],
            "payer": payment.body["payer"],
            "payerMessage": payment.body.get("payerMessage", ""),
            "payeeNote": payment.body.get("payeeNote", ""),
            "status": payment.status,
        }
        if payment.transaction_id:
            doc["financialTransactionId"] = payment.transaction_id
        if payment.status == "FAILED":
            doc["reason"] = {"code": "APPROVAL_REJECTED", "message": "Payer rejected"}
        return doc

    def callback_for(self, reference_id: str) -> tuple[str, bytes]:
        payment = self.payments[reference_id]
        assert payment.callback_url is not None
        parts = urlsplit(payment.callback_url)
        return f"{parts.path}?{parts.query}", json.dumps(self._result(payment)).encode()

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.requests.append(
            ReceivedRequest(request.method, request.path_qs, dict(request.headers), raw)
        )
        if request.headers.get("Ocp-Apim-Subscription-Key") != SUBSCRIPTION_KEY:
            return _error(401, "Access denied due to invalid subscription key.")
        if request.path == "/collection/token/" and request.method == "POST":
            basic = base64.b64encode(f"{API_USER}:{API_KEY}".encode()).decode()
            if request.headers.get("Authorization") != f"Basic {basic}":
                return web.json_response({"error": "login_failed"}, status=401)
            return web.json_response(
                {"access_token": self.token, "token_type": "access_token", "expires_in": 3600}
            )
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "Access denied due to invalid token.")
        if request.headers.get("X-Target-Environment") != ENVIRONMENT:
            return _error(400, "Invalid target environment")
        prefix = "/collection/v1_0/requesttopay"
        if request.path == prefix and request.method == "POST":
            return self._request_to_pay(request, raw)
        if request.path.startswith(prefix + "/") and request.method == "GET":
            payment = self.payments.get(request.path.rsplit("/", 1)[-1])
            if payment is None:
                return web.json_response(
                    {"code": "RESOURCE_NOT_FOUND", "message": "Requested resource was not found."},
                    status=404,
                )
            return web.json_response(self._result(payment))
        return _error(404, "Resource not found")

    def _request_to_pay(self, request: web.Request, raw: bytes) -> web.Response:
        reference = request.headers.get("X-Reference-Id", "")
        try:
            uuid.UUID(reference)
        except ValueError:
            return web.json_response(
                {"code": "INVALID_REFERENCE_ID", "message": "Reference id is not a UUID"},
                status=400,
            )
        if reference in self.payments:
            return web.json_response(
                {"code": "RESOURCE_ALREADY_EXIST", "message": "Duplicated reference id."},
                status=409,
            )
        body = json.loads(raw)
        payer = body.get("payer") or {}
        if (
            not isinstance(body.get("amount"), str)
            or not body.get("currency")
            or not body.get("externalId")
            or payer.get("partyIdType") != "MSISDN"
            or not str(payer.get("partyId", "")).isdigit()
        ):
            return web.json_response(
                {"code": "INVALID_PARAMETER", "message": "Invalid request body"}, status=400
            )
        self.payments[reference] = RequestToPay(
            reference, request.headers.get("X-Callback-Url"), body
        )
        return web.Response(status=202)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"statusCode": status, "message": message}, status=status)
