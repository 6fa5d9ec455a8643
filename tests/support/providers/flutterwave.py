"""A local Flutterwave v3 API: hosted payment links, verify by reference, verif-hash webhooks.

(docs: developer.flutterwave.com, "Flutterwave Standard", "Transaction verification",
"Webhooks".) Every call needs `Authorization: Bearer <secret key>`; `POST /v3/payments` needs
`tx_ref`, `amount`, `currency`, `redirect_url` and `customer.email`; `GET
/v3/transactions/verify_by_reference?tx_ref=` answers the transaction or 404 "No transaction was
found for this id". `complete` plays the customer and builds the webhook with `verif-hash`.
Refunds ("Refunds"): `POST /v3/transactions/<id>/refund` with `amount` (a decimal string, no
more than is left) for a successful transaction → the refund, `completed` at once unless
`pend_refunds`; `GET /v3/refunds/<id>`. A transaction carries what Flutterwave keeps, as its
verify answer and `charge.completed` data do ("Transaction verification": `app_fee`,
`merchant_fee`, `charged_amount`, `amount_settled`), here 1.4 % borne by the merchant.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

from tests.support.providers.loopback import LoopbackFake, ReceivedRequest

SECRET_KEY = "FLWSECK_TEST-8f1e2d3c4b5a69788796a5b4c3d2e1f0-X"
SECRET_HASH = "omniroute-flw-hash-5521"
APP_FEE_RATE = Decimal("0.014")  # Flutterwave's local card and transfer rate, 1.4 %


@dataclass
class FakeFlutterwave(LoopbackFake):
    requests: list[ReceivedRequest] = field(default_factory=list)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[int, dict[str, Any]] = field(default_factory=dict)
    pend_refunds: bool = False
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(288200108))

    def __hash__(self) -> int:
        return id(self)

    def complete(self, tx_ref: str, *, status: str = "successful") -> tuple[bytes, dict[str, str]]:
        payment = self.payments[tx_ref]
        payment["status"] = status
        body = json.dumps({"event": "charge.completed", "data": payment}).encode()
        return body, {"verif-hash": SECRET_HASH, "Content-Type": "application/json"}

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.requests.append(
            ReceivedRequest(request.method, request.path_qs, dict(request.headers), raw)
        )
        if request.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
            return _error(401, "Invalid authorization key")
        if request.path == "/v3/payments" and request.method == "POST":
            body = json.loads(raw)
            missing = [
                k for k in ("tx_ref", "amount", "currency", "redirect_url") if not body.get(k)
            ]
            if missing or not (body.get("customer") or {}).get("email"):
                return _error(400, f"{(missing or ['customer.email'])[0]} is required")
            n = next(self._ids)
            amount = Decimal(str(body["amount"]))
            fee = (amount * APP_FEE_RATE).quantize(Decimal("0.01"))
            self.payments[body["tx_ref"]] = {
                "id": n,
                "tx_ref": body["tx_ref"],
                "flw_ref": f"FLW-MOCK-{n}",
                "amount": float(amount),
                "currency": body["currency"],
                "charged_amount": float(amount),
                "app_fee": float(fee),  # the merchant bears it: settled is amount less fee
                "merchant_fee": 0,
                "amount_settled": float(amount - fee),
                "status": "pending",
                "customer": body["customer"],
            }
            return web.json_response(
                {
                    "status": "success",
                    "message": "Hosted Link",
                    "data": {"link": f"https://checkout.flutterwave.com/v3/hosted/pay/{n:x}"},
                }
            )
        if request.path.startswith("/v3/transactions/") and request.path.endswith("/refund"):
            return self._refund(request.path.split("/")[3], json.loads(raw or b"{}"))
        if request.path.startswith("/v3/refunds/") and request.method == "GET":
            tail = request.path.rsplit("/", 1)[-1]
            refund = self.refunds.get(int(tail)) if tail.isdigit() else None
            if refund is None:
                return _error(404, "Refund not found")
            return web.json_response(
                {"status": "success", "message": "Refund fetched", "data": refund}
            )
        if request.path == "/v3/transactions/verify_by_reference" and request.method == "GET":
            payment = self.payments.get(request.query.get("tx_ref", ""))
            if payment is None:
                return _error(404, "No transaction was found for this id")
            return web.json_response(
                {
                    "status": "success",
                    "message": "Transaction fetched successfully",
                    "data": payment,
                }
            )
        return _error(404, "Not found")

    def _refund(self, transaction_id: str, body: dict[str, Any]) -> web.Response:
        payment = next((p for p in self.payments.values() if str(p["id"]) == transaction_id), None)
        if payment is None:
            return _error(404, "No transaction was found for this id")
        if payment["status"] != "successful":
            return _error(400, "Only successful transactions can be refunded")
        try:
            amount = Decimal(str(body["amount"]))
        except (KeyError, ArithmeticError):
            return _error(400, "amount is required")
        given = sum(
            (
                Decimal(str(r["amount_refunded"]))
                for r in self.refunds.values()
                if r["tx_id"] == payment["id"]
            ),
            Decimal(0),
        )
        if not 0 < amount <= Decimal(str(payment["amount"])) - given:
            return _error(400, "Refund amount cannot be more than the amount left")
        n = next(self._ids)
        self.refunds[n] = {
            "id": n,
            "account_id": 17321,
            "tx_id": payment["id"],
            "flw_ref": payment["flw_ref"],
            "wallet_id": 17803,
            "amount_refunded": float(amount),
            "status": "pending" if self.pend_refunds else "completed",
            "destination": "payment_source",
            "meta": {"source": "availablebalance"},
            "created_at": "2026-01-05T10:00:00.000Z",
        }
        return web.json_response(
            {
                "status": "success",
                "message": "Transaction refund initiated",
                "data": self.refunds[n],
            }
        )


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"status": "error", "message": message, "data": None}, status=status)
